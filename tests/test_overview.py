"""The start page's figures in coaching/overview.py: an agent's day (reviews waiting on them, oldest first,
with their service level; follow-ups; the latest coaching) on a small store built by hand, and the lead's
counts.

Today is Wednesday 15 July 2026, noon UTC; the service level is 2 business days. Every expected value is
worked out in the comment beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from coaching import store
from coaching.assignments import DUE_TODAY, OVERDUE
from coaching.overview import (
    ANSWER_AUDIT,
    ANSWER_REVIEWER,
    agent_today,
    oldest_first,
    store_overview,
    to_do,
)
from coaching.review_machine import PENDING_AGENT
from coaching.review_tabs import business_days

from exports import IE_HEADER, build_store, csv_text, roster, who

PRIYA, TOM, UMA = "Priya Nair", "Tom Becker", "Uma Ueda"
PRIYA_EMAIL, TOM_EMAIL, UMA_EMAIL, SAM = (
    "priya.nair@example.com", "tom.becker@example.com", "uma.ueda@example.com", "sam.ortiz@example.com")
TODAY = date(2026, 7, 15)
NOW = datetime(2026, 7, 15, 12, 0)
SERVICE_LEVEL = 2.0


def ie_row(conversation: str, agent: str, day: int, audit: str = "", queue: str = "Billing queue") -> str:
    return (f"{conversation},Voice,{queue},{queue},en,{agent},{agent},2026-07-{day:02d}T09:00:00Z,6.5,"
            f"refund,0,50,1,0,{audit},inbound,Evaluated,Billing Voice form,Refund,0,0,10,10")


EVALUATIONS = csv_text(
    IE_HEADER,
    ie_row("p-old", PRIYA, 1, "55"),  # audited Thu 2 Jul: waiting on Priya
    ie_row("p-answered", PRIYA, 3, "60", "Claims queue"),  # disputed, denied Wed 8 Jul noon: waiting on Priya
    ie_row("p-new", PRIYA, 13, "70"),  # audited Tue 14 Jul: waiting on Priya, within the service level
    ie_row("p-disputed", PRIYA, 6, "40"),  # disputed: waiting on the reviewer
    ie_row("p-done", PRIYA, 7, "80"),  # accepted: resolved, waits on no one
    ie_row("t-audit", TOM, 2, "50"),  # Tom's: waiting on Tom
)

EVENTS = """ConversationID,Metric,Round,Actor,Action,Comment,Timestamp,Audit Score
p-old,,0,QA,Audit Submitted,,2026-07-02T10:00:00Z,55
p-answered,,0,QA,Audit Submitted,,2026-07-06T10:00:00Z,60
p-answered,Greeting,1,Agent,Disputed,I greeted them.,2026-07-07T10:00:00Z,
p-answered,Greeting,1,QA,Dispute Denied,No greeting.,2026-07-08T12:00:00Z,
p-new,,0,QA,Audit Submitted,,2026-07-14T10:00:00Z,70
p-disputed,,0,QA,Audit Submitted,,2026-07-07T10:00:00Z,40
p-disputed,Greeting,1,Agent,Disputed,I greeted them.,2026-07-08T10:00:00Z,
p-done,,0,QA,Audit Submitted,,2026-07-08T10:00:00Z,80
p-done,,1,Agent,Accepted,,2026-07-09T10:00:00Z,
t-audit,,0,QA,Audit Submitted,,2026-07-03T10:00:00Z,50
"""

ASSIGNMENT_HEADER = (
    "Assignment ID,Name,Agent,Coaching Type,Group Name,Coaching Areas,Assigned Date,Follow-Up Date,Status,"
    "Assigned By,Feedback,Action Plan"
)


def assignment(key: str, agent: str, assigned: str, follow_up: str, status: str) -> str:
    return (f"{key},{key} session,{agent},Individual Agent,,Empathy,2026-{assigned},2026-{follow_up},{status},"
            f"Sam Ortiz,Feedback for {key}.,Plan for {key}.")


ASSIGNMENTS = csv_text(
    ASSIGNMENT_HEADER,
    assignment("A-OVER", PRIYA, "06-20", "07-10", "In Progress"),  # follow-up passed: Overdue
    assignment("A-TODAY", PRIYA, "07-01", "07-15", "Yet to Start"),  # Due today
    assignment("A-SOON", PRIYA, "07-14", "07-18", "Yet to Start"),  # Due in 3 days; the newest assigned by today
    assignment("A-LATER", PRIYA, "07-10", "08-30", "In Progress"),  # follow-up in 46 days: no marker
    assignment("A-DONE", PRIYA, "06-01", "07-01", "Completed"),  # completed: no marker though past
    assignment("A-FUTURE", PRIYA, "07-20", "07-30", "Yet to Start"),  # assigned after today: not the latest
    assignment("T-OVER", TOM, "06-20", "07-10", "In Progress"),  # Tom's
)


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_store(tmp_path_factory.mktemp("overview"), {
        "roster.csv": roster(PRIYA, TOM, UMA, "Sam Ortiz", "Zoe Zimmer", "Quinn Lee"),
        "ie-report.csv": EVALUATIONS, "review-events.csv": EVENTS, "assignments.csv": ASSIGNMENTS,
    })
    store.close_all()


def test_reviews_waiting_on_the_agent_oldest_first_with_their_service_level(con) -> None:
    day = agent_today(con, who(con, PRIYA_EMAIL), TODAY)
    waiting = oldest_first(day.waiting, NOW, SERVICE_LEVEL)
    # Only Priya's, only those waiting on her, the one waiting longest first.
    assert list(waiting["conversation_id"]) == ["p-old", "p-answered", "p-new"]
    assert set(waiting["review_status"]) == {PENDING_AGENT}
    # Thu 2 Jul 10:00 → Wed 15 Jul 12:00: 14 h of the 2nd, 8 whole business days (3, 6–10, 13, 14 Jul),
    # 12 h of the 15th.
    assert waiting["waiting_days"][0] == pytest.approx(14 / 24 + 8 + 0.5)
    # Since the reviewer's answer, Wed 8 Jul 12:00: half the 8th, 9, 10, 13, 14 Jul, half the 15th.
    assert waiting["waiting_days"][1] == pytest.approx(5.0)
    # Since Tue 14 Jul 10:00: 14 h, then 12 h: 1.08 days, within 2.
    assert waiting["waiting_days"][2] == pytest.approx(14 / 24 + 0.5)
    assert list(waiting["past_service_level"]) == [True, True, False]
    # The Review page's own rule, not a copy: the same days from business_days.
    assert list(waiting["waiting_days"]) == pytest.approx(list(business_days(waiting["status_since"], NOW)))
    # What Priya does about each: answer the audit, or the reviewer's answer to her dispute.
    assert list(waiting["to_do"]) == [ANSWER_AUDIT, ANSWER_REVIEWER, ANSWER_AUDIT]
    assert day.waiting_on_reviewer == 1  # p-disputed
    # The columns a page shows.
    assert {"queues", "audit_score", "start_time", "status_since"} <= set(waiting.columns)
    assert list(waiting["queues"][1]) == ["Claims queue"]


def test_a_longer_service_level_flags_fewer(con) -> None:
    waiting = oldest_first(agent_today(con, who(con, PRIYA_EMAIL), TODAY).waiting, NOW, 6)
    assert list(waiting["past_service_level"]) == [True, False, False]  # 9.1 days past 6; 5.0 is not


def test_follow_ups_overdue_and_upcoming_earliest_first(con) -> None:
    follow_ups = agent_today(con, who(con, PRIYA_EMAIL), TODAY).follow_ups
    assert list(follow_ups["assignment_id"]) == ["A-OVER", "A-TODAY", "A-SOON"]
    assert list(follow_ups["follow_up"]) == [OVERDUE, DUE_TODAY, "Due in 3 days"]
    # Each opens its session: the list's columns name it and its agent.
    assert set(follow_ups["person_id"]) == {PRIYA_EMAIL}
    assert list(follow_ups["status"]) == ["In Progress", "Start Coaching", "Start Coaching"]  # an agent's words


def test_the_latest_coaching_is_the_newest_session_assigned_by_today(con) -> None:
    day = agent_today(con, who(con, PRIYA_EMAIL), TODAY)
    assert day.latest is not None
    assert (day.latest.assignment_id, day.latest.person_id) == ("A-SOON", PRIYA_EMAIL)
    assert day.latest.action_plan == "Plan for A-SOON." and day.latest.assigned_by == "Sam Ortiz"
    assert day.latest_status == "Start Coaching"
    # Once A-FUTURE is assigned, it is the latest.
    assert agent_today(con, who(con, PRIYA_EMAIL), date(2026, 7, 20)).latest.assignment_id == "A-FUTURE"


def test_an_agent_with_nothing_waiting_has_empty_lists(con) -> None:
    day = agent_today(con, who(con, UMA_EMAIL), TODAY)
    assert day.waiting.empty and day.follow_ups.empty and day.waiting_on_reviewer == 0
    assert day.latest is None and day.latest_status is None
    assert oldest_first(day.waiting, NOW, SERVICE_LEVEL).empty


def test_another_agents_day_is_their_own(con) -> None:
    day = agent_today(con, who(con, TOM_EMAIL), TODAY)
    assert list(day.waiting["conversation_id"]) == ["t-audit"]
    assert list(day.follow_ups["assignment_id"]) == ["T-OVER"]
    assert day.latest.assignment_id == "T-OVER"


def test_to_do_follows_the_completed_dispute_rounds() -> None:
    assert to_do(0) == ANSWER_AUDIT and to_do(None) == ANSWER_AUDIT and to_do(float("nan")) == ANSWER_AUDIT
    assert to_do(1) == ANSWER_REVIEWER and to_do(2) == ANSWER_REVIEWER


def test_a_leads_overview_counts_their_team(con) -> None:
    lead = store_overview(con, who(con, SAM))
    # Sam's team is Priya and Tom (Uma is Zoe's): 6 evaluations, all audited; 5 reviews open.
    assert (lead.evaluations, lead.audited, lead.agents) == (6, 6, 2)
    assert lead.pending_reviews == 5  # p-old, p-answered, p-new, p-disputed, t-audit
    assert lead.assignments == 7

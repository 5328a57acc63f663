"""Coaching assignments and evaluations as the domain layer serves them to the pages.

Exact values come from a small store built by hand: tiny exports in the formats of
``data/templates/`` imported with :func:`coaching.importer.import_files`. A few checks run on the demo
store too, for what the demo promises (the demo agent's overflowing session, pending sessions, …).
"Today" is always injected, so follow-up markers do not depend on the day the tests run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.material_icon_names import ALL_MATERIAL_ICONS

from coaching import access, store
from coaching.access import Viewer
from coaching.assignments import (
    AGENT_STATUS,
    LIST_ORDERS,
    UNKNOWN_STATUS,
    AssignmentFilters,
    area_tags,
    assignment_detail,
    assignment_list,
    assignment_page,
    best_response_examples,
    list_choices,
    marked_interactions,
    session_status,
    status_for,
    status_marker,
)
from coaching.audit import (
    ANONYMOUS,
    NOT_ADHERED,
    RESULT_COLOURS,
    evaluation_detail,
    round_title,
    score_changes,
    who_did_it,
)
from coaching.review_machine import DONE_STATUSES, OPEN_STATUSES, ReviewEvent, derive_review
from coaching.review_tabs import STATUS_MARKERS as REVIEW_STATUS_MARKERS

from exports import IE_COLUMNS, PAGES_DEMO, build_demo_store, build_store, who

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "data" / "templates"

TODAY = date(2026, 8, 20)
PRIYA, TOM = "Priya Nair", "Tom Becker"
AGENT_EMAIL, OTHER_AGENT_EMAIL, LEAD_EMAIL, QA_EMAIL = (
    "priya.nair@example.com", "tom.becker@example.com", "sam.ortiz@example.com", "quinn.lee@example.com",
)

# -- the hand-built store ---------------------------------------------------------------------------

METRIC_HEADER = (
    "Greeting,Greeting - Is Fatal Metric,Greeting - Adherence Weight,Greeting - Violation,"
    "Empathy - Tone,Empathy - Tone - Is Fatal Metric,Empathy - Tone - Adherence Weight,"
    "Empathy - Tone - Violation,"
    "Identity Check - Manual Evaluation Metric,Identity Check - Is Fatal Metric,"
    "Identity Check - Adherence Weight,Identity Check - Violation"
)
IE_HEADER = IE_COLUMNS + ",Auditor," + METRIC_HEADER


def ie_row(conversation: str, agent: str, day: int, kore: str, audit: str = "", *,
           duration: str = "Evaluated", auditor: str = "") -> str:
    metrics = "1,0,10,10,0,0,10,15,1,1,10,10" if kore else "NA,0,10,10,NA,0,10,15,'-',1,10,10"
    return (
        f"{conversation},Voice,Billing queue,Billing queue,en,{agent},{agent},"
        f"2026-07-{day:02d}T09:00:00Z,6.5,refund request,0,{kore},0,0,{audit},inbound,{duration},"
        f"Billing Voice form,Refund,{auditor},{metrics}"
    )


EVALUATIONS = "\n".join([
    IE_HEADER,
    # scores against the pass score (session A-SCORES)
    ie_row("s-40", PRIYA, 1, "40", "40"),
    ie_row("s-39", PRIYA, 2, "39", "39"),
    ie_row("s-below", PRIYA, 3, "", duration="Below Threshold"),
    ie_row("s-none", PRIYA, 4, ""),
    ie_row("s-reeval", PRIYA, 5, "50", "30", auditor="Quinn Lee"),  # re-evaluated to 45
    # reviews
    ie_row("r-agent", PRIYA, 6, "55", "55", auditor="Quinn Lee"),  # Pending Agent Review
    ie_row("r-super", PRIYA, 7, "60", "60", auditor="Sam Ortiz"),  # Pending Supervisor Review
    ie_row("r-badges", PRIYA, 8, "35", "30", auditor="Quinn Lee"),
    ie_row("r-denied", PRIYA, 9, "35", "30", auditor="Quinn Lee"),
    ie_row("r-tie", PRIYA, 10, "35", "30", auditor="Quinn Lee"),
    ie_row("r-late", PRIYA, 13, "35", "30", auditor="Quinn Lee"),  # Resolved in round 3
    ie_row("t-super", TOM, 11, "50", "50", auditor="Quinn Lee"),  # Tom's, Pending Supervisor Review
    ie_row("t-agent", TOM, 12, "50", "50", auditor="Quinn Lee"),  # Tom's, Pending Agent Review
]) + "\n"

ASSIGNMENT_HEADER = (
    "Assignment ID,Name,Agent,Coaching Type,Group Name,Coaching Areas,Assigned Date,Follow-Up Date,Status,"
    "Assigned By,Feedback,Action Plan"
)


def assignment_row(key: str, agent: str, areas: str, assigned: str, follow_up: str, status: str,
                   group: str = "") -> str:
    kind = "Group Agents" if group else "Individual Agent"
    return (f'{key},{key} session,{agent},{kind},{group},"{areas}",{assigned},{follow_up},{status},Sam Ortiz,'
            f"Feedback for {key}.,Plan for {key}.")


ASSIGNMENTS = "\n".join([
    ASSIGNMENT_HEADER,
    assignment_row("A-SCORES", PRIYA, "Empathy, Compliance, Product Knowledge, Etiquette",
                   "2026-07-20", "2026-07-31", "Completed"),
    assignment_row("A-OVER", PRIYA, "Empathy", "2026-08-01", "2026-08-19", "In Progress"),
    assignment_row("A-TODAY", PRIYA, "Compliance, Empathy", "2026-08-02", "2026-08-20", "Yet to Start"),
    assignment_row("A-SEVEN", PRIYA, "Product Knowledge", "2026-08-03", "2026-08-27", "In Progress"),
    assignment_row("A-EIGHT", PRIYA, "Etiquette", "2026-08-04", "2026-08-28", "Yet to Start"),
    assignment_row("A-DONE", PRIYA, "Empathy", "2026-08-05", "2026-08-19", "Completed"),
    assignment_row("A-PA", PRIYA, "Call Handling", "2026-08-06", "2026-09-30", "Completed"),
    assignment_row("A-PS", PRIYA, "Call Handling, Compliance", "2026-08-07", "2026-09-30", "Yet to Start"),
    assignment_row("A-GROUP", PRIYA, "Product Knowledge", "2026-08-08", "2026-09-30", "In Progress",
                   group="Billing East"),
    assignment_row("A-GROUP", TOM, "Product Knowledge", "2026-08-08", "2026-09-30", "In Progress",
                   group="Billing East"),
]) + "\n"

MARKED = """Assignment ID,ConversationID,Coaching Area,Date
A-SCORES,s-40,Empathy,2026-07-31
A-SCORES,s-39,Compliance,2026-07-31
A-SCORES,s-below,Product Knowledge,2026-07-31
A-SCORES,s-none,Etiquette,2026-07-31
A-SCORES,s-reeval,Empathy,2026-07-31
A-PA,r-super,Call Handling,2026-09-30
A-PA,r-agent,Call Handling,2026-09-30
A-PS,r-super,Call Handling,2026-09-30
A-GROUP,t-super,Product Knowledge,2026-09-30
A-GROUP,t-agent,Product Knowledge,2026-09-30
"""

BEST = """Assignment ID,ConversationID,Note
A-SCORES,s-40,Names the concern first.
"""

# Metrics: Greeting, Empathy - Tone, Identity Check.
EVENTS = """ConversationID,Metric,Round,Actor,Action,Comment,Timestamp,Audit Score
s-reeval,,0,QA,Audit Submitted,,2026-07-06T10:00:00Z,30
s-reeval,Greeting,1,Agent,Disputed,I greeted them.,2026-07-06T11:00:00Z,
s-reeval,Greeting,1,QA,Dispute Accepted,Agreed.,2026-07-06T12:00:00Z,
s-reeval,,1,QA,Re-evaluated,,2026-07-06T12:05:00Z,45
s-reeval,,2,Agent,Accepted,,2026-07-06T13:00:00Z,
r-agent,,0,QA,Audit Submitted,,2026-07-07T10:00:00Z,55
r-super,,0,Supervisor,Audit Submitted,,2026-07-08T10:00:00Z,60
r-super,Greeting,1,Agent,Disputed,I greeted them.,2026-07-08T11:00:00Z,
r-badges,,0,QA,Audit Submitted,,2026-07-09T10:00:00Z,30
r-badges,Greeting,1,Agent,Accepted,,2026-07-09T11:00:00Z,
r-badges,Empathy - Tone,1,Agent,Disputed,I apologised.,2026-07-09T11:00:00Z,
r-badges,Identity Check,1,Agent,Disputed,I checked twice.,2026-07-09T11:00:00Z,
r-badges,Empathy - Tone,1,Supervisor,Dispute Accepted,Yes.,2026-07-09T12:00:00Z,
r-badges,Identity Check,1,Supervisor,Dispute Denied,No.,2026-07-09T12:00:00Z,
r-badges,,1,Supervisor,Re-evaluated,,2026-07-09T12:05:00Z,45
r-badges,Identity Check,2,Agent,Disputed,Listen again at 01:10.,2026-07-09T13:00:00Z,
r-denied,,0,QA,Audit Submitted,,2026-07-10T10:00:00Z,30
r-denied,Empathy - Tone,1,Agent,Disputed,I apologised.,2026-07-10T11:00:00Z,
r-denied,Empathy - Tone,1,QA,Dispute Denied,No.,2026-07-10T12:00:00Z,
r-tie,,0,QA,Audit Submitted,,2026-07-11T10:00:00Z,30
r-tie,Greeting,1,Agent,Disputed,I greeted them.,2026-07-11T11:00:00Z,
r-tie,Greeting,1,QA,Dispute Denied,No.,2026-07-11T11:00:00Z,
t-super,,0,QA,Audit Submitted,,2026-07-12T10:00:00Z,50
t-super,Greeting,1,Agent,Disputed,I greeted them.,2026-07-12T11:00:00Z,
t-agent,,0,QA,Audit Submitted,,2026-07-13T10:00:00Z,50
r-late,,0,QA,Audit Submitted,,2026-07-13T10:00:00Z,30
r-late,Greeting,1,Agent,Disputed,I greeted them.,2026-07-13T11:00:00Z,
r-late,Greeting,1,QA,Dispute Accepted,Agreed.,2026-07-13T12:00:00Z,
r-late,Empathy - Tone,2,Agent,Disputed,I apologised.,2026-07-13T13:00:00Z,
r-late,Empathy - Tone,2,QA,Dispute Denied,No.,2026-07-13T14:00:00Z,
r-late,Greeting,3,Agent,Accepted,,2026-07-13T15:00:00Z,
r-late,Empathy - Tone,3,Agent,Accepted,,2026-07-13T15:00:00Z,
"""


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_store(tmp_path_factory.mktemp("assignments"), {
        "roster.csv": (TEMPLATES / "roster.csv").read_text(encoding="utf-8"),
        "ie-report.csv": EVALUATIONS,
        "assignments.csv": ASSIGNMENTS,
        "coaching-interactions.csv": MARKED,
        "best-responses.csv": BEST,
        "review-events.csv": EVENTS,
    })
    store.close_all()


def listing(con, email, **filters) -> list[str]:
    """The assignment IDs the viewer's list shows (newest first) with these filters."""
    frame = assignment_list(con, who(con, email), AssignmentFilters(**filters), today=TODAY)
    return list(frame["assignment_id"])


def by_id(frame, column: str, agent: str = PRIYA) -> dict[str, object]:
    mine = frame[frame["agent"] == agent]
    return {key: (None if value is None or value != value else value)  # NaN -> None
            for key, value in zip(mine["assignment_id"], mine[column], strict=True)}


# -- how a status looks -------------------------------------------------------------------------------


def icon_name(icon: str) -> str:
    match = re.fullmatch(r":material/([a-z0-9_]+):", icon)
    assert match, icon
    return match[1]


def test_every_session_status_reads_as_a_status_with_a_real_icon() -> None:
    for status in [*AGENT_STATUS, *AGENT_STATUS.values(), *OPEN_STATUSES, *DONE_STATUSES]:
        marker = status_marker(status)
        assert marker.meaning, status
        assert icon_name(marker.icon) in ALL_MATERIAL_ICONS, status
    # Start Coaching is not a call to action: a hollow circle, "not started", the same as a lead's word.
    start = status_marker("Start Coaching")
    assert start == status_marker("Yet to Start")
    assert (start.colour, icon_name(start.icon)) == ("gray", "radio_button_unchecked")
    assert start.meaning.startswith("Not started")
    # A pending session looks as the review status it waits on (the Review tabs' look).
    for pending in OPEN_STATUSES:
        assert (status_marker(pending).colour, status_marker(pending).icon) == (
            REVIEW_STATUS_MARKERS[pending].colour, REVIEW_STATUS_MARKERS[pending].icon)
    assert status_marker("Something else") == UNKNOWN_STATUS


# -- area tags --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("areas", "tags"),
    [
        ([], []),
        (["Empathy"], ["Empathy"]),
        (["Empathy", "Compliance", "Etiquette"], ["Empathy", "Compliance", "Etiquette"]),
        (["Empathy", "Compliance", "Etiquette", "Call Handling"],
         ["Empathy", "Compliance", "Etiquette", "+1"]),
        ([f"Area {i}" for i in range(7)], ["Area 0", "Area 1", "Area 2", "+4"]),
    ],
)
def test_area_tags_show_three_then_one_overflow_tag(areas, tags) -> None:
    assert area_tags(areas) == tags


def test_the_list_carries_every_area_and_the_tags(con) -> None:
    frame = assignment_list(con, who(con, AGENT_EMAIL), today=TODAY)
    row = frame[frame["assignment_id"] == "A-SCORES"].iloc[0]
    assert list(row["coaching_areas"]) == ["Empathy", "Compliance", "Product Knowledge", "Etiquette"]
    assert row["area_tags"] == ["Empathy", "Compliance", "Product Knowledge", "+1"]


# -- follow-up markers ------------------------------------------------------------------------------


def test_follow_up_markers_at_their_boundaries(con) -> None:
    markers = by_id(assignment_list(con, who(con, AGENT_EMAIL), today=TODAY), "follow_up")
    assert markers["A-OVER"] == "Overdue"  # yesterday
    assert markers["A-TODAY"] == "Due today"
    assert markers["A-SEVEN"] == "Due in 7 days"  # today + 7
    assert markers["A-EIGHT"] is None  # today + 8
    assert markers["A-DONE"] is None  # yesterday, but completed
    assert markers["A-SCORES"] is None  # long past, completed


def test_follow_up_markers_move_with_today(con) -> None:
    viewer = who(con, AGENT_EMAIL)
    later = by_id(assignment_list(con, viewer, today=TODAY + timedelta(days=1)), "follow_up")
    assert later["A-TODAY"] == "Overdue"
    assert later["A-SEVEN"] == "Due in 6 days"
    assert later["A-EIGHT"] == "Due in 7 days"
    earlier = by_id(assignment_list(con, viewer, today=date(2026, 8, 19)), "follow_up")
    assert earlier["A-OVER"] == "Due today"
    assert earlier["A-DONE"] is None


def test_a_completed_session_pending_review_shows_no_follow_up_marker(con) -> None:
    # A-PA is stored Completed: it shows Pending Agent Review, but its follow-up is over.
    markers = by_id(assignment_list(con, who(con, AGENT_EMAIL), today=date(2026, 10, 30)), "follow_up")
    assert markers["A-PA"] is None
    assert markers["A-PS"] == "Overdue"


# -- statuses ---------------------------------------------------------------------------------------


def test_an_agent_reads_start_coaching_and_a_lead_yet_to_start(con) -> None:
    agent = by_id(assignment_list(con, who(con, AGENT_EMAIL), today=TODAY), "status")
    lead = by_id(assignment_list(con, who(con, LEAD_EMAIL), today=TODAY), "status")
    assert agent["A-TODAY"] == agent["A-EIGHT"] == "Start Coaching"
    assert lead["A-TODAY"] == lead["A-EIGHT"] == "Yet to Start"
    assert agent["A-OVER"] == lead["A-OVER"] == "In Progress"
    assert agent["A-DONE"] == lead["A-DONE"] == "Completed"
    assert "Yet to Start" not in agent.values()
    assert status_for(who(con, AGENT_EMAIL), "Yet to Start") == "Start Coaching"
    assert status_for(who(con, LEAD_EMAIL), "Yet to Start") == "Yet to Start"
    assert status_for(who(con, QA_EMAIL), "Yet to Start") == "Yet to Start"


def test_pending_reviews_of_linked_evaluations_show_agent_first(con) -> None:
    for email in (AGENT_EMAIL, LEAD_EMAIL, QA_EMAIL):
        statuses = by_id(assignment_list(con, who(con, email), today=TODAY), "status")
        # A-PA links one evaluation waiting on the agent and one on the reviewer: the agent's wins.
        assert statuses["A-PA"] == "Pending Agent Review", email
        assert statuses["A-PS"] == "Pending Supervisor Review", email
        # A resolved review (A-SCORES's re-evaluated interaction) leaves the stored status.
        assert statuses["A-SCORES"] == "Completed", email


def test_only_the_sessions_own_agents_evaluations_make_it_pending(con) -> None:
    lead = assignment_list(con, who(con, LEAD_EMAIL), today=TODAY)
    # Tom's two evaluations in the group session wait on him and on the reviewer: neither is Priya's.
    assert by_id(lead, "status", TOM)["A-GROUP"] == "Pending Agent Review"
    assert by_id(lead, "status", PRIYA)["A-GROUP"] == "In Progress"
    own = assignment_list(con, who(con, AGENT_EMAIL), today=TODAY)
    assert by_id(own, "status")["A-GROUP"] == "In Progress"
    assert session_status(con, who(con, OTHER_AGENT_EMAIL), "A-GROUP", OTHER_AGENT_EMAIL) == "Pending Agent Review"
    assert session_status(con, who(con, AGENT_EMAIL), "A-GROUP", AGENT_EMAIL) == "In Progress"


def test_pending_statuses_are_off_without_accept_and_dispute(con) -> None:
    agent = by_id(assignment_list(con, who(con, AGENT_EMAIL), today=TODAY, accept_dispute=False), "status")
    lead = assignment_list(con, who(con, LEAD_EMAIL), today=TODAY, accept_dispute=False)
    assert agent["A-PA"] == "Completed" and agent["A-PS"] == "Start Coaching"
    assert by_id(lead, "status")["A-PS"] == "Yet to Start"
    assert by_id(lead, "status", TOM)["A-GROUP"] == "In Progress"
    assert not any(s.startswith("Pending") for s in lead["status"])
    viewer = who(con, AGENT_EMAIL)
    assert session_status(con, viewer, "A-PA", AGENT_EMAIL) == "Pending Agent Review"
    assert session_status(con, viewer, "A-PA", AGENT_EMAIL, accept_dispute=False) == "Completed"
    assert session_status(con, viewer, "A-PS", AGENT_EMAIL) == "Pending Supervisor Review"
    assert session_status(con, viewer, "A-PS", AGENT_EMAIL, accept_dispute=False) == "Start Coaching"


def test_session_status_is_none_out_of_scope(con) -> None:
    assert session_status(con, who(con, AGENT_EMAIL), "A-GROUP", OTHER_AGENT_EMAIL) is None
    assert session_status(con, who(con, AGENT_EMAIL), "A-NOPE", AGENT_EMAIL) is None


# -- filters ----------------------------------------------------------------------------------------

EVERY_SESSION = ["A-GROUP", "A-PS", "A-PA", "A-DONE", "A-EIGHT", "A-SEVEN", "A-TODAY", "A-OVER", "A-SCORES"]


def test_no_filters_list_every_session_newest_first(con) -> None:
    assert listing(con, AGENT_EMAIL) == EVERY_SESSION
    frame = assignment_list(con, who(con, AGENT_EMAIL), today=TODAY)
    assert "coaching_type" not in frame.columns and "group_name" not in frame.columns  # agents: no group
    lead = assignment_list(con, who(con, LEAD_EMAIL), today=TODAY)
    assert {"coaching_type", "group_name"} <= set(lead.columns)
    assert sorted(zip(lead["assignment_id"], lead["agent"], strict=True)) == sorted(
        [(key, PRIYA) for key in EVERY_SESSION] + [("A-GROUP", TOM)]
    )


@pytest.mark.parametrize(("order", "expected"), [
    ("Newest assigned", EVERY_SESSION),
    ("Oldest assigned", EVERY_SESSION[::-1]),
    # Ties (two on 19 Aug, three on 30 Sep) fall back to the newest assigned first.
    ("Earliest follow-up", ["A-SCORES", "A-DONE", "A-OVER", "A-TODAY", "A-SEVEN", "A-EIGHT",
                           "A-GROUP", "A-PS", "A-PA"]),
    ("Name (A to Z)", sorted(EVERY_SESSION)),
])
def test_each_list_order(con, order: str, expected: list[str]) -> None:
    frame = assignment_list(con, who(con, AGENT_EMAIL), today=TODAY, order=order)
    assert list(frame["assignment_id"]) == expected


def test_every_order_is_offered_and_an_unknown_one_is_refused(con) -> None:
    assert list(LIST_ORDERS)[0] == "Newest assigned"
    with pytest.raises(ValueError, match="unknown order 'assigned_date; DROP TABLE x'"):
        assignment_list(con, who(con, AGENT_EMAIL), today=TODAY, order="assigned_date; DROP TABLE x")


def test_the_status_filter_uses_the_viewers_words(con) -> None:
    assert listing(con, AGENT_EMAIL, statuses=("Start Coaching",)) == ["A-EIGHT", "A-TODAY"]
    assert listing(con, AGENT_EMAIL, statuses=("Yet to Start",)) == []
    assert listing(con, LEAD_EMAIL, statuses=("Yet to Start",)) == ["A-EIGHT", "A-TODAY"]
    assert listing(con, AGENT_EMAIL, statuses=("Pending Agent Review",)) == ["A-PA"]
    assert listing(con, AGENT_EMAIL, statuses=("Pending Supervisor Review", "Completed")) == [
        "A-PS", "A-DONE", "A-SCORES"]
    assert listing(con, LEAD_EMAIL, statuses=("Pending Supervisor Review",)) == ["A-PS"]
    # Tom's group row, Priya's A-PA.
    assert listing(con, LEAD_EMAIL, statuses=("Pending Agent Review",)) == ["A-GROUP", "A-PA"]
    assert listing(con, AGENT_EMAIL, statuses=("In Progress",)) == ["A-GROUP", "A-SEVEN", "A-OVER"]


def test_the_coaching_area_filter_matches_any_chosen_area(con) -> None:
    assert listing(con, AGENT_EMAIL, coaching_areas=("Compliance",)) == ["A-PS", "A-TODAY", "A-SCORES"]
    assert listing(con, AGENT_EMAIL, coaching_areas=("Compliance", "Etiquette")) == [
        "A-PS", "A-EIGHT", "A-TODAY", "A-SCORES"]
    # An area past the third (hidden behind "+1" in the list) still matches.
    assert listing(con, AGENT_EMAIL, coaching_areas=("Etiquette",)) == ["A-EIGHT", "A-SCORES"]
    assert listing(con, AGENT_EMAIL, coaching_areas=("Soft Skills",)) == []


def test_the_assigned_date_filter_is_inclusive(con) -> None:
    assert listing(con, AGENT_EMAIL, assigned_from=date(2026, 8, 7)) == ["A-GROUP", "A-PS"]
    assert listing(con, AGENT_EMAIL, assigned_to=date(2026, 8, 2)) == ["A-TODAY", "A-OVER", "A-SCORES"]
    assert listing(con, AGENT_EMAIL, assigned_from=date(2026, 8, 3), assigned_to=date(2026, 8, 4)) == [
        "A-EIGHT", "A-SEVEN"]
    assert listing(con, AGENT_EMAIL, assigned_from=date(2026, 8, 9)) == []


def test_filters_combine(con) -> None:
    combined = dict(statuses=("In Progress",), coaching_areas=("Empathy", "Product Knowledge"),
                    assigned_from=date(2026, 8, 1), assigned_to=date(2026, 8, 7))
    assert listing(con, AGENT_EMAIL, **combined) == ["A-SEVEN", "A-OVER"]
    assert listing(con, AGENT_EMAIL, **{**combined, "statuses": ("Completed",)}) == ["A-DONE"]
    assert listing(con, AGENT_EMAIL, **{**combined, "coaching_areas": ("Call Handling",)}) == []
    # The lead's list: Tom's group row is pending, Priya's is not.
    wanted = AssignmentFilters(statuses=("In Progress",), coaching_areas=("Product Knowledge",))
    frame = assignment_list(con, who(con, LEAD_EMAIL), wanted, today=TODAY)
    assert list(zip(frame["assignment_id"], frame["agent"], strict=True)) == [
        ("A-GROUP", PRIYA), ("A-SEVEN", PRIYA)]


def test_the_agent_filter_narrows_the_list_to_those_agents(con) -> None:
    frame = assignment_list(con, who(con, LEAD_EMAIL), AssignmentFilters(agents=(OTHER_AGENT_EMAIL,)), today=TODAY)
    assert list(zip(frame["assignment_id"], frame["person_id"], strict=True)) == [("A-GROUP", OTHER_AGENT_EMAIL)]
    both = listing(con, LEAD_EMAIL, agents=(AGENT_EMAIL, OTHER_AGENT_EMAIL))
    assert sorted(both) == sorted([*EVERY_SESSION, "A-GROUP"])
    assert listing(con, LEAD_EMAIL, agents=(AGENT_EMAIL,), statuses=("Yet to Start",)) == ["A-EIGHT", "A-TODAY"]
    # It only ever narrows the viewer's scope: an agent naming a colleague gets nothing.
    assert listing(con, AGENT_EMAIL, agents=(OTHER_AGENT_EMAIL,)) == []
    assert listing(con, AGENT_EMAIL, agents=(AGENT_EMAIL,)) == EVERY_SESSION
    assert listing(con, LEAD_EMAIL, agents=("nobody@example.com",)) == []


# -- the session ------------------------------------------------------------------------------------


def test_assignment_detail_hides_the_group_from_agents(con) -> None:
    mine = assignment_detail(con, who(con, AGENT_EMAIL), "A-GROUP")
    assert mine is not None and mine.agent == PRIYA
    assert mine.coaching_type is None and mine.group_name is None
    toms = assignment_detail(con, who(con, LEAD_EMAIL), "A-GROUP", OTHER_AGENT_EMAIL)
    assert toms is not None and toms.agent == TOM
    assert (toms.coaching_type, toms.group_name) == ("Group Agents", "Billing East")
    assert assignment_detail(con, who(con, AGENT_EMAIL), "A-GROUP", OTHER_AGENT_EMAIL) is None
    detail = assignment_detail(con, who(con, AGENT_EMAIL), "A-SCORES", AGENT_EMAIL)
    assert detail.coaching_areas == ["Empathy", "Compliance", "Product Knowledge", "Etiquette"]
    assert (detail.assigned_date, detail.follow_up_date) == (date(2026, 7, 20), date(2026, 7, 31))
    assert (detail.status, detail.assigned_by) == ("Completed", "Sam Ortiz")
    assert (detail.feedback, detail.action_plan) == ("Feedback for A-SCORES.", "Plan for A-SCORES.")


def results(con, pass_score: float | None = None, email: str = AGENT_EMAIL) -> dict[str, tuple]:
    viewer = who(con, email)
    frame = (marked_interactions(con, viewer, "A-SCORES", AGENT_EMAIL) if pass_score is None
             else marked_interactions(con, viewer, "A-SCORES", AGENT_EMAIL, pass_score))
    return {
        row.conversation_id: (
            None if row.kore_score != row.kore_score else row.kore_score, row.kore_result,
            None if row.audit_score != row.audit_score else row.audit_score, row.audit_result,
        )
        for row in frame.itertuples()
    }


def test_marked_interactions_pass_at_exactly_the_pass_score(con) -> None:
    found = results(con)
    assert found["s-40"] == (40, "Pass", 40, "Pass")
    assert found["s-39"] == (39, "Fail", 39, "Fail")


def test_marked_interactions_say_why_a_score_is_missing(con) -> None:
    found = results(con)
    assert found["s-below"] == (None, "Below threshold", None, "Not audited")
    assert found["s-none"] == (None, "Not evaluated", None, "Not audited")


def test_the_final_audit_score_after_a_re_evaluation_is_used(con) -> None:
    found = results(con)
    assert found["s-reeval"] == (50, "Pass", 45, "Pass")  # exported 30 would fail
    frame = marked_interactions(con, who(con, AGENT_EMAIL), "A-SCORES", AGENT_EMAIL).set_index("conversation_id")
    assert frame.loc["s-reeval", "review_status"] == "Resolved"
    assert frame["review_status"].drop("s-reeval").isna().all()


def test_a_custom_pass_score(con) -> None:
    found = results(con, 45)
    assert found["s-40"] == (40, "Fail", 40, "Fail")
    assert found["s-reeval"] == (50, "Pass", 45, "Pass")
    found = results(con, 39)
    assert found["s-39"] == (39, "Pass", 39, "Pass")
    found = results(con, 46)
    assert found["s-reeval"] == (50, "Pass", 45, "Fail")
    assert found["s-below"][1] == "Below threshold" and found["s-none"][3] == "Not audited"


def test_marked_interactions_columns_and_order(con) -> None:
    frame = marked_interactions(con, who(con, AGENT_EMAIL), "A-SCORES", AGENT_EMAIL)
    assert list(frame["conversation_id"]) == ["s-40", "s-39", "s-below", "s-none", "s-reeval"]
    assert list(frame["coaching_area"]) == [
        "Empathy", "Compliance", "Product Knowledge", "Etiquette", "Empathy"]
    row = frame.iloc[0]
    assert list(row["queues"]) == ["Billing queue"]
    assert (row["topics"], row["intent"], row["sentiment_score"]) == ("refund request", "Refund", 6.5)
    # The same for the lead; nothing for someone whose session it is not.
    assert results(con, email=LEAD_EMAIL) == results(con)
    assert marked_interactions(con, who(con, OTHER_AGENT_EMAIL), "A-SCORES", AGENT_EMAIL).empty


def test_a_group_session_shows_each_member_only_their_own_marked_interactions(con) -> None:
    lead = who(con, LEAD_EMAIL)
    group = marked_interactions(con, lead, "A-GROUP", OTHER_AGENT_EMAIL)
    assert list(group["conversation_id"]) == ["t-super", "t-agent"]
    assert marked_interactions(con, lead, "A-GROUP", AGENT_EMAIL).empty
    assert marked_interactions(con, who(con, AGENT_EMAIL), "A-GROUP", AGENT_EMAIL).empty


def test_best_response_examples(con) -> None:
    examples = best_response_examples(con, who(con, AGENT_EMAIL), "A-SCORES", AGENT_EMAIL)
    assert list(examples["note"]) == ["Names the concern first."]
    assert best_response_examples(con, who(con, AGENT_EMAIL), "A-OVER", AGENT_EMAIL).empty


# -- the audit --------------------------------------------------------------------------------------


def badges(con, conversation: str, email: str = AGENT_EMAIL) -> dict[str, str | None]:
    detail = evaluation_detail(con, who(con, email), conversation)
    assert detail is not None
    return {m: (r if isinstance(r, str) else None)
            for m, r in zip(detail.metrics["metric"], detail.metrics["review"], strict=True)}


def test_metric_badges_take_the_last_word_across_rounds(con) -> None:
    assert badges(con, "r-badges") == {
        "Greeting": "Agent Accepted",
        "Empathy - Tone": "Accepted",  # disputed, then the dispute was accepted
        "Identity Check": "Disputed",  # denied in round 1, disputed again in round 2
    }
    assert badges(con, "r-denied") == {"Greeting": None, "Empathy - Tone": "Denied", "Identity Check": None}
    assert badges(con, "r-super")["Greeting"] == "Disputed"
    assert set(badges(con, "r-agent").values()) == {None}  # audited, not answered yet
    assert badges(con, "r-badges", LEAD_EMAIL) == badges(con, "r-badges")


def test_an_agent_accepting_an_answered_dispute_later_keeps_the_answer_as_the_state_machine_does(con) -> None:
    # Issue 14: a dispute accepted in round 1, the metric accepted by the agent in round 3. The Audit
    # page said "Agent Accepted" (the log's last word), the state machine "Accepted": the machine decides.
    assert badges(con, "r-late") == {"Greeting": "Accepted", "Empathy - Tone": "Denied", "Identity Check": None}
    rows = con.execute(
        "SELECT conversation_id, metric, round, actor, action, comment, timestamp, audit_score "
        "FROM review_events WHERE conversation_id = 'r-late'").fetchall()
    state, rejection = derive_review([ReviewEvent(*row) for row in rows], 3)
    assert rejection is None and state is not None and state.review_status == "Resolved"
    assert {m: b for m, b in badges(con, "r-late").items() if b} == state.metric_outcomes


def test_a_response_at_the_same_moment_as_the_dispute_is_still_the_last_word(con) -> None:
    # The review log breaks timestamp ties in the order a review happens: dispute, then response.
    assert badges(con, "r-tie")["Greeting"] == "Denied"
    events = evaluation_detail(con, who(con, AGENT_EMAIL), "r-tie").review_events
    assert list(events["action"]) == ["Audit Submitted", "Disputed", "Dispute Denied"]


def test_evaluation_detail_scores_and_history(con) -> None:
    detail = evaluation_detail(con, who(con, AGENT_EMAIL), "r-badges")
    assert (detail.agent, detail.queues, detail.topics, detail.intent) == (
        PRIYA, ["Billing queue"], "refund request", "Refund")
    assert (detail.channel, detail.language, detail.contact_direction, detail.evaluation_form) == (
        "Voice", "en", "inbound", "Billing Voice form")
    assert (detail.kore_score, detail.audit_score, detail.final_audit_score) == (35, 30, 45)
    assert detail.audit_score_history == [30, 45]
    assert (detail.review_status, detail.dispute_rounds) == ("Pending Supervisor Review", 1)
    assert detail.auditor == "Quinn Lee"
    assert list(detail.metrics["is_manual"]) == [False, False, True]
    events = detail.review_events
    assert list(events["round"]) == [0, 1, 1, 1, 1, 1, 1, 2]
    assert list(events["actor"]) == [
        "QA", "Agent", "Agent", "Agent", "Supervisor", "Supervisor", "Supervisor", "Agent"]


def test_hide_auditor_details_anonymises_reviewers_and_the_auditor_not_the_agent(con) -> None:
    for email in (AGENT_EMAIL, LEAD_EMAIL):
        shown = evaluation_detail(con, who(con, email), "r-badges", hide_auditor_details=False)
        hidden = evaluation_detail(con, who(con, email), "r-badges", hide_auditor_details=True)
        assert hidden.auditor == ANONYMOUS != shown.auditor
        assert list(hidden.review_events["actor"]) == [
            ANONYMOUS if actor in ("QA", "Supervisor") else actor for actor in shown.review_events["actor"]
        ]
        assert set(hidden.review_events["actor"]) == {ANONYMOUS, "Agent"}
        assert list(hidden.review_events["action"]) == list(shown.review_events["action"])
        comments = [list(d.review_events["comment"].fillna("")) for d in (hidden, shown)]
        assert comments[0] == comments[1]
    # Nothing to hide: no auditor stays no auditor.
    assert evaluation_detail(con, who(con, AGENT_EMAIL), "s-40", hide_auditor_details=True).auditor is None


def test_the_history_names_people_not_roles(con) -> None:
    # r-badges: audited by QA (the report names Quinn Lee), answered by a Supervisor: Priya's team lead.
    events = evaluation_detail(con, who(con, AGENT_EMAIL), "r-badges").review_events
    assert list(zip(events["actor"], events["who"], strict=True)) == [
        ("QA", "Quinn Lee"), ("Agent", PRIYA), ("Agent", PRIYA), ("Agent", PRIYA),
        ("Supervisor", "Sam Ortiz"), ("Supervisor", "Sam Ortiz"), ("Supervisor", "Sam Ortiz"), ("Agent", PRIYA)]
    # r-super: the Supervisor who submitted the audit is the report's Auditor.
    events = evaluation_detail(con, who(con, AGENT_EMAIL), "r-super").review_events
    assert list(events["who"]) == ["Sam Ortiz", PRIYA]
    # s-reeval: QA audited and answered; the report names Quinn Lee, who is both.
    events = evaluation_detail(con, who(con, LEAD_EMAIL), "s-reeval").review_events
    assert list(events["who"]) == ["Quinn Lee", PRIYA, "Quinn Lee", "Quinn Lee", PRIYA]


@pytest.mark.parametrize(("actor", "auditor", "audit_role", "lead", "hidden", "shown"), [
    ("Agent", "Quinn Lee", "QA", "Sam Ortiz", True, PRIYA),  # the agent is never hidden
    ("System", None, "QA", "Sam Ortiz", False, "System"),
    ("QA", "Quinn Lee", "QA", "Sam Ortiz", False, "Quinn Lee"),
    ("QA", None, "QA", "Sam Ortiz", False, "QA"),  # no one named: the role
    ("QA", "Quinn Lee", "Supervisor", "Sam Ortiz", False, "QA"),  # another QA than the auditing Supervisor
    ("Supervisor", "Quinn Lee", "QA", "Sam Ortiz", False, "Sam Ortiz"),  # the team lead
    ("Supervisor", "Dana Diaz", "Supervisor", "Sam Ortiz", False, "Dana Diaz"),  # the auditor first
    ("Supervisor", None, "QA", None, False, "Supervisor"),
    ("Supervisor", "Dana Diaz", "Supervisor", "Sam Ortiz", True, ANONYMOUS),
    ("QA", "Quinn Lee", "QA", None, True, ANONYMOUS),
])
def test_who_did_it(actor, auditor, audit_role, lead, hidden, shown) -> None:
    assert who_did_it(actor, agent=PRIYA, auditor=auditor, audit_role=audit_role, team_lead=lead,
                      hide_auditor_details=hidden) == shown


@pytest.mark.parametrize(("round_number", "actions", "title"), [
    (0, ["Audit Submitted"], "Audit"),
    (1, ["Disputed", "Accepted", "Dispute Accepted", "Re-evaluated"], "Dispute round 1"),
    (2, ["Disputed"], "Dispute round 2"),
    (1, ["Accepted"], "Accepted by the agent"),
    (3, ["Accepted", "Accepted", "Resolved"], "Accepted by the agent"),
    (2, ["Closed"], "Closed"),
    (1, ["Disputed", "Dispute Denied", "Closed"], "Dispute round 1"),
])
def test_round_titles_say_what_happened(round_number, actions, title) -> None:
    assert round_title(round_number, actions) == title


def test_rounds_of_the_small_store_are_titled_by_what_happened(con) -> None:
    events = evaluation_detail(con, who(con, AGENT_EMAIL), "r-late").review_events
    titles = [round_title(r, list(events[events["round"] == r]["action"])) for r in sorted(set(events["round"]))]
    assert titles == ["Audit", "Dispute round 1", "Dispute round 2", "Accepted by the agent"]


@pytest.mark.parametrize(("history", "re_evaluations", "changes"), [
    ([55.0, 70.0], 1, ["55", "55 → 70"]),
    ([55.0], 0, ["55"]),
    ([70.0], 1, [None, "70"]),  # the audit had no score: the re-evaluation's alone
    ([], 0, [None]),
    ([40.0, 48.0, 45.5], 2, ["40", "40 → 48", "48 → 45.5"]),
])
def test_score_changes(history, re_evaluations, changes) -> None:
    assert score_changes(history, re_evaluations) == changes


def test_each_event_says_what_it_did_to_the_audit_score(con) -> None:
    events = evaluation_detail(con, who(con, AGENT_EMAIL), "s-reeval").review_events
    changes = [None if pd.isna(change) else change for change in events["score_change"]]
    assert dict(zip(events["action"], changes, strict=True)) == {
        "Audit Submitted": "30", "Disputed": None, "Dispute Accepted": None, "Re-evaluated": "30 → 45",
        "Accepted": None}


def test_not_adhered_metrics_in_the_forms_order(con) -> None:
    detail = evaluation_detail(con, who(con, AGENT_EMAIL), "s-40")
    # Greeting adhered (1), Empathy - Tone not (0), Identity Check (manual) adhered.
    assert list(detail.metrics["result"]) == ["Adhered", "Not Adhered", "Adhered"]
    assert detail.not_adhered == ["Empathy - Tone"]
    assert evaluation_detail(con, who(con, AGENT_EMAIL), "s-none").not_adhered == []
    assert RESULT_COLOURS[NOT_ADHERED] == "red" and len(set(RESULT_COLOURS.values())) > 1


def test_evaluation_detail_is_not_found_out_of_scope(con) -> None:
    assert evaluation_detail(con, who(con, OTHER_AGENT_EMAIL), "r-badges") is None
    assert evaluation_detail(con, who(con, AGENT_EMAIL), "t-super") is None
    assert evaluation_detail(con, who(con, AGENT_EMAIL), "no-such-conversation") is None
    assert evaluation_detail(con, who(con, LEAD_EMAIL), "t-super") is not None


# -- the demo store ---------------------------------------------------------------------------------

DEMO_END = PAGES_DEMO.end


@pytest.fixture(scope="module")
def demo_con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    db = build_demo_store(tmp_path_factory.mktemp("assignments-demo"))
    with store.open_store(db).snapshot() as cursor:
        yield cursor
    store.close_all()


def test_the_demo_agent_has_a_session_with_every_area(demo_con) -> None:
    viewer = access.identify(demo_con, "agent@example.com")
    frame = assignment_list(demo_con, viewer, today=DEMO_END)
    full = frame[[len(a) == 7 for a in frame["coaching_areas"]]]
    assert len(full) >= 1
    tags = full.iloc[0]["area_tags"]
    assert tags[:3] == list(full.iloc[0]["coaching_areas"])[:3] and tags[3] == "+4" and len(tags) == 4
    assert all(len(t) <= 4 for t in frame["area_tags"])


def test_the_demo_agents_last_two_sessions_wait_on_a_review(demo_con) -> None:
    viewer = access.identify(demo_con, "agent@example.com")
    frame = assignment_list(demo_con, viewer, today=DEMO_END)  # newest first
    assert set(frame["status"].head(2)) == {"Pending Agent Review", "Pending Supervisor Review"}
    stored = assignment_list(demo_con, viewer, today=DEMO_END, accept_dispute=False)
    assert not any(s.startswith("Pending") for s in stored["status"])
    assert set(stored["status"]) <= {"Start Coaching", "In Progress", "Completed"}
    # Each pending session links an evaluation of the agent's waiting for that party.
    for row in frame.head(2).itertuples():
        marked = marked_interactions(demo_con, viewer, row.assignment_id, row.person_id)
        assert row.status in set(marked["review_status"].dropna())
        assert set(marked["agent"]) == {viewer.name}


def test_the_demo_agent_has_an_overdue_follow_up_and_a_session_without_examples(demo_con) -> None:
    viewer = access.identify(demo_con, "agent@example.com")
    frame = assignment_list(demo_con, viewer, today=DEMO_END + timedelta(days=27))
    assert "Overdue" in set(frame["follow_up"].dropna())
    assert not (frame[frame["follow_up"] == "Overdue"]["status"] == "Completed").any()
    empty = [r.assignment_id for r in frame.itertuples()
             if best_response_examples(demo_con, viewer, r.assignment_id, r.person_id).empty]
    assert len(empty) >= 1


def test_demo_marked_interactions_results_agree_with_their_scores(demo_con) -> None:
    viewer = access.identify(demo_con, "lead@example.com")
    frame = assignment_list(demo_con, viewer, today=DEMO_END)
    seen_not_audited = False
    for row in frame.itertuples():
        marked = marked_interactions(demo_con, viewer, row.assignment_id, row.person_id, 40)
        for m in marked.itertuples():
            if m.kore_score == m.kore_score:  # not NaN
                assert m.kore_result == ("Pass" if m.kore_score >= 40 else "Fail")
            else:
                assert m.kore_result in ("Below threshold", "Not evaluated")
            if m.audit_score == m.audit_score:
                assert m.audit_result == ("Pass" if m.audit_score >= 40 else "Fail")
            else:
                assert m.audit_result == "Not audited"
                seen_not_audited = True
    assert seen_not_audited


# -- paging in SQL -----------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["agent@example.com", "lead@example.com", "admin@example.com"])
@pytest.mark.parametrize("order", list(LIST_ORDERS))
@pytest.mark.parametrize("filters", [AssignmentFilters(), AssignmentFilters(statuses=("Completed",)),
                                     AssignmentFilters(assigned_from=DEMO_END - timedelta(days=30))],
                         ids=["all", "completed", "last-30-days"])
def test_pages_are_the_list_cut_in_order(demo_con, email: str, order: str, filters) -> None:
    """Every page in turn gives back the whole list, in its order, with the list's counts."""
    viewer = access.identify(demo_con, email)
    whole = assignment_list(demo_con, viewer, filters, DEMO_END, order=order)
    first = assignment_page(demo_con, viewer, filters, DEMO_END, order=order, page=1, page_size=7)
    assert first.matching == len(whole) and first.pages == max(1, -(-len(whole) // 7))
    assert first.overdue == int((whole["follow_up"] == "Overdue").sum())
    pages = [assignment_page(demo_con, viewer, filters, DEMO_END, order=order, page=n, page_size=7)
             for n in range(1, first.pages + 1)]
    assert [p.page for p in pages] == list(range(1, first.pages + 1))
    assert all(len(p.sessions) == 7 for p in pages[:-1]) and len(pages[-1].sessions) <= 7
    joined = pd.concat([p.sessions for p in pages], ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole)


def test_a_page_past_the_end_is_the_last_and_no_match_is_one_empty_page(demo_con) -> None:
    viewer = access.identify(demo_con, "lead@example.com")
    whole = assignment_list(demo_con, viewer, today=DEMO_END)
    assert len(whole) > 5
    last = assignment_page(demo_con, viewer, today=DEMO_END, page=999, page_size=5)
    assert last.page == last.pages == -(-len(whole) // 5)
    assert list(last.sessions["assignment_id"]) == list(whole["assignment_id"][(last.page - 1) * 5:])
    none = assignment_page(demo_con, viewer, AssignmentFilters(coaching_areas=("No such area",)), DEMO_END)
    assert (none.page, none.pages, none.matching, none.overdue) == (1, 1, 0, 0)
    assert none.sessions.empty and list(none.sessions.columns) == list(whole.columns)
    with pytest.raises(ValueError):
        assignment_page(demo_con, viewer, today=DEMO_END, page_size=0)


@pytest.mark.parametrize("email", ["agent@example.com", "lead@example.com", "admin@example.com"])
@pytest.mark.parametrize("accept_dispute", [True, False])
def test_list_choices_are_the_lists_statuses_and_areas(demo_con, email: str, accept_dispute: bool) -> None:
    viewer = access.identify(demo_con, email)
    whole = assignment_list(demo_con, viewer, today=DEMO_END, accept_dispute=accept_dispute)
    choices = list_choices(demo_con, viewer, DEMO_END, accept_dispute)
    assert choices.sessions == len(whole)
    assert choices.statuses == sorted(set(whole["status"]))
    assert choices.coaching_areas == sorted({a for areas in whole["coaching_areas"] for a in areas})


@pytest.mark.parametrize("email", ["lead@example.com", "zoe.zimmer@example.com", "admin@example.com"])
def test_a_leads_choices_name_every_agent_in_their_scope(demo_con, email: str) -> None:
    viewer = access.identify(demo_con, email)
    choices = list_choices(demo_con, viewer, DEMO_END)
    agents = demo_con.execute("SELECT person_id, name, team_lead_email FROM people WHERE role = 'Agent'").fetchall()
    expected = {person: name for person, name, lead in agents if viewer.sees_everyone or lead == viewer.email}
    assert choices.agents == expected and list(choices.agents.values()) == sorted(expected.values())
    # Each agent's sessions are exactly their rows of the whole list.
    whole = assignment_list(demo_con, viewer, today=DEMO_END)
    for person in list(choices.agents)[:6]:
        narrowed = assignment_list(demo_con, viewer, AssignmentFilters(agents=(person,)), today=DEMO_END)
        assert list(narrowed["assignment_id"]) == list(whole[whole["person_id"] == person]["assignment_id"])


def test_an_agents_choices_name_no_agents(demo_con) -> None:
    assert list_choices(demo_con, access.identify(demo_con, "agent@example.com"), DEMO_END).agents == {}


def test_a_lead_naming_another_teams_agent_gets_nothing(demo_con) -> None:
    lead, other = (access.identify(demo_con, e) for e in ("lead@example.com", "zoe.zimmer@example.com"))
    theirs = list_choices(demo_con, other, DEMO_END).agents
    assert theirs and not set(theirs) & set(list_choices(demo_con, lead, DEMO_END).agents)
    # The other lead's agents have sessions; the lead asking for them sees none.
    assert not assignment_list(demo_con, other, AssignmentFilters(agents=tuple(theirs)), today=DEMO_END).empty
    page = assignment_page(demo_con, lead, AssignmentFilters(agents=tuple(theirs)), DEMO_END)
    assert (page.matching, page.overdue, len(page.sessions)) == (0, 0, 0)


def test_no_sessions_no_choices(con) -> None:
    nobody = Viewer("Nobody", "nobody@example.com", access.AGENT, None, ())
    choices = list_choices(con, nobody, TODAY)
    assert (choices.sessions, choices.statuses, choices.coaching_areas) == (0, [], [])

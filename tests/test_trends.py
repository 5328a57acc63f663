"""The trends figures in coaching/trends.py against values computed by hand on a small store.

Team Billing East (lead Sam Ortiz): Priya, Tom, Vic. Team Claims (lead Zoe Zimmer): Uma. Weeks start on
Monday 6, 13 and 20 July 2026. Every expected number below is worked out in the comment beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from coaching import store
from coaching.access import AccessDenied
from coaching.trends import (
    AUDIT,
    KORE,
    MAX_COMPARED,
    SENTIMENT,
    TrendFilters,
    agent_in_scope,
    agent_score_trends,
    audit_gap_by_agent,
    coaching_effect,
    coaching_effect_report,
    coaching_effect_summary,
    coaching_monitor,
    compares_agents,
    dispute_trends,
    filter_options,
    headline_figures,
    kore_vs_audit,
    metric_overturns,
    own_headline,
    own_trends,
    score_trends,
)

from exports import _AGENT, IE_HEADER, ROSTER_HEADER, build_store, csv_text, roster, who

PRIYA, TOM, VIC, UMA = "Priya Nair", "Tom Becker", "Vic Vance", "Uma Ueda"
# Who they are (filters choose people, never names): their emails.
PRIYA_ID, TOM_ID, VIC_ID, UMA_ID = (f"{n.lower().replace(' ', '.')}@example.com" for n in (PRIYA, TOM, VIC, UMA))
PRIYA_EMAIL, SAM, ZOE, QA = ("priya.nair@example.com", "sam.ortiz@example.com", "zoe.zimmer@example.com",
                             "quinn.lee@example.com")
JULY = TrendFilters(date(2026, 7, 1), date(2026, 7, 31))

ROSTER = roster(PRIYA, TOM, VIC, UMA, "Sam Ortiz", "Zoe Zimmer", "Quinn Lee")


def ie_row(cid: str, agent: str, when: str, kore: str, audit: str, sentiment: str, queue: str = "Billing queue",
           form: str = "Voice Quality Form", greeting: str = "1", month: str = "07") -> str:
    duration = "Below Threshold" if kore == "" else "Evaluated"
    return (f"{cid},Voice,{queue},{queue},en,{agent},{agent},2026-{month}-{when}:00Z,{sentiment},refund,0,{kore},"
            f"0,0,{audit},inbound,{duration},{form},Refund,{greeting},0,10,10")


EVALUATIONS = "\n".join([
    IE_HEADER,
    ie_row("p1", PRIYA, "06T09:00", "40", "50", "6.0"),  # audit re-evaluated to 56 below
    ie_row("p2", PRIYA, "07T09:00", "60", "", "8.0"),
    ie_row("t1", TOM, "06T11:00", "80", "70", "7.0"),
    ie_row("v1", VIC, "08T09:00", "10", "", "4.0", form="Chat Quality Form"),
    ie_row("u1", UMA, "06T09:00", "90", "100", "9.0"),
    ie_row("p3", PRIYA, "14T09:00", "20", "10", "5.0", queue="Claims queue", form="Chat Quality Form"),
    ie_row("p5", PRIYA, "14T15:00", "40", "", "6.0"),
    ie_row("t2", TOM, "15T09:00", "-20", "", "3.0", queue="Claims queue", greeting="0"),
    ie_row("v2", VIC, "16T09:00", "30", "", "5.0"),
    ie_row("p4", PRIYA, "20T09:00", "", "", ""),  # below threshold: no score at all
    ie_row("p6", PRIYA, "25T09:00", "90", "", "7.0"),
]) + "\n"

EVENTS = """ConversationID,Metric,Round,Actor,Action,Comment,Timestamp,Audit Score
p1,,0,QA,Audit Submitted,,2026-07-06T10:00:00Z,50
p1,Greeting,1,Agent,Disputed,I greeted them.,2026-07-06T12:00:00Z,
p1,Greeting,1,QA,Dispute Accepted,Agreed.,2026-07-07T10:00:00Z,
p1,,1,QA,Re-evaluated,,2026-07-07T10:05:00Z,56
p1,,2,Agent,Accepted,,2026-07-08T10:00:00Z,
t1,,0,QA,Audit Submitted,,2026-07-06T10:00:00Z,70
t1,,1,Agent,Accepted,,2026-07-06T22:00:00Z,
"""

ASSIGNMENTS = """Assignment ID,Name,Agent,Coaching Type,Coaching Areas,Assigned Date,Follow-Up Date,Status,Assigned By
A1,Empathy focus,Priya Nair,Individual Agent,Empathy,2026-07-13,2026-07-24,In Progress,Sam Ortiz
A2,Compliance focus,Tom Becker,Individual Agent,Compliance,2026-07-13,2026-07-24,Yet to Start,Sam Ortiz
A3,Etiquette focus,Vic Vance,Individual Agent,Etiquette,2026-06-20,2026-07-01,Completed,Sam Ortiz
"""


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_store(tmp_path_factory.mktemp("trends"), {
        "roster.csv": ROSTER, "ie-report.csv": EVALUATIONS, "review-events.csv": EVENTS, "assignments.csv": ASSIGNMENTS,
    })
    store.close_all()


def by(frame: pd.DataFrame, *keys: str) -> dict:
    """Rows keyed by ``keys`` (dates as ISO text), each a dict of the other columns."""
    out = {}
    for row in frame.to_dict("records"):
        key = tuple(v.date().isoformat() if isinstance(v, pd.Timestamp) else v for v in (row[k] for k in keys))
        out[key if len(key) > 1 else key[0]] = row
    return out


# -- score trends ------------------------------------------------------------------------------------


def test_weekly_score_trends_of_a_leads_team(con) -> None:
    trends = by(score_trends(con, who(con, SAM), JULY, "week"), "period", "measure")
    # Week of 6 Jul: p1 40, p2 60, t1 80, v1 10 → Kore 47.5 (4); audits p1 56 (re-evaluated), t1 70 → 63 (2);
    # sentiment 6, 8, 7, 4 → 6.25 (4). Uma is another team's.
    assert trends[("2026-07-06", KORE)]["mean"] == 47.5 and trends[("2026-07-06", KORE)]["n"] == 4
    assert trends[("2026-07-06", AUDIT)]["mean"] == 63 and trends[("2026-07-06", AUDIT)]["n"] == 2
    assert trends[("2026-07-06", SENTIMENT)]["mean"] == 6.25
    # Week of 13 Jul: p3 20, p5 40, t2 −20, v2 30 → 17.5 (4); audit p3 10 (1); sentiment 5, 6, 3, 5 → 4.75.
    assert trends[("2026-07-13", KORE)]["mean"] == 17.5 and trends[("2026-07-13", KORE)]["n"] == 4
    assert trends[("2026-07-13", AUDIT)]["mean"] == 10 and trends[("2026-07-13", AUDIT)]["n"] == 1
    assert trends[("2026-07-13", SENTIMENT)]["mean"] == 4.75
    # Week of 20 Jul: p4 has no score at all; p6 90, sentiment 7, no audit → no audit row that week.
    assert trends[("2026-07-20", KORE)]["mean"] == 90 and trends[("2026-07-20", KORE)]["n"] == 1
    assert ("2026-07-20", AUDIT) not in trends and trends[("2026-07-20", SENTIMENT)]["mean"] == 7
    # Every average here rests on fewer than 5 evaluations.
    assert all(row["thin"] for row in trends.values())


def test_daily_and_monthly_grains(con) -> None:
    daily = by(score_trends(con, who(con, SAM), JULY, "day"), "period", "measure")
    assert daily[("2026-07-06", KORE)]["mean"] == 60 and daily[("2026-07-06", KORE)]["n"] == 2  # p1, t1
    assert daily[("2026-07-14", KORE)]["mean"] == 30  # p3 20, p5 40
    assert not [k for k in daily if k[0] == "2026-07-20"]  # p4 alone that day, with no score at all
    monthly = by(score_trends(con, who(con, SAM), JULY, "month"), "period", "measure")
    assert list(monthly) == [("2026-07-01", KORE), ("2026-07-01", AUDIT), ("2026-07-01", SENTIMENT)]
    # 40 + 60 + 80 + 10 + 20 + 40 − 20 + 30 + 90 = 350 over 9.
    assert monthly[("2026-07-01", KORE)]["mean"] == pytest.approx(350 / 9)
    assert monthly[("2026-07-01", KORE)]["n"] == 9
    assert not monthly[("2026-07-01", KORE)]["thin"]


def test_filters_narrow_the_trends(con) -> None:
    lead = who(con, SAM)
    claims = by(score_trends(con, lead, TrendFilters(JULY.start, JULY.end, queues=("Claims queue",)), "month"),
                "measure")
    assert claims[KORE]["mean"] == 0 and claims[KORE]["n"] == 2  # p3 20, t2 −20
    chat = by(score_trends(con, lead, TrendFilters(JULY.start, JULY.end, forms=("Chat Quality Form",)), "month"),
              "measure")
    assert chat[KORE]["mean"] == 15  # v1 10, p3 20
    tom = by(score_trends(con, lead, TrendFilters(JULY.start, JULY.end, agents=(TOM_ID,)), "month"), "measure")
    assert tom[KORE]["mean"] == 30  # 80, −20
    coached = by(score_trends(con, lead, TrendFilters(JULY.start, JULY.end, coaching_areas=("Empathy",)),
                              "month"), "measure")
    assert coached[KORE]["n"] == 5  # Priya's: p1, p2, p3, p5, p6
    # Another team named in a filter adds nothing to a lead's scope.
    assert score_trends(con, lead, TrendFilters(JULY.start, JULY.end, teams=("Claims",)), "week").empty


def test_empty_and_single_point(con) -> None:
    empty = score_trends(con, who(con, SAM), TrendFilters(date(2025, 1, 1), date(2025, 1, 31)), "week")
    assert empty.empty and list(empty.columns) == ["period", "measure", "mean", "n", "thin", "rolling_mean",
                                                   "rolling_n"]
    one = score_trends(con, who(con, SAM), TrendFilters(date(2026, 7, 8), date(2026, 7, 8)), "day")
    assert one[["measure", "mean", "n"]].values.tolist() == [[KORE, 10.0, 1], [SENTIMENT, 4.0, 1]]  # v1


def test_the_daily_rolling_mean_covers_the_seven_days_ending_on_each_day(con) -> None:
    daily = by(score_trends(con, who(con, SAM), JULY, "day"), "period", "measure")
    rolling = {day: (row["rolling_mean"], row["rolling_n"]) for (day, measure), row in daily.items()
               if measure == KORE}
    assert rolling == {
        "2026-07-06": (60, 2),  # p1 40, t1 80
        "2026-07-07": (60, 3),  # with p2 60
        "2026-07-08": (pytest.approx(47.5), 4),  # with v1 10: 190 / 4
        "2026-07-14": (pytest.approx(70 / 3), 3),  # 8–14 Jul: v1 10, p3 20, p5 40 (6 and 7 Jul have left)
        "2026-07-15": (pytest.approx(40 / 3), 3),  # 9–15 Jul: p3 20, p5 40, t2 −20
        "2026-07-16": (pytest.approx(17.5), 4),  # with v2 30
        "2026-07-25": (90, 1),  # 19–25 Jul: p6 alone (p4 has no score)
    }
    # Each measure rolls on its own: the audits of 6 and 14 Jul (p1 56, t1 70; p3 10) are 8 days apart.
    assert daily[("2026-07-14", AUDIT)]["rolling_mean"] == 10 and daily[("2026-07-14", AUDIT)]["rolling_n"] == 1
    # Weeks and months have no rolling mean.
    weekly = score_trends(con, who(con, SAM), JULY, "week")
    assert weekly["rolling_mean"].isna().all() and weekly["rolling_n"].isna().all()


def test_an_agent_sees_their_own_scores_only(con) -> None:
    trends = by(score_trends(con, who(con, PRIYA_EMAIL), JULY, "month"), "measure")
    assert trends[KORE]["mean"] == 50 and trends[KORE]["n"] == 5  # 40, 60, 20, 40, 90
    assert trends[AUDIT]["mean"] == 33 and trends[AUDIT]["n"] == 2  # 56, 10


def test_unknown_grain_is_refused(con) -> None:
    with pytest.raises(ValueError, match="unknown grain 'year'"):
        score_trends(con, who(con, SAM), JULY, "year")


# -- a line per agent --------------------------------------------------------------------------------


def test_each_chosen_agent_has_their_own_averages(con) -> None:
    both = TrendFilters(JULY.start, JULY.end, agents=(TOM_ID, PRIYA_ID))
    per = by(agent_score_trends(con, who(con, SAM), both, "month"), "person_id", "measure")
    # Priya: Kore 40, 60, 20, 40, 90 → 50 (5); audits 56 (p1 re-evaluated), 10 → 33 (2). Tom: 80, −20 → 30 (2);
    # audit 70 (1). Sentiment: Priya 6, 8, 5, 6, 7 → 6.4; Tom 7, 3 → 5.
    assert (per[(PRIYA_ID, KORE)]["mean"], per[(PRIYA_ID, KORE)]["n"]) == (50, 5)
    assert (per[(PRIYA_ID, AUDIT)]["mean"], per[(PRIYA_ID, AUDIT)]["n"]) == (33, 2)
    assert per[(PRIYA_ID, SENTIMENT)]["mean"] == pytest.approx(6.4)
    assert (per[(TOM_ID, KORE)]["mean"], per[(TOM_ID, KORE)]["n"]) == (30, 2)
    assert (per[(TOM_ID, AUDIT)]["mean"], per[(TOM_ID, AUDIT)]["n"]) == (70, 1)
    assert per[(TOM_ID, SENTIMENT)]["mean"] == 5
    assert per[(PRIYA_ID, KORE)]["agent"] == PRIYA and per[(TOM_ID, KORE)]["agent"] == TOM  # shown by name
    assert not per[(PRIYA_ID, KORE)]["thin"] and per[(TOM_ID, KORE)]["thin"]
    # Each agent's lines are what that agent alone gives: score_trends narrowed to them, week by week.
    weekly = agent_score_trends(con, who(con, SAM), both, "week")
    for person in (PRIYA_ID, TOM_ID):
        alone = score_trends(con, who(con, SAM), TrendFilters(JULY.start, JULY.end, agents=(person,)), "week")
        mine = weekly[weekly["person_id"] == person].drop(columns=["person_id", "agent"])
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), alone.reset_index(drop=True))


def test_a_line_per_agent_keeps_to_the_scope_and_to_at_most_ten_agents(con) -> None:
    # Uma is Zoe's: named by Sam she adds no line.
    mixed = agent_score_trends(con, who(con, SAM), TrendFilters(JULY.start, JULY.end, agents=(TOM_ID, UMA_ID)))
    assert set(mixed["person_id"]) == {TOM_ID}
    assert agent_score_trends(con, who(con, ZOE), TrendFilters(JULY.start, JULY.end, agents=(TOM_ID,))).empty
    # The agent's own view of it is theirs alone.
    assert set(agent_score_trends(con, who(con, PRIYA_EMAIL),
                                  TrendFilters(JULY.start, JULY.end, agents=(PRIYA_ID, TOM_ID)))["person_id"]) \
        == {PRIYA_ID}
    eleven = tuple(f"agent{i}@example.com" for i in range(MAX_COMPARED + 1))
    with pytest.raises(ValueError, match="1 to 10 agents, not 11"):
        agent_score_trends(con, who(con, SAM), TrendFilters(JULY.start, JULY.end, agents=eleven))
    with pytest.raises(ValueError, match="not 0"):
        agent_score_trends(con, who(con, SAM), JULY)
    # A line each for 2 to 10; one agent is their own line; more than 10 are one line together.
    assert [compares_agents(TrendFilters(JULY.start, JULY.end, agents=eleven[:k])) for k in (0, 1, 2, 10, 11)] \
        == [False, False, True, True, False]


TWIN_ROSTER = csv_text(
    ROSTER_HEADER,
    f"Ana Diaz,ana.diaz@example.com,Billing East,sam.ortiz@example.com,Agent,{_AGENT}",
    f"Ana Diaz,ana.diaz.2@example.com,Billing East,sam.ortiz@example.com,Agent,{_AGENT}",
    "Sam Ortiz,sam.ortiz@example.com,Billing East,,Supervisor,",
)


def test_two_agents_with_one_name_are_two_lines(tmp_path: Path) -> None:
    header = IE_HEADER.replace("Scored Agent,", "Scored Agent,Agent Email,")
    rows = [ie_row(cid, "Ana Diaz", "06T09:00", kore, "", "5.0").replace(",Ana Diaz,Ana Diaz,",
                                                                        f",Ana Diaz,Ana Diaz,{email},")
            for cid, email, kore in (("a1", "ana.diaz@example.com", "20"), ("a2", "ana.diaz.2@example.com", "80"))]
    db = build_store(tmp_path, {"roster.csv": TWIN_ROSTER, "ie-report.csv": csv_text(header, *rows)})
    try:
        with store.open_store(db).snapshot() as twins:
            lead = who(twins, SAM)
            both = TrendFilters(JULY.start, JULY.end, agents=("ana.diaz@example.com", "ana.diaz.2@example.com"))
            kore = agent_score_trends(twins, lead, both, "month").query("measure == @KORE")
            assert sorted(zip(kore["agent"], kore["mean"], strict=True)) == [
                ("Ana Diaz (ana.diaz.2@example.com)", 80), ("Ana Diaz (ana.diaz@example.com)", 20)]
            assert agent_in_scope(twins, lead, "ana.diaz.2@example.com").label == "Ana Diaz (ana.diaz.2@example.com)"
    finally:
        store.close_all()


# -- an agent's own trends ---------------------------------------------------------------------------


def test_own_trends_beside_a_team_average_of_three_agents_or_more(con) -> None:
    own = by(own_trends(con, who(con, PRIYA_EMAIL), JULY, "week"), "series", "period", "measure")
    assert own[("You", "2026-07-06", KORE)]["mean"] == 50  # p1 40, p2 60
    assert own[("You", "2026-07-13", KORE)]["mean"] == 30  # p3 20, p5 40
    # The team (Priya, Tom, Vic) both weeks: three agents each.
    assert own[("Team average", "2026-07-06", KORE)]["mean"] == 47.5
    assert own[("Team average", "2026-07-13", KORE)]["mean"] == 17.5
    assert own[("Team average", "2026-07-13", KORE)]["n"] == 4
    # Week of 20 Jul: only Priya scored, so the team average would be hers: left out.
    assert own[("You", "2026-07-20", KORE)]["mean"] == 90 and ("Team average", "2026-07-20", KORE) not in own
    # Week of 6 Jul: three agents evaluated, but only Priya (p1, 56) and Tom (t1, 70) audited: a team audit
    # average, 63, would tell Priya Tom's score. Left out, though the Kore and sentiment ones are there.
    assert own[("You", "2026-07-06", AUDIT)]["mean"] == 56 and ("Team average", "2026-07-06", AUDIT) not in own
    assert ("Team average", "2026-07-06", SENTIMENT) in own
    # Never another agent's own rows: only "You" and the aggregate.
    assert set(own_trends(con, who(con, PRIYA_EMAIL), JULY)["series"]) == {"You", "Team average"}


def test_a_team_average_of_fewer_than_three_agents_is_left_out(con) -> None:
    # Uma is alone in Claims: her team average would be her own scores.
    uma = own_trends(con, who(con, "uma.ueda@example.com"), JULY, "week")
    assert set(uma["series"]) == {"You"}
    # Only Priya and Tom on 6–7 Jul (Vic's first score is on the 8th): no team average those days.
    early = own_trends(con, who(con, PRIYA_EMAIL), TrendFilters(date(2026, 7, 6), date(2026, 7, 7)), "week")
    assert set(early["series"]) == {"You"}


def test_own_trends_are_an_agents_view(con) -> None:
    with pytest.raises(ValueError):
        own_trends(con, who(con, SAM), JULY)
    # An agent names no one else.
    with pytest.raises(AccessDenied):
        own_trends(con, who(con, PRIYA_EMAIL), JULY, "week", TOM_ID)
    pd.testing.assert_frame_equal(own_trends(con, who(con, PRIYA_EMAIL), JULY, "week", PRIYA_ID),
                                  own_trends(con, who(con, PRIYA_EMAIL), JULY, "week"))


def test_a_lead_sees_an_agents_own_trends_as_the_agent_does(con) -> None:
    """The lead's view of Priya is Priya's own view, her series named for her instead of "You"."""
    for grain in ("week", "day"):
        seen = own_trends(con, who(con, SAM), JULY, grain, PRIYA_ID)
        hers = own_trends(con, who(con, PRIYA_EMAIL), JULY, grain)
        # By day no day has 3 of the team's agents: no team average then.
        assert set(seen["series"]) == ({PRIYA, "Team average"} if grain == "week" else {PRIYA})
        pd.testing.assert_frame_equal(seen.assign(series=seen["series"].replace(PRIYA, "You")), hers)
    # QA sees anyone's; Uma's team (Claims) has fewer than 3 agents, so no team average.
    assert set(own_trends(con, who(con, QA), JULY, "week", UMA_ID)["series"]) == {UMA}
    assert agent_in_scope(con, who(con, SAM), PRIYA_ID).team == "Billing East"


# -- an agent's headline figures -----------------------------------------------------------------------

HEADLINE_COLUMNS = ["measure", "mean", "n", "previous_mean", "previous_n", "change", "verdict", "team_mean", "team_n",
                    "team_agents"]


def test_the_headline_is_each_average_against_the_days_before_and_the_team(con) -> None:
    # 13–19 Jul against the 7 days before, 6–12 Jul.
    week = TrendFilters(date(2026, 7, 13), date(2026, 7, 19))
    assert week.days == 7 and week.previous == (date(2026, 7, 6), date(2026, 7, 12))
    headline = own_headline(con, who(con, PRIYA_EMAIL), week)
    assert list(headline.columns) == HEADLINE_COLUMNS
    assert list(headline["measure"]) == [KORE, AUDIT, SENTIMENT]
    rows = by(headline, "measure")
    kore, audit, sentiment = rows[KORE], rows[AUDIT], rows[SENTIMENT]
    # Priya's Kore: p3 20 and p5 40 (mean 30) against p1 40 and p2 60 (mean 50); two a side, too few for a
    # change. 30 is below the pass score (40).
    assert (kore["mean"], kore["n"], kore["previous_mean"], kore["previous_n"]) == (30, 2, 50, 2)
    assert pd.isna(kore["change"]) and kore["verdict"] == "Fail"
    # Her team (Priya, Tom, Vic), 13–19 Jul: 20, 40, −20, 30 from three agents.
    assert (kore["team_mean"], kore["team_n"], kore["team_agents"]) == (17.5, 4, 3)
    # The audit: p3 10 against p1's current score, 56 (re-evaluated from 50). Only Priya was audited that
    # week: a team average would be hers, so there is none.
    assert (audit["mean"], audit["n"], audit["previous_mean"], audit["previous_n"]) == (10, 1, 56, 1)
    assert audit["verdict"] == "Fail"
    assert pd.isna(audit["team_mean"]) and (audit["team_n"], audit["team_agents"]) == (0, 0)
    # Sentiment (5, 6 against 6, 8) has no pass score; the team's: 5, 6, 3, 5.
    assert (sentiment["mean"], sentiment["previous_mean"]) == (5.5, 7) and pd.isna(sentiment["verdict"])
    assert (sentiment["team_mean"], sentiment["team_agents"]) == (4.75, 3)
    # Against another pass score, the verdict moves with it.
    assert by(own_headline(con, who(con, PRIYA_EMAIL), week, pass_score=30), "measure")[KORE]["verdict"] == "Pass"


def test_the_headline_has_every_measure_even_without_scores(con) -> None:
    headline = own_headline(con, who(con, PRIYA_EMAIL), TrendFilters(date(2026, 5, 1), date(2026, 5, 31)))
    assert list(headline["measure"]) == [KORE, AUDIT, SENTIMENT]
    assert list(headline["n"]) == [0, 0, 0] and list(headline["previous_n"]) == [0, 0, 0]
    assert headline[["mean", "change", "verdict", "team_mean"]].isna().all().all()


def test_the_headline_is_the_same_for_the_agent_and_their_lead_and_no_one_else(con) -> None:
    hers = own_headline(con, who(con, PRIYA_EMAIL), JULY)
    pd.testing.assert_frame_equal(own_headline(con, who(con, SAM), JULY, PRIYA_ID), hers)
    pd.testing.assert_frame_equal(own_headline(con, who(con, QA), JULY, PRIYA_ID), hers)
    with pytest.raises(AccessDenied):
        own_headline(con, who(con, PRIYA_EMAIL), JULY, TOM_ID)
    with pytest.raises(AccessDenied):
        own_headline(con, who(con, ZOE), JULY, PRIYA_ID)
    # Uma is alone in Claims: no team average.
    assert own_headline(con, who(con, "uma.ueda@example.com"), JULY)["team_mean"].isna().all()


def test_headline_figures_say_each_average_with_what_it_rests_on(con) -> None:
    week = TrendFilters(date(2026, 7, 13), date(2026, 7, 19))
    kore, audit, sentiment = headline_figures(own_headline(con, who(con, PRIYA_EMAIL), week))
    assert (kore.label, kore.value, kore.change) == ("Kore average", "30.0", None)
    assert kore.details == ("2 evaluations · below the pass score (40) · team 17.5 (3 agents) · too few to compare "
                            "(fewer than 5)")
    assert (audit.label, audit.value) == ("Audit average", "10.0")
    assert audit.details == ("1 audit · below the pass score (40) · no team average (fewer than 3 agents) · too few "
                             "to compare (fewer than 5)")
    assert sentiment.label == "Sentiment average" and "pass score" not in sentiment.details
    nothing = headline_figures(own_headline(con, who(con, PRIYA_EMAIL), TrendFilters(date(2026, 5, 1),
                                                                                      date(2026, 5, 31))))
    assert [(f.value, f.change, f.details) for f in nothing] == [("—", None, "no scores in these dates")] * 3


def test_a_change_needs_enough_scores_on_both_sides(tmp_path: Path) -> None:
    """Five Kore scores a side (FEW): 30, 40, 50, 60, 70 on 1–5 Jul (mean 50) against 40 … 80 on 8–12 Jul
    (mean 60): +10. Four audits after, none before: no change."""
    before = [ie_row(f"b{i}", PRIYA, f"0{i + 1}T09:00", str(30 + 10 * i), "", "6.0") for i in range(5)]
    after = [ie_row(f"a{i}", PRIYA, f"{8 + i:02d}T09:00", str(40 + 10 * i), str(40 + 10 * i) if i else "", "7.0")
             for i in range(5)]
    db = build_store(tmp_path, {"roster.csv": ROSTER, "ie-report.csv": csv_text(IE_HEADER, *before, *after)})
    try:
        with store.open_store(db).snapshot() as con:
            rows = by(own_headline(con, who(con, PRIYA_EMAIL), TrendFilters(date(2026, 7, 8), date(2026, 7, 14)),
                                   pass_score=55), "measure")
    finally:
        store.close_all()
    assert (rows[KORE]["mean"], rows[KORE]["previous_mean"], rows[KORE]["change"]) == (60, 50, 10)
    with store.open_store(db).snapshot() as con:
        kore = headline_figures(own_headline(con, who(con, PRIYA_EMAIL), TrendFilters(date(2026, 7, 8),
                                                                                      date(2026, 7, 14)),
                                             pass_score=55), 55)[0]
        # 4–12 Jul (b3, b4, a0 … a4) against 25 Jun – 3 Jul (b0, b1, b2); 1–14 Jul against nothing.
        some_before = headline_figures(own_headline(con, who(con, PRIYA_EMAIL),
                                                    TrendFilters(date(2026, 7, 4), date(2026, 7, 12))))[0]
        none_before = headline_figures(own_headline(con, who(con, PRIYA_EMAIL),
                                                    TrendFilters(date(2026, 7, 1), date(2026, 7, 14))))[0]
    store.close_all()
    assert some_before.change is None and some_before.details.startswith("7 evaluations")
    assert some_before.details.endswith("only 3 in the period before: too few to compare")
    assert none_before.change is None and none_before.details.startswith("10 evaluations")
    assert none_before.details.endswith("none in the period before to compare with")
    assert (kore.value, kore.change) == ("60.0", "+10.0")
    assert kore.details == "5 evaluations · at or above the pass score (55) · no team average (fewer than 3 agents)"
    assert rows[KORE]["verdict"] == "Pass"  # 60 against 55
    assert (rows[AUDIT]["n"], rows[AUDIT]["previous_n"]) == (4, 0) and pd.isna(rows[AUDIT]["change"])
    assert rows[SENTIMENT]["previous_n"] == 5
    assert rows[SENTIMENT]["change"] == pytest.approx(1.0)
    assert pd.isna(rows[KORE]["team_mean"])  # only Priya in the store


@pytest.mark.parametrize("asked", [UMA_ID, "no.one@example.com", "", "name:Priya Nair", "' OR 1=1 --"])
def test_a_lead_asking_for_an_agent_outside_their_team_gets_a_message_and_no_data(con, asked: str) -> None:
    with pytest.raises(AccessDenied) as denied:
        own_trends(con, who(con, SAM), JULY, "week", asked)
    # The same words whether the person is another team's or no one: a link tells nothing of who exists.
    assert str(denied.value) == (
        f"No agent “{asked}” is among the agents you can see, so there are no score trends to show. "
        "Check the link, or choose an agent from your team's Score Trends.")
    with pytest.raises(AccessDenied):
        agent_in_scope(con, who(con, SAM), asked)
    # Zoe, Uma's lead, sees her.
    assert agent_in_scope(con, who(con, ZOE), UMA_ID).label == UMA


# -- Kore vs audit -----------------------------------------------------------------------------------


def test_kore_vs_audit_points_and_gaps(con) -> None:
    points = kore_vs_audit(con, who(con, SAM), JULY)
    # Audited with a Kore score: p3 (14 Jul), t1 (6 Jul 11:00), p1 (6 Jul 09:00); newest first.
    assert list(points["conversation_id"]) == ["p3", "t1", "p1"]
    assert list(points["gap"]) == [-10, -10, 16]  # 10 − 20, 70 − 80, 56 − 40 (p1 re-evaluated to 56)
    assert list(kore_vs_audit(con, who(con, SAM), JULY, limit=1)["conversation_id"]) == ["p3"]
    assert list(kore_vs_audit(con, who(con, PRIYA_EMAIL), JULY)["conversation_id"]) == ["p3", "p1"]


def test_audit_gap_per_agent(con) -> None:
    gaps = by(audit_gap_by_agent(con, who(con, SAM), JULY), "agent")
    assert list(gaps) == [TOM, PRIYA]  # largest disagreement first: |−10| > |3|
    assert gaps[PRIYA]["n"] == 2 and gaps[PRIYA]["mean_gap"] == 3  # (16 − 10) / 2
    assert gaps[PRIYA]["sd_gap"] == pytest.approx(math.sqrt(13**2 + 13**2))  # sample sd of 16 and −10
    assert gaps[TOM]["n"] == 1 and math.isnan(gaps[TOM]["sd_gap"])  # one audit: no spread
    assert gaps[PRIYA]["mean_kore"] == 30 and gaps[PRIYA]["mean_audit"] == 33


def test_metric_overturns(con) -> None:
    [row] = metric_overturns(con, who(con, SAM), JULY).to_dict("records")
    # Greeting has a result on all 10 of the team's July evaluations (p4's too); not adhered once (t2);
    # disputed once (p1) and the dispute accepted.
    assert row["metric"] == "Greeting"
    assert row["evaluated"] == 10 and row["not_adhered"] == 1
    assert row["disputed"] == 1 and row["overturned"] == 1 and row["overturn_share"] == 1.0
    # Audited: p1 and t1 (p3's audit score has no audit in the review log). The dispute rate is disputed ÷
    # audited, as dispute_trends' is: 1 of 2 (over other evaluations where audits and interactions fall in
    # different months: test_disputes_per_metric_by_interaction_and_per_period_by_audit).
    assert row["audited"] == 2 and row["dispute_rate"] == 0.5
    assert row["mean_rounds"] == 1 and row["median_days_to_resolve"] == pytest.approx(2.0)  # p1: 6 → 8 Jul



def test_metric_overturns_under_every_filter(con) -> None:
    """Each filter narrows the counts the same way, whichever filters are set (their values are bound once
    for each of the query's reads of the evaluations)."""
    sam = who(con, SAM)
    everything = metric_overturns(con, sam, JULY)
    options = filter_options(con, sam)
    wide = TrendFilters(JULY.start, JULY.end, teams=tuple(options["teams"]), agents=tuple(options["agents"]),
                        queues=tuple(options["queues"]), forms=tuple(options["forms"]))
    pd.testing.assert_frame_equal(metric_overturns(con, sam, wide), everything)
    # The lead narrowed to Priya counts what Priya sees of herself.
    priya_only = TrendFilters(JULY.start, JULY.end, teams=tuple(options["teams"]), agents=(PRIYA_ID,),
                              queues=tuple(options["queues"]), forms=tuple(options["forms"]))
    mine = metric_overturns(con, who(con, PRIYA_EMAIL), JULY)
    pd.testing.assert_frame_equal(metric_overturns(con, sam, priya_only), mine)
    assert mine["evaluated"].sum() < everything["evaluated"].sum()
    assert metric_overturns(con, sam, TrendFilters(JULY.start, JULY.end, forms=("No such form",))).empty

# -- disputes ----------------------------------------------------------------------------------------

#: Audits in another month than their interaction: c-jun (30 Jun, audited 1 Jul, dispute accepted), c-jul
#: (30 Jul, audited 1 Aug, dispute denied), c-late (Vic, 20 Jul, audited 3 Aug, accepted as it is) and c-tom
#: (10 Jul, audited that day, accepted as it is).
CROSSING_EVALUATIONS = "\n".join([
    IE_HEADER,
    ie_row("c-jun", PRIYA, "30T20:00", "50", "40", "6.0", month="06"),
    ie_row("c-tom", TOM, "10T09:00", "60", "60", "6.0"),
    ie_row("c-late", VIC, "20T09:00", "70", "70", "6.0"),
    ie_row("c-jul", PRIYA, "30T20:00", "50", "40", "6.0"),
]) + "\n"
CROSSING_EVENTS = """ConversationID,Metric,Round,Actor,Action,Comment,Timestamp,Audit Score
c-jun,,0,QA,Audit Submitted,,2026-07-01T12:00:00Z,40
c-jun,Greeting,1,Agent,Disputed,I greeted them.,2026-07-01T13:00:00Z,
c-jun,Greeting,1,QA,Dispute Accepted,Agreed.,2026-07-01T14:00:00Z,
c-tom,,0,QA,Audit Submitted,,2026-07-10T12:00:00Z,60
c-tom,,1,Agent,Accepted,,2026-07-10T13:00:00Z,
c-late,,0,QA,Audit Submitted,,2026-08-03T12:00:00Z,70
c-late,,1,Agent,Accepted,,2026-08-03T13:00:00Z,
c-jul,,0,QA,Audit Submitted,,2026-08-01T12:00:00Z,40
c-jul,Greeting,1,Agent,Disputed,I greeted them.,2026-08-01T13:00:00Z,
c-jul,Greeting,1,QA,Dispute Denied,No.,2026-08-01T14:00:00Z,
"""


@pytest.fixture(scope="module")
def crossing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    db = build_store(tmp_path_factory.mktemp("trends-crossing"), {
        "roster.csv": ROSTER, "ie-report.csv": CROSSING_EVALUATIONS, "review-events.csv": CROSSING_EVENTS})
    with store.open_store(db).snapshot() as cursor:
        yield cursor
    store.close_all()


def test_disputes_per_metric_by_interaction_and_per_period_by_audit(crossing) -> None:
    """The per-metric figures take the evaluations of interactions in the dates, whenever audited; the
    per-period ones the audits submitted in the dates, whenever the interaction was (docs/trends.md)."""
    sam = who(crossing, SAM)
    # Per metric over July's interactions: c-tom, c-late and c-jul, all three audited (two of them in
    # August); c-jul disputed Greeting and was denied. 1 of 3, none overturned.
    [metric] = metric_overturns(crossing, sam, JULY).to_dict("records")
    assert (metric["audited"], metric["disputed"], metric["overturned"]) == (3, 1, 0)
    assert metric["dispute_rate"] == pytest.approx(1 / 3) and metric["overturn_share"] == 0
    # Per period over July's audits: c-jun (a June interaction) and c-tom; c-jun's dispute was accepted.
    # 1 of 2, all of it overturned.
    [month] = dispute_trends(crossing, sam, JULY, "month").to_dict("records")
    assert (month["audited"], month["disputed"], month["dispute_rate"], month["overturn_share"]) == (2, 1, 0.5, 1.0)
    # August's audits are c-late and c-jul, July's interactions; no interaction of August has an audit.
    august = TrendFilters(date(2026, 8, 1), date(2026, 8, 31))
    [month] = dispute_trends(crossing, sam, august, "month").to_dict("records")
    assert (month["audited"], month["disputed"], month["overturn_share"]) == (2, 1, 0.0)
    assert metric_overturns(crossing, sam, august).empty
    # June's interaction c-jun counts in June per metric, though audited in July; June has no audit.
    june = TrendFilters(date(2026, 6, 1), date(2026, 6, 30))
    [metric] = metric_overturns(crossing, sam, june).to_dict("records")
    assert (metric["audited"], metric["disputed"], metric["overturned"]) == (1, 1, 1)
    assert dispute_trends(crossing, sam, june).empty


def test_dispute_trends(con) -> None:
    [month] = dispute_trends(con, who(con, SAM), JULY, "month").to_dict("records")
    assert month["audited"] == 2 and month["disputed"] == 1 and month["dispute_rate"] == 0.5  # p1 of p1, t1
    assert month["mean_rounds"] == 1  # p1 completed one dispute round
    assert month["overturn_share"] == 1.0
    assert month["resolved"] == 2
    # p1: audited 6 Jul 10:00, resolved 8 Jul 10:00 (2 days); t1: 10:00 → 22:00 (0.5 day).
    assert month["median_days_to_resolve"] == pytest.approx(1.25)
    assert dispute_trends(con, who(con, ZOE), JULY).empty  # Uma's evaluation has no review


# -- coaching ----------------------------------------------------------------------------------------


def test_coaching_monitor(con) -> None:
    rows = by(coaching_monitor(con, who(con, SAM), date(2026, 7, 20)), "assignment_id")
    assert list(rows) == ["A1", "A2", "A3"]  # newest assigned first
    # A1 (Priya, 13 Jul): 6–12 Jul p1 40, p2 60 → 50; last 7 days (14–20 Jul) p3 20, p5 40 → 30: a dip.
    assert rows["A1"]["kore_before"] == 50 and rows["A1"]["n_before"] == 2
    assert rows["A1"]["kore_recent"] == 30 and rows["A1"]["change"] == -20 and rows["A1"]["marker"] == "Dip"
    # A2 (Tom): 80 before, −20 recently.
    assert rows["A2"]["change"] == -100 and rows["A2"]["marker"] == "Dip"
    # A3 (Vic, 20 Jun): nothing in the 7 days before it, so no change and no marker.
    assert rows["A3"]["n_before"] == 0 and pd.isna(rows["A3"]["change"]) and pd.isna(rows["A3"]["marker"])
    assert rows["A3"]["kore_recent"] == 30  # v2
    # Filters' dates choose assignments by their assigned date.
    assert list(coaching_monitor(con, who(con, SAM), date(2026, 7, 20), JULY)["assignment_id"]) == ["A1", "A2"]


def test_a_spike_and_no_move(con) -> None:
    # Seen from 26 Jul, Priya's last 7 days (20–26 Jul) have p6 90 against 50 before A1: a spike.
    a1 = by(coaching_monitor(con, who(con, SAM), date(2026, 7, 26)), "assignment_id")["A1"]
    assert a1["kore_recent"] == 90 and a1["change"] == 40 and a1["marker"] == "Spike"
    # Tom's recent week seen from 12 Jul: 6–12 Jul has t1 80; before A2 (6–12 Jul) also 80 → no marker.
    [row] = coaching_monitor(con, who(con, SAM), date(2026, 7, 12),
                             TrendFilters(JULY.start, JULY.end, agents=(TOM_ID,))).to_dict("records")
    assert row["change"] == 0 and pd.isna(row["marker"])
    # Vic seen from 16 Jul: A3's week before it has nothing, so still no marker even with scores now.
    assert pd.isna(by(coaching_monitor(con, who(con, SAM), date(2026, 7, 16)), "assignment_id")["A3"]["marker"])


def test_coaching_effect_against_uncoached_agents(con) -> None:
    rows = by(coaching_effect(con, who(con, SAM), JULY, 7), "assignment_id")
    assert list(rows) == ["A1", "A2"]  # A3 was assigned in June
    a1 = rows["A1"]
    # Before (6–12 Jul): 40, 60 → 50; after (13–19 Jul): 20, 40 → 30; change −20.
    assert (a1["before_mean"], a1["before_n"], a1["after_mean"], a1["after_n"]) == (50, 2, 30, 2)
    assert a1["change"] == -20
    # Interval: ±1.96 √(200/2 + 200/2) (both sides have sample variance 200).
    assert a1["change_low"] == pytest.approx(-20 - 1.96 * math.sqrt(200))
    assert a1["change_high"] == pytest.approx(-20 + 1.96 * math.sqrt(200))
    # Uncoached over the same dates: Vic (his assignment is more than 7 days away): 10 before, 30 after.
    assert a1["uncoached_change"] == 20 and a1["effect"] == -40
    assert a1["lead"] == "Sam Ortiz" and list(a1["coaching_areas"]) == ["Empathy"]
    a2 = rows["A2"]
    # Tom: 80 → −20, one each side: no interval.
    assert a2["change"] == -100 and math.isnan(a2["change_low"]) and a2["effect"] == -120


def test_coaching_effect_summaries(con) -> None:
    effects = coaching_effect(con, who(con, SAM), JULY)
    areas = by(coaching_effect_summary(effects, "coaching_area"), "coaching_area")
    assert list(areas) == ["Empathy", "Compliance"]  # largest effect first
    assert areas["Empathy"]["mean_effect"] == -40 and areas["Compliance"]["mean_effect"] == -120
    assert areas["Empathy"]["assignments"] == 1 and areas["Empathy"]["measured"] == 1
    [lead] = coaching_effect_summary(effects, "lead").to_dict("records")
    assert lead["lead"] == "Sam Ortiz" and lead["assignments"] == 2
    assert lead["mean_change"] == -60 and lead["mean_uncoached_change"] == 20 and lead["mean_effect"] == -80
    with pytest.raises(ValueError):
        coaching_effect_summary(effects, "agent")
    # No assignment in the dates: empty summaries with their columns.
    none = coaching_effect(con, who(con, SAM), TrendFilters(date(2025, 1, 1), date(2025, 1, 31)))
    assert none.empty
    for key in ("coaching_area", "lead"):
        empty = coaching_effect_summary(none, key)
        assert empty.empty and list(empty.columns) == [key, "assignments", "measured", "mean_change",
                                                       "mean_uncoached_change", "mean_effect"]


@pytest.mark.parametrize("window", [1, 7])
def test_coaching_effect_report_is_the_effect_and_both_summaries(con, window: int) -> None:
    """What the Coaching view caches in one call is exactly the effect and its two summaries."""
    report = coaching_effect_report(con, who(con, SAM), JULY, window)
    assert set(report) == {"effects", "coaching_area", "lead"}
    effects = coaching_effect(con, who(con, SAM), JULY, window)
    pd.testing.assert_frame_equal(report["effects"], effects)
    for key in ("coaching_area", "lead"):
        pd.testing.assert_frame_equal(report[key], coaching_effect_summary(effects, key))


def test_a_window_of_one_day(con) -> None:
    a1 = by(coaching_effect(con, who(con, SAM), JULY, 1), "assignment_id")["A1"]
    # 12 Jul has nothing before, 13 Jul nothing after: no change to measure.
    assert a1["before_n"] == 0 and a1["after_n"] == 0 and pd.isna(a1["change"])
    with pytest.raises(ValueError):
        coaching_effect(con, who(con, SAM), JULY, 0)


# -- scope -------------------------------------------------------------------------------------------


def test_every_figure_keeps_to_the_viewers_scope(con) -> None:
    zoe = who(con, ZOE)
    assert set(kore_vs_audit(con, zoe, JULY)["agent"]) == {UMA}
    assert set(audit_gap_by_agent(con, zoe, JULY)["agent"]) == {UMA}
    assert coaching_monitor(con, zoe, date(2026, 7, 20)).empty
    assert coaching_effect(con, zoe, JULY).empty
    assert by(score_trends(con, zoe, JULY, "month"), "measure")[KORE]["mean"] == 90
    # A filter naming someone outside the scope shows nothing more.
    assert kore_vs_audit(con, zoe, TrendFilters(JULY.start, JULY.end, agents=(PRIYA_ID,))).empty
    options = filter_options(con, zoe)
    assert options["agents"] == [UMA_ID] and options["teams"] == ["Claims"]
    assert options["agent_labels"] == {UMA_ID: UMA}
    everyone = filter_options(con, who(con, QA))
    assert everyone["agents"] == [PRIYA_ID, TOM_ID, UMA_ID, VIC_ID]  # by name
    assert everyone["queues"] == ["Billing queue", "Claims queue"]
    assert everyone["forms"] == ["Chat Quality Form", "Voice Quality Form"]
    assert everyone["coaching_areas"] == ["Compliance", "Empathy", "Etiquette"]

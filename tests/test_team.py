"""The team view (coaching/team.py) against figures computed by hand.

A small store is built from exports written here: Priya's Kore average clearly falls, Tom's moves within
its noise, Vic has too few evaluations for a change or a flag however low his scores, Wes has nothing at
all, Xia falls by 1.5 standard errors of the change (not flagged) to below the pass score (flagged), Yan by
2.5 (flagged), and Uma is on another lead's team. The expected table is computed with plain pandas over the same
exported rows (the review statuses and final audit scores the log leads to are written out by hand) and
compared with ``team_table`` and ``team_page`` column by column. Paging and sorting are checked for every
sort key in both directions; scope for a lead, another lead, an agent, QA, and (a property test) every
person on the demo's roster with any teams chosen.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coaching import store
from coaching.scores import FEW
from coaching.team import (
    BELOW_PASS,
    BOTH_FLAGS,
    COLUMNS,
    FALL_STANDARD_ERRORS,
    FALLING,
    LABELS,
    SORTS,
    TeamFilters,
    change_text,
    flag_reason,
    team_choices,
    team_page,
    team_table,
)

from exports import IE_HEADER, ROSTER_HEADER, ROSTER_ROWS, build_store, csv_text, query, who

#: The view's dates (July; June before it) and the day of open reviews and coaching.
FILTERS = TeamFilters(date(2026, 7, 1), date(2026, 7, 30))
PREVIOUS_START, CURRENT_START, CURRENT_END = datetime(2026, 6, 1), datetime(2026, 7, 1), datetime(2026, 7, 31)
TODAY = date(2026, 8, 3)
PASS_SCORE = 40.0

PRIYA, TOM, VIC, UMA, WES, XIA, YAN = (
    "priya.nair@example.com", "tom.becker@example.com", "vic.vance@example.com", "uma.ueda@example.com",
    "wes.wu@example.com", "xia.xu@example.com", "yan.yoon@example.com",
)
LEAD, OTHER_LEAD, QA = "sam.ortiz@example.com", "zoe.zimmer@example.com", "quinn.lee@example.com"
NAMES = {PRIYA: "Priya Nair", TOM: "Tom Becker", VIC: "Vic Vance", UMA: "Uma Ueda", WES: "Wes Wu", XIA: "Xia Xu",
         YAN: "Yan Yoon"}

# -- the exports ------------------------------------------------------------------------------------

EVALUATIONS: list[dict] = []


def evaluation(key: str, person: str, when: str, kore: float | None, *, audit: float | None = None,
               sentiment: float = 6.5, fatal: bool = False) -> None:
    EVALUATIONS.append({"conversation_id": key, "person_id": person, "start_time": pd.Timestamp(when),
                        "kore_score": kore, "audit_score": audit, "sentiment_score": sentiment, "is_fatal": fatal})


def series(prefix: str, person: str, month: int, scores: list[float], first_day: int = 2, **kwargs) -> None:
    for i, score in enumerate(scores):
        evaluation(f"{prefix}-{i}", person, f"2026-{month:02d}-{first_day + 2 * i:02d}T10:00:00", score,
                   sentiment=5 + (i % 4), **kwargs)


# Priya falls clearly: about 80 in June, about 50 in July.
series("p-jun", PRIYA, 6, [78, 80, 82, 79, 81, 80, 77, 83])
series("p-jul", PRIYA, 7, [50, 52, 48, 51, 49, 50, 47, 53])
evaluation("p-fatal", PRIYA, "2026-07-20T09:00:00", 0, fatal=True)
evaluation("p-below", PRIYA, "2026-07-21T09:00:00", None, sentiment=3)  # below the duration threshold
# Audits: five in July (four in the review log), six in June (two in the log); and two whose audit falls in
# the other month (no Kore score: below the duration threshold), which count by the interaction's start.
evaluation("p-agent", PRIYA, "2026-07-22T09:00:00", 55, audit=50)  # Pending Agent Review
evaluation("p-super", PRIYA, "2026-07-23T09:00:00", 45, audit=40)  # disputed: Pending Supervisor Review
evaluation("p-acc", PRIYA, "2026-07-24T09:00:00", 45, audit=30)  # dispute accepted, re-evaluated to 60, Resolved
evaluation("p-den", PRIYA, "2026-07-25T09:00:00", 45, audit=35)  # dispute denied: Pending Agent Review
evaluation("p-aud", PRIYA, "2026-07-26T09:00:00", 52, audit=58)  # audited, outside the review log
evaluation("p-old", PRIYA, "2026-06-25T09:00:00", 81, audit=75)  # Pending Agent Review still, from June
evaluation("p-jun-acc", PRIYA, "2026-06-20T09:00:00", 79, audit=70)  # June's dispute: not July's share
for i, score in enumerate([70, 72, 74, 76]):
    evaluation(f"p-jun-aud-{i}", PRIYA, f"2026-06-{26 + i:02d}T09:00:00", 79, audit=score)
evaluation("p-cross-jun", PRIYA, "2026-06-30T20:00:00", None, audit=45)  # audited 1 Jul, dispute accepted: June's
evaluation("p-cross-jul", PRIYA, "2026-07-29T20:00:00", None, audit=45)  # audited 1 Aug, dispute denied: July's
# Boundaries: the last moment of June, the first and last of July; outside both periods.
evaluation("p-edge-jun", PRIYA, "2026-06-30T23:59:00", 80)
evaluation("p-edge-jul", PRIYA, "2026-07-01T00:00:00", 50)
evaluation("p-edge-end", PRIYA, "2026-07-30T23:59:00", 50)
evaluation("p-after", PRIYA, "2026-07-31T00:00:00", 0)
evaluation("p-before", PRIYA, "2026-05-31T23:59:00", 100)
# Tom moves within noise: a drop of about 7 points on a standard error of about 15.
series("t-jun", TOM, 6, [20, 90, 40, 70, 30, 80])
series("t-jul", TOM, 7, [10, 85, 35, 65, 25, 70])
evaluation("t-super", TOM, "2026-07-28T09:00:00", 60, audit=60)  # Pending Supervisor Review
# Vic: too few in July for a change, or to be below the pass score, however low.
series("v-jun", VIC, 6, [45, 50, 55, 48, 52, 47, 53, 50, 49, 51])
series("v-jul", VIC, 7, [20, 30, 35])
# Xia and Yan: five a month each with the same spread, (Σ(x − mean)² = 160, so s² = 160 / 4 = 40): the
# standard error of the change is √(40/5 + 40/5) = 4 points.
# Xia: 44 → 38, a fall of 6 = 1.5 standard errors: not falling; but 38 on five scores is below the pass score.
series("x-jun", XIA, 6, [36, 40, 44, 48, 52])
series("x-jul", XIA, 7, [30, 34, 38, 42, 46])
# Yan: 70 → 60, a fall of 10 = 2.5 standard errors: falling; 60 passes.
series("y-jun", YAN, 6, [62, 66, 70, 74, 78])
series("y-jul", YAN, 7, [52, 56, 60, 64, 68])
# Uma, on another team: a fall of her own, a review waiting on her.
series("u-jun", UMA, 6, [90, 91, 92, 93, 94])
series("u-jul", UMA, 7, [60, 61, 62, 63, 64])
evaluation("u-agent", UMA, "2026-07-27T09:00:00", 60, audit=55)

EVENTS = """ConversationID,Metric,Round,Actor,Action,Comment,Timestamp,Audit Score
p-agent,,0,QA,Audit Submitted,,2026-07-22T12:00:00Z,50
p-super,,0,QA,Audit Submitted,,2026-07-23T12:00:00Z,40
p-super,Greeting,1,Agent,Disputed,I greeted them.,2026-07-23T13:00:00Z,
p-acc,,0,QA,Audit Submitted,,2026-07-24T12:00:00Z,30
p-acc,Greeting,1,Agent,Disputed,I greeted them.,2026-07-24T13:00:00Z,
p-acc,Greeting,1,QA,Dispute Accepted,Agreed.,2026-07-24T14:00:00Z,
p-acc,,1,QA,Re-evaluated,,2026-07-24T14:05:00Z,60
p-acc,,2,Agent,Accepted,,2026-07-24T15:00:00Z,
p-den,,0,QA,Audit Submitted,,2026-07-25T12:00:00Z,35
p-den,Greeting,1,Agent,Disputed,I greeted them.,2026-07-25T13:00:00Z,
p-den,Greeting,1,Supervisor,Dispute Denied,No.,2026-07-25T14:00:00Z,
p-old,,0,QA,Audit Submitted,,2026-06-25T12:00:00Z,75
p-jun-acc,,0,QA,Audit Submitted,,2026-06-20T12:00:00Z,70
p-jun-acc,Greeting,1,Agent,Disputed,I greeted them.,2026-06-20T13:00:00Z,
p-jun-acc,Greeting,1,QA,Dispute Accepted,Agreed.,2026-06-20T14:00:00Z,
p-jun-acc,,2,Agent,Accepted,,2026-06-20T15:00:00Z,
p-cross-jun,,0,QA,Audit Submitted,,2026-07-01T12:00:00Z,45
p-cross-jun,Greeting,1,Agent,Disputed,I greeted them.,2026-07-01T13:00:00Z,
p-cross-jun,Greeting,1,QA,Dispute Accepted,Agreed.,2026-07-01T14:00:00Z,
p-cross-jun,,2,Agent,Accepted,,2026-07-01T15:00:00Z,
p-cross-jul,,0,QA,Audit Submitted,,2026-08-01T12:00:00Z,45
p-cross-jul,Greeting,1,Agent,Disputed,I greeted them.,2026-08-01T13:00:00Z,
p-cross-jul,Greeting,1,QA,Dispute Denied,No.,2026-08-01T14:00:00Z,
t-super,,0,QA,Audit Submitted,,2026-07-28T12:00:00Z,60
t-super,Greeting,1,Agent,Disputed,I greeted them.,2026-07-28T13:00:00Z,
u-agent,,0,QA,Audit Submitted,,2026-07-27T12:00:00Z,55
"""
#: What the review log leads to, written out by hand (the state machine's rules, docs/review.md).
REVIEW_STATUS = {"p-agent": "Pending Agent Review", "p-super": "Pending Supervisor Review", "p-acc": "Resolved",
                 "p-den": "Pending Agent Review", "p-old": "Pending Agent Review", "p-jun-acc": "Resolved",
                 "t-super": "Pending Supervisor Review", "u-agent": "Pending Agent Review",
                 "p-cross-jun": "Resolved", "p-cross-jul": "Pending Agent Review"}
FINAL_AUDIT = {"p-acc": 60.0}  # re-evaluated; every other audit keeps its score
DISPUTED = {"p-super", "p-acc", "p-den", "t-super", "p-jun-acc", "p-cross-jun", "p-cross-jul"}

ASSIGNMENT_HEADER = ("Assignment ID,Name,Agent,Coaching Type,Group Name,Coaching Areas,Assigned Date,"
                     "Follow-Up Date,Status,Assigned By,Feedback,Action Plan")
ASSIGNMENTS = [
    # key, person, assigned, follow-up, status, group
    ("A-1", PRIYA, "2026-07-10", "2026-07-20", "In Progress", ""),  # overdue
    ("A-2", PRIYA, "2026-07-25", "2026-08-10", "Yet to Start", ""),
    ("A-3", PRIYA, "2026-06-01", "2026-06-10", "Completed", ""),  # past its date, but completed
    ("A-4", PRIYA, "2026-08-10", "2026-08-20", "Yet to Start", ""),  # assigned after today: not yet open
    ("G-1", PRIYA, "2026-07-28", "2026-08-01", "In Progress", "Billing East"),  # overdue
    ("G-1", TOM, "2026-07-28", "2026-08-01", "In Progress", "Billing East"),
    ("A-5", UMA, "2026-07-02", "2026-08-03", "Yet to Start", ""),  # due today: not overdue
]


def kore_cell(score: float | None) -> str:
    if score is None:
        return ""
    return f"'{score:g}'" if score < 0 else f"{score:g}"  # Kore quotes a negative score


def ie_report() -> str:
    rows = []
    for e in EVALUATIONS:
        name = NAMES[e["person_id"]]
        duration = "Evaluated" if e["kore_score"] is not None else "Below Threshold"
        audit = "" if e["audit_score"] is None else f"{e['audit_score']:g}"
        rows.append(
            f"{e['conversation_id']},Voice,Billing queue,Billing queue,en,{name},{name},"
            f"{e['start_time']:%Y-%m-%dT%H:%M:%S}Z,{e['sentiment_score']:g},refund,0,{kore_cell(e['kore_score'])},"
            f"0,{int(e['is_fatal'])},{audit},inbound,{duration},Billing Voice form,Refund,1,0,10,10")
    return csv_text(IE_HEADER, *rows)


def assignments_csv() -> str:
    return csv_text(ASSIGNMENT_HEADER, *(
        f"{key},{key} session,{NAMES[person]},{'Group Agents' if group else 'Individual Agent'},{group},Empathy,"
        f"{assigned},{follow_up},{status},Sam Ortiz,Feedback.,Plan."
        for key, person, assigned, follow_up, status, group in ASSIGNMENTS))


def roster_csv() -> str:
    more = [f'{NAMES[person]},{person},Billing East,sam.ortiz@example.com,Agent,"Agent Dashboard, Coaching Assignments"'
            for person in (WES, XIA, YAN)]
    return csv_text(ROSTER_HEADER, *(ROSTER_ROWS[name] for name in ROSTER_ROWS), *more)


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_store(tmp_path_factory.mktemp("team"), {
        "roster.csv": roster_csv(), "ie-report.csv": ie_report(), "assignments.csv": assignments_csv(),
        "review-events.csv": EVENTS,
    })
    store.close_all()


# -- the figures by hand ----------------------------------------------------------------------------


def exported() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The exported rows as pandas reads them back: roster, evaluations, review events, assignments."""
    roster = pd.read_csv(io.StringIO(roster_csv()))
    roster = pd.DataFrame({"person_id": roster["Email"], "name": roster["Agent Name"], "team": roster["Team"],
                           "lead": roster["Team Lead"], "role": roster["Role"]})
    report = pd.read_csv(io.StringIO(ie_report()), dtype={"Kore Evaluation Score": str})
    evaluations = pd.DataFrame({
        "conversation_id": report["ConversationID"],
        "person_id": report["Scored Agent"].map({name: person for person, name in NAMES.items()}),
        "start_time": pd.to_datetime(report["Start Time"]).dt.tz_localize(None),
        "kore": pd.to_numeric(report["Kore Evaluation Score"].str.strip("'")),
        "audit": report["Audit Score"], "sentiment": report["Sentiment Score"],
        "fatal": report["Is Fatal Interaction"] == 1,
    })
    evaluations["audit"] = [FINAL_AUDIT.get(c, a) for c, a in zip(evaluations["conversation_id"],
                                                                   evaluations["audit"], strict=True)]
    events = pd.read_csv(io.StringIO(EVENTS))
    assignments = pd.read_csv(io.StringIO(assignments_csv()), parse_dates=["Assigned Date", "Follow-Up Date"])
    assignments["person_id"] = assignments["Agent"].map({name: person for person, name in NAMES.items()})
    return roster, evaluations, events, assignments


def by_hand(agents: list[str], today: date = TODAY) -> pd.DataFrame:
    """Every column of the team view for ``agents``, in plain pandas over the exported rows."""
    roster, evaluations, events, assignments = exported()
    current = evaluations[(evaluations["start_time"] >= CURRENT_START) & (evaluations["start_time"] < CURRENT_END)]
    previous = evaluations[(evaluations["start_time"] >= PREVIOUS_START)
                           & (evaluations["start_time"] < CURRENT_START)]
    rows = []
    for person in agents:
        mine, before = current[current["person_id"] == person], previous[previous["person_id"] == person]
        row: dict[str, object] = {"person_id": person, "agent": NAMES[person],
                                  "team": roster.set_index("person_id").loc[person, "team"]}
        for prefix, column in (("kore", "kore"), ("audit", "audit"), ("sentiment", "sentiment")):
            now, then = mine[column].dropna(), before[column].dropna()
            row[f"{prefix}_avg"] = now.mean() if len(now) else math.nan
            row[f"{prefix}_n"] = len(now)
            row[f"{prefix}_prev_avg"] = then.mean() if len(then) else math.nan
            row[f"{prefix}_prev_n"] = len(then)
            enough = len(now) >= FEW and len(then) >= FEW
            row[f"{prefix}_change"] = now.mean() - then.mean() if enough else math.nan
            if prefix == "kore":
                se = math.sqrt(now.var() / len(now) + then.var() / len(then)) if enough else math.nan
                row["kore_change_se"] = se
                row["falling"] = bool(enough and now.mean() - then.mean() < -FALL_STANDARD_ERRORS * se)
                row["below_pass"] = bool(len(now) >= FEW and now.mean() < PASS_SCORE)
                weeks = mine.dropna(subset=["kore"]).groupby(mine["start_time"].dt.to_period("W-SUN"))["kore"]
                row["kore_weekly"] = weeks.mean().sort_index().tolist()
        kore = mine["kore"].dropna()
        row["pass_rate"] = (kore >= PASS_SCORE).mean() if len(kore) else math.nan
        row["fatal"] = int(mine["fatal"].sum())
        # Disputes by the interaction's start, whenever the audit, the dispute or the answer was.
        disputed = mine[mine["conversation_id"].isin(DISPUTED)]
        row["disputed"] = len(disputed)
        answers = events[events["ConversationID"].isin(disputed["conversation_id"])
                         & events["Action"].isin(["Dispute Accepted", "Dispute Denied"])]
        row["overturn_share"] = ((answers["Action"] == "Dispute Accepted").mean() if len(answers) else math.nan)
        # Open reviews and coaching are as of today, whatever the dates.
        statuses = [REVIEW_STATUS[c] for c in evaluations[evaluations["person_id"] == person]["conversation_id"]
                    if c in REVIEW_STATUS]
        row["pending_agent"] = statuses.count("Pending Agent Review")
        row["pending_supervisor"] = statuses.count("Pending Supervisor Review")
        # Of the assignments assigned by today: one assigned later is not open yet, nor the last assigned.
        coached = assignments[(assignments["person_id"] == person)
                              & (assignments["Assigned Date"] <= pd.Timestamp(today))]
        open_sessions = coached[coached["Status"] != "Completed"]
        row["open_sessions"] = len(open_sessions)
        row["overdue"] = int((open_sessions["Follow-Up Date"] < pd.Timestamp(today)).sum())
        row["last_assigned"] = coached["Assigned Date"].max() if len(coached) else pd.NaT
        flags = [FALLING] * bool(row["falling"]) + [BELOW_PASS] * bool(row["below_pass"])
        row["flag"] = BOTH_FLAGS if len(flags) == 2 else (flags[0] if flags else None)
        rows.append(row)
    return pd.DataFrame(rows)


BILLING_EAST = [PRIYA, TOM, VIC, WES, XIA, YAN]
EVERYONE = [*BILLING_EAST, UMA]


def table(con, email: str, filters: TeamFilters = FILTERS, **kwargs) -> pd.DataFrame:
    return team_table(con, who(con, email), filters, **{"pass_score": PASS_SCORE, "today": TODAY, **kwargs})


def same(actual: object, expected: object) -> bool:
    if isinstance(expected, list):
        return list(actual) == pytest.approx(expected)
    if expected is None or (not isinstance(expected, str) and pd.isna(expected)):
        return actual is None or (not isinstance(actual, str) and pd.isna(actual))
    if isinstance(expected, float):
        return actual == pytest.approx(expected)
    if isinstance(expected, pd.Timestamp):
        return pd.Timestamp(actual) == expected
    return actual == expected


# -- the figures ------------------------------------------------------------------------------------


def test_the_store_derived_the_review_states_written_out_by_hand(small_db: Path) -> None:
    found = dict(query(small_db, "SELECT conversation_id, review_status FROM evaluation_reviews"))
    assert found == REVIEW_STATUS
    assert dict(query(small_db, "SELECT conversation_id, final_audit_score FROM evaluation_reviews "
                                "WHERE conversation_id = 'p-acc'")) == FINAL_AUDIT


def test_every_figure_of_every_agent_matches_the_hand_computed_one(con) -> None:
    actual = table(con, QA).set_index("person_id")
    expected = by_hand(EVERYONE).set_index("person_id")
    assert sorted(actual.index) == sorted(expected.index)
    columns = [c for c in expected.columns if c != "kore_weekly"]
    problems = [(person, column, actual.loc[person, column], expected.loc[person, column])
                for person in expected.index for column in columns
                if not same(actual.loc[person, column], expected.loc[person, column])]
    assert problems == []


def test_the_weekly_kore_averages_are_oldest_first(con) -> None:
    shown = team_page(con, who(con, QA), FILTERS, "agent", False, 1, 10, PASS_SCORE, TODAY).rows
    expected = by_hand(EVERYONE).set_index("person_id")["kore_weekly"]
    for person, weekly in zip(shown["person_id"], shown["kore_weekly"], strict=True):
        assert same(list(weekly), expected[person]), person


def test_the_sample_agents_are_what_the_tests_say(con) -> None:
    rows = table(con, QA).set_index("person_id")
    # Priya falls far beyond the noise; Tom's drop is well within it.
    assert rows.loc[PRIYA, "kore_change"] < -20 and rows.loc[PRIYA, "falling"]
    assert rows.loc[PRIYA, "flag"] == FALLING
    assert -10 < rows.loc[TOM, "kore_change"] < 0 and not rows.loc[TOM, "falling"]
    assert abs(rows.loc[TOM, "kore_change"]) < FALL_STANDARD_ERRORS * rows.loc[TOM, "kore_change_se"]
    assert pd.isna(rows.loc[TOM, "flag"])
    # Vic: three evaluations in July, fewer than FEW: no change (and no fall) however far he dropped, and not
    # below the pass score on so few, though his three average 28.3.
    assert rows.loc[VIC, "kore_n"] == 3 < FEW and pd.isna(rows.loc[VIC, "kore_change"])
    assert rows.loc[VIC, "kore_avg"] < PASS_SCORE and pd.isna(rows.loc[VIC, "flag"])
    assert not rows.loc[VIC, "falling"] and not rows.loc[VIC, "below_pass"]
    # Wes has nothing: counts of 0, no averages, no flag.
    assert rows.loc[WES, ["kore_n", "audit_n", "fatal", "open_sessions", "pending_agent"]].tolist() == [0] * 5
    assert pd.isna(rows.loc[WES, "kore_avg"]) and pd.isna(rows.loc[WES, "flag"])
    # Priya's audit change rests on six audit scores of July's interactions and seven of June's (each with
    # one whose audit is in the other month); Tom's one audit has none.
    assert (rows.loc[PRIYA, "audit_n"], rows.loc[PRIYA, "audit_prev_n"]) == (6, 7)
    assert pd.notna(rows.loc[PRIYA, "audit_change"]) and pd.isna(rows.loc[TOM, "audit_change"])
    # Open reviews are as of today: the June audit and the one audited on 1 August still wait on Priya.
    assert (rows.loc[PRIYA, "pending_agent"], rows.loc[PRIYA, "pending_supervisor"]) == (4, 1)
    # Disputes go by the interaction's start: July's four (p-super unanswered, p-acc accepted, p-den and
    # p-cross-jul denied, the last audited and answered in August) give 1 accepted of 3 answers. By the audit's
    # date it would be p-super, p-acc, p-den and p-cross-jun (a June interaction audited on 1 July, accepted):
    # 2 of 3.
    assert rows.loc[PRIYA, "disputed"] == 4 and rows.loc[PRIYA, "overturn_share"] == pytest.approx(1 / 3)
    # Of the assignments assigned by today: A-4 (assigned after today) is not open yet, nor the last assigned.
    assert (rows.loc[PRIYA, "open_sessions"], rows.loc[PRIYA, "overdue"]) == (3, 2)
    assert rows.loc[PRIYA, "last_assigned"] == pd.Timestamp("2026-07-28")
    assert rows.loc[UMA, "overdue"] == 0  # due today is not overdue


def test_an_agent_falling_and_below_pass_has_both_flags_and_both_reasons(con) -> None:
    rows = table(con, QA, pass_score=55).set_index("person_id")
    priya = rows.loc[PRIYA]
    assert priya["flag"] == BOTH_FLAGS
    assert priya["flag_reason"] == (
        f"Kore average fell {-priya['kore_change']:.1f} points ({priya['kore_prev_avg']:.1f} → "
        f"{priya['kore_avg']:.1f}), more than twice its standard error ({priya['kore_change_se']:.1f}); "
        f"Kore average {priya['kore_avg']:.1f} is below the pass score (55) over {priya['kore_n']} evaluations")


def test_the_pass_rate_and_below_pass_follow_the_pass_score(con) -> None:
    low, high = table(con, QA, pass_score=-100).set_index("person_id"), table(con, QA, pass_score=100)
    assert (low["pass_rate"].dropna() == 1).all() and not low["below_pass"].any()
    high = high.set_index("person_id")
    scored = [PRIYA, TOM, VIC, UMA, XIA, YAN]
    assert (high.loc[scored, "pass_rate"] == 0).all()
    # Below pass needs FEW Kore scores: Vic's three are not enough, whatever the pass score.
    assert high.loc[[PRIYA, TOM, UMA, XIA, YAN], "below_pass"].all() and not high.loc[VIC, "below_pass"]


def test_a_fall_is_flagged_beyond_two_standard_errors_and_not_within(con) -> None:
    rows = table(con, QA).set_index("person_id")
    # Both have five Kore scores a month, each month with s² = 40: a standard error of √(40/5 + 40/5) = 4.
    assert FALL_STANDARD_ERRORS == 2
    assert rows.loc[[XIA, YAN], ["kore_n", "kore_prev_n"]].to_numpy().tolist() == [[5, 5], [5, 5]]
    assert rows.loc[[XIA, YAN], "kore_change_se"].tolist() == pytest.approx([4.0, 4.0])
    # Xia: 44 → 38, a fall of 6 points, 1.5 standard errors: within the noise. But 38 on five scores (FEW) is
    # below the pass score of 40.
    xia = rows.loc[XIA]
    assert (xia["kore_prev_avg"], xia["kore_avg"], xia["kore_change"]) == pytest.approx((44, 38, -6))
    assert not xia["falling"] and xia["below_pass"] and xia["flag"] == BELOW_PASS
    assert xia["flag_reason"] == "Kore average 38.0 is below the pass score (40) over 5 evaluations"
    # Yan: 70 → 60, a fall of 10 points, 2.5 standard errors: falling; 60 passes.
    yan = rows.loc[YAN]
    assert (yan["kore_prev_avg"], yan["kore_avg"], yan["kore_change"]) == pytest.approx((70, 60, -10))
    assert yan["falling"] and not yan["below_pass"] and yan["flag"] == FALLING
    assert yan["flag_reason"] == ("Kore average fell 10.0 points (70.0 → 60.0), more than twice its standard "
                                  "error (4.0)")


def test_flag_reasons_in_words() -> None:
    falling = {"falling": True, "below_pass": False, "kore_change": -12.3, "kore_prev_avg": 71.0,
               "kore_avg": 58.7, "kore_change_se": 4.1, "kore_n": 20}
    assert flag_reason(falling) == ("Kore average fell 12.3 points (71.0 → 58.7), more than twice its standard "
                                    "error (4.1)")
    below = {**falling, "falling": False, "below_pass": True, "kore_avg": 31.25, "kore_n": 7}
    assert flag_reason(below, 40) == "Kore average 31.2 is below the pass score (40) over 7 evaluations"
    assert flag_reason({**falling, "falling": False}) == ""


@pytest.mark.parametrize(("change", "text"), [
    (12.34, "▲ 12.3"), (-12.34, "▼ 12.3"), (4.0, "▲ 4.0"), (0.04, "0.0"), (-0.04, "0.0"), (0.05, "▲ 0.1"),
    (None, ""), (math.nan, ""), (float("nan"), ""),
])
def test_a_change_shows_an_arrow_and_a_signed_number_or_nothing(change, text) -> None:
    assert change_text(change) == text


def test_the_previous_period_is_as_long_and_ends_the_day_before() -> None:
    assert FILTERS.previous == (date(2026, 6, 1), date(2026, 6, 30))
    week = TeamFilters(date(2026, 7, 6), date(2026, 7, 12))
    assert week.previous == (date(2026, 6, 29), date(2026, 7, 5))
    assert TeamFilters.last_days(date(2026, 7, 30)) == FILTERS


def test_dates_that_end_before_they_start_are_refused(con) -> None:
    with pytest.raises(ValueError, match="end before"):
        table(con, QA, TeamFilters(date(2026, 7, 2), date(2026, 7, 1)))


def test_a_shorter_span_compares_with_an_equally_short_one(con) -> None:
    # The first week of July against the last week of June: counts from the exported rows.
    week = TeamFilters(date(2026, 7, 1), date(2026, 7, 7))
    rows = table(con, QA, week).set_index("person_id")
    _, evaluations, _, _ = exported()
    mine = evaluations[evaluations["person_id"] == PRIYA].dropna(subset=["kore"])
    now = mine[(mine["start_time"] >= datetime(2026, 7, 1)) & (mine["start_time"] < datetime(2026, 7, 8))]
    then = mine[(mine["start_time"] >= datetime(2026, 6, 24)) & (mine["start_time"] < datetime(2026, 7, 1))]
    assert (rows.loc[PRIYA, "kore_n"], rows.loc[PRIYA, "kore_prev_n"]) == (len(now), len(then))
    assert rows.loc[PRIYA, "kore_avg"] == pytest.approx(now["kore"].mean())


# -- scope ------------------------------------------------------------------------------------------


def test_a_lead_sees_exactly_their_team(con) -> None:
    assert sorted(table(con, LEAD)["person_id"]) == sorted(BILLING_EAST)
    assert list(table(con, OTHER_LEAD)["person_id"]) == [UMA]


def test_an_agent_gets_only_their_own_row(con) -> None:
    assert list(table(con, PRIYA)["person_id"]) == [PRIYA]
    page = team_page(con, who(con, TOM), FILTERS, "kore_avg", True, 1, 25, PASS_SCORE, TODAY)
    assert (page.total, list(page.rows["person_id"])) == (1, [TOM])


def test_qa_sees_everyone_and_the_team_filter_narrows(con) -> None:
    assert sorted(table(con, QA)["person_id"]) == sorted(EVERYONE)
    claims = TeamFilters(FILTERS.start, FILTERS.end, ("Claims",))
    assert list(table(con, QA, claims)["person_id"]) == [UMA]
    assert list(table(con, LEAD, claims)["person_id"]) == []  # another team's: nothing
    assert team_choices(con, who(con, QA)) == ["Billing East", "Claims"]
    assert team_choices(con, who(con, LEAD)) == ["Billing East"]


def test_another_leads_agent_is_absent_whatever_the_sort(con) -> None:
    for sort in SORTS:
        page = team_page(con, who(con, LEAD), FILTERS, sort, True, 1, 25, PASS_SCORE, TODAY)
        assert UMA not in set(page.rows["person_id"]) and page.total == len(BILLING_EAST)


# -- sorting and paging -----------------------------------------------------------------------------


def expected_order(rows: pd.DataFrame, sort: str, descending: bool) -> list[str]:
    """The order in pandas: the sort column (text compared in lower case; the flag by its level), missing
    values last, ties by person_id."""
    level = rows["falling"].astype(int) * 2 + rows["below_pass"].astype(int)
    key = {"flag": level, "agent": rows["agent"].str.lower(), "team": rows["team"].str.lower()}.get(sort, rows[sort])
    keyed = rows.assign(_key=key)
    return keyed.sort_values(["_key", "person_id"], ascending=[not descending, True],
                             na_position="last")["person_id"].tolist()


@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
@pytest.mark.parametrize("sort", list(SORTS))
def test_every_sort_key_orders_the_pages_as_pandas_does(con, sort: str, descending: bool) -> None:
    viewer = who(con, QA)
    expected = expected_order(table(con, QA), sort, descending)
    pages = [team_page(con, viewer, FILTERS, sort, descending, number, 2, PASS_SCORE, TODAY)
             for number in (1, 2, 3, 4)]
    assert [p.page for p in pages] == [1, 2, 3, 4] and {(p.pages, p.total) for p in pages} == {(4, 7)}
    assert [len(p.rows) for p in pages] == [2, 2, 2, 1]
    assert [person for p in pages for person in p.rows["person_id"]] == expected
    # The whole table comes in the same order.
    assert table(con, QA, sort=sort, descending=descending)["person_id"].tolist() == expected


def test_every_column_can_be_sorted_by_and_has_a_label() -> None:
    sortable = set(COLUMNS) - {"flag_reason", "kore_prev_avg", "kore_prev_n", "kore_change_se", "audit_prev_avg",
                               "audit_prev_n", "sentiment_prev_avg", "sentiment_prev_n", "falling", "below_pass"}
    assert set(SORTS) == sortable == set(LABELS)


def test_a_page_past_the_end_is_the_last_and_before_the_start_the_first(con) -> None:
    viewer = who(con, QA)
    last = team_page(con, viewer, FILTERS, "agent", False, 9, 2, PASS_SCORE, TODAY)
    assert (last.page, last.pages, list(last.rows["person_id"])) == (4, 4, [YAN])
    first = team_page(con, viewer, FILTERS, "agent", False, 0, 2, PASS_SCORE, TODAY)
    assert (first.page, list(first.rows["person_id"])) == (1, [PRIYA, TOM])
    whole = team_page(con, viewer, FILTERS, "agent", False, 1, 7, PASS_SCORE, TODAY)
    assert (whole.page, whole.pages, len(whole.rows)) == (1, 1, 7)


def test_nobody_matching_is_one_empty_page(con) -> None:
    nobody = TeamFilters(FILTERS.start, FILTERS.end, ("No such team",))
    page = team_page(con, who(con, QA), nobody, "flag", True, 3, 25, PASS_SCORE, TODAY)
    assert (page.page, page.pages, page.total, len(page.rows)) == (1, 1, 0, 0)
    assert list(page.rows.columns) == [*COLUMNS, "kore_weekly"]


def test_an_unknown_sort_key_or_page_size_is_refused(con) -> None:
    with pytest.raises(ValueError, match="unknown sort"):
        team_page(con, who(con, QA), FILTERS, "kore_avg; DROP TABLE people", True)
    with pytest.raises(ValueError, match="at least one"):
        team_page(con, who(con, QA), FILTERS, "flag", True, 1, 0)


# -- scope over the demo's roster (property) --------------------------------------------------------



@pytest.fixture(scope="module")
def demo_people(demo_db: Path) -> pd.DataFrame:
    return pd.DataFrame(query(demo_db, "SELECT person_id, role, team, team_lead_email FROM people"),
                        columns=["person_id", "role", "team", "team_lead_email"])


def in_scope(people: pd.DataFrame, viewer: str, teams: tuple[str, ...]) -> set[str]:
    """The agents a viewer may see, by the roster's rule (README: agents themselves, leads their team, QA
    and admins everyone), among ``teams`` if any."""
    agents = people[people["role"] == "Agent"]
    role = people.set_index("person_id").loc[viewer, "role"]
    if role == "Agent":
        agents = agents[agents["person_id"] == viewer]
    elif role == "Supervisor":
        agents = agents[agents["team_lead_email"] == viewer]
    if teams:
        agents = agents[agents["team"].isin(teams)]
    return set(agents["person_id"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_viewer_sees_exactly_their_scope_on_every_page(demo_db: Path, demo_people: pd.DataFrame,
                                                              data: st.DataObject) -> None:
    viewer = data.draw(st.sampled_from(sorted(demo_people["person_id"])), "viewer")
    teams = tuple(data.draw(st.sets(st.sampled_from(sorted(demo_people["team"].dropna().unique()))), "teams"))
    sort = data.draw(st.sampled_from(list(SORTS)), "sort")
    descending, size = data.draw(st.booleans(), "descending"), data.draw(st.integers(1, 30), "page size")
    filters = TeamFilters(date(2026, 10, 3), date(2026, 11, 1), teams)
    with store.open_store(demo_db).snapshot() as con:
        person = who(con, viewer)
        first = team_page(con, person, filters, sort, descending, 1, size, today=date(2026, 11, 27))
        pages = [first] + [team_page(con, person, filters, sort, descending, n, size, today=date(2026, 11, 27))
                           for n in range(2, first.pages + 1)]
        whole = team_table(con, person, filters, sort, descending, today=date(2026, 11, 27))
    seen = [p for page in pages for p in page.rows["person_id"]]
    assert len(seen) == len(set(seen)) == first.total
    assert set(seen) == in_scope(demo_people, viewer, teams)
    assert seen == whole["person_id"].tolist()


def test_the_demo_lead_sees_their_twelve_agents_with_scores_and_flags(demo_db: Path) -> None:
    with store.open_store(demo_db).snapshot() as con:
        lead = who(con, "lead@example.com")
        page = team_page(con, lead, TeamFilters.last_days(date(2026, 11, 1)), today=date(2026, 11, 27))
    assert (page.total, len(page.rows), page.pages) == (12, 12, 1)
    assert (page.rows["kore_n"] > 0).all() and page.rows["flag"].notna().any()
    assert (page.rows["flag_reason"] != "").sum() == page.rows["flag"].notna().sum()

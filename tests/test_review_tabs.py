"""The Review tabs in coaching/review_tabs.py: which evaluation is on which tab, the columns, and aging.

Exact values come from a small store built by hand (one evaluation per review situation). Tab
membership is also checked against the state machine on the demo store, and by a property test that
imports random valid logs (tests/review_walks.py) and compares the store's tabs with the state
machine's outcome for each.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coaching import access, store
from coaching.audit import evaluation_detail
from coaching.importer import import_files
from coaching.review_machine import (
    CLOSED,
    PENDING_AGENT,
    PENDING_SUPERVISOR,
    RESOLVED,
    REVIEW_STATUSES,
    ReviewEvent,
    ReviewState,
    derive_review,
)
from coaching.review_tabs import (
    DISPUTES_TAB,
    LONGEST_WAITING,
    LOWEST_SCORE,
    MOST_ROUNDS,
    NEWEST,
    OLDEST,
    ORDERS,
    PAGE_SIZE,
    PENDING_TAB,
    RESOLVED_TAB,
    STATUS_MARKERS,
    TABS,
    ReviewFilters,
    business_days,
    orders_for,
    past_service_level,
    review_counts,
    review_page,
    review_tab,
    score_movement,
    tabs_for,
    with_aging,
)
from coaching.settings import ImportSettings

from exports import (
    IE_COLUMNS,
    IE_HEADER,
    build_store,
    csv_text,
    metric_columns,
    roster,
    who,
    write_exports,
)
from review_walks import METRICS, Walk, walks

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "data" / "templates"
PRIYA, TOM, UMA = "Priya Nair", "Tom Becker", "Uma Ueda"
TOM_ID, UMA_ID = "tom.becker@example.com", "uma.ueda@example.com"  # who they are: filters choose people
AGENT_EMAIL, LEAD_EMAIL, OTHER_LEAD_EMAIL, QA_EMAIL = (
    "priya.nair@example.com", "sam.ortiz@example.com", "zoe.zimmer@example.com", "quinn.lee@example.com")

ROSTER = roster(PRIYA, TOM, UMA, "Sam Ortiz", "Zoe Zimmer", "Quinn Lee")


def ie_row(conversation: str, agent: str, day: int, audit: str = "", queue: str = "Billing queue") -> str:
    return (f"{conversation},Voice,{queue},{queue},en,{agent},{agent},2026-07-{day:02d}T09:00:00Z,6.5,"
            f"refund,0,50,1,0,{audit},inbound,Evaluated,Billing Voice form,Refund,1,0,10,10")


EVALUATIONS = "\n".join([
    IE_HEADER,
    ie_row("a-audit", PRIYA, 1, "55"),  # audit only: Pending Agent Review
    ie_row("a-disputed", PRIYA, 2, "60"),  # a dispute waiting: Pending Supervisor Review
    ie_row("a-answered", PRIYA, 3, "55", "Claims queue"),  # round 1 answered and re-evaluated: Pending Agent
    ie_row("a-accepted", PRIYA, 4, "70"),  # accepted at once: Resolved, never disputed
    ie_row("a-settled", PRIYA, 5, "55"),  # disputed, re-evaluated, then accepted: Resolved
    ie_row("a-closed", PRIYA, 6, "40"),  # three rounds: Closed
    ie_row("a-none", PRIYA, 7, ""),  # never audited: no review
    ie_row("t-disputed", TOM, 8, "50"),  # Tom's: Pending Supervisor Review
    ie_row("u-audit", UMA, 9, "45"),  # another team's: Pending Agent Review
]) + "\n"

EVENTS = """ConversationID,Metric,Round,Actor,Action,Comment,Timestamp,Audit Score
a-audit,,0,QA,Audit Submitted,,2026-07-01T10:00:00Z,
a-disputed,,0,QA,Audit Submitted,,2026-07-02T10:00:00Z,60
a-disputed,Greeting,1,Agent,Disputed,I greeted them.,2026-07-02T11:00:00Z,
a-answered,,0,QA,Audit Submitted,,2026-07-03T10:00:00Z,55
a-answered,Greeting,1,Agent,Disputed,I greeted them.,2026-07-03T11:00:00Z,
a-answered,Greeting,1,QA,Dispute Accepted,Agreed.,2026-07-03T12:00:00Z,
a-answered,,1,QA,Re-evaluated,,2026-07-03T12:05:00Z,70
a-accepted,,0,QA,Audit Submitted,,2026-07-04T10:00:00Z,70
a-accepted,,1,Agent,Accepted,,2026-07-06T08:00:00Z,
a-settled,,0,QA,Audit Submitted,,2026-07-05T10:00:00Z,55
a-settled,Greeting,1,Agent,Disputed,I greeted them.,2026-07-05T11:00:00Z,
a-settled,Greeting,1,QA,Dispute Accepted,Agreed.,2026-07-05T12:00:00Z,
a-settled,,1,QA,Re-evaluated,,2026-07-05T12:05:00Z,72
a-settled,,2,Agent,Accepted,,2026-07-09T09:30:00Z,
a-closed,,0,QA,Audit Submitted,,2026-07-06T10:00:00Z,40
a-closed,Greeting,1,Agent,Disputed,First.,2026-07-06T11:00:00Z,
a-closed,Greeting,1,QA,Dispute Denied,No.,2026-07-06T12:00:00Z,
a-closed,Greeting,2,Agent,Disputed,Second.,2026-07-06T13:00:00Z,
a-closed,Greeting,2,QA,Dispute Accepted,Yes.,2026-07-06T14:00:00Z,
a-closed,,2,QA,Re-evaluated,,2026-07-06T14:05:00Z,48
a-closed,Greeting,3,Agent,Disputed,Third.,2026-07-06T15:00:00Z,
a-closed,Greeting,3,QA,Dispute Denied,Final.,2026-07-07T16:00:00Z,
t-disputed,,0,QA,Audit Submitted,,2026-07-08T10:00:00Z,50
t-disputed,Greeting,1,Agent,Disputed,I greeted them.,2026-07-08T11:00:00Z,
u-audit,,0,QA,Audit Submitted,,2026-07-09T10:00:00Z,45
"""

#: Each evaluation's tabs, read off the log above by hand.
EXPECTED_TABS = {
    "a-audit": {PENDING_TAB},
    "a-disputed": {PENDING_TAB, DISPUTES_TAB},
    "a-answered": {PENDING_TAB, DISPUTES_TAB},
    "a-accepted": {RESOLVED_TAB},
    "a-settled": {DISPUTES_TAB, RESOLVED_TAB},
    "a-closed": {DISPUTES_TAB, RESOLVED_TAB},
    "a-none": set(),
    "t-disputed": {PENDING_TAB, DISPUTES_TAB},
    "u-audit": {PENDING_TAB},
}


EXPORTS = {"roster.csv": ROSTER, "ie-report.csv": EVALUATIONS, "review-events.csv": EVENTS}


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_store(tmp_path_factory.mktemp("reviews"), EXPORTS)
    store.close_all()


def on_tabs(con, email: str, filters: ReviewFilters | None = None) -> dict[str, set[str]]:
    """Each evaluation the viewer sees, with the tabs it is on."""
    found: dict[str, set[str]] = {}
    for tab in TABS:
        for conversation in review_tab(con, who(con, email), tab, filters or ReviewFilters())["conversation_id"]:
            found.setdefault(conversation, set()).add(tab)
    return found


def row(con, tab: str, conversation: str, email: str = AGENT_EMAIL) -> pd.Series:
    rows = review_tab(con, who(con, email), tab).set_index("conversation_id")
    return rows.loc[conversation]


# -- which tab ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "disputed", "tabs"), [
    (None, [], set()),
    ("Pending Agent Review", [], {PENDING_TAB}),
    ("Pending Agent Review", ["Greeting"], {PENDING_TAB, DISPUTES_TAB}),
    ("Pending Supervisor Review", ["Greeting"], {PENDING_TAB, DISPUTES_TAB}),
    ("Resolved", [], {RESOLVED_TAB}),
    ("Resolved", ["Greeting", "Empathy"], {DISPUTES_TAB, RESOLVED_TAB}),
    ("Closed", ["Greeting"], {DISPUTES_TAB, RESOLVED_TAB}),
])
def test_tabs_for_each_state(status, disputed, tabs) -> None:
    assert tabs_for(status, disputed) == tabs


def test_each_evaluation_is_on_the_tabs_its_state_says(con) -> None:
    seen = on_tabs(con, QA_EMAIL)
    assert seen == {cid: tabs for cid, tabs in EXPECTED_TABS.items() if tabs}
    assert "a-none" not in seen  # never audited: on no tab


def test_counts_agree_with_the_rows(con) -> None:
    for email in (AGENT_EMAIL, LEAD_EMAIL, OTHER_LEAD_EMAIL, QA_EMAIL):
        counts = review_counts(con, who(con, email))
        assert counts == {tab: len(review_tab(con, who(con, email), tab)) for tab in TABS}
    assert review_counts(con, who(con, AGENT_EMAIL)) == {PENDING_TAB: 3, DISPUTES_TAB: 4, RESOLVED_TAB: 3}


def test_an_agent_sees_only_their_own_evaluations(con) -> None:
    assert set(on_tabs(con, AGENT_EMAIL)) == {c for c, t in EXPECTED_TABS.items() if t and c.startswith("a-")}
    assert set(on_tabs(con, "tom.becker@example.com")) == {"t-disputed"}


def test_a_lead_sees_their_team_and_can_narrow_it_to_agents(con) -> None:
    assert set(on_tabs(con, LEAD_EMAIL)) == {c for c, t in EXPECTED_TABS.items() if t and c[0] in "at"}
    assert set(on_tabs(con, OTHER_LEAD_EMAIL)) == {"u-audit"}
    assert set(on_tabs(con, LEAD_EMAIL, ReviewFilters(agents=(TOM_ID,)))) == {"t-disputed"}
    # A filter cannot widen a scope: another team's agent gives nothing.
    assert on_tabs(con, LEAD_EMAIL, ReviewFilters(agents=(UMA_ID,))) == {}
    assert review_counts(con, who(con, LEAD_EMAIL), ReviewFilters(agents=(UMA_ID,))) == dict.fromkeys(TABS, 0)
    lead_rows = review_tab(con, who(con, LEAD_EMAIL), PENDING_TAB)
    assert set(lead_rows["agent"]) == {PRIYA, TOM}


def test_a_limit_keeps_the_newest(con) -> None:
    everything = review_tab(con, who(con, QA_EMAIL), DISPUTES_TAB)
    newest = review_tab(con, who(con, QA_EMAIL), DISPUTES_TAB, limit=2)
    assert list(newest["conversation_id"]) == list(everything["conversation_id"])[:2]


def test_an_unknown_tab_is_refused(con) -> None:
    with pytest.raises(ValueError, match="unknown tab 'everything'"):
        review_tab(con, who(con, AGENT_EMAIL), "everything")


# -- order and pages ---------------------------------------------------------------------------------


def test_each_tab_offers_its_orders_newest_first_by_default() -> None:
    for tab in TABS:
        assert orders_for(tab)[0] == NEWEST and set(orders_for(tab)) <= set(ORDERS)
    assert LONGEST_WAITING in orders_for(PENDING_TAB)
    assert MOST_ROUNDS in orders_for(DISPUTES_TAB) and MOST_ROUNDS in orders_for(RESOLVED_TAB)


def test_review_md_names_the_orders_of_each_tab() -> None:
    text = (ROOT / "docs" / "review.md").read_text(encoding="utf-8")
    section = text[text.index("## Order and pages of the Review tabs"):]
    section = section[:section.index("\n## ", 1)]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("|")]
    named = {tab.strip("*"): [o.split(" (")[0].strip() for o in orders.split(", ")] for tab, orders in rows[2:]}
    assert named == {TABS[tab]: list(orders_for(tab)) for tab in TABS}
    assert f"{PAGE_SIZE} rows to a page" in section.replace("\n", " ")


def _sorted_by_hand(rows: pd.DataFrame, order: str) -> list[str]:
    """``rows`` (newest first) in ``order``, by pandas: a stable sort keeps newest first for ties."""
    key, ascending = {
        NEWEST: ("date", False), OLDEST: ("date", True), LONGEST_WAITING: ("status_since", True),
        LOWEST_SCORE: ("audit_score", True), MOST_ROUNDS: ("dispute_rounds", False),
    }[order]
    return list(rows.sort_values(key, ascending=ascending, kind="stable", na_position="last")["conversation_id"])


@pytest.mark.parametrize("tab", list(TABS))
def test_every_order_of_a_tab_is_its_rows_sorted_so(con, tab: str) -> None:
    viewer = who(con, QA_EMAIL)
    newest = review_tab(con, viewer, tab)
    for order in orders_for(tab):
        assert list(review_tab(con, viewer, tab, order=order)["conversation_id"]) == _sorted_by_hand(newest, order)


def test_an_unknown_order_is_refused(con) -> None:
    with pytest.raises(ValueError, match="unknown order 'Loudest first'"):
        review_tab(con, who(con, QA_EMAIL), PENDING_TAB, order="Loudest first")


@pytest.mark.parametrize("tab", list(TABS))
def test_pages_are_the_tab_cut_in_order(con, tab: str) -> None:
    viewer = who(con, QA_EMAIL)
    for order in orders_for(tab):
        whole = list(review_tab(con, viewer, tab, order=order)["conversation_id"])
        first = review_page(con, viewer, tab, ReviewFilters(), order, 1, page_size=2)
        assert (first.total, first.pages) == (len(whole), -(-len(whole) // 2))
        seen = []
        for number in range(1, first.pages + 1):
            shown = review_page(con, viewer, tab, ReviewFilters(), order, number, page_size=2)
            assert shown.page == number and len(shown.rows) <= 2
            seen += list(shown.rows["conversation_id"])
        assert seen == whole


def test_a_page_past_the_end_is_the_last_and_an_empty_tab_one_empty_page(con) -> None:
    viewer = who(con, QA_EMAIL)
    last = review_page(con, viewer, DISPUTES_TAB, page=99, page_size=2)
    assert last.page == last.pages == 3 and len(last.rows) == 1  # five disputed: 2, 2, 1
    empty = review_page(con, who(con, OTHER_LEAD_EMAIL), DISPUTES_TAB)
    assert (empty.page, empty.pages, empty.total, len(empty.rows)) == (1, 1, 0, 0)
    with pytest.raises(ValueError):
        review_page(con, viewer, PENDING_TAB, page_size=0)


def test_the_count_past_the_service_level_covers_every_page(con) -> None:
    now = datetime(2026, 7, 6, 12, 5)
    for email in (AGENT_EMAIL, LEAD_EMAIL, QA_EMAIL):
        viewer = who(con, email)
        every = with_aging(review_tab(con, viewer, PENDING_TAB), now, 2.0)
        assert past_service_level(con, viewer, now, 2.0) == int(every["past_service_level"].sum())
    assert past_service_level(con, who(con, AGENT_EMAIL), now, 2.0) == 2  # a-disputed and a-audit
    assert past_service_level(con, who(con, LEAD_EMAIL), now, 2.0, ReviewFilters(agents=(TOM_ID,))) == 0


def test_every_review_status_has_one_look() -> None:
    assert set(STATUS_MARKERS) == set(REVIEW_STATUSES)
    for marker in STATUS_MARKERS.values():
        assert marker.meaning and marker.icon.startswith(":material/")
    # The two waits are told apart by colour; the ends by icon.
    assert STATUS_MARKERS[PENDING_AGENT].colour != STATUS_MARKERS[PENDING_SUPERVISOR].colour
    assert STATUS_MARKERS[RESOLVED].icon != STATUS_MARKERS[CLOSED].icon


# -- the columns -------------------------------------------------------------------------------------


def test_pending_review_rows(con) -> None:
    rows = review_tab(con, who(con, AGENT_EMAIL), PENDING_TAB)
    # Newest interaction first.
    assert list(rows["conversation_id"]) == ["a-answered", "a-disputed", "a-audit"]
    assert list(rows["date"]) == [pd.Timestamp(f"2026-07-0{d} 09:00") for d in (3, 2, 1)]
    assert list(rows["review_status"]) == ["Pending Agent Review", "Pending Supervisor Review",
                                           "Pending Agent Review"]
    # The audit score is the current one: a-answered was re-evaluated from 55 to 70; a-audit's audit
    # event has no score, so the report's is used.
    assert list(rows["audit_score"]) == [70, 60, 55]
    assert [list(a) for a in rows["awaiting_response"]] == [[], ["Greeting"], []]
    assert list(rows["queues"].map(list)) == [["Claims queue"], ["Billing queue"], ["Billing queue"]]
    # When each entered its status: the re-evaluation, the agent's answer, the audit.
    assert list(rows["status_since"]) == [pd.Timestamp("2026-07-03 12:05"), pd.Timestamp("2026-07-02 11:00"),
                                          pd.Timestamp("2026-07-01 10:00")]


def test_disputes_rows_count_completed_rounds_only(con) -> None:
    rows = review_tab(con, who(con, AGENT_EMAIL), DISPUTES_TAB).set_index("conversation_id")
    assert list(rows.index) == ["a-closed", "a-settled", "a-answered", "a-disputed"]
    assert rows["dispute_rounds"].to_dict() == {"a-closed": 3, "a-settled": 1, "a-answered": 1, "a-disputed": 0}
    assert {c: list(m) for c, m in rows["disputed_metrics"].items()} == dict.fromkeys(rows.index, ["Greeting"])
    assert rows["review_status"].to_dict() == {
        "a-closed": "Closed", "a-settled": "Resolved", "a-answered": "Pending Agent Review",
        "a-disputed": "Pending Supervisor Review"}


def test_resolved_rows_date_is_the_completion_and_the_score_is_final(con) -> None:
    rows = review_tab(con, who(con, AGENT_EMAIL), RESOLVED_TAB).set_index("conversation_id")
    # Newest completion first: a-settled (9 Jul), a-closed (7 Jul), a-accepted (6 Jul).
    assert list(rows.index) == ["a-settled", "a-closed", "a-accepted"]
    assert rows["date"].to_dict() == {
        "a-settled": pd.Timestamp("2026-07-09 09:30"),  # the agent's acceptance in round 2
        "a-closed": pd.Timestamp("2026-07-07 16:00"),  # the last response of round 3
        "a-accepted": pd.Timestamp("2026-07-06 08:00"),
    }
    assert (rows["date"] == rows["completed_at"]).all()
    assert rows["audit_score"].to_dict() == {"a-settled": 72, "a-closed": 48, "a-accepted": 70}
    assert rows["dispute_rounds"].to_dict() == {"a-settled": 1, "a-closed": 3, "a-accepted": 0}
    assert {c: list(h) for c, h in rows["audit_score_history"].items()} == {
        "a-settled": [55, 72], "a-closed": [40, 48], "a-accepted": [70]}
    assert [score_movement(h) for h in rows["audit_score_history"]] == ["55 → 72", "40 → 48", "70"]


@pytest.mark.parametrize(("history", "text"), [
    (None, "—"), ([], "—"), ([55.0], "55"), ([55.0, 70.0, 62.5], "55 → 70 → 62.5"), ([-12.0, 3.0], "-12 → 3"),
])
def test_score_movement(history, text) -> None:
    assert score_movement(history) == text


# -- aging -------------------------------------------------------------------------------------------

# 2026-07-06 is a Monday.
MONDAY = datetime(2026, 7, 6)


@pytest.mark.parametrize(("start", "end", "days"), [
    (MONDAY + timedelta(hours=9), MONDAY + timedelta(hours=21), 0.5),  # within a weekday
    (MONDAY, MONDAY + timedelta(days=1), 1.0),
    (MONDAY + timedelta(hours=12), MONDAY + timedelta(days=2, hours=6), 1.75),
    (MONDAY + timedelta(days=4, hours=18), MONDAY + timedelta(days=7, hours=6), 0.5),  # Fri 18:00 → Mon 06:00
    (MONDAY + timedelta(days=5, hours=10), MONDAY + timedelta(days=6, hours=10), 0.0),  # Sat → Sun
    (MONDAY + timedelta(days=5, hours=10), MONDAY + timedelta(days=7, hours=12), 0.5),  # Sat → Mon noon
    (MONDAY, MONDAY + timedelta(days=14), 10.0),  # two whole weeks
    (MONDAY + timedelta(days=1), MONDAY, 0.0),  # a start after the end waited nothing
    (MONDAY + timedelta(days=2), MONDAY + timedelta(days=2), 0.0),
])
def test_business_days(start, end, days) -> None:
    assert business_days(pd.Series([start]), end).iloc[0] == pytest.approx(days)


def test_business_days_of_a_missing_start_is_nan() -> None:
    waited = business_days(pd.Series([MONDAY, pd.NaT]), MONDAY + timedelta(days=1))
    assert waited.iloc[0] == 1.0 and pd.isna(waited.iloc[1])


def test_business_days_is_vectorised_and_keeps_the_index() -> None:
    starts = pd.Series([MONDAY, MONDAY + timedelta(days=5)], index=[7, 3])
    waited = business_days(starts, MONDAY + timedelta(days=7))
    assert list(waited.index) == [7, 3]
    assert list(waited) == pytest.approx([5.0, 0.0])


def test_aging_flags_open_reviews_past_the_service_level_only() -> None:
    now = MONDAY + timedelta(days=3)  # Thursday 00:00
    rows = pd.DataFrame({
        "review_status": ["Pending Agent Review", "Pending Supervisor Review", "Pending Agent Review", "Resolved"],
        "status_since": [now - timedelta(days=2), now - timedelta(days=2, seconds=1), now, now - timedelta(days=9)],
    })
    aged = with_aging(rows, now, 2.0)
    assert list(aged["waiting_days"].iloc[:3]) == pytest.approx([2.0, 2.0 + 1 / 86_400, 0.0])
    assert pd.isna(aged["waiting_days"].iloc[3])  # completed: not waiting
    assert list(aged["past_service_level"]) == [False, True, False, False]  # exactly 2 days is within it
    assert list(with_aging(rows, now, 1.5)["past_service_level"]) == [True, True, False, False]


def test_aging_of_the_small_store(con) -> None:
    rows = with_aging(review_tab(con, who(con, AGENT_EMAIL), PENDING_TAB), datetime(2026, 7, 6, 12, 5), 2.0)
    # a-answered has waited since Fri 3 Jul 12:05 (0.5 business day that Friday, then Monday to 12:05).
    waited = dict(zip(rows["conversation_id"], rows["waiting_days"], strict=True))
    assert waited["a-answered"] == pytest.approx(11.9166666 / 24 + 12.0833333 / 24)
    assert dict(zip(rows["conversation_id"], rows["past_service_level"], strict=True)) == {
        "a-answered": False, "a-disputed": True, "a-audit": True}


# -- against the state machine -----------------------------------------------------------------------



def replayed_tabs(con: duckdb.DuckDBPyConnection, max_rounds: int = 3) -> dict[str, set[str]]:
    """Every evaluation's tabs, from its log replayed through the state machine here (not the store's
    derived table); evaluations with no log get the empty set."""
    events: dict[str, list[ReviewEvent]] = {}
    for cid, metric, rnd, actor, action, comment, ts, score in con.execute(
        "SELECT conversation_id, metric, round, actor, action, comment, timestamp, audit_score FROM review_events"
    ).fetchall():
        events.setdefault(cid, []).append(ReviewEvent(cid, metric, rnd, actor, action, comment, ts, score))
    tabs = {}
    for cid, audit in con.execute("SELECT conversation_id, audit_score FROM evaluations").fetchall():
        state, rejection = derive_review(events.get(cid, []), max_rounds, audit)
        assert rejection is None
        tabs[cid] = tabs_for(state and state.review_status, state.disputed_metrics if state else [])
    return tabs


def test_demo_tabs_agree_with_the_state_machine(demo_db: Path) -> None:
    with store.open_store(demo_db).snapshot() as con:
        expected = replayed_tabs(con)
        admin = access.identify(con, "admin@example.com")
        seen = {cid: set() for cid in expected}
        for tab in TABS:
            for cid in review_tab(con, admin, tab)["conversation_id"]:
                seen[cid].add(tab)
    assert seen == expected
    # The demo has every kind, and evaluations with no review activity on no tab.
    kinds = {frozenset(t) for t in expected.values()}
    assert {frozenset(), frozenset({PENDING_TAB}), frozenset({PENDING_TAB, DISPUTES_TAB}),
            frozenset({RESOLVED_TAB}), frozenset({DISPUTES_TAB, RESOLVED_TAB})} <= kinds


@pytest.fixture(scope="module")
def base_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Exports of 20 evaluations with no review log yet, for the property test to add logs to."""
    # The walks' metrics, each with its four columns.
    header = IE_COLUMNS + "," + metric_columns(*METRICS)
    rows = [ie_row(f"p-{i:02d}", PRIYA if i % 2 else TOM, 1 + i % 28, "50") + ",1,0,10,10" * 3 for i in range(20)]
    return write_exports(tmp_path_factory.mktemp("reviews-walks"), {
        **EXPORTS,
        "ie-report.csv": csv_text(header, *rows),
        "review-events.csv": "ConversationID,Metric,Round,Actor,Action,Comment,Timestamp,Audit Score\n",
    })


def events_csv(events: list[ReviewEvent]) -> str:
    def cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%dT%H:%M:%SZ")
        text = str(value)
        return '"' + text.replace('"', '""') + '"' if "," in text or '"' in text else text

    lines = ["ConversationID,Metric,Round,Actor,Action,Comment,Timestamp,Audit Score"]
    lines += [",".join(cell(v) for v in (e.conversation_id, e.metric, e.round, e.actor, e.action, e.comment,
                                          e.timestamp, e.audit_score)) for e in events]
    return "\n".join(lines) + "\n"


def imported_walks(tmp_path: Path, base_exports: Path, logs: list[Walk], data: st.DataObject
                   ) -> tuple[Path, dict[str, ReviewState | None]]:
    """The logs imported into a store (each cut at a random point, so every state shows up) for
    p-00, p-01, …: the store and each evaluation's state as the state machine replays its log."""
    max_rounds = max(walk.max_rounds for walk in logs)
    events, states = [], {f"p-{i:02d}": None for i in range(20)}
    for i, walk in enumerate(logs):
        cid = f"p-{i:02d}"
        cut = walk.events[: data.draw(st.integers(0, len(walk.events)), label=f"events kept of {cid}")]
        # The walk's timestamps are whole seconds after T0: exactly what the CSV keeps.
        mine = [replace(e, conversation_id=cid, timestamp=e.timestamp.replace(microsecond=0)) for e in cut]
        state, rejection = derive_review(mine, max_rounds, 50.0)
        assert rejection is None
        states[cid] = state
        events += mine
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # one folder per example: tmp_path is the test's
    shutil.copytree(base_exports, folder / "exports")
    (folder / "exports" / "review-events.csv").write_text(events_csv(events), encoding="utf-8")
    db = folder / "coaching.duckdb"
    import_files(db, [folder / "exports"], ImportSettings(max_dispute_rounds=max_rounds))
    return db, states


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(walks(), min_size=1, max_size=8), st.data())
def test_imported_logs_land_on_the_tabs_the_state_machine_gives(tmp_path: Path, base_exports: Path,
                                                                 logs, data) -> None:
    """For any valid logs (each cut at a random point, so every state shows up), the store puts each
    evaluation on exactly the tabs its replayed state says; the ones without a log on none."""
    db, states = imported_walks(tmp_path, base_exports, logs, data)
    expected = {cid: tabs_for(state and state.review_status, state.disputed_metrics if state else [])
                for cid, state in states.items()}
    try:
        with store.open_store(db).snapshot() as con:
            seen = on_tabs(con, QA_EMAIL)
    finally:
        store.close_all()
    assert {cid: tabs for cid, tabs in seen.items()} == {cid: t for cid, t in expected.items() if t}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(walks(), min_size=1, max_size=4), st.data())
def test_the_audit_pages_badges_are_the_state_machines_metric_outcomes(tmp_path: Path, base_exports: Path,
                                                                      logs, data) -> None:
    """For any valid logs, each metric's badge on the Audit page (coaching.audit) is the state
    machine's outcome for that metric; a metric the log does not name has none (issue 14)."""
    db, states = imported_walks(tmp_path, base_exports, logs, data)
    try:
        with store.open_store(db).snapshot() as con:
            qa = who(con, QA_EMAIL)
            for cid, state in list(states.items())[: len(logs) + 1]:
                detail = evaluation_detail(con, qa, cid)
                assert detail is not None
                shown = dict(zip(detail.metrics["metric"], detail.metrics["review"], strict=True))
                outcomes = state.metric_outcomes if state else {}
                assert set(shown) == set(METRICS)
                assert shown == {m: outcomes.get(m) for m in METRICS}, cid
    finally:
        store.close_all()

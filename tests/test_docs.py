"""The documentation cannot drift from the code: the schema, the formats, the review rules (docs/review.md),
the Score Trends figures (docs/trends.md) and the Team figures (docs/team.md) are checked against it."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from datetime import date, datetime
from pathlib import Path

import duckdb

from coaching import charts, overview, scores, settings, store, team, trends
from coaching.access import Viewer
from coaching.importer import formats
from coaching.review_machine import (
    ACTIONS,
    ACTORS,
    ACTORS_BY_ACTION,
    DONE_STATUSES,
    METRIC_OUTCOMES,
    OPEN_STATUSES,
    REVIEW_STATUSES,
    ReviewEvent,
    ReviewState,
    derive_review,
)
from coaching.review_tabs import DISPUTES_TAB, PENDING_TAB, RESOLVED_TAB, TABS
from coaching.settings import DEFAULT_MAX_DISPUTE_ROUNDS, DEFAULT_REVIEW_SERVICE_LEVEL_DAYS

ROOT = Path(__file__).resolve().parent.parent


def _documented_tables() -> dict[str, set[str]]:
    text = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    tables: dict[str, set[str]] = {}
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        name = section.splitlines()[0].strip()
        rows = re.findall(r"^\| ([a-z_]+) \| [A-Z]", section, flags=re.M)
        if name != "Bookkeeping":
            tables[name] = set(rows)
    return tables


def test_docs_schema_matches_the_store(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with store.next_generation(db):
        pass
    con = duckdb.connect(str(db), read_only=True)
    actual: dict[str, set[str]] = {}
    for table, column in con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall():
        actual.setdefault(table, set()).add(column)
    con.close()
    documented = _documented_tables()
    assert set(documented) == set(store.DATA_TABLES)
    for table in store.DATA_TABLES:
        assert documented[table] == actual[table], table


def test_readme_documents_every_format_and_its_columns() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for fmt in formats.ALL_FORMATS:
        assert fmt.title in readme, fmt.title
        for column in fmt.columns:
            if fmt is formats.EVALUATIONS and column.field in ("audited_at", "auditor"):
                continue  # filled from API pages only
            assert column.header in readme, f"{fmt.title}: {column.header}"


def test_every_template_is_a_valid_example_of_its_format() -> None:
    templates = sorted((ROOT / "data" / "templates").glob("*.csv"))
    kinds = set()
    for template in templates:
        header = template.read_text(encoding="utf-8").splitlines()[0].split(",")
        kinds.add(formats.recognise(header).format.kind)
    assert kinds == {f.kind for f in formats.ALL_FORMATS}


# -- docs/review.md against coaching/review_machine.py and coaching/review_tabs.py ---------------------


def _doc(name: str) -> str:
    return (ROOT / "docs" / name).read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    """The text under ``## heading`` up to the next heading of that level."""
    found = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert found, f"no section {heading!r}"
    return found.group(1)


def _table(text: str) -> list[list[str]]:
    """The rows of the first markdown table in ``text`` (header and rule left out), cells stripped."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def _bold(text: str) -> list[str]:
    return re.findall(r"\*\*(.+?)\*\*", re.sub(r"\s+", " ", text))


def _ticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def test_review_md_names_the_statuses_actions_and_actors_of_the_state_machine() -> None:
    text = _doc("review.md")
    statuses = _section(text, "Statuses and transitions")
    sentence = statuses[statuses.index("review statuses:"):statuses.index("An evaluation that has no")]
    assert tuple(_bold(sentence)) == REVIEW_STATUSES
    columns = {row[0]: row[2] for row in _table(_section(text, "The Review events file"))}
    assert tuple(_ticked(columns["Action"])) == ACTIONS
    assert tuple(_ticked(columns["Actor"])) == ACTORS
    who = {_ticked(row[0])[0]: tuple(a.strip() for a in row[1].split(","))
           for row in _table(_section(text, "Who may do what"))}
    assert who == ACTORS_BY_ACTION


def test_review_md_names_the_derived_fields_and_the_metric_outcomes() -> None:
    rows = _table(_section(_doc("review.md"), "What is derived"))
    # Each row names a field of ReviewState in words ("Dispute rounds" is dispute_rounds).
    assert {row[0].lower().replace(" ", "_") for row in rows} == {f.name for f in dataclasses.fields(ReviewState)}
    [outcomes] = [row[1] for row in rows if row[0] == "Metric outcomes"]
    assert set(_bold(outcomes)) == set(METRIC_OUTCOMES)


def test_review_md_tab_rules_are_the_review_tabs() -> None:
    rows = _table(_section(_doc("review.md"), "The Review tabs"))
    assert [row[0] for row in rows] == [f"**{label}**" for label in TABS.values()]
    rules = dict(zip(TABS, (row[1] for row in rows), strict=True))
    named = {tab: tuple(s for s in REVIEW_STATUSES if re.search(rf"\b{s}\b", rule)) for tab, rule in rules.items()}
    assert named == {PENDING_TAB: OPEN_STATUSES, DISPUTES_TAB: (), RESOLVED_TAB: DONE_STATUSES}
    assert "disputed" in rules[DISPUTES_TAB]


def test_review_md_defaults_are_the_settings() -> None:
    text = _doc("review.md")
    assert f"Kore's default is **{DEFAULT_MAX_DISPUTE_ROUNDS}**" in text
    assert f"`COACHING_REVIEW_SERVICE_LEVEL_DAYS`, {DEFAULT_REVIEW_SERVICE_LEVEL_DAYS:g} by default" in text


def _worked_example() -> tuple[list[ReviewEvent], list[tuple[str, int]], dict[str, str]]:
    """The worked example's events, the status and dispute rounds after each row, and the values it
    says the log ends with."""
    section = _section(_doc("review.md"), "Worked example")
    events, after = [], []
    for cid, metric, rnd, actor, action, comment, when, score, status, rounds in _table(section):
        events.append(ReviewEvent(cid, metric or None, int(rnd), actor, action, comment or None,
                                  datetime.strptime(when, "%Y-%m-%d %H:%M"), float(score) if score else None))
        after.append((status.split(" (")[0], int(rounds)))
    derived = dict(re.findall(r"^\* ([A-Z][a-z ]+): (.+)$", section, flags=re.M))
    return events, after, derived


def test_review_md_worked_example_is_what_the_state_machine_derives() -> None:
    events, after, derived = _worked_example()
    for i, (status, rounds) in enumerate(after, start=1):
        state, rejection = derive_review(events[:i], 3)
        assert rejection is None and state is not None, i
        assert (state.review_status, state.dispute_rounds) == (status, rounds), f"after row {i}"
    assert state is not None
    assert derived == {
        "Review status": state.review_status,
        "Dispute rounds": str(state.dispute_rounds),
        "Disputed metrics": ", ".join(state.disputed_metrics),
        "Audit score history": ", ".join(f"{s:g}" for s in state.audit_score_history),
        "Final audit score": f"{state.final_audit_score:g}",
        "Completed at": f"{state.completed_at:%Y-%m-%d %H:%M}",
        "Metric outcomes": ", ".join(f"{m} {o}" for m, o in sorted(state.metric_outcomes.items())),
    }
    # "With a maximum of 2": Closed after 2 rounds, and the last answer rejected on its Round.
    state, rejection = derive_review(events, 2)
    assert state is not None and (state.review_status, state.dispute_rounds) == ("Closed", 2)
    assert rejection is not None and rejection.column == "Round" and rejection.event is events[-1]


# -- docs/trends.md against coaching/trends.py ----------------------------------------------------------

#: The sections of docs/trends.md that are not one of the page's views.
_NOT_VIEWS = ("Filters", "An agent's own trends", "Downloads")


def _trend_columns(tmp_path: Path) -> dict[str, list[str]]:
    """The columns of every figure function of coaching/trends.py, from an empty store."""
    db = tmp_path / "s.duckdb"
    with store.next_generation(db):
        pass
    con = duckdb.connect(str(db), read_only=True)
    admin = Viewer("Admin", "admin@example.com", "Admin", None, ())
    agent = Viewer("Agent", "agent@example.com", "Agent", "Team", ())
    filters = trends.TrendFilters.last_days(date(2026, 8, 1))
    try:
        columns = {
            "score_trends": trends.score_trends(con, admin, filters),
            "agent_score_trends": trends.agent_score_trends(
                con, admin, dataclasses.replace(filters, agents=("a@example.com", "b@example.com"))),
            "own_trends": trends.own_trends(con, agent, filters),
            "own_headline": trends.own_headline(con, agent, filters),
            "kore_vs_audit": trends.kore_vs_audit(con, admin, filters),
            "audit_gap_by_agent": trends.audit_gap_by_agent(con, admin, filters),
            "coaching_monitor": trends.coaching_monitor(con, admin, date(2026, 8, 1), filters),
            "coaching_effect": trends.coaching_effect(con, admin, filters),
            "dispute_trends": trends.dispute_trends(con, admin, filters),
            "metric_overturns": trends.metric_overturns(con, admin, filters),
        }
        return {
            **{name: list(frame.columns) for name, frame in columns.items()},
            "coaching_effect_summary": ["coaching_area", "lead", *trends.SUMMARY_COLUMNS],
        }
    finally:
        con.close()


def test_trends_md_has_a_section_per_view_and_names_each_filter() -> None:
    text = _doc("trends.md")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert tuple(h for h in headings if h not in _NOT_VIEWS) == trends.VIEWS
    filters = _section(text, "Filters")
    named = [name.strip() for bold in _bold(filters) for name in bold.split(",")]
    assert set(named) == {trends.DATES_LABEL, trends.GRAIN_LABEL, *trends.FILTER_LABELS.values()}
    fields = {f.name for f in dataclasses.fields(trends.TrendFilters)} - {"start", "end"}
    assert set(trends.FILTER_LABELS) == fields
    [grains] = [line for line in filters.splitlines() if f"**{trends.GRAIN_LABEL}**" in line]
    assert re.findall(r"\b(day|week|month)\b", grains) == list(trends.GRAINS)


def test_trends_md_figures_are_the_columns_of_the_functions_it_names(tmp_path: Path) -> None:
    text = _doc("trends.md")
    columns = _trend_columns(tmp_path)
    for heading in [*trends.VIEWS, "An agent's own trends"]:
        names = _ticked(_section(text, heading))
        functions = [n for n in names if n in columns]
        assert functions, f"{heading}: names no function of coaching/trends.py"
        known = {c for f in functions for c in columns[f]}
        assert [n for n in names if n not in columns and n not in known] == [], heading


def test_trends_md_numbers_are_the_code_s() -> None:
    text = _doc("trends.md")
    window = inspect.signature(trends.coaching_effect).parameters["window_days"].default
    for said in (
        f"The default is the last {trends.DEFAULT_DAYS} days",
        f"fewer than {trends.FEW} evaluations",
        f"fewer than {trends.MIN_TEAM_AGENTS} agents",
        f'("{trends.YOU}", a solid line)',
        f"up to the {trends.MAX_POINTS:,} most",
        f"at most the {charts.CHART_ROWS} agents",
        f"at most the {charts.CHART_ROWS} most recent",
        f"over the {trends.MONITOR_DAYS} days before the assigned date",
        f"over the last {trends.MONITOR_DAYS} days",
        f"**{trends.SPIKE}** (+{trends.MONITOR_CHANGE:g} points or more)",
        f"**{trends.DIP}** (−{trends.MONITOR_CHANGE:g} or less)",
        f"(*N* = {window} by default)",
        f"where each period has {trends.FEW} or more scores",
        f"fewer than {trends.MIN_TEAM_AGENTS} agents of the team have that score",
        f"Overview shows the same figures for the last {overview.SCORE_DAYS} days",
        f"with 2 to {trends.MAX_COMPARED} agents chosen",
        f"more than {trends.MAX_COMPARED} agents chosen",
        f"in the {trends.ROLLING_DAYS} days ending that day",
        f"Over more than {charts.DAILY_POINTS} days",
        f"{settings.DEFAULT_PASS_SCORE:g} by default",
    ):
        assert said in text, said
    assert re.sub(r"\s+", " ", f'("{trends.TEAM_AVERAGE}", dashed)') in re.sub(r"\s+", " ", text)
    scores = _section(text, "Score trends")
    assert all(measure in re.sub(r"\s+", " ", scores) for measure in trends.MEASURES)


# -- docs/team.md against coaching/team.py and pages/team.py ---------------------------------------------

#: The sections of docs/team.md that define the figures of a row.
_TEAM_FIGURES = ("The agent", "Scores", "Reviews and disputes", "Coaching", "Flags")


def _team_headings() -> set[str]:
    """The Team table's column headings as pages/team.py writes them: the words of coaching.team.LABELS
    (``LABELS["kore_n"]``), or a heading of its own (a column that is not sorted by)."""
    page = (ROOT / "pages" / "team.py").read_text(encoding="utf-8")
    labelled = re.findall(r'column_config\.\w+Column\(\s*LABELS\["(\w+)"\]', page)
    literal = re.findall(r'column_config\.\w+Column\(\s*"([^"]+)"', page)
    assert set(labelled) <= set(team.LABELS)
    return {team.LABELS[key] for key in labelled} | set(literal)


def test_team_md_names_each_figure_as_the_table_and_sort_by_do() -> None:
    figures = "".join(_section(_doc("team.md"), heading) for heading in _TEAM_FIGURES)
    named = set(_bold(figures)) - {team.FALLING, team.BELOW_PASS}
    # Every heading of the table and every choice of Sort by, and nothing else: one name per figure.
    assert named == _team_headings() | set(team.LABELS.values())
    assert set(team.LABELS.values()) - _team_headings() == {team.LABELS["person_id"]}  # the CSV's alone
    assert len(set(team.LABELS.values())) == len(team.LABELS)


def test_team_md_figures_are_the_columns_of_the_team_view() -> None:
    figures = "".join(_section(_doc("team.md"), heading) for heading in _TEAM_FIGURES)
    columns = [name for name in _ticked(figures) if re.fullmatch(r"[a-z_]+", name)]
    assert set(columns) == {*team.COLUMNS, "kore_weekly"}  # the weekly means are the page's alone


def test_team_md_constants_and_numbers_are_the_code_s() -> None:
    text = _doc("team.md")
    for dotted in set(re.findall(r"`(coaching\.[\w.]+)`", text)):
        module, _, name = dotted.rpartition(".")
        assert hasattr(importlib.import_module(module), name), dotted
    valued = re.findall(r"`(coaching\.[\w.]+)` = (\d+(?:\.\d+)?)", text)
    assert {name.rpartition(".")[2] for name, _ in valued} == {
        "DEFAULT_DAYS", "PAGE_SIZE", "FEW", "FALL_STANDARD_ERRORS"}
    for dotted, value in valued:
        module, _, name = dotted.rpartition(".")
        assert float(value) == getattr(importlib.import_module(module), name), dotted
    flat = re.sub(r"\s+", " ", text)
    for said in (
        f"the last {team.DEFAULT_DAYS} days",
        f"pages of {team.PAGE_SIZE}",
        f"fewer than {scores.FEW} Kore scores",
        f"at least {scores.FEW} Kore scores",
        f"more than {team.FALL_STANDARD_ERRORS:g} standard errors",
        f"{settings.DEFAULT_PASS_SCORE:g} by default",
        f'("{team.BOTH_FLAGS}")',
    ):
        assert said in flat, said
    assert trends.FEW is scores.FEW  # Score Trends' thin points and the Team view's minimum: one rule

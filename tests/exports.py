"""Exports the tests share: a small roster, the ie-report's columns, and building stores from them.

Tests that build a store by hand write their exports as text: :func:`roster` gives the roster of the
few people they share (two teams and a QA), :data:`IE_COLUMNS` and :func:`metric_columns` the report's
header, :func:`csv_text` a file of rows. :func:`build_store` imports such files into a new store,
:func:`build_demo_store` the demo the page tests read. An import that must fail is checked with
:func:`fails` (the store is left as it was) and :func:`only_problem`; :func:`set_cell` and
:func:`drop_column` make a bad file from a good one, and :func:`query` reads a store.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from coaching import access, demo
from coaching.importer import ImportFailed, Problem, import_files
from coaching.settings import ImportSettings

# -- exports written by hand ---------------------------------------------------------------------

ROSTER_HEADER = "Agent Name,Email,Team,Team Lead,Role,Permissions"
_AGENT = '"Agent Dashboard, Coaching Assignments"'
#: Roster rows by name: Billing East (lead Sam Ortiz) and Claims (lead Zoe Zimmer), and a QA.
ROSTER_ROWS = {
    "Priya Nair": f"Priya Nair,priya.nair@example.com,Billing East,sam.ortiz@example.com,Agent,{_AGENT}",
    "Tom Becker": f"Tom Becker,tom.becker@example.com,Billing East,sam.ortiz@example.com,Agent,{_AGENT}",
    "Vic Vance": f"Vic Vance,vic.vance@example.com,Billing East,sam.ortiz@example.com,Agent,{_AGENT}",
    "Uma Ueda": f"Uma Ueda,uma.ueda@example.com,Claims,zoe.zimmer@example.com,Agent,{_AGENT}",
    "Sam Ortiz": "Sam Ortiz,sam.ortiz@example.com,Billing East,,Supervisor,",
    "Zoe Zimmer": "Zoe Zimmer,zoe.zimmer@example.com,Claims,,Supervisor,",
    "Quinn Lee": "Quinn Lee,quinn.lee@example.com,,,QA,",
}

#: The Interaction Evaluation report's columns before the metrics, as Kore writes them.
IE_COLUMNS = (
    "ConversationID,Channel,Queues,Last Queue,Language,Agents,Scored Agent,Start Time,Sentiment Score,Topics,"
    "Escalation,Kore Evaluation Score,Is Passed,Is Fatal Interaction,Audit Score,Contact Direction,"
    "Duration Status,Evaluation Form,Intent"
)


def metric_columns(*metrics: str) -> str:
    """The report's four columns of each metric: result, Is Fatal Metric, Adherence Weight, Violation."""
    return ",".join(f"{m},{m} - Is Fatal Metric,{m} - Adherence Weight,{m} - Violation" for m in metrics)


#: The header of a report with one metric, Greeting: a row ends with its four cells (e.g. ``1,0,10,10``).
IE_HEADER = IE_COLUMNS + "," + metric_columns("Greeting")


def csv_text(header: str, *rows: str) -> str:
    """A CSV file's text: the header and the rows, each ending in a newline."""
    return "\n".join([header, *rows]) + "\n"


def roster(*names: str) -> str:
    """roster.csv with these people of :data:`ROSTER_ROWS`, in this order."""
    return csv_text(ROSTER_HEADER, *(ROSTER_ROWS[name] for name in names))


# -- stores built from them ----------------------------------------------------------------------


def write_exports(folder: Path, files: Mapping[str, str]) -> Path:
    """The files (name -> text) in ``folder``/exports, written as UTF-8; returns that folder."""
    exports = folder / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (exports / name).write_text(content, encoding="utf-8")
    return exports


def build_store(folder: Path, files: Mapping[str, str]) -> Path:
    """A new store, ``folder``/coaching.duckdb, holding the files (name -> text)."""
    db = folder / "coaching.duckdb"
    import_files(db, [write_exports(folder, files)])
    return db


#: The demo the page tests read: 24 agents over 60 days up to 1 Nov 2026.
PAGES_DEMO = demo.DemoSpec(agents=24, days=60, seed=9, end=date(2026, 11, 1))


def build_demo_store(folder: Path, spec: demo.DemoSpec = PAGES_DEMO) -> Path:
    """A new store, ``folder``/coaching.duckdb, holding the demo's exports (written to ``folder``/exports)."""
    demo.generate(spec, folder / "exports")
    db = folder / "coaching.duckdb"
    import_files(db, [folder / "exports"])
    return db


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """The rows of one query, on a read-only connection of its own."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def queries(db: Path, *sqls: str) -> list[list[tuple[Any, ...]]]:
    """The rows of each query, on one read-only connection (opening one takes a while)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [con.execute(sql).fetchall() for sql in sqls]
    finally:
        con.close()


# -- imports that must fail ----------------------------------------------------------------------


def fails(db: Path, paths: list[Path], settings: ImportSettings | None = None) -> ImportFailed:
    """An import that must fail and leave the store as it was (or not there); returns the failure."""
    before = db.read_bytes() if db.exists() else None
    with pytest.raises(ImportFailed) as caught:
        import_files(db, paths, settings)
    if before is None:
        assert not db.exists()
    else:
        assert db.read_bytes() == before
    assert not db.with_name(db.name + ".next").exists()
    failure = caught.value
    assert failure.total >= len(failure.problems) >= 1
    return failure


def only_problem(failure: ImportFailed) -> Problem:
    assert failure.total == 1, failure.report()
    return failure.problems[0]


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def to_csv(rows: Sequence[Sequence[object]]) -> str:
    """The rows as CSV text, each line ending in a newline."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def set_cell(text: str, row: int, column: str, value: str) -> str:
    """The CSV with data row ``row`` (1 = first after the header) given ``value`` in ``column``."""
    rows = rows_of(text)
    rows[row][rows[0].index(column)] = value
    return to_csv(rows)


def drop_column(text: str, column: str) -> str:
    rows = rows_of(text)
    index = rows[0].index(column)
    return to_csv([r[:index] + r[index + 1 :] for r in rows])


def who(con: duckdb.DuckDBPyConnection, email: str) -> access.Viewer:
    """The viewer signed in as ``email``, as the app identifies them."""
    return access.identify(con, email)

"""Writing the run's rows into the store (its next generation): upserts by natural key, counting new,
updated and unchanged rows, with each kind's extra columns (the agent's person, an evaluation's source).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from coaching.importer import formats, kore_api
from coaching.importer.formats import AGENT_COLUMNS, Format
from coaching.importer.progress import Progress
from coaching.importer.sources import Files
from coaching.importer.staging import STAGE_EXTRAS, MetricLayouts
from coaching.importer.summary import KindSummary
from coaching.sql import scalar, sql_str


def insert(con: duckdb.DuckDBPyConnection, progress: Progress, sql: str, label: str, share: float) -> None:
    """Run an INSERT into a store table with its rows in any order, so DuckDB writes in parallel.

    Staging keeps the files' order (a staged row's rowid is its ordinal, which finds its line); nothing
    that reads the store's tables depends on their rows' physical order (lists end their ORDER BY on a
    unique column; look-ups are by key). Keeping it would cost a sort of the whole run, and a single
    writer: about 7 of 12 seconds for 2 million evaluations. The setting is the database's, not the
    connection's; an import is the only user of its next generation.
    """
    con.execute("SET preserve_insertion_order = false")
    try:
        progress.run(con, sql, label=label, share=share)
    finally:
        con.execute("SET preserve_insertion_order = true")


def upsert(
    con: duckdb.DuckDBPyConnection,
    fmt: Format,
    progress: Progress,
    share: float,
    extras: Sequence[tuple[str, str]] = (),
    stored_extras: Mapping[str, str] | None = None,
    stored_stays_when: Mapping[str, str] | None = None,
    compared_extras: Sequence[str] = (),
) -> KindSummary:
    """Replace rows with the same natural key, insert the rest; count new, updated, unchanged.

    A column the file does not have keeps the stored value of a row it updates (a roster without
    Team does not clear everyone's team); a new row gets nothing there (an empty list for lists).
    ``extras`` are more store columns and the SQL that fills each (not part of the comparison but for those
    named in ``compared_extras``: a change of one alone makes the row updated); the
    kind's staged extras (the evaluations' metrics digest) and its agents' person (``person_id``,
    :func:`coaching.importer.agents.resolve_agents`) are stored and compared like its columns.
    ``stored_extras``: for an extra, the SQL that fills it on a row that updates a stored one, which may
    read the stored row's columns (``t``) as well as the run's (``s``). ``stored_stays_when``: for a column,
    a staged extra or an extra, a condition (SQL over ``s`` and ``t``) under which the stored row keeps its own value
    though the run's row gives one: true means the stored value stays, false or NULL that the run's
    replaces it (the Kore API records' rule, :func:`coaching.importer.kore_api.keeps_stored`).
    """
    stored_extras = stored_extras or {}
    stays = stored_stays_when or {}
    table = fmt.table
    staged_extras = [name for name, _ in STAGE_EXTRAS.get(fmt.kind, ())]
    staged_extras += ["person_id"] if fmt.kind in AGENT_COLUMNS else []
    fields = [c.field for c in fmt.columns] + staged_extras
    join = " AND ".join(f"t.{k} IS NOT DISTINCT FROM s.{k}" for k in fmt.key)
    first_key = fmt.key[0]

    def fresh(column: formats.Column) -> str:
        if isinstance(column.type, formats.TextList):
            return f"CASE WHEN s.has_{column.field} THEN s.{column.field} ELSE CAST([] AS VARCHAR[]) END"
        return f"s.{column.field}"

    overlap = scalar(con, f"SELECT count(*) FROM stage_{fmt.kind} s JOIN {table} t ON {join}")
    rows = scalar(con, f"SELECT count(*) FROM stage_{fmt.kind}")
    columns = ", ".join(fields + [name for name, _ in extras])
    extras_sql = "".join(f", s.{name} AS {name}" for name in staged_extras)
    label = f"Writing {fmt.title.lower()}"
    if not rows:
        progress.report(label, share)
        return KindSummary()
    if not overlap:
        # Nothing to merge with: insert straight from the stage.
        selects = ", ".join(f"{fresh(c)} AS {c.field}" for c in fmt.columns) + extras_sql
        selects += "".join(f", {sql}" for _, sql in extras)
        insert(con, progress, f"INSERT INTO {table} ({columns}) SELECT {selects} FROM stage_{fmt.kind} s",
               label, share)
        return KindSummary(rows=rows, new=rows)

    def replaces(name: str) -> str:
        return f" AND NOT coalesce({stays[name]}, false)" if name in stays else ""

    def kept_or(name: str, value: str) -> str:
        """SQL: the stored row's ``name`` where ``stored_stays_when`` keeps it, else ``value``."""
        if name not in stays:
            return value
        return f"CASE WHEN t.{first_key} IS NOT NULL AND coalesce({stays[name]}, false) THEN t.{name} ELSE {value} END"

    merged = ", ".join(
        f"CASE WHEN t.{first_key} IS NULL THEN {fresh(c)} WHEN s.has_{c.field}{replaces(c.field)} THEN s.{c.field} "
        f"ELSE t.{c.field} END AS {c.field}"
        for c in fmt.columns
    )
    merged_extras = "".join(f", {kept_or(name, f's.{name}')} AS {name}" for name in staged_extras)
    compared = fields + list(compared_extras)
    differs = (
        f"({', '.join(f'm.{f}' for f in compared)}) IS DISTINCT FROM ({', '.join(f't.{f}' for f in compared)})"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE merged AS SELECT s.src, s.ordinal, {merged}{merged_extras}"
        + "".join(f", {kept_or(name, stored_extras.get(name, sql))} AS {name}" for name, sql in extras)
        + f", t.{first_key} IS NULL AS is_new "
        f"FROM stage_{fmt.kind} s LEFT JOIN {table} t ON {join}"
    )
    # Compare what will be stored with what is stored.
    new, updated = _one_row(
        con,
        "SELECT count(*) FILTER (WHERE m.is_new), count(*) FILTER (WHERE NOT m.is_new AND ("
        + differs
        + f")) FROM merged m LEFT JOIN {table} t ON "
        + " AND ".join(f"t.{k} IS NOT DISTINCT FROM m.{k}" for k in fmt.key),
    )
    key_match = " AND ".join(f"{table}.{k} IS NOT DISTINCT FROM s.{k}" for k in fmt.key)
    con.execute(f"DELETE FROM {table} USING stage_{fmt.kind} s WHERE {key_match}")
    insert(con, progress, f"INSERT INTO {table} ({columns}) SELECT {columns} FROM merged", label, share)
    return KindSummary(rows=rows, new=new, updated=updated, unchanged=rows - new - updated)


def write_roster(con: duckdb.DuckDBPyConnection, progress: Progress) -> KindSummary:
    """The run's roster: everyone on it is someone by their email, and on the roster."""
    return upsert(con, formats.ROSTER, progress, 0.01, extras=(("person_id", "s.email"), ("on_roster", "true")))


def write_evaluations(
    con: duckdb.DuckDBPyConnection, files: Files, layouts: MetricLayouts, progress: Progress, share: float
) -> KindSummary:
    """The run's evaluations, each with its metrics (one list on its row), and the new metric layouts."""
    fmt = formats.EVALUATIONS
    # The source: the report, or the APIs whose records gave the evaluation (kore_api.SOURCE_LABELS),
    # with those that gave the stored one.
    origins = kore_api.api_sources(con)
    report = sql_str(kore_api.REPORT_SOURCE)

    def evaluation_source_sql(stored: str | None) -> str:
        """SQL: a staged row's ``source``, by its file (``s.src``), over the stored one (``stored``)."""
        cases = " ".join(f"WHEN {i} THEN {kore_api.merged_source_sql(api.origin, stored)}"
                         for i, api in origins.items())
        return f"CASE s.src {cases} ELSE {report} END" if cases else report

    if layouts.new:
        con.executemany(
            "INSERT INTO metric_layouts VALUES (?, ?, ?, ?)",
            [(layout, *metric) for layout, shape in layouts.new for metric in shape],
        )
    # An evaluation's metrics are stored with it, replaced whole; the digest, not the list, is compared.
    extras = (("source", evaluation_source_sql(None)), ("metric_layout", "s.metric_layout"),
              ("metrics", "s.metrics"))
    stored_extras = {"source": evaluation_source_sql("t.source")}
    # A Kore API record of one API keeps what the other's gave (kore_api.keeps_stored); one without a
    # Metrics key keeps the stored metrics.
    stays: dict[str, str] = {}
    for column in (c for c in fmt.columns if c.field not in fmt.key):
        kept = kore_api.keeps_stored(column.field, origins, _absent_sql(column, "s"), _absent_sql(column, "t"))
        if kept is not None:
            stays[column.field] = kept
    metrics_kept = kore_api.keeps_stored_metrics(origins)
    if metrics_kept is not None:
        stays |= {name: metrics_kept for name in (*(n for n, _ in STAGE_EXTRAS["evaluations"]), "metric_layout",
                                                  "metrics")}
    # The source is compared too: a record of the other API that gives nothing new still makes it both's.
    summary = upsert(con, fmt, progress, share, extras=extras, stored_extras=stored_extras,
                     stored_stays_when=stays, compared_extras=("source",))
    # A layout no evaluation has any more goes (its evaluations were imported again from another one).
    con.execute(
        "DELETE FROM metric_layouts WHERE layout NOT IN "
        "(SELECT DISTINCT metric_layout FROM evaluations WHERE metric_layout IS NOT NULL)"
    )
    return summary


def _absent_sql(column: formats.Column, row: str) -> str:
    """SQL: ``row``'s value of ``column`` (a staged or stored evaluation, ``s`` or ``t``) is none (null, or
    an empty list). (A record's value before staging: ``kore_api._gives_no_value``.)"""
    value = f"{row}.{column.field}"
    return f"({value} IS NULL OR len({value}) = 0)" if isinstance(column.type, formats.TextList) else f"{value} IS NULL"


#: The kinds written after the evaluations, in this order.
LATER_KINDS = (formats.ASSIGNMENTS, formats.COACHING_INTERACTIONS, formats.BEST_RESPONSES, formats.REVIEW_EVENTS)


def write_later_kinds(con: duckdb.DuckDBPyConnection, progress: Progress) -> dict[str, KindSummary]:
    """Assignments, coaching interactions, best responses and review events, by natural key."""
    return {fmt.kind: upsert(con, fmt, progress, 0.02) for fmt in LATER_KINDS}


def _one_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    if row is None:
        raise LookupError(f"expected one row from: {sql}")
    return row

"""Importing exports into the store: all files of a run land together, or nothing does.

The run reads every file into the next generation of the store (:func:`coaching.store.next_generation`),
checks every value in SQL, checks references and keys across the run and the store, upserts by natural
key, replays the review log through the state machine, and only then swaps the new generation in.
Any problem anywhere throws the new generation away and raises :class:`ImportFailed`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from coaching import people, review_machine, store
from coaching.importer import formats
from coaching.importer.formats import Format
from coaching.importer.problems import ImportFailed, Problem
from coaching.importer.sources import Source, SourceError, expand, open_source
from coaching.settings import ImportSettings
from coaching.sql import sql_str

#: Progress callback: what is happening, and the share of the whole import done (0 to 1).
ProgressCallback = Callable[[str, float], None]

#: Memory the import's DuckDB may use before spilling to disk; keeps the process small.
IMPORT_MEMORY_LIMIT = "1200MB"


@dataclass
class KindSummary:
    """Rows of one kind in a run: how many, and how many were new, changed or already there."""

    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportSummary:
    files: list[str]
    kinds: dict[str, KindSummary]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> str:
        return json.dumps(
            {
                "files": self.files,
                "kinds": {k: asdict(v) for k, v in self.kinds.items()},
                "warnings": self.warnings,
                "seconds": round(self.seconds, 3),
            }
        )


class _Progress:
    """Turns steps and DuckDB's own query progress into one share-of-the-whole figure."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.done = 0.0

    def report(self, label: str, share: float = 0.0) -> None:
        self.done = min(1.0, self.done + share)
        if self.callback is not None:
            self.callback(label, self.done)

    def run(
        self,
        con: duckdb.DuckDBPyConnection,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        label: str,
        share: float,
    ) -> duckdb.DuckDBPyConnection:
        if self.callback is None or share < 0.02:
            result = con.execute(sql, params) if params else con.execute(sql)
            self.report(label, share)
            return result
        finished = threading.Event()
        base = self.done

        def poll() -> None:
            while not finished.wait(0.2):
                try:
                    percent = con.query_progress()
                except duckdb.Error:
                    return
                if percent and percent > 0 and self.callback is not None:
                    self.callback(label, base + share * min(percent, 100.0) / 100.0)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            result = con.execute(sql, params) if params else con.execute(sql)
        finally:
            finished.set()
            watcher.join()
        self.report(label, share)
        return result


# ------------------------------------------------------------------------------------------------
# Reading and checking each file
# ------------------------------------------------------------------------------------------------
METRIC_COLUMNS = (
    "conversation_id, metric, position, result, is_fatal_metric, adherence_weight, violation_weight, is_manual"
)
#: The type of a staged evaluation's metrics: the metrics on its row, by their position in the file
#: (which names them; their names are not repeated on every row, to keep the stage small).
METRICS_LIST = "STRUCT(position INTEGER, result VARCHAR, fatal BOOLEAN, weight DOUBLE, violation DOUBLE)[]"


def _struct(index: int, raw: str, expected: str) -> str:
    return f"{{'c': {index}, 'v': {raw}, 'e': {sql_str(expected)}}}"


REQUIRED = "a value (the column is required)"


def _problem_sql(index: int, column_type: formats.ColumnType, value: str, required: bool) -> tuple[str, str]:
    """SQL for this cell's check: a cheap condition true when the cell has a problem, and the problem.

    ``value`` is the typed value's column. The problem (a struct) is only built on rows where some
    cell's condition holds, so the many good rows pay for the conditions alone.
    """
    raw = f"r{index}"
    bad = _struct(index, raw, column_type.expected())
    when_missing = _struct(index, raw, REQUIRED) if required else "NULL"
    unacceptable = column_type.unacceptable(value)
    when_read = f"CASE WHEN {unacceptable} THEN {bad} END" if unacceptable else "NULL"
    problem = (
        f"CASE WHEN {value} IS NOT NULL THEN {when_read} "
        f"WHEN {formats.is_missing(raw)} THEN {when_missing} ELSE {bad} END"
    )
    # The same cases as ``problem``, as a condition (NULL counts as false, as in CASE WHEN), without
    # a CASE: its fixed cost shows on millions of cells. ``unacceptable`` is NULL when the value is.
    if column_type.null_only_when_missing:
        # The typed value is NULL exactly when the text is missing: only a required column can fail.
        condition = f"{value} IS NULL" if required else "false"
    elif required:
        condition = f"{value} IS NULL" + (f" OR ({unacceptable})" if unacceptable else "")
    else:
        # A value that was read: is it acceptable? (false, or NULL when there is none) Else: is
        # there text that could not be read?
        when_read = f"({unacceptable})" if unacceptable else f"({value} IS NULL AND NULL)"
        condition = f"coalesce({when_read}, NOT {formats.is_missing(raw)})"
    return condition, problem


def _metric_result_sql(raw: str) -> tuple[str, str]:
    """The metric result and its problem check, with Kore's own spellings first (the fast path).

    Unlike other columns, NA here is a value (not applicable), not a missing one: only empty and
    a dash ('-') mean "not evaluated".
    """
    key = f"lower(trim(kore_trim({raw}), ''''))"
    whens = " ".join(
        f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in formats.METRIC_RESULTS.items()
    )
    typed = (
        f"CASE {raw} WHEN '1' THEN 'Adhered' WHEN '0' THEN 'Not Adhered' WHEN 'NA' THEN 'Not Applicable' "
        f"WHEN '''-''' THEN NULL ELSE CASE {key} {whens} END END"
    )
    known = ", ".join(sql_str(k) for k in (*formats.METRIC_RESULTS, "", "-"))
    bad = (
        f"CASE WHEN {raw} IS NULL OR {raw} IN ('1', '0', 'NA', '''-''') THEN false "
        f"ELSE {key} NOT IN ({known}) END"
    )
    return typed, bad


def _stage_sql(source: Source, table: str) -> str:
    """One pass over a file: typed values, plus a list of problems on the rows that have any.

    Three layers: raw text and typed values; the stage's columns and one cheap condition per checked
    cell; the problems (structs naming column, value and what was expected) built and gathered into a
    list only on rows where some condition holds. An evaluation's metrics are staged as one list
    (``metrics``, :data:`METRICS_LIST`) of the metrics on its row, with a digest of them.
    """
    fmt = source.format
    fields = source.match.fields
    values: list[str] = []  # layer 1: raw text and typed values
    outputs: list[str] = []  # layer 2: the stage's columns
    metric_values: list[str] = []  # layer 2: whether each metric is on the row
    checks: list[tuple[str, str]] = []  # layer 2: condition per cell; layer 3: its problem
    for column in fmt.columns:
        index = fields.get(column.field)
        if index is None:
            outputs.append(f"CAST(NULL AS {column.type.sql_type}) AS {column.field}")
            continue
        value = f"v_{column.field}"
        values += [f"c{index} AS r{index}", f"{column.type.typed(f'c{index}')} AS {value}"]
        stored = f"coalesce({value}, [])" if isinstance(column.type, formats.TextList) else value
        outputs.append(f"{stored} AS {column.field}")
        checks.append(_problem_sql(index, column.type, value, column.required))
    for metric in source.match.metrics:
        p = metric.position
        result_raw = f"r{metric.result}"
        result_sql, result_bad = _metric_result_sql(f"c{metric.result}")
        values += [f"c{metric.result} AS {result_raw}", f"{result_sql} AS v_m{p}_result",
                   f"{result_bad} AS bad_m{p}_result"]
        parts = (("fatal", metric.fatal, formats.METRIC_FATAL), ("weight", metric.weight, formats.METRIC_WEIGHT),
                 ("violation", metric.violation, formats.METRIC_WEIGHT))
        for part, index, kind in parts:
            values += [f"c{index} AS r{index}", f"{kind.typed(f'c{index}')} AS v_m{p}_{part}"]
            checks.append(_problem_sql(index, kind, f"v_m{p}_{part}", required=False))
        result_problem = _struct(metric.result, result_raw, formats.METRIC_RESULT_EXPECTED)
        checks.append((f"bad_m{p}_result", f"CASE WHEN bad_m{p}_result THEN {result_problem} END"))
        # A metric that is not on this row's form has all four values empty.
        metric_values.append(
            f"(({result_raw} IS NOT NULL AND {result_raw} <> '') OR v_m{p}_fatal IS NOT NULL "
            f"OR v_m{p}_weight IS NOT NULL OR v_m{p}_violation IS NOT NULL) AS m{p}_present"
        )
    finals = [o.rsplit(" AS ", 1)[1] for o in outputs]
    if fmt is formats.EVALUATIONS:
        metrics = source.match.metrics
        staged = ", ".join(
            f"{{'position': {m.position}, 'result': v_m{m.position}_result, 'fatal': v_m{m.position}_fatal, "
            f"'weight': v_m{m.position}_weight, 'violation': v_m{m.position}_violation}}"
            for m in metrics
        )
        present = ", ".join(f"m{m.position}_present" for m in metrics)
        empty = f"CAST([] AS {METRICS_LIST})"
        finals.append(f"{f'list_where([{staged}], [{present}])' if metrics else empty} AS metrics")
        # One number that changes when any of the row's metrics does, whatever the file's layout: the
        # hash of the present metrics with their names, in name order (DuckDB's order for text: bytes).
        ordered = sorted(metrics, key=lambda m: m.metric.encode())
        named = ", ".join(
            f"{{'metric': {sql_str(m.metric)}, 'result': v_m{m.position}_result, "
            f"'fatal': v_m{m.position}_fatal, 'weight': v_m{m.position}_weight, "
            f"'violation': v_m{m.position}_violation, 'manual': {str(m.is_manual).lower()}}}"
            for m in ordered
        )
        present = ", ".join(f"m{m.position}_present" for m in ordered)
        finals.append(f"hash({f'list_where([{named}], [{present}])' if metrics else '[]'}) AS metrics_digest")
        # The names of the metrics with a result, and of those not adhered to, in name order: what the
        # per-metric trends count, read from the evaluations alone (never from the long metric rows).
        names = ", ".join(sql_str(m.metric) for m in ordered)
        for listed, condition in (("scored_metrics", "v_m{p}_result IS NOT NULL"),
                                  ("not_adhered_metrics", "coalesce(v_m{p}_result = 'Not Adhered', false)")):
            mask = ", ".join(condition.format(p=m.position) for m in ordered)
            finals.append(f"{f'list_where([{names}], [{mask}])' if metrics else 'CAST([] AS VARCHAR[])'} AS {listed}")
    conditions = [f"({condition}) AS b{i}" for i, (condition, _) in enumerate(checks)]
    if checks:
        any_problem = " OR ".join(f"b{i}" for i in range(len(checks)))
        listed = ", ".join(problem for _, problem in checks)
        gathered = f"CASE WHEN {any_problem} THEN list_filter([{listed}], lambda x: x IS NOT NULL) END"
    else:
        gathered = "CAST(NULL AS STRUCT(c INTEGER, v VARCHAR, e VARCHAR)[])"
    return (
        f"CREATE TEMP TABLE {table} AS SELECT {', '.join(finals)}, {gathered} AS problems "
        f"FROM (SELECT *, {', '.join(outputs + metric_values + conditions)} "
        f"FROM (SELECT {', '.join(dict.fromkeys(values)) or '1 AS unused'} FROM {source.relation}))"
    )


@dataclass
class _Run:
    """Everything one import run knows while it works."""

    con: duckdb.DuckDBPyConnection
    settings: ImportSettings
    sources: list[Source] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total_problems: int = 0
    # (source index, ordinal, field, value, expected) found by checks across rows and files
    pending: list[tuple[int, int, str | None, Any, str]] = field(default_factory=list)
    pending_total: int = 0
    broken: set[int] = field(default_factory=set)  # sources the reader could not read at all
    unreadable: bool = False  # some file could not be read: its rows are unknown
    _lines: dict[tuple[int, int], int | None] = field(default_factory=dict)

    def cache_lines(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Look up the lines of many rows at once: at most one pass over each file."""
        wanted: dict[int, set[int]] = defaultdict(set)
        for src, ordinal in pairs:
            if (src, ordinal) not in self._lines:
                wanted[src].add(ordinal)
        for src, ordinals in wanted.items():
            found = self.sources[src].lines(sorted(ordinals))
            for ordinal in ordinals:
                self._lines[(src, ordinal)] = found.get(ordinal)

    def line_of(self, src: int, ordinal: int) -> int | None:
        self.cache_lines([(src, ordinal)])
        return self._lines[(src, ordinal)]

    def add(self, problem: Problem) -> None:
        self.total_problems += 1
        if len(self.problems) < self.settings.max_problems:
            self.problems.append(problem)

    def add_row_problem(self, src: int, ordinal: int, column: str | None, value: Any, expected: str) -> None:
        self.pending_total += 1
        if len(self.pending) < self.settings.max_problems:
            self.pending.append((src, ordinal, column, value, expected))

    def by_kind(self, kind: str) -> list[Source]:
        return [s for s in self.sources if s.format.kind == kind]

    def resolve_pending(self) -> None:
        """Turn row ordinals into line numbers, reading each file once, and add the problems."""
        self.cache_lines([(src, ordinal) for src, ordinal, *_ in self.pending])
        for src, ordinal, column, value, expected in sorted(
            self.pending, key=lambda p: (p[0], p[1])
        ):
            source = self.sources[src]
            self.add(
                Problem(
                    source.name,
                    self.line_of(src, ordinal),
                    column,
                    None if value is None else str(value),
                    expected,
                    source.line_unit,
                )
            )
        self.total_problems += self.pending_total - len(self.pending)
        self.pending, self.pending_total = [], 0

    def fail_if_problems(self) -> None:
        self.resolve_pending()
        if self.total_problems:
            raise ImportFailed(self.problems, self.total_problems)


#: A file with more columns is staged without DuckDB's common-subexpression optimizer, whose planning
#: time grows with the square of the staging query's conditions (with it, one row of 500 metrics took
#: 55 s to import and one of 2,000 eleven minutes; without, 12 s and 52 s); on narrower files it pays
#: for itself (about a tenth of staging a demo report).
WIDE_FILE_COLUMNS = 256


def _stage_source(run: _Run, source: Source, progress: _Progress, share: float) -> None:
    table = f"stage_{source.index}"
    wide = len(source.header) > WIDE_FILE_COLUMNS
    if wide:
        run.con.execute("SET disabled_optimizers = 'common_subexpressions'")
    try:
        progress.run(run.con, _stage_sql(source, table), label=f"Reading {source.path.name}", share=share)
    except duckdb.Error as error:
        message = str(error).strip().splitlines()
        line = None
        for text in message:
            if "Line:" in text:
                digits = "".join(ch for ch in text.split("Line:")[1] if ch.isdigit())
                line = int(digits) if digits else None
                break
        detail = message[1].strip() if len(message) > 1 else (message[0] if message else "")
        run.add(Problem(source.name, line, None, None, f"a well-formed file ({detail})"))
        run.broken.add(source.index)
        return
    finally:
        if wide:
            run.con.execute("RESET disabled_optimizers")
    source.collect_rejects(run.con)
    for problem in source.problems:
        run.add(problem)
    count = run.con.execute(
        f"SELECT coalesce(sum(len(problems)), 0) FROM {table} WHERE problems IS NOT NULL"  # noqa: S608
    ).fetchone()[0]
    if count:
        rows = run.con.execute(
            f"SELECT rowid, unnest(problems) FROM {table} WHERE problems IS NOT NULL "  # noqa: S608
            f"ORDER BY rowid LIMIT {run.settings.max_problems}"
        ).fetchall()
        for ordinal, item in rows:
            run.add_row_problem(source.index, ordinal, source.label(item["c"]), item["v"], item["e"])
        run.pending_total += count - len(rows)


# ------------------------------------------------------------------------------------------------
# Checks across rows, files and the store
# ------------------------------------------------------------------------------------------------
#: Staged columns beyond a format's own: (name, SQL type).
_STAGE_EXTRAS = {"evaluations": (("metrics_digest", "UBIGINT"), ("scored_metrics", "VARCHAR[]"),
                                  ("not_adhered_metrics", "VARCHAR[]"))}


def _stage_views(run: _Run) -> None:
    """``all_<kind>``: every staged row of a kind; ``stage_<kind>``: the rows without problems."""
    for fmt in formats.ALL_FORMATS:
        fields = ", ".join(c.field for c in fmt.columns)
        extras = "".join(f", {n}" for n, _ in _STAGE_EXTRAS.get(fmt.kind, ()))
        parts = []
        for source in run.by_kind(fmt.kind):
            if source.index in run.broken:
                continue
            # has_<field>: the file has the column, so its value (even empty) replaces the stored one.
            present = ", ".join(
                f"{str(c.field in source.match.fields).lower()} AS has_{c.field}" for c in fmt.columns
            )
            parts.append(
                f"SELECT {source.index} AS src, rowid AS ordinal, {fields}, {present}{extras}, "
                f"problems IS NULL AS ok FROM stage_{source.index}"
            )
        if not parts:
            casts = ", ".join(f"CAST(NULL AS {c.type.sql_type}) AS {c.field}" for c in fmt.columns)
            present = ", ".join(f"true AS has_{c.field}" for c in fmt.columns)
            empty_extras = "".join(f", CAST(NULL AS {t}) AS {n}" for n, t in _STAGE_EXTRAS.get(fmt.kind, ()))
            parts = [
                f"SELECT 0 AS src, 0::BIGINT AS ordinal, {casts}, {present}{empty_extras}, true AS ok WHERE false"
            ]
        run.con.execute(f"CREATE OR REPLACE TEMP VIEW all_{fmt.kind} AS {' UNION ALL '.join(parts)}")
        run.con.execute(
            f"CREATE OR REPLACE TEMP VIEW stage_{fmt.kind} AS SELECT * FROM all_{fmt.kind} WHERE ok"
        )


def _field(fmt: Format, field_name: str) -> str:
    """The format's column that a field is read from: a key's ``person_id`` is the row's agent."""
    return _AGENT_COLUMNS[fmt.kind] if field_name == "person_id" else field_name


def _label(run: _Run, src: int, field_name: str) -> str:
    source = run.sources[src]
    index = source.match.fields.get(_field(source.format, field_name))
    return source.label(index) if index is not None else _label_any(source.format, field_name)


def _where(run: _Run, src: int, ordinal: int) -> str:
    source = run.sources[src]
    line = run.line_of(src, ordinal)
    return f"{source.line_unit} {line} of {source.name}" if line else source.name


def _check(
    run: _Run,
    sql: str,
    field_name: str,
    expected: Callable[[tuple[Any, ...]], str],
    other_rows: Callable[[tuple[Any, ...]], tuple[int, int]] | None = None,
) -> None:
    """Run a check query returning (src, ordinal, value, ...) rows and record each as a problem.

    ``other_rows`` names another row a problem's message points at, so its line is looked up
    together with the others.
    """
    count = run.con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]  # noqa: S608
    if not count:
        return
    rows = run.con.execute(f"{sql} ORDER BY 1, 2 LIMIT {run.settings.max_problems}").fetchall()
    if other_rows is not None:
        run.cache_lines([other_rows(row) for row in rows])
    for row in rows:
        src, ordinal, value = row[0], row[1], row[2]
        run.add_row_problem(src, ordinal, _label(run, src, field_name), value, expected(row))
    run.pending_total += count - len(rows)


def _key_sql(fmt: Format, alias: str) -> str:
    return ", ".join(f"{alias}.{k}" for k in fmt.key)


def _check_keys(run: _Run, kinds: Sequence[Format]) -> None:
    for fmt in kinds:
        for key in (fmt.key, *fmt.unique):
            columns = ", ".join(key)
            sql = (
                f"SELECT src, ordinal, {key[-1]}, first_src, first_ordinal FROM ("
                f"SELECT src, ordinal, {columns}, "
                f"first_value(src) OVER w AS first_src, first_value(ordinal) OVER w AS first_ordinal, "
                f"row_number() OVER w AS nth FROM stage_{fmt.kind} "
                f"WHERE {' AND '.join(f'{k} IS NOT NULL' for k in key if k != 'metric')} "
                f"WINDOW w AS (PARTITION BY {columns} ORDER BY src, ordinal)) WHERE nth > 1"
            )
            names = " and ".join(_label_any(fmt, k) for k in key)
            _check(
                run,
                sql,
                key[-1],
                lambda row, names=names: f"{names} not already on {_where(run, row[3], row[4])}",
                other_rows=lambda row: (row[3], row[4]),
            )


def _label_any(fmt: Format, field_name: str) -> str:
    return fmt.column(_field(fmt, field_name)).header


def _check_references(run: _Run) -> None:
    # Known values come from the store and from every staged row, bad ones included (so a bad row
    # does not make the rows that point at it look wrong), never NULL (NOT IN would match nothing).
    known_emails = (
        "SELECT email FROM people WHERE on_roster "
        "UNION SELECT email FROM all_roster WHERE email IS NOT NULL"
    )
    known_assignments = (
        "SELECT assignment_id FROM assignments "
        "UNION SELECT assignment_id FROM all_assignments WHERE assignment_id IS NOT NULL"
    )
    known_conversations = (
        "SELECT conversation_id FROM evaluations "
        "UNION SELECT conversation_id FROM all_evaluations WHERE conversation_id IS NOT NULL"
    )

    # Roster: a lead is someone on the roster; an email belongs to one person.
    _check(
        run,
        f"SELECT src, ordinal, team_lead_email FROM stage_roster "
        f"WHERE team_lead_email IS NOT NULL AND team_lead_email NOT IN ({known_emails})",
        "team_lead_email",
        lambda row: "the email of someone on the roster (the team's lead)",
    )
    _check(
        run,
        "SELECT s.src, s.ordinal, s.agent_id, p.name, p.email FROM stage_roster s JOIN people p "
        "ON p.email IS NOT NULL AND p.agent_id = s.agent_id AND p.email <> s.email "
        "WHERE p.email NOT IN (SELECT email FROM all_roster WHERE email IS NOT NULL)",
        "agent_id",
        lambda row: f"an Agent ID no one else has ({row[3]}, {row[4]}, has it in the store)",
    )

    # Assignments: dates and groups (their agents are checked once found, _check_assignments).
    _check(
        run,
        "SELECT src, ordinal, follow_up_date FROM stage_assignments "
        "WHERE follow_up_date < assigned_date",
        "follow_up_date",
        lambda row: "a date on or after the Assigned Date",
    )
    _check(
        run,
        "SELECT src, ordinal, group_name FROM stage_assignments "
        "WHERE coaching_type = 'Group Agents' AND group_name IS NULL",
        "group_name",
        lambda row: "the group's name for a Group Agents assignment",
    )
    # Coaching interactions and best responses point at known assignments and conversations.
    for kind in ("coaching_interactions", "best_responses"):
        _check(
            run,
            f"SELECT src, ordinal, assignment_id FROM stage_{kind} "
            f"WHERE assignment_id NOT IN ({known_assignments})",
            "assignment_id",
            lambda row: "the Assignment ID of a coaching assignment in this import or the store",
        )
        _check(
            run,
            f"SELECT src, ordinal, conversation_id FROM stage_{kind} "
            f"WHERE conversation_id NOT IN ({known_conversations})",
            "conversation_id",
            lambda row: "the ConversationID of an evaluated interaction in this import or the store",
        )
    every_area = (
        "SELECT assignment_id, unnest(coaching_areas) AS area FROM assignments "
        "WHERE assignment_id NOT IN (SELECT assignment_id FROM all_assignments WHERE assignment_id IS NOT NULL) "
        "UNION SELECT assignment_id, unnest(coaching_areas) FROM all_assignments"
    )
    _check(
        run,
        f"SELECT s.src, s.ordinal, s.coaching_area, (SELECT string_agg(DISTINCT a.area, ', ' ORDER BY a.area) "
        f"FROM ({every_area}) a WHERE a.assignment_id = s.assignment_id) AS areas "
        f"FROM stage_coaching_interactions s "
        f"WHERE s.assignment_id IN ({known_assignments}) AND lower(s.coaching_area) NOT IN "
        f"(SELECT lower(a.area) FROM ({every_area}) a WHERE a.assignment_id = s.assignment_id)",
        "coaching_area",
        lambda row: f"one of the assignment's coaching areas ({row[3]})",
    )

    # Review events point at a known evaluation and one of its metrics.
    _check(
        run,
        f"SELECT src, ordinal, conversation_id FROM stage_review_events "
        f"WHERE conversation_id NOT IN ({known_conversations})",
        "conversation_id",
        lambda row: "the ConversationID of an evaluated interaction in this import or the store",
    )
    # The metrics the events name, looked up in the (large) metric rows by a semi join that hashes
    # only the events' side; only the evaluations the events name have their metric lists unnested.
    run.con.execute(
        "CREATE OR REPLACE TEMP TABLE event_metrics_found AS SELECT DISTINCT conversation_id, metric "
        "FROM run_metrics SEMI JOIN (SELECT DISTINCT conversation_id, metric FROM stage_review_events "
        "WHERE metric IS NOT NULL) USING (conversation_id, metric)"
    )
    _check(
        run,
        "SELECT s.src, s.ordinal, s.metric FROM stage_review_events s "
        "ANTI JOIN event_metrics_found f USING (conversation_id, metric) "
        "WHERE s.metric IS NOT NULL AND s.conversation_id IN "
        f"({known_conversations})",
        "metric",
        lambda row: "the name of one of this evaluation's metrics",
    )


# ------------------------------------------------------------------------------------------------
# People: who each row's agent is (coaching/people.py states the rule)
# ------------------------------------------------------------------------------------------------
#: Kinds whose rows name an agent: the columns that say who (a display name, and optionally the
#: person's email or Kore's Agent ID, which decide it).
_AGENT_COLUMNS = {"evaluations": "scored_agent", "assignments": "agent"}


def _adopt_placeholders(run: _Run) -> list[str]:
    """Agents known only from exports join the person who now has their Agent ID, or the roster entry
    that is the only one with their name; their evaluations and assignments follow them. Returns
    warnings naming the matches made by name (a guess the roster's names make, never silent)."""
    con = run.con
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE adopted AS
            SELECT p.person_id AS placeholder, p.name, coalesce(by_id.person_id, by_name.person_id) AS person_id,
                   by_id.person_id IS NULL AS by_name
            FROM people p
            LEFT JOIN people by_id ON p.agent_id IS NOT NULL AND by_id.email IS NOT NULL
                                  AND by_id.agent_id = p.agent_id
            LEFT JOIN (SELECT name, any_value(person_id) AS person_id FROM people WHERE on_roster
                       GROUP BY name HAVING count(*) = 1) by_name
                   ON p.agent_id IS NULL AND by_name.name = p.name
            WHERE NOT p.on_roster AND p.email IS NULL
              AND (p.agent_id IS NOT NULL OR p.person_id LIKE {sql_str(people.BY_NAME + "%")})"""
    )
    con.execute("DELETE FROM adopted WHERE person_id IS NULL")
    matched = con.execute(
        "SELECT a.name, a.person_id, (SELECT count(*) FROM evaluations e WHERE e.person_id = a.placeholder) "
        "FROM adopted a WHERE a.by_name ORDER BY a.name, a.person_id"
    ).fetchall()
    # A member already in a group under the person's email keeps that row, not the placeholder's.
    con.execute(
        "DELETE FROM assignments USING adopted a WHERE assignments.person_id = a.placeholder AND EXISTS "
        "(SELECT 1 FROM assignments b WHERE b.assignment_id = assignments.assignment_id AND b.person_id = a.person_id)"
    )
    for table in ("evaluations", "assignments"):
        con.execute(
            f"UPDATE {table} SET person_id = a.person_id FROM adopted a WHERE {table}.person_id = a.placeholder"
        )
    con.execute("DELETE FROM people WHERE person_id IN (SELECT placeholder FROM adopted)")
    if not matched:
        return []
    shown = ", ".join(f"{name} → {person} ({count:,} evaluation(s))" for name, person, count in matched[:10])
    more = f" and {len(matched) - 10} more" if len(matched) > 10 else ""
    return [f"{len(matched)} agent(s) known only by name were matched by name to the one roster entry that has "
            f"it: {shown}{more}. If that is someone else, re-import their rows with an Agent Email column."]


def _namesake_warnings(run: _Run) -> list[str]:
    """A person new to the roster who has the name of someone whose rows were matched by name alone:
    those rows stay where they are, but some may be the new person's."""
    found = run.con.execute(
        """SELECT n.name, n.person_id, o.person_id,
                  (SELECT count(*) FROM evaluations e WHERE e.person_id = o.person_id
                     AND e.agent_email IS NULL AND e.agent_id IS NULL),
                  (SELECT count(*) FROM assignments a WHERE a.person_id = o.person_id
                     AND a.agent_email IS NULL AND a.agent_id IS NULL)
           FROM people n JOIN people o ON o.name = n.name AND o.person_id <> n.person_id
           WHERE n.on_roster AND n.person_id NOT IN (SELECT person_id FROM people_before)
           ORDER BY 1, 2, 3"""
    ).fetchall()
    return [
        f"{name} ({new}) is new and has the name of {old}, whose {evaluations:,} evaluation(s) and "
        f"{assignments:,} assignment(s) were matched by name alone: they stay {old}'s; re-import any that are "
        f"{new}'s with an Agent Email column"
        for name, new, old, evaluations, assignments in found if evaluations or assignments
    ]


def _resolve_agents(run: _Run, kind: str) -> None:
    """``resolved_<kind>`` (src, ordinal, person_id) for the run's good rows of ``kind``, and
    ``stage_<kind>`` with their ``person_id``; a name that could be several people, or an Agent ID
    given to several, is a problem.

    A row's agent is, in this order: the person with its Agent Email; the person with its Agent ID
    (known from the store or from another row of the run that gives both, or a new one known by it);
    the person a stored row of the same evaluation or assignment with the same name already names;
    the one person (on the roster or known by email or Agent ID) with that name; else someone known
    only by that name. Two or more people with the name, and nothing to decide between them, is
    reported with the line.
    """
    name = _AGENT_COLUMNS[kind]
    if kind == "evaluations":
        kept = (
            "LEFT JOIN evaluations k ON k.conversation_id = s.conversation_id AND k.scored_agent = s.scored_agent"
        )
    else:
        kept = (
            "LEFT JOIN (SELECT assignment_id, agent, any_value(person_id) AS person_id FROM assignments "
            "GROUP BY ALL HAVING count(*) = 1) k ON k.assignment_id = s.assignment_id AND k.agent = s.agent"
        )
    # Who has each Agent ID: people known by email, and every row of the run that gives both.
    holders = " UNION ".join(
        ["SELECT agent_id, person_id FROM people WHERE agent_id IS NOT NULL AND email IS NOT NULL"]
        + [f"SELECT agent_id, agent_email FROM all_{k} WHERE ok AND agent_id IS NOT NULL AND agent_email IS NOT NULL"
           for k in _AGENT_COLUMNS]
    )
    run.con.execute(
        f"""CREATE OR REPLACE TEMP TABLE resolved_{kind} AS
            SELECT s.src, s.ordinal, s.{name} AS name, s.agent_email, s.agent_id,
                   CASE WHEN by_id.n > 1 THEN NULL
                        WHEN s.agent_email IS NOT NULL THEN s.agent_email
                        WHEN s.agent_id IS NOT NULL
                            THEN coalesce(by_id.person_id, {sql_str(people.BY_AGENT_ID)} || s.agent_id)
                        WHEN k.person_id IS NOT NULL THEN k.person_id
                        WHEN namesakes.n = 1 THEN namesakes.person_id
                        WHEN namesakes.n IS NULL THEN {sql_str(people.BY_NAME)} || s.{name}
                   END AS person_id,
                   namesakes.n AS namesakes, namesakes.emails, by_id.n AS holders, by_id.emails AS holder_emails
            FROM (SELECT * FROM all_{kind} WHERE ok) s
            LEFT JOIN (SELECT agent_id, count(*) AS n, any_value(person_id) AS person_id,
                              string_agg(person_id, ', ' ORDER BY person_id) AS emails
                       FROM ({holders}) GROUP BY agent_id) by_id ON by_id.agent_id = s.agent_id
            {kept}
            LEFT JOIN (SELECT name, count(*) AS n, any_value(person_id) AS person_id,
                              string_agg(coalesce(email, agent_id), ', ' ORDER BY coalesce(email, agent_id)) AS emails
                       FROM people WHERE {people.KNOWN_PERSON} GROUP BY name) namesakes
                   ON namesakes.name = s.{name}"""
    )
    run.con.execute(
        f"CREATE OR REPLACE TEMP VIEW stage_{kind} AS SELECT s.*, r.person_id FROM all_{kind} s "
        f"JOIN resolved_{kind} r USING (src, ordinal) WHERE s.ok"
    )
    _check(
        run,
        f"SELECT src, ordinal, agent_id, holder_emails FROM resolved_{kind} WHERE holders > 1",
        "agent_id",
        lambda row: f"an Agent ID of one person, but it is given to {row[3]}",
    )
    _check(
        run,
        f"SELECT src, ordinal, name, namesakes, emails FROM resolved_{kind} "
        f"WHERE person_id IS NULL AND coalesce(holders, 0) <= 1",
        name,
        lambda row: (
            f"one person, but {row[3]} people are named {row[2]} ({row[4]}): add an Agent Email (or Agent ID) "
            "column that says which"
        ),
    )


def _add_unrostered_agents(run: _Run) -> list[str]:
    """Evaluated agents who are no one yet join the people, not on the roster and unable to sign in:
    known by their email or Agent ID when the export gave one, else by their name."""
    added = run.con.execute(
        "INSERT INTO people (person_id, name, email, agent_id, team, team_lead_email, role, permissions, on_roster) "
        "SELECT person_id, min(name), min(agent_email), min(agent_id), NULL, NULL, 'Agent', CAST([] AS VARCHAR[]), "
        "false FROM resolved_evaluations "
        "WHERE person_id IS NOT NULL AND person_id NOT IN (SELECT person_id FROM people) "
        "GROUP BY person_id ORDER BY 2 RETURNING name"
    ).fetchall()
    return sorted(r[0] for r in added)


#: An individual assignment in the run replaces the stored rows of its Assignment ID (its agent may
#: have been corrected, e.g. by an Agent Email); a group's rows are its members.
_REPLACED_INDIVIDUALS = (
    "SELECT assignment_id FROM stage_assignments WHERE coaching_type = 'Individual Agent'"
)


def _check_assignments(run: _Run) -> None:
    """Once the run's assignments know their agents: each is someone known, once per assignment; an
    individual assignment has one agent; every row of an assignment has its name and type."""
    known = "SELECT person_id FROM people UNION SELECT person_id FROM resolved_evaluations"
    unknown = f"FROM resolved_assignments WHERE person_id IS NOT NULL AND person_id NOT IN ({known})"
    _check(run, f"SELECT src, ordinal, agent_email {unknown} AND agent_email IS NOT NULL", "agent_email",
           lambda row: "the email of someone on the roster or in the evaluations")
    _check(run, f"SELECT src, ordinal, agent_id {unknown} AND agent_email IS NULL AND agent_id IS NOT NULL",
           "agent_id", lambda row: "the Agent ID of someone on the roster or in the evaluations")
    _check(run, f"SELECT src, ordinal, name {unknown} AND agent_email IS NULL AND agent_id IS NULL", "agent",
           lambda row: "an agent on the roster or in the evaluations")
    _check_keys(run, [formats.ASSIGNMENTS])
    every_assignment = (
        "SELECT assignment_id, person_id, agent, name, coaching_type, NULL AS src, NULL AS ordinal FROM assignments "
        "WHERE (assignment_id, person_id) NOT IN (SELECT (assignment_id, person_id) FROM stage_assignments) "
        f"AND assignment_id NOT IN ({_REPLACED_INDIVIDUALS}) "
        "UNION ALL SELECT assignment_id, person_id, agent, name, coaching_type, src, ordinal FROM stage_assignments"
    )
    _check(
        run,
        f"SELECT src, ordinal, coaching_type, others FROM (SELECT src, ordinal, coaching_type, "
        f"count(*) OVER (PARTITION BY assignment_id) AS members, "
        f"string_agg(agent, ', ') OVER (PARTITION BY assignment_id) AS others "
        f"FROM ({every_assignment})) WHERE src IS NOT NULL AND coaching_type = 'Individual Agent' "
        f"AND members > 1",
        "coaching_type",
        lambda row: f"Group Agents: this Assignment ID is given to several agents ({row[3]})",
    )
    _check(
        run,
        f"SELECT src, ordinal, name, first_name FROM (SELECT src, ordinal, name, "
        f"first_value(name) OVER (PARTITION BY assignment_id ORDER BY src NULLS FIRST, ordinal) "
        f"AS first_name FROM ({every_assignment})) WHERE src IS NOT NULL AND name <> first_name",
        "name",
        lambda row: f"the same Name on every row of the assignment ({row[3]!r})",
    )
    _check(
        run,
        f"SELECT src, ordinal, coaching_type, first_type FROM (SELECT src, ordinal, coaching_type, "
        f"first_value(coaching_type) OVER (PARTITION BY assignment_id ORDER BY src NULLS FIRST, ordinal) "
        f"AS first_type FROM ({every_assignment})) WHERE src IS NOT NULL AND coaching_type <> first_type",
        "coaching_type",
        lambda row: f"the same Coaching Type on every row of the assignment ({row[3]!r})",
    )


def _replace_individual_assignments(run: _Run) -> None:
    """The stored rows of each individual assignment in the run that name another person go: the run
    says who the one agent is."""
    run.con.execute(
        f"DELETE FROM assignments WHERE assignment_id IN ({_REPLACED_INDIVIDUALS}) "
        "AND (assignment_id, person_id) NOT IN (SELECT (assignment_id, person_id) FROM stage_assignments)"
    )


def _staged_metric_rows(run: _Run, good_rows_only: bool, conversations: str | None = None) -> str:
    """SQL for the run's metric rows in the store's columns: each staged row's metrics list, unnested.

    ``conversations``: a table of conversation_id; only those evaluations' lists are unnested.
    """
    filters = (["problems IS NULL"] if good_rows_only else []) + (
        [f"conversation_id IN (SELECT conversation_id FROM {conversations})"] if conversations else []
    )
    where = f" WHERE {' AND '.join(filters)}" if filters else ""
    parts = []
    for source in run.by_kind("evaluations"):
        if source.index in run.broken:
            continue
        metrics = source.match.metrics
        names = " ".join(f"WHEN {m.position} THEN {sql_str(m.metric)}" for m in metrics)
        name = f"CASE m.position {names} END" if metrics else "CAST(NULL AS VARCHAR)"
        manual = ", ".join(str(m.position) for m in metrics if m.is_manual)
        is_manual = f"m.position IN ({manual})" if manual else "false"
        parts.append(
            f"SELECT conversation_id, {name} AS metric, m.position AS position, m.result AS result, "
            f"m.fatal AS is_fatal_metric, m.weight AS adherence_weight, m.violation AS violation_weight, "
            f"{is_manual} AS is_manual "
            f"FROM (SELECT conversation_id, unnest(metrics) AS m FROM stage_{source.index}{where})"
        )
    return " UNION ALL ".join(parts) or f"SELECT {METRIC_COLUMNS} FROM evaluation_metrics WHERE false"


def _run_metrics_view(run: _Run) -> None:
    """``run_metrics``: the metric names each evaluation named by a review event of the run will have
    after the run (the run's replace the store's); only those evaluations' metrics are read.

    Bad rows count too, like every reference check's known values.
    """
    run.con.execute(
        "CREATE OR REPLACE TEMP TABLE event_conversations AS SELECT DISTINCT conversation_id "
        "FROM stage_review_events WHERE metric IS NOT NULL"
    )
    run.con.execute(
        "CREATE OR REPLACE TEMP VIEW run_metrics AS "
        "SELECT conversation_id, metric FROM evaluation_metrics "
        "WHERE conversation_id IN (SELECT conversation_id FROM event_conversations) AND conversation_id NOT IN "
        "(SELECT conversation_id FROM all_evaluations WHERE conversation_id IS NOT NULL) "
        "UNION ALL SELECT conversation_id, metric FROM "
        f"({_staged_metric_rows(run, good_rows_only=False, conversations='event_conversations')})"
    )


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------
def _insert(run: _Run, progress: _Progress, sql: str, label: str, share: float) -> None:
    """Run an INSERT into a store table with its rows in any order, so DuckDB writes in parallel.

    Staging keeps the files' order (a staged row's rowid is its ordinal, which finds its line); nothing
    that reads the store's tables depends on their rows' physical order (lists end their ORDER BY on a
    unique column; look-ups are by key). Keeping it would cost a sort of the whole run, and a single
    writer: about 7 of 12 seconds for 2 million evaluations. The setting is the database's, not the
    connection's; an import is the only user of its next generation.
    """
    run.con.execute("SET preserve_insertion_order = false")
    try:
        progress.run(run.con, sql, label=label, share=share)
    finally:
        run.con.execute("SET preserve_insertion_order = true")


def _upsert(
    run: _Run,
    fmt: Format,
    progress: _Progress,
    share: float,
    extras: Sequence[tuple[str, str]] = (),
) -> KindSummary:
    """Replace rows with the same natural key, insert the rest; count new, updated, unchanged.

    A column the file does not have keeps the stored value of a row it updates (a roster without
    Team does not clear everyone's team); a new row gets nothing there (an empty list for lists).
    ``extras`` are more store columns and the SQL that fills each (not part of the comparison); the
    kind's staged extras (the evaluations' metrics digest) and its agents' person (``person_id``,
    :func:`_resolve_agents`) are stored and compared like its columns.
    """
    table = fmt.table
    staged_extras = [name for name, _ in _STAGE_EXTRAS.get(fmt.kind, ())]
    staged_extras += ["person_id"] if fmt.kind in _AGENT_COLUMNS else []
    fields = [c.field for c in fmt.columns] + staged_extras
    join = " AND ".join(f"t.{k} IS NOT DISTINCT FROM s.{k}" for k in fmt.key)
    first_key = fmt.key[0]

    def fresh(column: formats.Column) -> str:
        if isinstance(column.type, formats.TextList):
            return f"CASE WHEN s.has_{column.field} THEN s.{column.field} ELSE CAST([] AS VARCHAR[]) END"
        return f"s.{column.field}"

    overlap = run.con.execute(
        f"SELECT count(*) FROM stage_{fmt.kind} s JOIN {table} t ON {join}"  # noqa: S608
    ).fetchone()[0]
    rows = run.con.execute(f"SELECT count(*) FROM stage_{fmt.kind}").fetchone()[0]  # noqa: S608
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
        _insert(run, progress, f"INSERT INTO {table} ({columns}) SELECT {selects} FROM stage_{fmt.kind} s",
                label, share)
        return KindSummary(rows=rows, new=rows)
    merged = ", ".join(
        f"CASE WHEN t.{first_key} IS NULL THEN {fresh(c)} WHEN s.has_{c.field} THEN s.{c.field} "
        f"ELSE t.{c.field} END AS {c.field}"
        for c in fmt.columns
    )
    differs = (
        f"({', '.join(f'm.{f}' for f in fields)}) IS DISTINCT FROM ({', '.join(f't.{f}' for f in fields)})"
    )
    run.con.execute(
        f"CREATE OR REPLACE TEMP TABLE merged AS SELECT s.src, s.ordinal, {merged}{extras_sql}"
        + "".join(f", {sql} AS {name}" for name, sql in extras)
        + f", t.{first_key} IS NULL AS is_new "
        f"FROM stage_{fmt.kind} s LEFT JOIN {table} t ON {join}"
    )
    # Compare what will be stored with what is stored.
    new, updated = run.con.execute(
        "SELECT count(*) FILTER (WHERE m.is_new), count(*) FILTER (WHERE NOT m.is_new AND ("
        + differs
        + f")) FROM merged m LEFT JOIN {table} t ON "
        + " AND ".join(f"t.{k} IS NOT DISTINCT FROM m.{k}" for k in fmt.key)
    ).fetchone()
    key_match = " AND ".join(f"{table}.{k} IS NOT DISTINCT FROM s.{k}" for k in fmt.key)
    run.con.execute(f"DELETE FROM {table} USING stage_{fmt.kind} s WHERE {key_match}")
    _insert(run, progress, f"INSERT INTO {table} ({columns}) SELECT {columns} FROM merged", label, share)
    return KindSummary(rows=rows, new=new, updated=updated, unchanged=rows - new - updated)


def _write_roster(run: _Run, progress: _Progress) -> KindSummary:
    return _upsert(run, formats.ROSTER, progress, 0.01, extras=(("person_id", "s.email"), ("on_roster", "true")))


def _write_evaluations(run: _Run, progress: _Progress, share: float) -> KindSummary:
    fmt = formats.EVALUATIONS
    source_names = {
        s.index: ("Auto QA API" if s.header and s.header[0] == "conversationId" else "Interaction Evaluation report")
        for s in run.by_kind("evaluations")
    }
    cases = " ".join(f"WHEN {i} THEN {sql_str(n)}" for i, n in source_names.items())
    source_sql = f"CASE src {cases} END" if cases else "'Interaction Evaluation report'"
    run_metrics = _staged_metric_rows(run, good_rows_only=True)
    # Metric rows are rewritten only for evaluations that are new or whose metrics digest changed.
    run.con.execute(
        "CREATE OR REPLACE TEMP TABLE metrics_to_write AS SELECT s.conversation_id, t.conversation_id IS NULL "
        "AS is_new FROM stage_evaluations s LEFT JOIN evaluations t USING (conversation_id) "
        "WHERE t.conversation_id IS NULL OR t.metrics_digest IS DISTINCT FROM s.metrics_digest"
    )
    rewritten, all_new = run.con.execute(
        "SELECT count(*), count(*) = (SELECT count(*) FROM stage_evaluations) AND bool_and(is_new) "
        "FROM metrics_to_write"
    ).fetchone()
    run.con.execute(
        "DELETE FROM evaluation_metrics USING metrics_to_write w "
        "WHERE evaluation_metrics.conversation_id = w.conversation_id AND NOT w.is_new"
    )
    summary = _upsert(run, fmt, progress, share * 0.4, extras=(("source", source_sql),))
    if rewritten:
        wanted = "" if all_new else " SEMI JOIN metrics_to_write USING (conversation_id)"
        _insert(
            run,
            progress,
            f"INSERT INTO evaluation_metrics ({METRIC_COLUMNS}) SELECT {METRIC_COLUMNS} FROM ({run_metrics}){wanted}",
            "Writing metrics",
            share * 0.6,
        )
    else:
        progress.report("Writing metrics", share * 0.6)
    return summary


def _replay_reviews(run: _Run, everything: bool, progress: _Progress, previous_rounds: str | None) -> None:
    """Run the review log of every affected evaluation through the state machine; store the result."""
    con = run.con
    if everything:
        affected = "SELECT DISTINCT conversation_id FROM review_events"
    else:
        affected = (
            "SELECT conversation_id FROM stage_review_events UNION "
            "SELECT conversation_id FROM stage_evaluations WHERE conversation_id IN "
            "(SELECT conversation_id FROM review_events)"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE affected AS {affected}")
    rows = con.execute(
        "SELECT e.conversation_id, e.metric, e.round, e.actor, e.action, e.comment, e.timestamp, "
        "e.audit_score, v.audit_score, s.src, s.ordinal FROM review_events e "
        "JOIN affected USING (conversation_id) "
        "LEFT JOIN evaluations v USING (conversation_id) "
        "LEFT JOIN stage_review_events s ON s.conversation_id = e.conversation_id "
        "AND s.metric IS NOT DISTINCT FROM e.metric AND s.round = e.round AND s.action = e.action "
        "ORDER BY e.conversation_id"
    ).fetchall()
    logs: dict[str, list[review_machine.ReviewEvent]] = defaultdict(list)
    initial: dict[str, float | None] = {}
    for cid, metric, rnd, actor, action, comment, ts, score, exported, src, ordinal in rows:
        logs[cid].append(
            review_machine.ReviewEvent(cid, metric, rnd, actor, action, comment, ts, score, (src, ordinal))
        )
        initial[cid] = exported
    states: list[tuple[str, review_machine.ReviewState]] = []
    for cid, events in logs.items():
        state, rejection = review_machine.derive_review(events, run.settings.max_dispute_rounds, initial[cid])
        if rejection is not None:
            src, ordinal = rejection.event.source
            value = rejection.value
            if isinstance(value, datetime):
                value = value.isoformat(sep=" ")
            if src is None:
                if everything and previous_rounds is not None:
                    cause = (
                        f"the maximum of dispute rounds is now {run.settings.max_dispute_rounds} "
                        f"(it was {previous_rounds}), and this event of {cid} in the store does not fit it"
                    )
                else:
                    cause = f"an event of {cid} already in the store conflicts with this import's events for it"
                run.add(
                    Problem(
                        "the store",
                        None,
                        rejection.column,
                        None if value is None else str(value),
                        f"{rejection.expected}: {cause}",
                    )
                )
            else:
                column = _label(run, src, _REVIEW_FIELDS.get(rejection.column, "action"))
                run.add_row_problem(src, ordinal, column, value, rejection.expected)
        elif state is not None:
            states.append((cid, state))
    progress.report("Replaying review events", 0.03)
    run.fail_if_problems()
    con.execute("DELETE FROM evaluation_reviews WHERE conversation_id IN (SELECT conversation_id FROM affected)")
    if states:
        table = pa.table(
            {
                "conversation_id": [c for c, _ in states],
                "review_status": [s.review_status for _, s in states],
                "dispute_rounds": pa.array([s.dispute_rounds for _, s in states], pa.int32()),
                "disputed_metrics": pa.array([s.disputed_metrics for _, s in states], pa.list_(pa.string())),
                "awaiting_response": pa.array([s.awaiting_response for _, s in states], pa.list_(pa.string())),
                "audit_score_history": pa.array(
                    [s.audit_score_history for _, s in states], pa.list_(pa.float64())
                ),
                "final_audit_score": pa.array([s.final_audit_score for _, s in states], pa.float64()),
                "audited_at": pa.array([s.audited_at for _, s in states], pa.timestamp("us")),
                "status_since": pa.array([s.status_since for _, s in states], pa.timestamp("us")),
                "completed_at": pa.array([s.completed_at for _, s in states], pa.timestamp("us")),
            }
        )
        con.register("derived_reviews", table)
        con.execute("INSERT INTO evaluation_reviews SELECT * FROM derived_reviews")
        con.unregister("derived_reviews")


_REVIEW_FIELDS = {
    "Action": "action",
    "Round": "round",
    "Metric": "metric",
    "Actor": "actor",
    "Comment": "comment",
    "Timestamp": "timestamp",
    "Audit Score": "audit_score",
}


# ------------------------------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------------------------------
def import_files(
    db: Path,
    paths: Sequence[str | Path],
    settings: ImportSettings | None = None,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import every export in ``paths`` (files or folders) into the store at ``db``, all or nothing.

    Raises :class:`ImportFailed` with every problem (up to ``settings.max_problems``, then a count)
    when any file, row or reference is bad; the store is then exactly as it was.
    """
    settings = settings or ImportSettings()
    started = time.perf_counter()
    files, missing = expand(paths)
    if not files:
        problems = missing or [
            Problem(", ".join(str(p) for p in paths) or "(nothing)", None, None, None,
                    "at least one export file (.csv, .json, .ndjson, .parquet)")
        ]
        raise ImportFailed(problems, len(problems))
    meter = _Progress(progress)
    meter.report("Preparing", 0.0)
    with store.next_generation(Path(db)) as con:
        con.execute(f"SET memory_limit = '{IMPORT_MEMORY_LIMIT}'")
        # DuckDB reports a running query's progress only with its progress bar on (not printed).
        con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
        con.execute(formats.SQL_MACROS)
        run = _Run(con, settings)
        for problem in missing:  # reported with the files' own problems, so one run shows them all
            run.add(problem)
        warnings: list[str] = []
        sizes = []
        for path in files:
            try:
                source = open_source(con, path, len(run.sources))
            except SourceError as error:
                run.add(error.problem)
                run.unreadable = True
                continue
            run.sources.append(source)
            sizes.append(max(1, path.stat().st_size))
            if source.match.ignored:
                shown = ", ".join(repr(c) for c in source.match.ignored[:5])
                more = len(source.match.ignored) - 5
                warnings.append(
                    f"{source.name}: ignored {len(source.match.ignored)} column(s) that the "
                    f"{source.format.title} format does not use: {shown}"
                    + (f" and {more} more" if more > 0 else "")
                )
        total_size = sum(sizes) or 1
        for source, size in zip(run.sources, sizes, strict=True):
            _stage_source(run, source, meter, 0.6 * size / total_size)
        meter.report("Checking keys and references", 0.0)
        _stage_views(run)
        _run_metrics_view(run)
        # The assignments' key names their agent's person, known once the roster is written.
        _check_keys(run, [f for f in formats.ALL_FORMATS if f is not formats.ASSIGNMENTS])
        kinds: dict[str, KindSummary] = {}
        if not (run.unreadable or run.broken):
            # A file that could not be read would make every reference to its rows look wrong.
            _check_references(run)
            # Who each row's agent is needs the run's roster: it is written first (into the next
            # generation, thrown away if anything is wrong), so every problem is found in one run.
            run.con.execute("CREATE OR REPLACE TEMP TABLE people_before AS SELECT person_id FROM people")
            kinds["roster"] = _write_roster(run, meter)
            warnings += _adopt_placeholders(run)
            warnings += _namesake_warnings(run)
            for kind in _AGENT_COLUMNS:
                _resolve_agents(run, kind)
            _check_assignments(run)
        run.fail_if_problems()

        unrostered = _add_unrostered_agents(run)
        kinds["evaluations"] = _write_evaluations(run, meter, 0.25)
        if unrostered:
            shown = ", ".join(unrostered[:10]) + (f" and {len(unrostered) - 10} more" if len(unrostered) > 10 else "")
            warnings.append(
                f"{len(unrostered)} evaluated agent(s) are not on the roster and were added; "
                f"they cannot sign in until the roster names them: {shown}"
            )
        _replace_individual_assignments(run)
        for fmt in (formats.ASSIGNMENTS, formats.COACHING_INTERACTIONS, formats.BEST_RESPONSES,
                    formats.REVIEW_EVENTS):
            kinds[fmt.kind] = _upsert(run, fmt, meter, 0.02)
        previous_rounds = store.meta(con, "max_dispute_rounds")
        recompute_all = previous_rounds != str(settings.max_dispute_rounds)
        _replay_reviews(run, recompute_all, meter, previous_rounds)
        store.set_meta(con, "max_dispute_rounds", str(settings.max_dispute_rounds))

        kinds = {k: v for k, v in kinds.items() if v.rows or k in {s.format.kind for s in run.sources}}
        summary = ImportSummary([str(f) for f in files], kinds, warnings)
        summary.seconds = time.perf_counter() - started
        import_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()[0]
        con.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?)",
            [import_id, datetime.now(UTC).replace(tzinfo=None), summary.files, summary.as_json()],
        )
        meter.report("Saving", 0.0)
    meter.report("Done", 1.0)
    summary.seconds = time.perf_counter() - started
    return summary

"""Staging: each file's rows read into a table of typed values, every cell checked in SQL.

One pass over a file (:func:`_stage_sql`) gives each row its typed values and, on the rows that have
any, the list of their problems: column, value and what was expected, as :mod:`formats` says for each
column type. Then views gather the staged rows by kind (``all_<kind>``, ``stage_<kind>``) for the
checks across rows, files and the store (:mod:`coaching.importer.references`) and for writing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb

from coaching.importer import formats, kore_api
from coaching.importer.problems import Problem, Problems
from coaching.importer.progress import Progress, enable_query_progress
from coaching.importer.sources import Files, Source
from coaching.sql import scalar, sql_str

#: Memory the import's DuckDB may use before spilling to disk; keeps the process small.
IMPORT_MEMORY_LIMIT = "1200MB"


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Set up the import's connection: its memory, its progress reports, the macros the formats' SQL uses."""
    con.execute(f"SET memory_limit = '{IMPORT_MEMORY_LIMIT}'")
    enable_query_progress(con)
    con.execute(formats.SQL_MACROS)


METRIC_COLUMNS = (
    "conversation_id, metric, position, result, is_fatal_metric, adherence_weight, violation_weight, is_manual"
)
#: The type of an evaluation's metrics, staged and stored (``evaluations.metrics``): the metrics on its
#: row, by their position in the file, whose layout (``metric_layouts``) names them; their names are not
#: repeated on every row, which keeps the stage small and the store's writing short.
METRICS_LIST = (
    "STRUCT(position INTEGER, result VARCHAR, is_fatal_metric BOOLEAN, adherence_weight DOUBLE, "
    "violation_weight DOUBLE)[]"
)


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
        finals += [f"{sql} AS {name}" for name, sql in metric_list_columns(source.match.metrics).items()]
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


def metric_list_columns(metrics: Sequence[formats.MetricColumns]) -> dict[str, str]:
    """SQL for an evaluation's staged columns built from its metrics (``v_m<position>_<part>`` typed values
    and ``m<position>_present``), by column name: the metrics list, its digest and the names of the
    metrics scored and not adhered to. Building and writing these is a large part of what an import
    costs beyond DuckDB's own copy (``benchmarks/import_costs.py`` measures each)."""
    columns: dict[str, str] = {}
    columns["metrics"] = _present_structs(metrics, lambda m: (
        f"{{'position': {m.position}, 'result': v_m{m.position}_result, "
        f"'is_fatal_metric': v_m{m.position}_fatal, 'adherence_weight': v_m{m.position}_weight, "
        f"'violation_weight': v_m{m.position}_violation}}"
    )) if metrics else f"CAST([] AS {METRICS_LIST})"
    # One number that changes when any of the row's metrics does, whatever the file's layout: the
    # hash of the present metrics with their names, in name order.
    ordered = in_name_order(metrics)
    named = _present_structs(ordered, lambda m: (
        f"{{'metric': {sql_str(m.metric)}, 'result': v_m{m.position}_result, "
        f"'fatal': v_m{m.position}_fatal, 'weight': v_m{m.position}_weight, "
        f"'violation': v_m{m.position}_violation, 'manual': {str(m.is_manual).lower()}}}"
    ))
    columns["metrics_digest"] = f"hash({named if metrics else '[]'})"
    # The names of the metrics with a result, and of those not adhered to, in name order: what the
    # per-metric trends count, read from the evaluations alone (never from the long metric rows).
    names = ", ".join(sql_str(m.metric) for m in ordered)
    for listed, condition in (("scored_metrics", "v_m{p}_result IS NOT NULL"),
                              ("not_adhered_metrics", "coalesce(v_m{p}_result = 'Not Adhered', false)")):
        mask = ", ".join(condition.format(p=m.position) for m in ordered)
        columns[listed] = f"list_where([{names}], [{mask}])" if metrics else "CAST([] AS VARCHAR[])"
    return columns


def in_name_order(metrics: Sequence[formats.MetricColumns]) -> list[formats.MetricColumns]:
    """The metrics in their names' order, DuckDB's order for text (bytes): the digest's and the name
    lists' order, whatever the file's layout."""
    return sorted(metrics, key=lambda m: m.metric.encode())


def _present_structs(metrics: Sequence[formats.MetricColumns],
                     struct: Callable[[formats.MetricColumns], str]) -> str:
    """SQL: the list of ``struct(m)`` for the metrics on the row (``m<position>_present``), in ``metrics``'
    order."""
    structs = ", ".join(struct(m) for m in metrics)
    present = ", ".join(f"m{m.position}_present" for m in metrics)
    return f"list_where([{structs}], [{present}])"


#: A file with more columns is staged without DuckDB's common-subexpression optimizer, whose planning
#: time grows with the square of the staging query's conditions (with it, one row of 500 metrics took
#: 55 s to import and one of 2,000 eleven minutes; without, 12 s and 52 s); on narrower files it pays
#: for itself (about a tenth of staging a demo report).
WIDE_FILE_COLUMNS = 256


@contextmanager
def planned_for(con: duckdb.DuckDBPyConnection, source: Source) -> Iterator[None]:
    """Queries over ``source`` planned as its width needs: without the common-subexpression optimizer
    for a file wider than :data:`WIDE_FILE_COLUMNS`."""
    if len(source.header) <= WIDE_FILE_COLUMNS:
        yield
        return
    con.execute("SET disabled_optimizers = 'common_subexpressions'")
    try:
        yield
    finally:
        con.execute("RESET disabled_optimizers")


def stage_files(
    con: duckdb.DuckDBPyConnection, files: Files, problems: Problems, progress: Progress, share: float
) -> None:
    """Read each file into ``stage_<index>``: its typed values and each row's problems. ``share`` of the
    import's progress is split between the files by their size; a file the reader fails on is broken."""
    sizes = [max(1, source.path.stat().st_size) for source in files]
    total_size = sum(sizes) or 1
    for source, size in zip(files, sizes, strict=True):
        if not _stage_source(con, source, problems, progress, share * size / total_size):
            files.broken.add(source.index)


def _stage_source(
    con: duckdb.DuckDBPyConnection, source: Source, problems: Problems, progress: Progress, share: float
) -> bool:
    table = f"stage_{source.index}"
    try:
        with planned_for(con, source):
            progress.run(con, _stage_sql(source, table), label=f"Reading {source.path.name}", share=share)
    except duckdb.Error as error:
        message = str(error).strip().splitlines()
        line = None
        for text in message:
            if "Line:" in text:
                digits = "".join(ch for ch in text.split("Line:")[1] if ch.isdigit())
                line = int(digits) if digits else None
                break
        detail = message[1].strip() if len(message) > 1 else (message[0] if message else "")
        problems.add(Problem(source.name, line, None, None, f"a well-formed file ({detail})"))
        return False
    source.collect_rejects(con)
    for problem in source.problems:
        problems.add(problem)
    count = scalar(con, f"SELECT coalesce(sum(len(problems)), 0) FROM {table} WHERE problems IS NOT NULL")
    if count:
        rows = con.execute(
            f"SELECT rowid, unnest(problems) FROM {table} WHERE problems IS NOT NULL "
            f"ORDER BY rowid LIMIT {problems.limit}"
        ).fetchall()
        for ordinal, item in rows:
            problems.add_row(source.index, ordinal, source.label(item["c"]), item["v"], item["e"])
        problems.count_rows(count - len(rows))
    return True


#: Staged columns beyond a format's own: (name, SQL type).
STAGE_EXTRAS = {"evaluations": (("metrics_digest", "UBIGINT"), ("scored_metrics", "VARCHAR[]"),
                                 ("not_adhered_metrics", "VARCHAR[]"))}
#: Staged columns that are stored but not compared (the digest stands for the metrics, whatever the
#: file's layout): (name, SQL type).
STAGE_CARRIED = {"evaluations": (("metric_layout", "INTEGER"), ("metrics", METRICS_LIST))}

#: A layout's metrics: (position, name, manual) in position order.
Layout = tuple[tuple[int, str, bool], ...]


@dataclass
class MetricLayouts:
    """The layout of each report's metrics (``metric_layouts``): the one stored, else a new one, which is
    written with the evaluations (:func:`coaching.importer.writing.write_evaluations`)."""

    of_source: dict[int, int] = field(default_factory=dict)  # evaluations source index → its layout
    new: list[tuple[int, Layout]] = field(default_factory=list)


def metric_layouts(con: duckdb.DuckDBPyConnection, files: Files) -> MetricLayouts:
    """Each evaluations file's layout, found among the stored ones by its metrics, or a new one."""
    stored: dict[int, list[tuple[int, str, bool]]] = defaultdict(list)
    for layout, position, metric, is_manual in con.execute(
        "SELECT layout, position, metric, is_manual FROM metric_layouts ORDER BY layout, position"
    ).fetchall():
        stored[layout].append((position, metric, is_manual))
    known: dict[Layout, int] = {tuple(shape): layout for layout, shape in stored.items()}
    layouts = MetricLayouts()
    following = max(known.values(), default=0)
    for source in files.read("evaluations"):
        shape = tuple((m.position, m.metric, m.is_manual) for m in source.match.metrics)
        if not shape:
            continue
        if shape not in known:
            following += 1
            known[shape] = following
            layouts.new.append((following, shape))
        layouts.of_source[source.index] = known[shape]
    return layouts


def stage_views(con: duckdb.DuckDBPyConnection, files: Files) -> MetricLayouts:
    """``all_<kind>``: every staged row of a kind; ``stage_<kind>``: the rows without problems;
    ``run_metrics``: the metrics of the evaluations the run's review events name (:func:`_run_metrics_view`).
    Returns the evaluations files' metric layouts, which their rows carry (``metric_layout``)."""
    layouts = metric_layouts(con, files)
    for fmt in formats.ALL_FORMATS:
        fields = ", ".join(c.field for c in fmt.columns)
        extras = "".join(f", {n}" for n, _ in STAGE_EXTRAS.get(fmt.kind, ()))
        carried = STAGE_CARRIED.get(fmt.kind, ())
        parts = []
        for source in files.read(fmt.kind):
            # has_<field>: the file has the column, so its value (even empty) replaces the stored one.
            present = ", ".join(
                f"{str(c.field in source.match.fields).lower()} AS has_{c.field}" for c in fmt.columns
            )
            layout = layouts.of_source.get(source.index)
            more = "".join(
                f", CAST({'NULL' if layout is None else layout} AS INTEGER) AS {n}" if n == "metric_layout"
                else f", {n}"
                for n, _ in carried
            )
            parts.append(
                f"SELECT {source.index} AS src, rowid AS ordinal, {fields}, {present}{extras}{more}, "
                f"problems IS NULL AS ok FROM stage_{source.index}"
            )
        if not parts:
            casts = ", ".join(f"CAST(NULL AS {c.type.sql_type}) AS {c.field}" for c in fmt.columns)
            present = ", ".join(f"true AS has_{c.field}" for c in fmt.columns)
            empty_extras = "".join(
                f", CAST(NULL AS {t}) AS {n}" for n, t in (*STAGE_EXTRAS.get(fmt.kind, ()), *carried)
            )
            parts = [
                f"SELECT 0 AS src, 0::BIGINT AS ordinal, {casts}, {present}{empty_extras}, true AS ok WHERE false"
            ]
        con.execute(f"CREATE OR REPLACE TEMP VIEW all_{fmt.kind} AS {' UNION ALL '.join(parts)}")
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW stage_{fmt.kind} AS SELECT * FROM all_{fmt.kind} WHERE ok"
        )
    _run_metrics_view(con, files)
    return layouts


def staged_metric_rows(files: Files, good_rows_only: bool, conversations: str | None = None,
                       rows: str | None = None) -> str:
    """SQL for the run's metric rows in the store's columns: each staged row's metrics list, unnested.

    ``conversations``: a table of conversation_id; only those evaluations' lists are unnested.
    ``rows``: a table of (src, ordinal); only those rows' lists are unnested.
    """
    filters = (["problems IS NULL"] if good_rows_only else []) + (
        [f"conversation_id IN (SELECT conversation_id FROM {conversations})"] if conversations else []
    )
    parts = []
    for source in files.read("evaluations"):
        only = [f"rowid IN (SELECT ordinal FROM {rows} WHERE src = {source.index})"] if rows else []
        where = f" WHERE {' AND '.join(filters + only)}" if filters or only else ""
        metrics = source.match.metrics
        names = " ".join(f"WHEN {m.position} THEN {sql_str(m.metric)}" for m in metrics)
        name = f"CASE m.position {names} END" if metrics else "CAST(NULL AS VARCHAR)"
        manual = ", ".join(str(m.position) for m in metrics if m.is_manual)
        is_manual = f"m.position IN ({manual})" if manual else "false"
        parts.append(
            f"SELECT conversation_id, {name} AS metric, m.position AS position, m.result AS result, "
            f"m.is_fatal_metric AS is_fatal_metric, m.adherence_weight AS adherence_weight, "
            f"m.violation_weight AS violation_weight, "
            f"{is_manual} AS is_manual "
            f"FROM (SELECT conversation_id, unnest(metrics) AS m FROM stage_{source.index}{where})"
        )
    return " UNION ALL ".join(parts) or f"SELECT {METRIC_COLUMNS} FROM evaluation_metrics WHERE false"


def _run_metrics_view(con: duckdb.DuckDBPyConnection, files: Files) -> None:
    """``run_metrics``: the metric names each evaluation named by a review event of the run will have
    after the run (the run's replace the store's, but for a Kore API record that keeps the stored metrics,
    :func:`coaching.importer.kore_api.keeps_stored_metrics`); only those evaluations' metrics are read.

    ``event_evaluations`` (src, ordinal, conversation_id): the run's evaluations whose metrics replace the
    stored ones, among those the events name. Without review events, or without Kore API records of one
    API (nothing can keep stored metrics), it is a view, read only when the events are checked, and never
    joined with the store: a big report with no events costs nothing here. Otherwise only the stored
    evaluations the events name are read.

    Bad rows count too, like every reference check's known values.
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE event_conversations AS SELECT DISTINCT conversation_id "
        "FROM stage_review_events WHERE metric IS NOT NULL"
    )
    named = "SELECT conversation_id FROM event_conversations"
    kept = kore_api.keeps_stored_metrics(kore_api.api_sources(con))
    if kept is None or not scalar(con, "SELECT count(*) FROM event_conversations"):
        con.execute(
            "CREATE OR REPLACE TEMP VIEW event_evaluations AS SELECT src, ordinal, conversation_id "
            f"FROM all_evaluations WHERE conversation_id IN ({named})"
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE event_evaluations AS SELECT s.src, s.ordinal, s.conversation_id "
            "FROM all_evaluations s LEFT JOIN (SELECT conversation_id, source, metrics FROM evaluations "
            f"WHERE conversation_id IN ({named})) t ON t.conversation_id = s.conversation_id "
            f"WHERE s.conversation_id IN ({named}) "
            f"AND NOT coalesce(t.conversation_id IS NOT NULL AND ({kept}), false)"
        )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW run_metrics AS "
        "SELECT conversation_id, metric FROM evaluation_metrics "
        f"WHERE conversation_id IN ({named}) AND conversation_id NOT IN "
        "(SELECT conversation_id FROM event_evaluations) "
        "UNION ALL SELECT conversation_id, metric FROM "
        f"({staged_metric_rows(files, good_rows_only=False, rows='event_evaluations')})"
    )

"""Where an import's time goes, beside DuckDB's own copy of the same Interaction Evaluation report.

    python3 benchmarks/import_costs.py REPORT.csv              # e.g. the scale benchmark's ie-report.csv
    python3 benchmarks/import_costs.py REPORT.csv --rounds 3   # the median of three rounds
    python3 benchmarks/import_costs.py REPORT.csv --json costs.json

In one process, into a scratch database, it times (the file read once beforehand, so no part pays for a
cold cache):

* **copy**: DuckDB copying the report into one table with its own type detection and no checks (the floor
  ``benchmarks/scale.py`` compares the import with);
* **read**: every column read as text, nothing kept;
* **stage**: the import's own staging of the report (every cell typed and checked, into a temporary
  table, as :mod:`coaching.importer.staging` does it), as it is, then without the columns built from each
  row's metrics (:func:`coaching.importer.staging.metric_list_columns`), cumulatively: the names of the
  metrics scored and not adhered to, then the digest, then the metrics list, each replaced by an empty
  value of its type (the metric results are still typed in the last: a hash of them stands in);
* **write**: the staged evaluations' good rows written into a table of the database file: every staged
  column; all but the metrics list, the digest and the two name lists; the metrics list alone; the two
  name lists together;
* **bitmasks** (a sketch of another store shape, not the store's): the same metrics kept as bitmasks over
  the layout's metrics in name order (present, scored, not adhered, not applicable, fatal), a digest of a
  few numbers instead of a sorted list, and the weights as a profile per row (a second table holds each
  profile's weights); staged and written, each with nothing else staged beside it. It checks, row by
  row, that the masks name the metrics the lists name and count the same not-applicable and fatal ones.
  Skipped (and said so) for a report of more than 64 metrics.

Times are wall seconds and the process's CPU seconds (DuckDB's threads included), each the median of the
rounds. It prints figures and row counts only; nothing here is a test (``tests/test_benchmark_smoke.py``
runs it on small reports).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scale  # noqa: E402  (the floor, as the scale benchmark measures it)

from coaching.importer import formats, sources, staging, writing  # noqa: E402  (after the path is set)
from coaching.importer.problems import Problem  # noqa: E402
from coaching.importer.progress import Progress  # noqa: E402
from coaching.sql import scalar, sql_str  # noqa: E402

#: An empty value of each column built from the metrics: the stage "without" that column.
EMPTY = {"scored_metrics": "CAST([] AS VARCHAR[])", "not_adhered_metrics": "CAST([] AS VARCHAR[])",
         "metrics_digest": "CAST(0 AS UBIGINT)", "metrics": f"CAST([] AS {staging.METRICS_LIST})"}
#: The stage's variants: what each leaves out.
STAGE_VARIANTS = {
    "stage: as imported": (),
    "stage: without the metric names lists": ("scored_metrics", "not_adhered_metrics"),
    "stage: … and without the digest": ("scored_metrics", "not_adhered_metrics", "metrics_digest"),
    "stage: … and without the metrics list": ("scored_metrics", "not_adhered_metrics", "metrics_digest", "metrics"),
}
#: The bitmask sketch's masks: a metric's bit is set where this condition holds.
MASKS = {"present_mask": "m{p}_present", "scored_mask": "v_m{p}_result IS NOT NULL",
         "not_adhered_mask": "v_m{p}_result = 'Not Adhered'", "not_applicable_mask": "v_m{p}_result = 'Not Applicable'",
         "fatal_mask": "v_m{p}_fatal"}
#: The most metrics the sketch's masks (one UBIGINT each) can hold.
SKETCH_METRICS = 64

Seconds = tuple[float, float]  # wall, CPU


@dataclass
class Costs:
    """Each part's median wall and CPU seconds, in the order measured, and the rows each step saw."""

    parts: list[tuple[str, float, float]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    sketch: str = "measured"


def timed(action: Callable[[], object]) -> Seconds:
    started, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - started, time.process_time() - cpu


def replaced(sql: str, old: str, new: str) -> str:
    """``sql`` with ``old`` (which must be there, once, and differ from ``new``) replaced by ``new``."""
    if sql.count(old) != 1 or old == new:
        sys.exit(f"the staging SQL no longer has this once (or it is already what replaces it): {old[:200]}")
    return sql.replace(old, new)


def bitmask_columns(metrics: Sequence[formats.MetricColumns]) -> str:
    """The sketch's staged columns in place of the lists: one UBIGINT per mask, each metric's bit its rank
    in name order (so the masks are the same whatever the file's column order), a digest that hashes a
    few numbers (the layout's names, the masks, the weights) instead of a sorted list of structs, and the
    row's weights as a profile (their hash; a store would key profiles by their values), with each
    metric's weights as columns to fill the profiles' table from."""
    ordered = staging.in_name_order(metrics)
    masks = {}
    for name, condition in MASKS.items():
        bits = " + ".join(
            f"CASE WHEN coalesce({condition.format(p=m.position)}, false) THEN {2 ** rank} ELSE 0 END"
            for rank, m in enumerate(ordered))
        masks[name] = f"CAST({bits} AS UBIGINT)"
    weights = [f"v_m{m.position}_{part}" for m in ordered for part in ("weight", "violation")]
    layout = sql_str("|".join(f"{m.metric}:{m.is_manual}" for m in ordered))
    columns = [f"{sql} AS {name}" for name, sql in masks.items()]
    columns.append(f"hash({layout}, {', '.join(masks.values())}, {', '.join(weights)}) AS metrics_digest")
    columns.append(f"hash({', '.join(weights)}) AS weights_profile")
    columns += [f"{w} AS {w[2:]}" for w in weights]
    return ", ".join(columns)


def measure(report: Path, rounds: int) -> Costs:
    """Every part's median over ``rounds``."""
    results: dict[str, list[Seconds]] = {}
    costs = Costs()
    with open(report, "rb") as handle:  # into the page cache, for every part alike
        while handle.read(1 << 24):
            pass
    with tempfile.TemporaryDirectory(prefix="import-costs-") as work:
        for _ in range(rounds):
            for label, seconds in one_round(report, Path(work), costs):
                results.setdefault(label, []).append(seconds)
    costs.parts = [(label, statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
                   for label, runs in results.items()]
    return costs


def one_round(report: Path, work: Path, costs: Costs) -> list[tuple[str, Seconds]]:
    copied = scale.run_copy(str(report), str(work))
    out: list[tuple[str, Seconds]] = [("copy (the floor)", (copied["seconds"], copied["cpu_seconds"]))]
    costs.rows["copied"] = copied["rows"]

    db = work / "scratch.duckdb"
    db.unlink(missing_ok=True)
    with duckdb.connect(str(db)) as con:
        source = _open(con, report)
        with staging.planned_for(con, source):  # as the import stages it
            out += _stage_and_write(con, source, costs)
    db.unlink(missing_ok=True)
    return out


def _stage_and_write(con: duckdb.DuckDBPyConnection, source: sources.Source, costs: Costs) -> list[tuple[str, Seconds]]:
    out: list[tuple[str, Seconds]] = []
    metrics = source.match.metrics
    text = ", ".join(f"count(c{i})" for i in range(len(source.header)))
    out.append(("read: every column as text", timed(
        lambda: con.execute(f"SELECT {text} FROM {source.relation}").fetchall())))

    stage_sql = staging._stage_sql(source, "stage")
    built = staging.metric_list_columns(metrics)
    # Without the metrics list, nothing would read the typed results: a hash of them stands in.
    typed = ", ".join(f"v_m{m.position}_result, m{m.position}_present" for m in metrics)
    for label, left_out in STAGE_VARIANTS.items():
        sql = stage_sql
        for name in left_out:
            empty = f"{EMPTY[name]} AS {name}" + (f", hash({typed}) AS typed_results" if name == "metrics" else "")
            sql = replaced(sql, f"{built[name]} AS {name}", empty)
        out.append((label, timed(lambda sql=sql: con.execute(sql))))
        con.execute("DROP TABLE stage")

    sketch = len(metrics) <= SKETCH_METRICS
    if sketch:
        lists = ", ".join(f"{sql} AS {name}" for name, sql in built.items())
        masks = replaced(replaced(stage_sql, lists, bitmask_columns(metrics)), "TEMP TABLE stage",
                         "TEMP TABLE sketch")
        out.append(("bitmasks: stage", timed(lambda: con.execute(masks))))
        weights = [f"m{m.position}_{part}" for m in metrics for part in ("weight", "violation")]
        kept = [name for name, *_ in con.execute("DESCRIBE sketch").fetchall()
                if name != "problems" and name not in weights]
        profiles = (f"CREATE TABLE profiles AS SELECT DISTINCT ON (weights_profile) weights_profile, "
                    f"{', '.join(weights)} FROM sketch")
        out.append(("bitmasks: write", write(con, ", ".join(kept), "sketch", also=profiles)))
    else:
        costs.sketch = f"skipped: {len(metrics)} metrics, more than the sketch's {SKETCH_METRICS}"

    con.execute(stage_sql)  # as imported, for the writes (and the sketch's check)
    costs.rows["staged"] = scalar(con, "SELECT count(*) FROM stage")
    costs.rows["staged without problems"] = scalar(con, "SELECT count(*) FROM stage WHERE problems IS NULL")
    if sketch:
        _sketch_agrees(con, metrics)
        con.execute("DROP TABLE sketch")
    columns = [name for name, *_ in con.execute("DESCRIBE stage").fetchall() if name != "problems"]
    plain = [c for c in columns if c not in built]
    writes = {"write: every staged column": columns, "write: without the lists and digest": plain,
              "write: the metrics list alone": ["metrics"],
              "write: the metric names lists together": ["scored_metrics", "not_adhered_metrics"]}
    for label, chosen in writes.items():
        out.append((label, write(con, ", ".join(chosen), "stage")))
    costs.rows["written"] = scalar(con, "SELECT count(*) FROM written")
    return out


def _open(con: duckdb.DuckDBPyConnection, report: Path) -> sources.Source:
    """The report as the import opens it, on a connection set up as the import's is."""
    staging.prepare(con)
    files = sources.Files()
    problems: list[Problem] = []
    sources.open_files(con, [report], files, problems.append)
    opened = list(files)
    if not opened:
        sys.exit(f"{report} could not be opened: " + "; ".join(p.expected for p in problems))
    source = opened[0]
    if source.format is not formats.EVALUATIONS:
        sys.exit(f"{report} is not an Interaction Evaluation report")
    if not source.match.metrics:
        sys.exit(f"{report} has no metric columns: there is nothing built from metrics to measure")
    return source


def write(con: duckdb.DuckDBPyConnection, columns: str, table: str, also: str | None = None) -> Seconds:
    """Write ``columns`` of ``table``'s good rows into a table of the database file (and run ``also``) as
    the import writes (:func:`coaching.importer.writing.insert`: in parallel, the rows in any order)."""
    con.execute(f"CREATE OR REPLACE TABLE written AS SELECT {columns} FROM {table} WHERE false")
    con.execute("CHECKPOINT")
    return timed(lambda: (
        writing.insert(con, Progress(None), f"INSERT INTO written SELECT {columns} FROM {table} WHERE problems IS NULL",
                       label="write", share=0.0),
        also and con.execute(also), con.execute("CHECKPOINT")))


def _sketch_agrees(con: duckdb.DuckDBPyConnection, metrics: Sequence[formats.MetricColumns]) -> None:
    """Row by row (both staged in the file's order), the sketch's masks name the metrics the lists name
    (scored, not adhered) and count as many present, not-applicable and fatal metrics."""
    ordered = staging.in_name_order(metrics)
    names = ", ".join(sql_str(m.metric) for m in ordered)

    def named(mask: str) -> str:
        bits = ", ".join(f"(k.{mask} >> {rank}) & 1 = 1" for rank in range(len(ordered)))
        return f"list_where([{names}], [{bits}])"

    differing = scalar(con, f"""
        SELECT count(*) FROM stage s FULL JOIN sketch k ON k.rowid = s.rowid
        WHERE s.rowid IS NULL OR k.rowid IS NULL
           OR {named('scored_mask')} IS DISTINCT FROM s.scored_metrics
           OR {named('not_adhered_mask')} IS DISTINCT FROM s.not_adhered_metrics
           OR bit_count(k.present_mask) <> len(s.metrics)
           OR bit_count(k.not_applicable_mask) <> len(list_filter(s.metrics, lambda m: m.result = 'Not Applicable'))
           OR bit_count(k.fatal_mask) <> len(list_filter(s.metrics, lambda m: coalesce(m.is_fatal_metric, false)))""")
    if differing:
        sys.exit(f"the bitmask sketch disagrees with the lists on {differing} rows")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("report", type=Path, help="an Interaction Evaluation report (CSV)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds to take the median of (default 1)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    costs = measure(args.report, args.rounds)
    floor = costs.parts[0][1]
    print(f"{args.report} ({args.report.stat().st_size / 1e6:,.0f} MB), median of {args.rounds} round(s)")
    print(f"{'':44} {'seconds':>8} {'CPU s':>8} {'× copy':>7}")
    for label, wall, cpu in costs.parts:
        print(f"{label:44} {wall:8.2f} {cpu:8.2f} {wall / floor:7.2f}")
    print("rows: " + ", ".join(f"{what} {count:,}" for what, count in costs.rows.items()))
    if costs.sketch != "measured":
        print(f"bitmasks: {costs.sketch}")
    if args.json:
        args.json.write_text(json.dumps({
            "report": str(args.report), "rounds": args.rounds, "rows": costs.rows, "sketch": costs.sketch,
            "parts": [{"part": label, "seconds": wall, "cpu_seconds": cpu, "times_copy": wall / floor}
                      for label, wall, cpu in costs.parts]}, indent=2))


if __name__ == "__main__":
    main()

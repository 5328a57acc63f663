"""Where an import's time goes, beside DuckDB's own copy of the same Interaction Evaluation report.

    python3 benchmarks/import_costs.py REPORT.csv              # e.g. the scale benchmark's ie-report.csv
    python3 benchmarks/import_costs.py REPORT.csv --rounds 3   # the median of three rounds

In one process, into a scratch database beside nothing else, it times:

* **copy**: DuckDB copying the report into one table with its own type detection and no checks (the floor
  ``benchmarks/scale.py`` compares the import with);
* **read**: every column read as text, nothing kept;
* **stage**: the import's own staging of the report (every cell typed and checked, into a temporary
  table), as it is, then without the columns built from each row's metrics
  (:func:`coaching.importer.staging.metric_list_columns`: the names of the metrics scored and not adhered
  to, the digest, the metrics list), each replaced by an empty value of its type;
* **write**: the staged evaluations written into a table of the database file, with every staged column,
  without those built from the metrics, and each of them alone;
* **bitmasks** (a sketch of another store shape, not the store's): the same metrics kept as bitmasks over
  the layout's metrics in name order (present, scored, not adhered, not applicable, fatal), a digest of a
  few numbers instead of a sorted list, and the weights as a profile per row (a second table holds each
  profile's weights); staged and written. It checks that the bitmasks
  count as many scored and not-adhered metrics as the lists do.

Times are wall seconds and the process's CPU seconds (DuckDB's threads included). It prints figures only;
nothing here is a test (``tests/test_benchmark_smoke.py`` runs it on a small report).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coaching.importer import formats, sources, staging  # noqa: E402  (after the path is set)
from coaching.sql import sql_str  # noqa: E402

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


def timed(action: Callable[[], object]) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - started, time.process_time() - cpu


def bitmask_columns(metrics: tuple[formats.MetricColumns, ...]) -> str:
    """The sketch's staged columns in place of the lists: one UBIGINT per mask (so at most 64 metrics),
    each metric's bit its rank in name order (so the masks are the same whatever the file's column
    order), a digest that hashes a few numbers (the layout's names, the masks, the weights) instead of a
    sorted list of structs, and the row's weights as a profile (their hash; a store would key profiles
    by their values), with each metric's weights as columns to fill the profiles' table from."""
    ordered = sorted(metrics, key=lambda m: m.metric.encode())
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


def measure(report: Path, rounds: int) -> list[tuple[str, float, float]]:
    """Each measurement's median wall and CPU seconds over ``rounds``, in order."""
    results: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="import-costs-") as work:
        for _ in range(rounds):
            for label, seconds in one_round(report, Path(work)):
                results.setdefault(label, []).append(seconds)
    return [(label, statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
            for label, runs in results.items()]


def one_round(report: Path, work: Path) -> list[tuple[str, tuple[float, float]]]:
    out: list[tuple[str, tuple[float, float]]] = []
    copy_db = work / "copy.duckdb"
    copy_db.unlink(missing_ok=True)
    with duckdb.connect(str(copy_db)) as con:
        con.execute("SET preserve_insertion_order = false")
        out.append(("copy (the floor)", timed(lambda: (
            con.execute("CREATE TABLE report AS FROM read_csv(?)", [str(report)]),
            con.execute("CHECKPOINT")))))
    copy_db.unlink()

    db = work / "scratch.duckdb"
    db.unlink(missing_ok=True)
    with duckdb.connect(str(db)) as con:
        staging.prepare(con)
        files = sources.Files()
        sources.open_files(con, [report], files, lambda problem: None)
        (source,) = list(files)
        if source.format is not formats.EVALUATIONS:
            sys.exit(f"{report} is not an Interaction Evaluation report")
        text = ", ".join(f"count(c{i})" for i in range(len(source.header)))
        out.append(("read: every column as text", timed(
            lambda: con.execute(f"SELECT {text} FROM {source.relation}").fetchall())))

        stage_sql = staging._stage_sql(source, "stage")
        built = staging.metric_list_columns(source.match.metrics)
        for label, left_out in STAGE_VARIANTS.items():
            sql = stage_sql
            for name in left_out:
                sql = replaced(sql, f"{built[name]} AS {name}", f"{EMPTY[name]} AS {name}")
            con.execute("DROP TABLE IF EXISTS stage")
            out.append((label, timed(lambda sql=sql: con.execute(sql))))
        # The last variant left the lists out; stage as imported again for the writes.
        con.execute("DROP TABLE IF EXISTS stage")
        con.execute(stage_sql)
        con.execute("SET preserve_insertion_order = false")  # as the import writes
        columns = [name for name, *_ in con.execute("DESCRIBE stage").fetchall() if name != "problems"]
        plain = [c for c in columns if c not in built]
        writes = {"write: every staged column": columns, "write: without the lists and digest": plain,
                  "write: the metrics list alone": ["metrics"],
                  "write: the metric names lists alone": ["scored_metrics", "not_adhered_metrics"]}
        for label, chosen in writes.items():
            out.append((label, write(con, ", ".join(chosen), "stage")))

        metrics = source.match.metrics
        if metrics and max(m.position for m in metrics) < 64:
            lists = ", ".join(f"{sql} AS {name}" for name, sql in built.items())
            masks = replaced(stage_sql, lists, bitmask_columns(metrics))
            masks = masks.replace("TEMP TABLE stage", "TEMP TABLE sketch", 1)
            con.execute("SET preserve_insertion_order = true")
            con.execute("DROP TABLE IF EXISTS sketch")
            out.append(("bitmasks: stage", timed(lambda: con.execute(masks))))
            con.execute("SET preserve_insertion_order = false")
            weights = [f"m{m.position}_{part}" for m in metrics for part in ("weight", "violation")]
            kept = [name for name, *_ in con.execute("DESCRIBE sketch").fetchall()
                    if name != "problems" and name not in weights]
            profiles = (f"CREATE TABLE profiles AS SELECT DISTINCT ON (weights_profile) weights_profile, "
                        f"{', '.join(weights)} FROM sketch")
            out.append(("bitmasks: write", write(con, ", ".join(kept), "sketch", also=profiles)))
            _same_counts(con)
    db.unlink(missing_ok=True)
    return out


def replaced(sql: str, old: str, new: str) -> str:
    """``sql`` with ``old`` (which must be there, once) replaced by ``new``."""
    if sql.count(old) != 1:
        sys.exit(f"the staging SQL no longer has this once: {old[:200]}")
    return sql.replace(old, new)


def write(con: duckdb.DuckDBPyConnection, columns: str, table: str, also: str | None = None) -> tuple[float, float]:
    """Write ``columns`` of ``table``'s good rows into a table of the database file (and run ``also``)."""
    con.execute("DROP TABLE IF EXISTS written")
    con.execute("CHECKPOINT")
    return timed(lambda: (con.execute(f"CREATE TABLE written AS SELECT {columns} FROM {table} WHERE problems IS NULL"),
                          also and con.execute(also), con.execute("CHECKPOINT")))


def _same_counts(con: duckdb.DuckDBPyConnection) -> None:
    """The bitmasks hold what the lists count: as many scored and not-adhered metrics, row by row."""
    lists = con.execute("SELECT sum(len(scored_metrics)), sum(len(not_adhered_metrics)), "
                        "sum(len(metrics)) FROM stage").fetchone()
    masks = con.execute("SELECT sum(bit_count(scored_mask)), sum(bit_count(not_adhered_mask)), "
                        "sum(bit_count(present_mask)) FROM sketch").fetchone()
    if lists != masks:
        sys.exit(f"the bitmask sketch counts {masks} (scored, not adhered, present) where the lists count {lists}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="an Interaction Evaluation report (CSV)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds to take the median of (default 1)")
    args = parser.parse_args(argv)
    results = measure(args.report, args.rounds)
    floor = results[0][1]
    print(f"{args.report} ({args.report.stat().st_size / 1e6:,.0f} MB), median of {args.rounds} round(s)")
    print(f"{'':44} {'seconds':>8} {'CPU s':>8} {'× copy':>7}")
    for label, wall, cpu in results:
        print(f"{label:44} {wall:8.2f} {cpu:8.2f} {wall / floor:7.2f}")


if __name__ == "__main__":
    main()

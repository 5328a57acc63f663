"""How long one Interaction Evaluation report row with many metrics takes to import, and how much memory.

    python3 benchmarks/wide_rows.py                      # 500 and 2,000 metrics
    python3 benchmarks/wide_rows.py 100 250 --lift-limit # any widths, past the limit too

Each width runs in a child process of its own (its peak memory is its own): the header match alone,
then the whole import of the one-row file into a new store, or its refusal when the file is wider than
``formats.MAX_METRICS`` allows. ``--lift-limit`` raises the limit in the child, to see what a width past
it would cost. It prints timings only; nothing here is a test.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = (
    "ConversationID,Channel,Queues,Last Queue,Language,Agents,Scored Agent,Start Time,Sentiment Score,Topics,"
    "Escalation,Kore Evaluation Score,Is Passed,Is Fatal Interaction,Audit Score,Contact Direction,"
    "Duration Status,Evaluation Form,Intent"
).split(",")
ROW = (
    "c-1,Voice,Billing,Billing,en,Ada Byron,Ada Byron,2026-07-27T08:23:44Z,5,refund,0,50,1,0,,inbound,"
    "Evaluated,Voice form,Refund"
).split(",")


def write_report(folder: Path, metrics: int) -> Path:
    """One row with ``metrics`` metrics, every other one's result column suffixed as Kore's manual ones."""
    header, row = list(COLUMNS), list(ROW)
    for i in range(metrics):
        name = f"Metric {i} - Part"
        result = name + (" - Manual Evaluation Metric" if i % 2 else "")
        header += [result, f"{name} - Is Fatal Metric", f"{name} - Adherence Weight", f"{name} - Violation"]
        row += ["1", "0", "10", "10"]
    path = folder / f"ie-report-{metrics}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, row])
    return path


def child(metrics: int, lift_limit: bool) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from coaching.importer import ImportFailed, formats, import_files, sources

    if lift_limit and hasattr(formats, "MAX_METRICS"):  # (code from before the limit has none)
        formats.MAX_METRICS = max(formats.MAX_METRICS, metrics)
        sources.MAX_COLUMNS = max(sources.MAX_COLUMNS, 4 * metrics + 100)
    with tempfile.TemporaryDirectory() as folder:
        path = write_report(Path(folder), metrics)
        with open(path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        started = time.perf_counter()
        with contextlib.suppress(formats.HeaderError):
            formats.recognise(header)
        matched = time.perf_counter() - started
        started = time.perf_counter()
        try:
            import_files(Path(folder) / "store.duckdb", [path])
            outcome = "imported"
        except ImportFailed as failure:
            outcome = "refused: " + str(failure.problems[0])
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"metrics": metrics, "match_s": matched, "import_s": seconds, "peak_mb": peak, "outcome": outcome}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("widths", nargs="*", type=int, default=[500, 2000], metavar="METRICS")
    parser.add_argument("--lift-limit", action="store_true",
                        help="import widths past formats.MAX_METRICS too")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.widths[0], args.lift_limit)))
        return 0
    for metrics in args.widths:
        command = [sys.executable, __file__, str(metrics), "--child"]
        command += ["--lift-limit"] if args.lift_limit else []
        result = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        print(
            f"{result['metrics']:>6,} metrics: header match {result['match_s']:.2f} s, "
            f"import {result['import_s']:.1f} s, peak {result['peak_mb']:,.0f} MB, {result['outcome']}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

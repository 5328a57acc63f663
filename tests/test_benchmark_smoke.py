"""The scale benchmark at a hundredth of its size: it runs end to end and its results are correct.

Times are printed by the benchmark, never asserted here (the budgets are the benchmark's business, on a
quiet machine); this test checks that every step ran, that every page ran for every viewer without an
exception and showed something, and that the dashboard and the pandas baseline agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_runs_at_a_hundredth_and_agrees_with_its_baseline(tmp_path: Path) -> None:
    results_file = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--scale", "0.01", "--workdir",
         str(tmp_path / "work"), "--json", str(results_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(results_file.read_text())
    generated = results["generate"]
    assert generated["interactions"] > 15_000 and generated["assignments"] > 0 and generated["review_events"] > 0
    # Every generated evaluation was imported.
    assert results["import"]["report"]["rows"] >= generated["interactions"]
    # The floor copies the same report: every row of it, and nothing else.
    assert results["import"]["copy"]["rows"] == generated["interactions"]
    for role in ("agent", "lead", "admin"):
        pages = results["pages"][role]
        leads_only = [] if role == "agent" else ["team", "metric heatmap"]  # an agent is not offered them
        assert list(pages["pages"]) == ["overview", "coaching list", "coaching session", "audit",
                                        "review: pending", "review: disputes", "review: resolved",
                                        "trends: scores", "trends: kore vs audit", "trends: coaching",
                                        "trends: disputes", *leads_only]
        assert all({"cold_ms", "warm_ms", "data_ms"} <= set(t) for t in pages["pages"].values())
        assert pages["evaluations"] == results["baseline"][role]["evaluations"] > 0
    # Scope shows in the numbers: an agent's evaluations < their lead's team's < everyone's.
    counts = [results["pages"][r]["evaluations"] for r in ("agent", "lead", "admin")]
    assert counts == sorted(counts) and counts[0] < counts[1] < counts[2] == generated["interactions"]
    assert "Slowest page" in done.stdout


@pytest.mark.parametrize("report", ["templates", "kore_report"])
def test_the_import_costs_benchmark_measures_every_part_on_a_small_report(
    report: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """On the template report and on Kore's own sample: every part measured (the benchmark exits when the
    staging SQL no longer has a column it leaves out), the bitmask sketch agreeing with the lists row by
    row, and every step seeing every row."""
    path = request.getfixturevalue(report)
    path = path / "ie-report.csv" if path.is_dir() else path
    results_file = tmp_path / "costs.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "import_costs.py"), str(path), "--json", str(results_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(results_file.read_text())
    assert [part["part"] for part in results["parts"]] == [
        "copy (the floor)", "read: every column as text", "stage: as imported",
        "stage: without the metric names lists", "stage: … and without the digest",
        "stage: … and without the metrics list", "bitmasks: stage", "bitmasks: write",
        "write: every staged column", "write: without the lists and digest", "write: the metrics list alone",
        "write: the metric names lists together"]
    assert results["sketch"] == "measured"
    rows = results["rows"]
    assert rows["copied"] == rows["staged"] == rows["staged without problems"] == rows["written"] > 0
    for part in results["parts"]:
        assert part["part"] in done.stdout

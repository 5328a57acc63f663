"""The load benchmark's report: saved results read back, and set-ups compared on one chart (no server)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import load_report  # noqa: E402 - the benchmarks folder is not a package

SAVED = ROOT / "benchmarks" / "results" / "load-2026-12-03.json"


def _saved(**changes: Any) -> dict[str, Any]:
    """The saved run, read afresh (each call its own copy), with ``changes`` to its top-level fields."""
    return json.loads(SAVED.read_text()) | changes


def _dash_domain(spec: dict[str, Any]) -> list[str] | None:
    for layer in spec["layer"]:
        for sub in layer.get("layer", [layer]):
            dash = sub.get("encoding", {}).get("strokeDash")
            if dash:
                return dash["scale"]["domain"]
    return None


def test_one_run_draws_one_set_up_without_a_dash_legend() -> None:
    spec = load_report.p95_chart([_saved()]).to_dict()
    assert _dash_domain(spec) is None
    assert spec["title"]["text"].endswith("(one process)")


def test_two_set_ups_are_told_apart_by_dashes_and_named_in_the_title() -> None:
    two = _saved(server="2 processes behind HAProxy")
    spec = load_report.p95_chart([_saved(), two]).to_dict()
    assert _dash_domain(spec) == ["one process", "2 processes behind HAProxy"]
    assert spec["title"]["text"].endswith("(one process and 2 processes behind HAProxy)")
    rows = load_report.chart_rows(two)
    assert {row["setup"] for row in rows} == {"2 processes behind HAProxy"}


def test_the_same_set_up_measured_twice_is_told_apart_by_its_date() -> None:
    spec = load_report.p95_chart([_saved(), _saved(when="2026-12-04 07:36:19 UTC")]).to_dict()
    assert _dash_domain(spec) == ["one process, 2026-12-03", "one process, 2026-12-04"]

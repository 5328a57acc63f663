"""The load benchmark in miniature: a few viewers for seconds against a real server on a small demo store.

It checks correctness only, never time (times are the benchmark's business, on a quiet machine): every
viewer signs in through the form, every page view is answered with ``script_finished`` and shows no
exception or error, each viewer's sidebar names that viewer on every page (scope), and an import that
lands meanwhile breaks no page. ``benchmarks/load.py --quick`` builds the store and starts
`streamlit run server.py` itself; no browser is needed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VIEWERS = 4

pytestmark = pytest.mark.slow


def test_a_few_viewers_get_every_page_answered_and_see_only_themselves(tmp_path: Path) -> None:
    results_file = tmp_path / "load.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--quick", "--viewers", str(VIEWERS),
         "--think", "0.5-1.5", "--duration", "6", "--import-during", "--workdir", str(tmp_path / "work"),
         "--json", str(results_file), "--chart", str(tmp_path / "p95.png"), "--fail-on-error"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    results = json.loads(results_file.read_text())
    assert set(results["machine"]) >= {"cores", "ram_gib", "python", "streamlit"}
    [level] = results["levels"]
    assert (level["viewers"], level["agents"], level["leads"]) == (VIEWERS, VIEWERS - 1, 1)

    assert level["checks"] == {"every_view_answered": True, "no_errors": True, "every_viewer_signed_in": True,
                               "no_session_lost": True, "every_viewer_saw_own_name": True}, level["errors"]
    assert level["errors"]["total"] == 0 and level["sign_in"]["failed"] == 0
    # Each viewer opened a first page and followed at least one link: the window outlasts any think time.
    assert len(level["per_viewer"]) == VIEWERS
    for viewer in level["per_viewer"]:
        assert viewer["views"] >= 2 and viewer["answered"] == viewer["views"] and viewer["errors"] == 0, viewer
    views = level["page_views"]
    assert views["views"] == views["answered"] > 0
    assert set(level["by_page"]) <= {"overview", "coaching", "review", "trends", "team", "heatmap"}
    # The idle server's warm-up (one agent, one lead, every page of theirs) had no error either.
    assert level["idle"]["agent"]["errors"] == level["idle"]["lead"]["errors"] == 0
    assert set(level["idle"]["agent"]["cold_ms"]) == {"overview", "coaching", "review", "trends"}
    assert set(level["idle"]["lead"]["cold_ms"]) == {"overview", "coaching", "review", "trends", "team", "heatmap"}
    # The import landed while the viewers worked, and no page failed meanwhile.
    imported = level["import"]
    assert "failed" not in imported and imported["rows"] > 0
    assert imported["errors_during"] == {}
    # The server was measured, and the chart drawn (a PNG, or its spec and an SVG without vl-convert).
    assert level["server"]["rss_peak_mb"] > 0 and level["server"]["cpu_cores_window"] is not None
    assert (tmp_path / "p95.png").exists() or (tmp_path / "p95.svg").exists()

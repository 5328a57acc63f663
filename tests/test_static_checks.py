"""The code's own checks: ruff's rule set over everything, mypy in strict mode over `coaching/` and `ui/`.

Both read their settings from pyproject.toml (`[tool.ruff.lint]`, `[tool.mypy]`), so an editor and this
test agree. A failure prints the tool's own report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_finds_nothing_in_the_domain_and_ui() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr

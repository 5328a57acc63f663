#!/usr/bin/env python3
"""Set up and run the project with nothing but Python: `python3 dev.py run`, `test` or `bench`.

* run   – creates .venv, installs the project, loads demo data when the store is empty, starts the dashboard.
* test  – creates .venv, installs the project and its test tools (and Debian's Chromium when the browser
          tests need it), then runs the whole test suite.
* bench – creates .venv, installs the project, runs the scale benchmark (benchmarks/scale.py).

Extra arguments go to `streamlit run`, to `pytest` or to the benchmark.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
CHROMIUM = Path("/usr/bin/chromium")


def _say(message: str) -> None:
    print(f"==> {message}", flush=True)


def _run(*command: str | Path, **kwargs: object) -> None:
    subprocess.run([str(c) for c in command], check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def ensure_environment() -> None:
    """A virtual environment with the project installed, reinstalled when pyproject.toml changes."""
    if not PYTHON.exists():
        _say("Creating the virtual environment in .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if not stamp.exists():
        _say("Installing the project and its test tools")
        _run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", "pip")
        _run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[test]")
        for old in VENV.glob(".installed-*"):
            old.unlink()
        stamp.touch()


def ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium; install it when it is missing and we may (root)."""
    if not (ROOT / "tests" / "browser").is_dir() or CHROMIUM.exists():
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        _say("Chromium is missing and cannot be installed here; browser tests will be skipped")
        return
    _say("Installing Debian's chromium for the browser tests")
    quiet = {"stdout": subprocess.DEVNULL}
    _run("apt-get", "update", "-qq", **quiet)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    packages = ("chromium", "fonts-dejavu-core")
    _run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages, env=env, **quiet)


def run(extra: list[str]) -> int:
    ensure_environment()
    _run(BIN / "coaching", "demo", "--if-empty")
    _say("Starting the dashboard")
    command = [str(BIN / "streamlit"), "run", str(ROOT / "server.py"), *extra]
    os.execv(command[0], command)
    return 0  # not reached


def test(extra: list[str]) -> int:
    ensure_environment()
    ensure_chromium()
    _say("Running the test suite")
    return subprocess.call([str(PYTHON), "-m", "pytest", *extra], cwd=ROOT)


def bench(extra: list[str]) -> int:
    ensure_environment()
    _say("Running the scale benchmark")
    return subprocess.call([str(PYTHON), str(ROOT / "benchmarks" / "scale.py"), *extra], cwd=ROOT)


def main() -> int:
    commands = {"run": run, "test": test, "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__.strip())
        return 2
    command, extra = sys.argv[1], sys.argv[2:]
    try:
        return commands[command](extra)
    except subprocess.CalledProcessError as error:
        print(f"dev.py: {' '.join(map(str, error.cmd))} failed with status {error.returncode}", file=sys.stderr)
        return error.returncode or 1


if __name__ == "__main__":
    sys.exit(main())

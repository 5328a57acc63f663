#!/usr/bin/env python3
"""Set up and run the project with nothing but Python: `python3 dev.py run`, `serve`, `test` or `bench`.

* run   – creates .venv, installs the project, loads demo data when the store is empty, starts the dashboard.
* serve – the same with several server processes behind HAProxy (installed from Debian's packages when
          missing): `python3 dev.py serve --processes 2 --port 8501` (see deploy/haproxy.cfg).
* test  – creates .venv, installs the project and its test tools (and Debian's Chromium when the browser
          tests need it), then runs the whole test suite.
* bench – creates .venv, installs the project, runs the scale benchmark (benchmarks/scale.py).

Extra arguments go to `streamlit run` (for `serve`, to each process), to `pytest` or to the benchmark.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
CHROMIUM = Path("/usr/bin/chromium")
HAPROXY = Path("/usr/sbin/haproxy")


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


def ensure_haproxy() -> bool:
    """HAProxy for `serve` and its test; installed with apt-get when missing and we may (root)."""
    if HAPROXY.exists():
        return True
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        _say("HAProxy is missing and cannot be installed here (apt-get install haproxy, as root)")
        return False
    _say("Installing Debian's haproxy for several server processes")
    quiet = {"stdout": subprocess.DEVNULL}
    _run("apt-get", "update", "-qq", **quiet)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run("apt-get", "install", "-y", "-qq", "--no-install-recommends", "haproxy", env=env, **quiet)
    return HAPROXY.exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def haproxy_config(address: str, port: int, backends: list[int]) -> str:
    """deploy/haproxy.cfg for one front address and the processes on ``backends`` (their ports)."""
    servers = "\n".join(f"    server p{n} 127.0.0.1:{backend} check cookie p{n}"
                        for n, backend in enumerate(backends, start=1))
    template = (ROOT / "deploy" / "haproxy.cfg").read_text(encoding="utf-8")
    return template.replace("{address}", address).replace("{port}", str(port)).replace("{servers}", servers)


def serve(extra: list[str]) -> int:
    """Several dashboard processes (each `streamlit run server.py` on its own loopback port) behind HAProxy,
    until interrupted; one stopping stops them all."""
    parser = argparse.ArgumentParser(prog="python3 dev.py serve")
    parser.add_argument("--processes", type=int, default=2, help="server processes (default 2)")
    parser.add_argument("--port", type=int, default=8501, help="HAProxy's port (default 8501)")
    parser.add_argument("--address", default="127.0.0.1", help="HAProxy's address (default 127.0.0.1)")
    options, streamlit_options = parser.parse_known_args(extra)
    if options.processes < 1:
        parser.error("--processes must be at least 1")
    ensure_environment()
    if not ensure_haproxy():
        return 1
    _run(BIN / "coaching", "demo", "--if-empty")
    backends = [_free_port() for _ in range(options.processes)]
    folder = Path(tempfile.mkdtemp(prefix="coaching-serve-"))
    children: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        for backend in backends:
            command = [str(BIN / "streamlit"), "run", str(ROOT / "server.py"), "--server.port", str(backend),
                       "--server.address", "127.0.0.1", "--server.headless", "true", *streamlit_options]
            children.append(subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL))
        deadline = time.monotonic() + 90
        while not all(_healthy(backend) for backend in backends):
            if any(child.poll() is not None for child in children) or time.monotonic() > deadline:
                _say("A server process did not start; stopping")
                return 1
            time.sleep(0.5)
        config = folder / "haproxy.cfg"
        config.write_text(haproxy_config(options.address, options.port, backends), encoding="utf-8")
        children.append(subprocess.Popen([str(HAPROXY), "-f", str(config), "-db"], stdin=subprocess.DEVNULL))
        _say(f"Serving on http://{options.address}:{options.port} with {options.processes} processes "
             f"(ports {', '.join(map(str, backends))}) behind HAProxy")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        _say("A process stopped; stopping the others")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        shutil.rmtree(folder, ignore_errors=True)


def test(extra: list[str]) -> int:
    ensure_environment()
    ensure_chromium()
    ensure_haproxy()
    _say("Running the test suite")
    return subprocess.call([str(PYTHON), "-m", "pytest", *extra], cwd=ROOT)


def bench(extra: list[str]) -> int:
    ensure_environment()
    _say("Running the scale benchmark")
    return subprocess.call([str(PYTHON), str(ROOT / "benchmarks" / "scale.py"), *extra], cwd=ROOT)


def main() -> int:
    commands = {"run": run, "serve": serve, "test": test, "bench": bench}
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

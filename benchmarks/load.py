"""Many viewers on one real server: page-view times, throughput, errors, CPU and memory, for N viewers.

    python3 benchmarks/load.py                          # full scale, N = 25 50 100 200 400, think 20–60 s
    python3 benchmarks/load.py --viewers 25,50 --duration 120 --json out.json --chart p95.png
    python3 benchmarks/load.py --quick                  # seconds: 5 viewers on a small demo store
    python3 benchmarks/load.py --url http://127.0.0.1:8501 --store data/coaching.duckdb --server-pid PID \
        --server-label "2 processes behind HAProxy"    # a running `python3 dev.py serve` (PID: dev.py's)
    python3 benchmarks/load.py --report benchmarks/results/load-2026-12-04.json --chart p95.png   # redraw
    python3 benchmarks/load.py --report one.json two.json --chart p95.png   # two set-ups on one chart

For each number of viewers N it starts `streamlit run server.py` on a free loopback port over the store
(or drives ``--url``), warms it up with one agent and one lead who open each of their pages (the idle
server's page times), then lets N viewers in, evenly spaced over the ramp (by default one every 0.3 s, and
over 30 s at least: a shift starting): 90% agents, 10% leads (roster Team Leads), all distinct accounts.
Each signs in through the sign-in form like a browser, opens a page, then follows sidebar links to pages
at random, waiting a think time between views (``benchmarks/load_client.py`` speaks Streamlit's websocket
protocol; no browser, no AppTest). Once all are in, the measured window of ``--duration`` seconds begins;
after it, views in flight finish.

Reported per N (``benchmarks/load_report.py``): p50/p95/p99 of the page views started in the window,
from ``rerun_script`` to ``script_finished``; page views per second; errors by kind (an exception or
error in the page, a failed run, a page without the viewer's own name, a dropped websocket, a timeout),
over the whole run; sign-in times; the server's CPU (in cores, from /proc, the process and its
children) and its peak memory (RSS sampled twice a second, and the kernel's high-water mark), memory per
session (the window's peak minus the warmed-up idle server, over N); the machine's load (other
processes' CPU, the load average) at the time. A table, ``--json``, and the curve of p95 against N
(``--chart``, a PNG through Altair with vl-convert, else its Vega-Lite spec and a plain SVG).

``--import-during`` imports a day of new evaluations (``coaching.importer.import_files``) a third of the way
into each window and reports the errors seen while it ran.

The full-scale store (5,000 agents, 365 days, about 2 million evaluations: the scale benchmark's size,
ending today so the pages' default dates hold data) is built with ``coaching demo`` into ``--workdir``
and reused there on the next run. ``--code DIR`` serves (and builds with) the dashboard in another folder,
such as a clean checkout of the commit to measure, so that edits in this working tree do not change the
server mid-run; the results name the commit. The benchmark sets the password of the accounts it signs in as (the
demo's password, through ``coaching.credentials.set_password``, with a hash made once with the
dashboard's own Argon2 parameters, so a sign-in costs the server exactly what a real one does).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT)]

import load_report  # noqa: E402 - the benchmark's own modules, beside this file
from load_client import Account, PageView, Viewer, ViewError  # noqa: E402

FULL_AGENTS = 5_000
DAYS = 365
DEFAULT_VIEWERS = (25, 50, 100, 200, 400)
LEAD_SHARE = 0.10
SERVER_START_TIMEOUT = 120.0
#: How often the server's memory and CPU are read.
SAMPLE_SECONDS = 0.5
RAMP_PER_VIEWER = 0.3
MIN_RAMP = 30.0
#: Tries to reconnect a dropped websocket before the viewer's session counts as lost.
RECONNECT_TRIES = 3


@dataclass
class Settings:
    viewers: list[int]
    think: tuple[float, float]
    #: Seconds over which the viewers arrive; None: ``RAMP_PER_VIEWER`` each, ``MIN_RAMP`` at least.
    ramp: float | None
    duration: float
    view_timeout: float
    import_during: bool
    seed: int
    idle_passes: int = 3
    #: The dashboard served (and whose ``coaching`` builds the store and sets the passwords).
    code: Path = ROOT


@dataclass
class Level:
    """What one run with N viewers recorded; :mod:`load_report` turns it into figures."""

    viewers: int
    agents: int
    leads: int
    views: list[dict[str, Any]] = field(default_factory=list)
    sign_ins: list[dict[str, Any]] = field(default_factory=list)
    idle: list[dict[str, Any]] = field(default_factory=list)
    per_viewer: list[dict[str, Any]] = field(default_factory=list)
    window: tuple[float, float] = (0.0, 0.0)
    ramp: float = 0.0
    ramp_start: float = 0.0
    ramp_end: float = 0.0
    end: float = 0.0
    server: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    driver_cpu_s: float = 0.0
    import_run: dict[str, Any] | None = None
    server_log_errors: list[str] = field(default_factory=list)


# -- the machine and processes, from /proc ---------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    import streamlit

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "ram_gib": round(memory, 1), "cpu": model,
            "os": f"{platform.system()} {platform.release()} {platform.machine()}",
            "python": platform.python_version(), "streamlit": streamlit.__version__}


def code_facts(code: Path) -> dict[str, Any]:
    """Which dashboard was measured: the folder, its commit, and its uncommitted changes that a server runs."""

    def git(*args: str) -> str | None:
        done = subprocess.run(["git", "-C", str(code), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else None

    changed = git("status", "--porcelain", "--", "server.py", "app.py", "pages", "ui", "coaching", ".streamlit")
    return {"path": str(code), "commit": git("rev-parse", "HEAD"),
            "uncommitted": [line[3:] for line in changed.splitlines()] if changed else []}


def load_average() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def machine_cpu() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far (all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def process_usage(pid: int) -> tuple[float, float, float]:
    """CPU seconds, RSS (MB) and the main process's peak RSS (MB) of ``pid`` and its children."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu = rss = hwm = 0.0
    for member in _tree(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        cpu += sum(int(x) for x in stat[11:15]) / tick  # utime, stime, cutime, cstime
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:") and member == pid:
                hwm = int(line.split()[1]) / 1024
    return cpu, rss, hwm


class Monitor:
    """Samples the server's memory and CPU while a run goes on."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float, float]] = []  # (seconds since origin, cpu s, rss MB)
        self.hwm = 0.0
        self._task: asyncio.Task[None] | None = None

    def read(self, origin: float) -> tuple[float, float, float] | None:
        if self.pid is None:
            return None
        cpu, rss, hwm = process_usage(self.pid)
        self.hwm = max(self.hwm, hwm)
        sample = (time.perf_counter() - origin, cpu, rss)
        self.samples.append(sample)
        return sample

    def start(self, origin: float) -> None:
        async def sample() -> None:
            while True:
                self.read(origin)
                await asyncio.sleep(SAMPLE_SECONDS)

        self._task = asyncio.create_task(sample())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def cpu_between(self, start: float, end: float) -> float | None:
        """Cores the server kept busy between two moments (CPU seconds per second)."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
            return None
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])

    def peak_rss(self, start: float = 0.0, end: float = float("inf")) -> float | None:
        inside = [s[2] for s in self.samples if start <= s[0] <= end]
        return max(inside) if inside else None


# -- the store and the accounts ---------------------------------------------------------------------


def build_store(workdir: Path, agents: int, days: int, code: Path = ROOT) -> Path:
    """A demo store of ``agents`` agents over ``days`` days ending today, in ``workdir`` (reused when
    one of that size is already there)."""
    db, marker = workdir / "coaching.duckdb", workdir / "load-store.json"
    wanted = {"agents": agents, "days": days}
    if db.exists() and marker.exists() and {k: v for k, v in json.loads(marker.read_text()).items()
                                            if k in wanted} == wanted:
        print(f"Reusing the store in {workdir} ({agents:,} agents, {days} days)")
        return db
    if workdir.exists():
        for leftover in workdir.glob("coaching.*"):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"Building a store of {agents:,} agents over {days} days in {workdir} (coaching demo) ...", flush=True)
    started = time.perf_counter()
    end = date.today()
    done = subprocess.run([sys.executable, "-m", "coaching.cli", "demo", "--db", str(db), "--out",
                           str(workdir / "exports"), "--agents", str(agents), "--days", str(days), "--end",
                           end.isoformat(), "--quiet"], cwd=code, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"coaching demo failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    marker.write_text(json.dumps({**wanted, "end": end.isoformat(), "seconds": time.perf_counter() - started}))
    print(f"  built in {time.perf_counter() - started:.0f} s")
    return db


def store_facts(db: Path) -> dict[str, Any]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        people = dict(con.execute("SELECT role, count(*) FROM people GROUP BY role").fetchall())
        evaluations, first, last = con.execute(
            "SELECT count(*), min(start_time)::DATE, max(start_time)::DATE FROM evaluations").fetchone() \
            or (0, None, None)
    return {"path": str(db), "people": people, "evaluations": evaluations, "first_day": str(first),
            "last_day": str(last), "mb": round(db.stat().st_size / 2**20)}


def choose_accounts(db: Path, viewers: int, seed: int) -> tuple[list[Account], list[Account], list[Account]]:
    """Agents and leads for the largest run, and the warm-up's agent and lead; every email distinct.

    Agents are roster agents with the Coaching Assignments permission (so their four pages show); leads
    are the supervisors who are some agent's Team Lead. Runs with fewer viewers take the first of each.
    """
    import duckdb

    from coaching.demo import DEMO_PASSWORD

    with duckdb.connect(str(db), read_only=True) as con:
        agents = con.execute(
            "SELECT email, name FROM people WHERE role = 'Agent' AND on_roster AND email IS NOT NULL"
            " AND list_contains(permissions, 'Coaching Assignments') ORDER BY email").fetchall()
        leads = con.execute(
            "SELECT email, name FROM people WHERE role = 'Supervisor' AND on_roster AND email IN"
            " (SELECT team_lead_email FROM people WHERE role = 'Agent') ORDER BY email").fetchall()
    rng = random.Random(seed)
    rng.shuffle(agents)
    rng.shuffle(leads)
    n_leads, n_agents = split(viewers)
    if len(agents) < n_agents + 1 or len(leads) < n_leads + 1:
        sys.exit(f"the store has {len(agents)} agents and {len(leads)} leads with pages to open; "
                 f"{viewers} viewers and the warm-up need {n_agents + 1} and {n_leads + 1}")

    def account(row: tuple[str, str], role: str) -> Account:
        return Account(email=row[0], password=DEMO_PASSWORD, name=row[1], role=role)

    warm = [account(agents[-1], "agent"), account(leads[-1], "lead")]
    return ([account(r, "agent") for r in agents[:n_agents]], [account(r, "lead") for r in leads[:n_leads]], warm)


def split(viewers: int) -> tuple[int, int]:
    """Leads and agents among ``viewers``: a tenth leads (at least one when there are two or more)."""
    leads = round(viewers * LEAD_SHARE)
    if viewers >= 2:
        leads = max(1, leads)
    return leads, viewers - leads


def set_passwords(db: Path, accounts: list[Account]) -> float:
    """Give every account its password, through the one door for passwords; returns seconds taken.

    ``credentials.set_password`` hashes each password with Argon2 (a second or more apiece here). All
    accounts get the same password, so one hash, made once with the dashboard's own parameters, serves
    them all: signing in then costs the server what a real sign-in costs (no weaker hash to upgrade).
    """
    from coaching import credentials, store

    real = credentials.HASHER
    cache: dict[str, str] = {}

    class OneHashPerPassword:
        def hash(self, password: str) -> str:
            if password not in cache:
                cache[password] = real.hash(password)
            return cache[password]

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    started = time.perf_counter()
    credentials.HASHER = OneHashPerPassword()  # type: ignore[assignment]
    try:
        for account in accounts:
            credentials.set_password(db, account.email, account.password)
    finally:
        credentials.HASHER = real
        store.close_all()
    return time.perf_counter() - started


def new_exports(db: Path, folder: Path, number: int) -> Path:
    """An evaluation report of one new day for the store's agents: the demo's report for the day after
    the store's last, with conversation ids of its own (so every row is new)."""
    import duckdb

    from coaching import demo

    with duckdb.connect(str(db), read_only=True) as con:
        agents, last = con.execute(
            "SELECT (SELECT count(*) FROM people WHERE role = 'Agent' AND on_roster),"
            " (SELECT max(start_time)::DATE FROM evaluations)").fetchone() or (0, None)
    day = (last or date.today()) + timedelta(days=number)
    out = folder / f"import-{number}"
    if out.exists():
        shutil.rmtree(out)
    demo.generate(demo.DemoSpec(agents=agents, days=1, seed=1000 + number, end=day), out)
    report = folder / f"new-evaluations-{number}.csv"
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * REPLACE ('load{number}-' || \"ConversationID\" AS \"ConversationID\")"
            f" FROM read_csv(?, all_varchar = true, header = true)) TO '{_sql_path(report)}' (HEADER)",
            [str(out / "ie-report.csv")])
    shutil.rmtree(out)
    return report


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def child_import(db: str, report: str) -> None:
    """(In a child process.) Import ``report`` into ``db`` and print what it took as JSON."""
    import resource

    from coaching.importer import import_files

    started = time.perf_counter()
    summary = import_files(Path(db), [Path(report)])
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu_s": time.process_time(),
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rows": sum(kind.rows for kind in summary.kinds.values())}))


# -- the server ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Server:
    """`streamlit run server.py` on a free loopback port over a store, as the dashboard is shipped."""

    def __init__(self, db: Path, log: Path, code: Path = ROOT) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        command = [sys.executable, "-m", "streamlit", "run", str(code / "server.py"), "--server.port", str(self.port),
                   "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats",
                   "false", "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=code, env=dict(os.environ, COACHING_DB=str(db)), stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not healthy(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"the server did not start; its log:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.25)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def errors_logged(self) -> list[str]:
        """Lines of the server's log that report an error (a traceback's last line, or ERROR)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        found = []
        for i, line in enumerate(lines):
            if " ERROR " in line or line.startswith("Traceback"):
                tail = next((x for x in lines[i + 1:] if x and not x.startswith((" ", "Traceback"))), "")
                found.append(f"{line.strip()[:200]} {tail.strip()[:200]}".strip())
        return found


# -- a run with N viewers -----------------------------------------------------------------------------


def _record(view: PageView, index: int, account: Account) -> dict[str, Any]:
    return {"viewer": index, "role": account.role, **asdict(view)}


async def idle_pages(url: str, accounts: list[Account], origin: float, view_timeout: float,
                     passes: int) -> list[dict[str, Any]]:
    """The warm-up: one agent and one lead open each of their pages once (cold), then ``passes`` times more
    (warm), one view at a time on an otherwise idle server."""
    views = []
    for account in accounts:
        viewer = Viewer(url, account, view_timeout=view_timeout, clock=origin)
        try:
            await viewer.sign_in("/")
            first = await viewer.open("")
            views.append({**_record(first, -1, account), "pass": 0})
            for run in range(1 + passes):
                for path in account.pages:
                    if run == 0 and path == "":
                        continue
                    view = await (viewer.follow(path) if viewer.ws else viewer.open(path))
                    views.append({**_record(view, -1, account), "pass": run})
        except (ViewError, OSError, TimeoutError) as error:
            kind, detail = (error.kind, error.detail) if isinstance(error, ViewError) else (
                "connect", f"{type(error).__name__} {error}".strip())
            views.append({"viewer": -1, "role": account.role, "page": "warm-up", "error": kind, "detail": detail,
                          "ms": None, "pass": 0})
        finally:
            await viewer.close()
    return views


async def run_level(url: str, n: int, agents: list[Account], leads: list[Account], warm: list[Account],
                    settings: Settings, monitor: Monitor, db: Path | None, workdir: Path, number: int) -> Level:
    n_leads, n_agents = split(n)
    chosen = agents[:n_agents] + leads[:n_leads]
    random.Random(settings.seed + n).shuffle(chosen)  # leads arrive among the agents
    level = Level(viewers=n, agents=n_agents, leads=n_leads)
    origin = time.perf_counter()
    monitor.start(origin)
    level.idle = await idle_pages(url, warm, origin, settings.view_timeout, settings.idle_passes)
    await asyncio.sleep(1.0)
    idle_sample = monitor.read(origin)
    level.server["rss_idle_mb"] = idle_sample[2] if idle_sample else None

    rng = random.Random(settings.seed * 7919 + n)
    ramp = settings.ramp if settings.ramp is not None else max(MIN_RAMP, RAMP_PER_VIEWER * n)
    level.ramp = ramp
    ramp_start = level.ramp_start = time.perf_counter() - origin
    ready = 0
    all_in = asyncio.Event()
    window: dict[str, float] = {}
    busy_start, total_start = machine_cpu()
    cpu_start = time.process_time()
    level.machine["load_average_start"] = load_average()

    def arrived() -> None:
        nonlocal ready
        ready += 1
        if ready == n:
            all_in.set()

    async def browse(index: int, account: Account, delay: float, seed: int) -> None:
        pick = random.Random(seed)
        await asyncio.sleep(delay)
        viewer = Viewer(url, account, view_timeout=settings.view_timeout, clock=origin)
        first = pick.choice(account.pages)
        summary = {"viewer": index, "role": account.role, "views": 0, "answered": 0, "errors": 0,
                   "lost": False, "signed_in": False}
        level.per_viewer.append(summary)

        def note(view: PageView) -> None:
            level.views.append(_record(view, index, account))
            summary["views"] += 1
            summary["answered"] += view.ms is not None
            summary["errors"] += view.error is not None

        counted = False
        try:
            started = viewer.now()
            try:
                took = await viewer.sign_in("/" + first)
            except (ViewError, OSError, TimeoutError) as error:
                kind = error.kind if isinstance(error, ViewError) else type(error).__name__
                level.sign_ins.append({"viewer": index, "started": started, "ms": None, "error": kind})
                summary["lost"] = True
                return
            level.sign_ins.append({"viewer": index, "started": started, "ms": took, "error": None})
            summary["signed_in"] = True
            view = await open_page(viewer, first, resume=False)
            note(view)
            counted = True
            arrived()
            failures = 0 if view.error is None else 1
            while True:
                think = pick.uniform(*settings.think)
                if "end" in window:  # no view starts after the window: nobody waits out a think time for it
                    think = min(think, window["end"] - viewer.now())
                await asyncio.sleep(max(0.0, think))
                if "end" in window and viewer.now() >= window["end"]:
                    break
                path = pick.choice([p for p in account.pages if p != viewer.current])
                if viewer.ws is None:  # dropped: reconnect to the same session; timed out: reload
                    view = await open_page(viewer, path, resume=view.error == "disconnect")
                else:
                    view = await viewer.follow(path)
                note(view)
                failures = failures + 1 if view.error in ("disconnect", "connect", "page load") else 0
                if failures >= RECONNECT_TRIES:
                    summary["lost"] = True
                    break
        finally:
            if not counted:
                arrived()
            await viewer.close()

    async def open_page(viewer: Viewer, path: str, *, resume: bool) -> PageView:
        try:
            return await viewer.open(path, resume=resume)
        except (ViewError, OSError, TimeoutError) as error:
            kind, detail = (error.kind, error.detail) if isinstance(error, ViewError) else (
                "connect", f"{type(error).__name__} {error}".strip())
            return PageView(page=path or "overview", started=viewer.now(), error=kind, detail=detail[:200], load=True)

    tasks = [asyncio.create_task(browse(i, account, i * ramp / n + rng.uniform(0, ramp / n / 2),
                                        rng.randrange(2**32)))
             for i, account in enumerate(chosen)]
    # The window starts once everyone is in (signed in and on a first page), not before the ramp's end.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_in.wait(), ramp + 2 * settings.view_timeout + 60)
    now = time.perf_counter() - origin
    window["start"] = max(now, ramp_start + ramp)
    window["end"] = window["start"] + settings.duration
    level.ramp_end = now
    await asyncio.sleep(window["start"] - now)
    busy_ramp, total_ramp = machine_cpu()
    cpu_ramp = time.process_time()
    importer = None
    if settings.import_during and db is not None:
        importer = asyncio.create_task(import_while_loaded(db, workdir, number, origin,
                                                           window["start"] + settings.duration / 3, settings.code))
    await asyncio.sleep(max(0.0, window["end"] - (time.perf_counter() - origin)))
    busy_end, total_end = machine_cpu()
    cpu_end = time.process_time()
    level.machine["load_average_end"] = load_average()
    await asyncio.gather(*tasks)
    if importer is not None:
        level.import_run = await importer
    level.end = time.perf_counter() - origin
    await monitor.stop()
    monitor.read(origin)
    level.window = (window["start"], window["end"])
    cores = os.cpu_count() or 1
    ramp_s = max(1e-9, level.ramp_end - ramp_start)
    level.machine.update({
        "busy_cores_ramp": (busy_ramp - busy_start) / max(1e-9, total_ramp - total_start) * cores,
        "busy_cores_window": (busy_end - busy_ramp) / max(1e-9, total_end - total_ramp) * cores,
    })
    level.driver_cpu_s = cpu_end - cpu_start
    level.server.update({
        "cpu_cores_ramp": monitor.cpu_between(ramp_start, level.ramp_end),
        "cpu_cores_window": monitor.cpu_between(*level.window),
        "rss_peak_mb": monitor.peak_rss(),
        "rss_window_peak_mb": monitor.peak_rss(*level.window),
        "hwm_mb": monitor.hwm or None,
        "driver_cores_ramp": (cpu_ramp - cpu_start) / max(ramp_s, window["start"] - ramp_start),
        "driver_cores_window": (cpu_end - cpu_ramp) / max(1e-9, settings.duration),
    })
    return level


async def import_while_loaded(db: Path, workdir: Path, number: int, origin: float, at: float,
                              code: Path) -> dict[str, Any]:
    """Import a new day of evaluations at ``at`` (seconds since ``origin``) in a child process."""
    report = await asyncio.to_thread(new_exports, db, workdir, number)
    await asyncio.sleep(max(0.0, at - (time.perf_counter() - origin)))
    started = time.perf_counter() - origin
    child = await asyncio.create_subprocess_exec(sys.executable, __file__, "--code", str(code), "--child-import",
                                                 str(db), str(report), cwd=code, stdout=asyncio.subprocess.PIPE,
                                                 stderr=asyncio.subprocess.PIPE)
    out, err = await child.communicate()
    finished = time.perf_counter() - origin
    result: dict[str, Any] = {"started": started, "finished": finished, "report": report.name}
    if child.returncode != 0:
        result["failed"] = err.decode(errors="replace")[-2000:]
    else:
        result.update(json.loads(out.decode().strip().splitlines()[-1]))
    return result


# -- the command line -----------------------------------------------------------------------------------


def parse_think(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    pair = (float(low), float(high or low))
    if not 0 <= pair[0] <= pair[1]:
        raise argparse.ArgumentTypeError("a think time is SECONDS or LOW-HIGH, LOW <= HIGH")
    return pair


def parse_viewers(text: str) -> list[int]:
    counts = [int(x) for x in text.split(",") if x.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("viewers are positive numbers separated by commas: 25,50,100")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--viewers", type=parse_viewers, help="numbers of viewers, one run each "
                        f"(default {','.join(map(str, DEFAULT_VIEWERS))}; --quick: 5)")
    parser.add_argument("--think", type=parse_think, help="seconds between a viewer's page views, LOW-HIGH, "
                        "drawn uniformly (default 20-60; --quick: 1-3)")
    parser.add_argument("--duration", type=float, help="seconds measured once every viewer is in "
                        "(default 180; --quick: 8)")
    parser.add_argument("--ramp", type=float, help="seconds over which the viewers arrive and sign in "
                        f"(default {RAMP_PER_VIEWER:g} s per viewer and {MIN_RAMP:g} s at least; --quick: 2)")
    parser.add_argument("--view-timeout", type=float, default=120.0,
                        help="seconds a page view may take before it counts as timed out (default 120)")
    parser.add_argument("--quick", action="store_true", help="a seconds-long run on a small demo store")
    parser.add_argument("--store", type=Path, help="the store to serve (default: build one in --workdir)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="the store to build, as a share of 5,000 agents over 365 days (default 1)")
    parser.add_argument("--workdir", type=Path, help="where to build the store and keep the server logs "
                        "(default: a folder in the temporary directory, reused by the next run)")
    parser.add_argument("--url", help="drive this running server instead of starting one (needs --store: the "
                        "accounts are chosen and given passwords there)")
    parser.add_argument("--server-pid", type=int, help="with --url: the server's process, for its CPU and memory")
    parser.add_argument("--server-label", help="with --url: what serves it, for the table and the chart's legend "
                        "(default: the URL), e.g. '2 processes behind HAProxy'")
    parser.add_argument("--import-during", action="store_true",
                        help="import a day of new evaluations a third of the way into each measured window")
    parser.add_argument("--seed", type=int, default=7, help="chooses the accounts, pages and think times")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--chart", type=Path, help="draw p95 against the number of viewers here (.png)")
    parser.add_argument("--fail-on-error", action="store_true",
                        help="exit with status 1 when any page view or sign-in failed")
    parser.add_argument("--code", type=Path, help="serve the dashboard in this folder, a checkout of the commit "
                        "to measure (default: this working tree); its `coaching` also builds the store")
    parser.add_argument("--report", type=Path, metavar="JSON", nargs="+",
                        help="run nothing: print the tables of results saved with --json (and draw --chart: "
                        "several files, one set-up each, are drawn side by side)")
    parser.add_argument("--child-import", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report:
        saved = [json.loads(path.read_text()) for path in args.report]
        for results in saved:
            load_report.print_table(results)
        for written in load_report.draw_p95(saved, args.chart) if args.chart else []:
            print(f"Chart: {written}")
        return 0
    code = args.code.resolve() if args.code else ROOT
    sys.path.insert(0, str(code))
    if args.child_import:
        child_import(*args.child_import)
        return 0
    if args.url and not args.store:
        parser.error("--url needs --store (the store that server reads)")

    quick = args.quick
    settings = Settings(
        viewers=args.viewers or ([5] if quick else list(DEFAULT_VIEWERS)),
        think=args.think or ((1.0, 3.0) if quick else (20.0, 60.0)),
        ramp=args.ramp if args.ramp is not None else (2.0 if quick else None),
        duration=args.duration if args.duration is not None else (8.0 if quick else 180.0),
        view_timeout=args.view_timeout, import_during=args.import_during, seed=args.seed,
        idle_passes=1 if quick else 3, code=code)
    agents_wanted, days = (24, 60) if quick else (max(24, round(FULL_AGENTS * args.scale)), DAYS)
    workdir = args.workdir or Path(tempfile.gettempdir()) / (
        "coaching-load-quick" if quick else f"coaching-load-{agents_wanted}")
    workdir.mkdir(parents=True, exist_ok=True)
    db = args.store.resolve() if args.store else build_store(workdir / "store", agents_wanted, days, code)

    machine = machine_facts()
    facts = store_facts(db)
    measured = code_facts(code)
    print(f"Machine: {load_report.machine_line(machine)}; load average {load_average()}")
    print(f"Dashboard: {code} at commit {(measured['commit'] or 'unknown')[:12]}"
          + (f", with uncommitted changes in {', '.join(measured['uncommitted'])}" if measured["uncommitted"] else ""))
    print(f"Store: {facts['evaluations']:,} evaluations, {facts['people'].get('Agent', 0):,} agents, "
          f"{facts['first_day']} to {facts['last_day']}, {facts['mb']:,} MB")
    agents, leads, warm = choose_accounts(db, max(settings.viewers), settings.seed)
    took = set_passwords(db, agents + leads + warm)
    print(f"Passwords set for {len(agents) + len(leads) + len(warm)} accounts in {took:.0f} s")
    ramp = (f"{settings.ramp:g} s" if settings.ramp is not None
            else f"{RAMP_PER_VIEWER:g} s per viewer, {MIN_RAMP:g} s at least")
    print(f"Think time {settings.think[0]:g}-{settings.think[1]:g} s, ramp {ramp}, "
          f"measured {settings.duration:g} s per run\n", flush=True)

    levels = []
    for number, n in enumerate(settings.viewers, start=1):
        server = None if args.url else Server(db, workdir / f"server-{n}.log", code)
        url = args.url.rstrip("/") if args.url else server.url  # type: ignore[union-attr]
        pid = server.pid if server else args.server_pid
        print(f"{n} viewers ({split(n)[1]} agents and {split(n)[0]} lead(s)) against {url} ...", flush=True)
        try:
            level = asyncio.run(run_level(url, n, agents, leads, warm, settings, Monitor(pid), db, workdir, number))
        finally:
            if server:
                server.stop()
        if server:
            level.server_log_errors = server.errors_logged()
        summary = load_report.summarize(level, settings)
        levels.append(summary)
        print("  " + load_report.one_line(summary), flush=True)

    results = {"benchmark": "load", "machine": machine, "code": measured, "store": facts,
               "settings": asdict(settings),
               "server": (args.server_label or args.url) if args.url else "streamlit run server.py (one process)",
               "url": args.url, "levels": levels,
               "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    load_report.print_table(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"Results: {args.json}")
    if args.chart:
        for written in load_report.draw_p95([results], args.chart):
            print(f"Chart: {written}")
    failed = any(level["errors"]["total"] or level["sign_in"]["failed"] for level in levels)
    return 1 if args.fail_on_error and failed else 0


if __name__ == "__main__":
    sys.exit(main())

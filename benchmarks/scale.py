"""The dashboard at contact-center scale: generate, import, and time every page, beside a baseline.

    python3 benchmarks/scale.py                # full scale: 5,000 agents, a year (about 2 million evaluations)
    python3 benchmarks/scale.py --scale 0.01   # a hundredth (what CI runs as a smoke test)

It generates the demo with `coaching demo` (5,000 agents × scale, 365 days), then measures:

* **import**: the Interaction Evaluation report alone (rows per second, peak memory of the importing
  process), then the other exports; beside it, the floor: DuckDB copying the same file into one table
  with its own type detection and no checks at all, which no checked import can beat;
* **pages**: every page's script, through Streamlit's AppTest, for an agent, for a lead (a team of about
  12 agents) and for an admin over everyone: the first run on a fresh cache (cold) and the median of
  warm runs, with the page process's peak memory;
* **baseline**: the same figures the way a typical Streamlit app computes them (pandas over the CSV
  exports, the DataFrames cached in memory): the cold load and the warm computation.

Each measurement runs in a child process of its own, so its peak memory is its own. The results print as
a table with the machine they ran on; `--json FILE` also writes them. Correctness is checked as it goes
(every page runs without an exception and shows data; the baseline and the dashboard agree on each
viewer's number of evaluations), and any failure ends the run with exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL_AGENTS = 5_000
DAYS = 365
#: The day the benchmark's data ends (fixed, so runs compare).
END = date(2026, 11, 1)
VIEWERS = {"agent": "agent@example.com", "lead": "lead@example.com", "admin": "admin@example.com"}
#: Every page's script, as a viewer opens it (page, query, the view to open on pages with tabs). A query
#: named by a string is the viewer's own: their newest coaching session, the audit newest on their
#: Disputes tab (see :func:`targets`).
PAGES = [
    ("overview", "pages/overview.py", {}, None),
    ("coaching list", "pages/coaching.py", {}, None),
    ("coaching session", "pages/coaching.py", "session", None),
    ("audit", "pages/audit.py", "audit", None),
    ("review: pending", "pages/review.py", {"tab": "pending"}, None),
    ("review: disputes", "pages/review.py", {"tab": "disputes"}, None),
    ("review: resolved", "pages/review.py", {"tab": "resolved"}, None),
    ("trends: scores", "pages/trends.py", {}, "Score trends"),
    ("trends: kore vs audit", "pages/trends.py", {}, "Kore vs audit"),
    ("trends: coaching", "pages/trends.py", {}, "Coaching"),
    ("trends: disputes", "pages/trends.py", {}, "Disputes"),
    ("team", "pages/team.py", {}, None),
    ("metric heatmap", "pages/heatmap.py", {}, None),
]
#: Pages an agent is not offered (a lead's and an admin's only).
LEAD_PAGES = {"team", "metric heatmap"}
WARM_RUNS = 5
#: The budgets of the issue: import rows per second and memory, page times and memory.
BUDGETS = {"import_rows_per_s": 200_000, "import_peak_mb": 2048, "page_warm_ms": 150, "page_cold_ms": 1000,
           "app_peak_mb": 1024}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, *args: str) -> dict:
    """Run this script in ``mode`` in a child process; its last stdout line is its JSON result."""
    done = subprocess.run([sys.executable, __file__, "--child", mode, *args], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{mode} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the children -------------------------------------------------------------------------------------


def run_generate(out: str, agents: str) -> dict:
    from coaching import demo

    started = time.perf_counter()
    files = demo.generate(demo.DemoSpec(agents=int(agents), days=DAYS, seed=7, end=END), Path(out))
    return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb(),
            "interactions": files.interactions, "assignments": files.assignments,
            "review_events": files.review_events}


def run_import(db: str, *paths: str) -> dict:
    from coaching.importer import import_files

    started = time.perf_counter()
    summary = import_files(Path(db), [Path(p) for p in paths])
    rows = sum(kind.rows for kind in summary.kinds.values())
    return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb(), "rows": rows}


def run_copy(report: str, work: str) -> dict:
    """The floor of an import on this machine: DuckDB's own CSV reader copies the report into one table
    of a new database file, with the types it detects and no checks, writing in parallel."""
    import duckdb

    db = Path(work) / "copy.duckdb"
    db.unlink(missing_ok=True)
    started, cpu = time.perf_counter(), time.process_time()
    with duckdb.connect(str(db)) as con:
        con.execute("SET preserve_insertion_order = false")
        rows = con.execute("CREATE TABLE report AS FROM read_csv(?)", [report]).fetchone()[0]
        con.execute("CHECKPOINT")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    db.unlink()
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak_mb(), "rows": rows}


def run_pages(db: str, role: str) -> dict:
    os.environ["COACHING_DB"] = db
    sys.path.insert(0, str(ROOT))
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest, app_test, local_script_runner

    from ui import cache, clock

    # The pages' today is the data's last day (as the data calls below have it), whatever the date.
    clock.now = lambda: datetime(END.year, END.month, END.day, 12)

    class NavigationOnly(PagesManager):
        uses_pages_directory = False

    script_runner.PagesManager = NavigationOnly
    # A server compiles each script once for all its sessions (one ScriptCache per runtime); AppTest
    # makes a new cache for every run, which would add compiling the scripts to every warm run.
    server_scripts = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: server_scripts

    def page_run(page: str, query: dict, view: str | None) -> tuple[AppTest, float]:
        """A new session opening ``page``: the page's own run, in milliseconds."""
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.user = {"is_logged_in": True, "email": VIEWERS[role]}
        at.run()
        at.switch_page(page)
        for key, value in query.items():
            at.query_params[key] = value
        if view:
            at.session_state["trend_view"] = view
        started = time.perf_counter()
        at.run()
        return at, (time.perf_counter() - started) * 1000

    from coaching import access, store
    from coaching.overview import store_overview

    with store.open_store(Path(db)).snapshot() as con:
        viewer = access.identify(con, VIEWERS[role])
        opened = targets(con, viewer)
    # A running server has imported its modules (Altair, pandas' writers …) long before a cache goes
    # cold: open every page once first, so a cold run is an empty cache, not a fresh process.
    pages = [(name, page, opened[query] if isinstance(query, str) else query, view)
             for name, page, query, view in PAGES if role != "agent" or name not in LEAD_PAGES]
    for _, page, query, view in pages:
        page_run(page, query, view)
    results = {}
    for name, page, query, view in pages:
        cache.clear()
        times = []
        for run in range(1 + WARM_RUNS):
            at, took = page_run(page, query, view)
            times.append(took)
            if at.exception:
                raise SystemExit(f"{name} as {role}: {[e.value for e in at.exception]}")
            if run == 0 and not (at.dataframe or at.get("vega_lite_chart") or at.metric or at.info
                                 or at.get("page_link")):
                raise SystemExit(f"{name} as {role}: the page shows nothing")
            if run == 0 and any("not found" in w.value for w in at.warning):
                raise SystemExit(f"{name} as {role}: {[w.value for w in at.warning]}")
        results[name] = {"cold_ms": times[0], "warm_ms": statistics.median(times[1:])}
    with store.open_store(Path(db)).snapshot() as con:
        for name, work in data_calls(viewer, opened).items():
            times = []
            for _ in range(WARM_RUNS):
                started = time.perf_counter()
                work(con)
                times.append((time.perf_counter() - started) * 1000)
            results[name]["data_ms"] = statistics.median(times)
        evaluations = store_overview(con, viewer).evaluations
    return {"pages": results, "peak_mb": peak_mb(), "evaluations": evaluations}


def targets(con, viewer) -> dict[str, dict[str, str]]:
    """The queries of the pages that show one thing: the viewer's newest coaching session, and the audit
    newest on their Disputes tab (else on any tab)."""
    from coaching.assignments import AssignmentFilters, assignment_page
    from coaching.review_tabs import review_tab

    newest = assignment_page(con, viewer, AssignmentFilters(), END, page_size=1).sessions.iloc[0]
    audits = review_tab(con, viewer, "disputes", limit=1)
    if audits.empty:
        audits = review_tab(con, viewer, "pending", limit=1)
    return {"session": {"assignment": newest["assignment_id"], "agent": newest["person_id"]},
            "audit": {"conversation": audits["conversation_id"].iloc[0]}}


def data_calls(viewer, opened: dict[str, dict[str, str]]) -> dict:
    """The `coaching/` calls behind each page (what a page asks the store for), by page name."""
    from coaching import settings
    from coaching.access import AGENT
    from coaching.assignments import (
        AssignmentFilters,
        assignment_detail,
        assignment_page,
        best_response_examples,
        list_choices,
        marked_interactions,
        session_status,
    )
    from coaching.audit import evaluation_detail
    from coaching.metric_heatmap import metric_heatmap
    from coaching.overview import store_overview
    from coaching.review_tabs import review_counts, review_tab
    from coaching.team import TeamFilters, team_choices, team_page
    from coaching.trends import (
        TrendFilters,
        audit_gap_by_agent,
        coaching_effect_report,
        coaching_monitor,
        dispute_trends,
        kore_vs_audit,
        metric_overturns,
        own_trends,
        score_trends,
    )

    window = TrendFilters.last_days(END)
    trend = own_trends if viewer.role == AGENT else score_trends
    options = settings.review_settings()
    team_window = TeamFilters.last_days(END)
    session, agent = opened["session"]["assignment"], opened["session"]["agent"]
    calls = {
        "overview": lambda con: store_overview(con, viewer),
        "coaching list": lambda con: (list_choices(con, viewer, END),
                                      assignment_page(con, viewer, AssignmentFilters(), END)),
        "coaching session": lambda con: (assignment_detail(con, viewer, session, agent),
                                         session_status(con, viewer, session, agent, options.accept_dispute),
                                         marked_interactions(con, viewer, session, agent, options.pass_score),
                                         best_response_examples(con, viewer, session, agent)),
        "audit": lambda con: evaluation_detail(con, viewer, opened["audit"]["conversation"],
                                               options.hide_auditor_details),
        "review: pending": lambda con: (review_counts(con, viewer), review_tab(con, viewer, "pending", limit=1000)),
        "review: disputes": lambda con: review_tab(con, viewer, "disputes", limit=1000),
        "review: resolved": lambda con: review_tab(con, viewer, "resolved", limit=1000),
        "trends: scores": lambda con: trend(con, viewer, window, "week"),
        "trends: kore vs audit": lambda con: (kore_vs_audit(con, viewer, window),
                                              audit_gap_by_agent(con, viewer, window)),
        "trends: coaching": lambda con: (coaching_monitor(con, viewer, END, window),
                                         coaching_effect_report(con, viewer, window)),
        "trends: disputes": lambda con: (dispute_trends(con, viewer, window, "week"),
                                         metric_overturns(con, viewer, window)),
        "team": lambda con: (team_choices(con, viewer),
                             team_page(con, viewer, team_window, pass_score=options.pass_score, today=END)),
        "metric heatmap": lambda con: (team_choices(con, viewer), metric_heatmap(con, viewer, team_window)),
    }
    if viewer.role == AGENT:  # an agent's Score Trends page is one view, their own trends, whatever is asked
        calls.update({name: calls["trends: scores"] for name in calls if name.startswith("trends: ")})
        for name in LEAD_PAGES:
            del calls[name]
    return calls


def run_baseline(exports: str, db: str, role: str) -> dict:
    """What a typical app does: read the CSV exports into pandas once (the cold load, then cached), and
    filter and group the cached DataFrames on every run (warm)."""
    import duckdb
    import pandas as pd

    with duckdb.connect(db, read_only=True) as con:
        name, email = con.execute("SELECT name, email FROM people WHERE email = ?",
                                        [VIEWERS[role]]).fetchone()
        team_names = {n for (n,) in con.execute("SELECT name FROM people WHERE team_lead_email = ?",
                                                [email]).fetchall()}
    started = time.perf_counter()
    report = pd.read_csv(Path(exports) / "ie-report.csv", low_memory=False)
    assignments = pd.read_csv(Path(exports) / "assignments.csv")
    events = pd.read_csv(Path(exports) / "review-events.csv")
    cold = (time.perf_counter() - started) * 1000
    report["Start Time"] = pd.to_datetime(report["Start Time"], utc=True, format="ISO8601")
    for column in ("Kore Evaluation Score", "Audit Score", "Sentiment Score"):
        report[column] = pd.to_numeric(report[column].astype(str).str.strip("'"), errors="coerce")

    def scope(frame: pd.DataFrame, column: str) -> pd.DataFrame:
        if role == "agent":
            return frame[frame[column] == name]
        if role == "lead":
            return frame[frame[column].isin(team_names)]
        return frame

    warm = {}
    for label, work in (
        ("overview", lambda: len(scope(report, "Scored Agent"))),
        ("coaching list", lambda: scope(assignments, "Agent").sort_values("Assigned Date", ascending=False)),
        ("trends: scores", lambda: scope(report, "Scored Agent").groupby(
            pd.Grouper(key="Start Time", freq="W"))[["Kore Evaluation Score", "Audit Score", "Sentiment Score"]]
            .agg(["mean", "count"])),
        ("review: resolved", lambda: events[events["ConversationID"].isin(
            scope(report, "Scored Agent")["ConversationID"])].groupby("ConversationID").size()),
    ):
        times = []
        for _ in range(WARM_RUNS):
            started = time.perf_counter()
            work()
            times.append((time.perf_counter() - started) * 1000)
        warm[label] = statistics.median(times)
    return {"cold_ms": cold, "warm_ms": warm, "peak_mb": peak_mb(),
            "evaluations": len(scope(report, "Scored Agent"))}


# -- the run ------------------------------------------------------------------------------------------


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {python}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="a share of the full scale (default 1)")
    parser.add_argument("--workdir", type=Path, help="where to write the data (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, *rest = args.child
        result = {"generate": run_generate, "import": run_import, "copy": run_copy, "pages": run_pages,
                  "baseline": run_baseline}[mode](*rest)
        print(json.dumps(result, default=str))
        return 0

    agents = max(24, round(FULL_AGENTS * args.scale))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="coaching-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    exports, db = work / "exports", work / "coaching.duckdb"
    db.unlink(missing_ok=True)
    print(f"Machine: {machine()}\nScale: {args.scale:g} ({agents:,} agents, {DAYS} days), data in {work}\n")

    results: dict = {"machine": machine(), "scale": args.scale, "agents": agents}
    generated = child("generate", str(exports), str(agents))
    results["generate"] = generated
    print(f"Generated {generated['interactions']:,} interactions, {generated['assignments']:,} assignments, "
          f"{generated['review_events']:,} review events in {generated['seconds']:.1f} s")

    report = child("import", str(db), str(exports / "roster.csv"), str(exports / "ie-report.csv"))
    others = sorted(p for p in exports.iterdir() if p.name not in ("roster.csv", "ie-report.csv"))
    rest = child("import", str(db), *map(str, others))
    copy = child("copy", str(exports / "ie-report.csv"), str(work))
    rate = generated["interactions"] / report["seconds"]
    copy_rate = copy["rows"] / copy["seconds"]
    results["import"] = {"report": report, "rest": rest, "rows_per_s": rate, "copy": copy,
                         "copy_rows_per_s": copy_rate}
    print(f"Import of the ie-report: {generated['interactions']:,} rows in {report['seconds']:.1f} s = "
          f"{rate:,.0f} rows/s (budget {BUDGETS['import_rows_per_s']:,}), peak {report['peak_mb']:,.0f} MB "
          f"(budget {BUDGETS['import_peak_mb']:,}); the other exports {rest['seconds']:.1f} s\n"
          f"Floor: DuckDB's own copy of the ie-report into one table, no checks: {copy['seconds']:.1f} s = "
          f"{copy_rate:,.0f} rows/s, peak {copy['peak_mb']:,.0f} MB; the import takes "
          f"{report['seconds'] / copy['seconds']:.1f}× as long\n")

    failures = []
    results["pages"], results["baseline"] = {}, {}
    print("Page script: one AppTest run of the page (Streamlit's work included; scripts compiled and modules\n"
          "imported once, as in a running server), cold on an empty cache, then the median of warm runs (which\n"
          "the page's cache serves). Data: the page's `coaching/` calls alone,\n"
          "uncached (median); baseline: the same figures from pandas DataFrames already loaded from the CSV\n"
          "exports (median); ratio = baseline / data.\n")
    header = (f"{'page':24} {'viewer':7} {'script cold':>11} {'script warm':>11} {'data ms':>8} "
              f"{'baseline ms':>11} {'ratio':>7}")
    print(header + "\n" + "-" * len(header))
    for role in VIEWERS:
        pages = child("pages", str(db), role)
        baseline = child("baseline", str(exports), str(db), role)
        results["pages"][role], results["baseline"][role] = pages, baseline
        if pages["evaluations"] != baseline["evaluations"]:
            failures.append(f"{role}: the dashboard counts {pages['evaluations']:,} evaluations, "
                            f"the baseline {baseline['evaluations']:,}")
        for name, timing in pages["pages"].items():
            base = baseline["warm_ms"].get(name)
            ratio = f"{base / timing['data_ms']:.1f}×" if base else ""
            print(f"{name:24} {role:7} {timing['cold_ms']:11.0f} {timing['warm_ms']:11.0f} {timing['data_ms']:8.1f} "
                  f"{(f'{base:.1f}' if base else '—'):>11} {ratio:>7}")
        print(f"{'(process peak, MB)':24} {role:7} {pages['peak_mb']:11.0f} {'':11} {'':8} "
              f"{baseline['peak_mb']:11.0f}   baseline cold load of the CSVs: {baseline['cold_ms']:,.0f} ms")
    worst_warm = max(t["warm_ms"] for p in results["pages"].values() for t in p["pages"].values())
    worst_cold = max(t["cold_ms"] for p in results["pages"].values() for t in p["pages"].values())
    worst_mb = max(p["peak_mb"] for p in results["pages"].values())
    print(f"\nSlowest page: warm {worst_warm:.0f} ms (budget {BUDGETS['page_warm_ms']}), cold {worst_cold:.0f} ms "
          f"(budget {BUDGETS['page_cold_ms']}); page process peak {worst_mb:,.0f} MB "
          f"(budget {BUDGETS['app_peak_mb']:,})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    if failures:
        print("\nIncorrect results:\n" + "\n".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The load benchmark's figures: from what one run recorded to percentiles, a table and the p95 curve.

Percentiles are nearest-rank over the page views **started in the measured window**; a view that was
never answered (a timeout, a dropped websocket, a failed connection) counts as slower than any answer,
so a p95 past the answered views reads "> timeout" rather than hiding the failures. Errors are counted
over the whole run (ramp and window), by kind.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

#: The issue's targets, drawn and printed beside the figures.
TARGET_P95_MS = 1_000
TARGET_IDLE_P50_MS = 100
TARGET_SERVER_MB = 1_536


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` in 0..1) of ``values``; ``inf`` stands for an unanswered view."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _times(views: list[dict[str, Any]]) -> list[float]:
    return [v["ms"] if v["ms"] is not None else math.inf for v in views]


def _spread(views: list[dict[str, Any]]) -> dict[str, Any]:
    times = _times(views)
    answered = [t for t in times if t != math.inf]
    return {"views": len(times), "answered": len(answered),
            "p50_ms": _finite(percentile(times, 0.50)), "p95_ms": _finite(percentile(times, 0.95)),
            "p99_ms": _finite(percentile(times, 0.99)), "max_ms": _finite(max(times) if times else None),
            "mean_answered_ms": sum(answered) / len(answered) if answered else None}


def _finite(value: float | None) -> float | str | None:
    """JSON has no infinity: an unanswered percentile is written "unanswered"."""
    if value is None or value != math.inf:
        return None if value is None else round(value, 1)
    return "unanswered"


def summarize(level: Any, settings: Any) -> dict[str, Any]:
    """The figures of one run with N viewers (``load.Level``) as a JSON-ready dict."""
    start, end = level.window
    views = level.views
    window = [v for v in views if start <= v["started"] <= end]
    errors = Counter(v["error"] for v in views if v["error"])
    errors.update(f"sign-in: {s['error']}" for s in level.sign_ins if s["error"])
    window_errors = Counter(v["error"] for v in window if v["error"])
    samples: dict[str, list[str]] = {}
    for v in views:
        if v["error"] and len(samples.setdefault(v["error"], [])) < 3 and v.get("detail"):
            samples[v["error"]].append(f"{v['page']}: {v['detail']}")
    by_page = {}
    for page in sorted({v["page"] for v in window}):
        spread = _spread([v for v in window if v["page"] == page])
        by_page[page] = {k: spread[k] for k in ("views", "p50_ms", "p95_ms")}
    signed = [s["ms"] for s in level.sign_ins if s["ms"] is not None]
    first_loads = [v for v in views if v.get("load") and v["started"] < start]
    server = dict(level.server)
    idle_mb, window_peak = server.get("rss_idle_mb"), server.get("rss_window_peak_mb")
    server["mb_per_session"] = (window_peak - idle_mb) / level.viewers if idle_mb and window_peak else None
    answered_per_s = sum(1 for v in window if v["ms"] is not None) / max(1e-9, end - start)
    cores = server.get("cpu_cores_window")
    # What a view costs the server: its CPU over the window, shared out over the views answered in it.
    server["cpu_ms_per_view"] = cores / answered_per_s * 1000 if cores is not None and answered_per_s else None
    machine = dict(level.machine)
    busy = machine.get("busy_cores_window")
    own = (server.get("cpu_cores_window") or 0) + (server.get("driver_cores_window") or 0)
    if level.import_run and "cpu_s" in level.import_run:  # the import's child process is ours too
        own += level.import_run["cpu_s"] / max(1e-9, end - start)
    machine["other_cores_window"] = max(0.0, busy - own) if busy is not None else None
    imported = None
    if level.import_run:
        run = level.import_run
        during = [v for v in views if v["ms"] is not None or v["error"]]
        overlap = [v for v in during if v["started"] <= run["finished"]
                   and v["started"] + (v["ms"] or settings.view_timeout * 1000) / 1000 >= run["started"]]
        imported = {**run, "views_during": len(overlap),
                    "errors_during": dict(Counter(v["error"] for v in overlap if v["error"])),
                    "p95_during_ms": _finite(percentile(_times(overlap), 0.95))}
    idle = {}
    for role in ("agent", "lead"):
        warm = [v for v in level.idle if v["role"] == role and v.get("pass", 0) >= 1 and v["ms"] is not None]
        cold = [v for v in level.idle if v["role"] == role and v.get("pass", 0) == 0]
        idle[role] = {"warm_p50_ms": _finite(percentile(_times(warm), 0.5)), "warm_views": len(warm),
                      "cold_ms": {v["page"]: _finite(v["ms"] if v["ms"] is not None else math.inf) for v in cold},
                      "errors": sum(1 for v in level.idle if v["role"] == role and v["error"])}
    per_viewer = level.per_viewer
    return {
        "viewers": level.viewers, "agents": level.agents, "leads": level.leads,
        "window_s": round(end - start, 1), "ramp_planned_s": level.ramp,
        "ramp_s": round(level.ramp_end - level.ramp_start, 1),
        "run_s": round(level.end, 1),
        "page_views": _spread(window),
        "page_views_all": len(views),
        "views_per_s": round(sum(1 for v in window if v["ms"] is not None) / max(1e-9, end - start), 2),
        "by_page": by_page,
        "errors": {"total": sum(errors.values()), "by_kind": dict(errors), "in_window": dict(window_errors),
                   "samples": samples, "server_log": level.server_log_errors[:20],
                   "server_log_count": len(level.server_log_errors)},
        "sign_in": {"signed_in": len(signed), "failed": sum(1 for s in level.sign_ins if s["error"]),
                    "p50_ms": _finite(percentile(signed, 0.5)), "p95_ms": _finite(percentile(signed, 0.95))},
        "first_page": {"views": len(first_loads), "p50_ms": _finite(percentile(_times(first_loads), 0.5)),
                       "p95_ms": _finite(percentile(_times(first_loads), 0.95))},
        "idle": idle,
        "server": {k: (round(v, 2) if isinstance(v, float) else v) for k, v in server.items()},
        "machine": {k: (round(v, 2) if isinstance(v, float) else v) for k, v in machine.items()},
        "driver_cpu_s": round(level.driver_cpu_s, 1),
        "import": imported,
        "checks": {
            "every_view_answered": all(v["ms"] is not None for v in views),
            "no_errors": not errors,
            "every_viewer_signed_in": all(p["signed_in"] for p in per_viewer) and len(per_viewer) == level.viewers,
            "no_session_lost": not any(p["lost"] for p in per_viewer),
            # A view without the viewer's own name in the sidebar is an error of kind "not this viewer".
            "every_viewer_saw_own_name": all(p["views"] >= 1 for p in per_viewer) and not errors.get("not this viewer"),
        },
        "per_viewer": per_viewer,
    }


# -- printing ---------------------------------------------------------------------------------------------


def machine_line(machine: dict[str, Any]) -> str:
    return (f"{machine['cores']} cores ({machine['cpu'] or 'unknown CPU'}), {machine['ram_gib']:g} GiB, "
            f"{machine['os']}, Python {machine['python']}, Streamlit {machine['streamlit']}")


def ms(value: Any) -> str:
    if value is None:
        return "—"
    if value == "unanswered":
        return "unanswered"
    return f"{value:,.0f} ms" if value < 10_000 else f"{value / 1000:,.1f} s"


def one_line(level: dict[str, Any]) -> str:
    views = level["page_views"]
    return (f"{views['views']} views in {level['window_s']:g} s ({level['views_per_s']:g}/s): "
            f"p50 {ms(views['p50_ms'])}, p95 {ms(views['p95_ms'])}, p99 {ms(views['p99_ms'])}; "
            f"{level['errors']['total']} errors; "
            f"server {_num(level['server'].get('cpu_cores_window'), 2)} cores, peak "
            f"{_num(level['server'].get('rss_peak_mb'))} MB")


def _num(value: Any, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _cpu_per_view(level: dict[str, Any]) -> float | None:
    """The server's CPU per answered view in ms (computed for results saved before it was recorded)."""
    server = level["server"]
    if server.get("cpu_ms_per_view") is not None:
        return float(server["cpu_ms_per_view"])
    cores = server.get("cpu_cores_window")
    return cores / level["views_per_s"] * 1000 if cores is not None and level["views_per_s"] else None


def _load(machine: dict[str, Any]) -> str:
    """The one-minute load average at the run's start and end."""
    start, end = machine.get("load_average_start") or [None], machine.get("load_average_end") or [None]
    return f"{_num(start[0], 1)} → {_num(end[0], 1)}"


def print_table(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    settings = results["settings"]
    think = settings["think"]
    table = Table(title=f"Page views against {setup_name(results)}, think time {think[0]:g}–{think[1]:g} s, measured "
                        f"{settings['duration']:g} s once all had arrived",
                  caption=f"{machine_line(results['machine'])}; {results['when']}")
    for column in ("viewers", "page views", "views/s", "p50", "p95", "p99", "errors", "sign-in p95",
                   "server CPU", "CPU/view", "peak RSS", "MB/session", "other load", "load avg"):
        table.add_column(column, justify="right")
    for level in results["levels"]:
        views, server, machine = level["page_views"], level["server"], level["machine"]
        table.add_row(
            f"{level['viewers']}", f"{views['views']:,}", f"{level['views_per_s']:g}", ms(views["p50_ms"]),
            ms(views["p95_ms"]), ms(views["p99_ms"]), f"{level['errors']['total']}", ms(level["sign_in"]["p95_ms"]),
            f"{_num(server.get('cpu_cores_window'), 2)} cores", ms(_cpu_per_view(level)),
            f"{_num(server.get('rss_peak_mb'))} MB", _num(server.get("mb_per_session"), 1),
            f"{_num(machine.get('other_cores_window'), 2)} cores", _load(machine))
    console = Console(width=180)
    console.print(table)
    for level in results["levels"]:
        idle = level["idle"]
        line = (f"{level['viewers']} viewers: arrived over {level['ramp_s']:g} s (planned {level['ramp_planned_s']:g}"
                f" s), signed in {level['sign_in']['signed_in']}/{level['viewers']}; idle server, warm p50 agent "
                f"{ms(idle['agent']['warm_p50_ms'])}, "
                f"lead {ms(idle['lead']['warm_p50_ms'])}; load average {level['machine'].get('load_average_start')}"
                f" → {level['machine'].get('load_average_end')}")
        if level["errors"]["total"]:
            line += f"; errors {level['errors']['by_kind']}"
        if level["import"]:
            run = level["import"]
            line += (f"; import of {run.get('rows', '?')} rows took {run['finished'] - run['started']:.1f} s, "
                     f"{run['views_during']} views during it, errors {run['errors_during'] or 'none'}"
                     + (" (THE IMPORT FAILED)" if "failed" in run else ""))
        console.print(line)


# -- the chart -------------------------------------------------------------------------------------------


def setup_name(results: dict[str, Any]) -> str:
    """What served the run, as the chart's legend and the table's title say it."""
    server = str(results.get("server") or "")
    return "one process" if server.startswith("streamlit run") else server


def chart_rows(results: dict[str, Any], setup: str | None = None) -> list[dict[str, Any]]:
    """The curve's data: one row per run and percentile, in seconds (an unanswered percentile is drawn at the
    view timeout, marked); ``setup`` names the run in the legend (default: what served it)."""
    timeout_s = results["settings"]["view_timeout"]
    setup = setup or setup_name(results)
    rows = []
    for level in results["levels"]:
        for name in ("p50", "p95"):
            value = level["page_views"][f"{name}_ms"]
            if value is None:
                continue
            unanswered = value == "unanswered"
            rows.append({"viewers": level["viewers"], "percentile": name, "setup": setup,
                         "seconds": timeout_s if unanswered else value / 1000, "unanswered": unanswered,
                         "errors": level["errors"]["total"]})
    return rows


def p95_chart(runs: list[dict[str, Any]]) -> Any:
    """p95 and p50 against the number of viewers, one pair of lines per run's set-up (one process, several
    behind a proxy: a solid line for the first, dashed for the others)."""
    import altair as alt
    import pandas as pd

    names = [setup_name(results) for results in runs]
    if len(set(names)) < len(names):  # the same set-up measured twice: tell the runs apart by when
        names = [f"{name}, {str(results.get('when', ''))[:10]}" for name, results in zip(names, runs, strict=True)]
    rows = pd.DataFrame([row for name, results in zip(names, runs, strict=True) for row in chart_rows(results, name)])
    setups = list(dict.fromkeys(names))
    first = runs[0]
    think = first["settings"]["think"]
    counts = sorted({level["viewers"] for results in runs for level in results["levels"]})
    commits = sorted({(results.get("code", {}).get("commit") or "")[:7] for results in runs} - {""})
    others = [level["machine"].get("other_cores_window") for results in runs for level in results["levels"]]
    others = [x for x in others if x is not None]
    subtitle = [f"think time {think[0]:g}–{think[1]:g} s"
                + (f"; dashboard at commit {', '.join(commits)}" if commits else ""),
                machine_line(first["machine"])]
    if others:
        subtitle.append(f"other processes kept {min(others):.1f}–{max(others):.1f} of the "
                        f"{first['machine']['cores']} cores busy while it was measured")
    x = alt.X("viewers:Q", title="concurrent viewers", scale=alt.Scale(type="log"), axis=alt.Axis(values=counts))
    y = alt.Y("seconds:Q", title="page view, request to script finished (s)", scale=alt.Scale(type="log"))
    encoding: dict[str, Any] = {
        "x": x, "y": y,
        "color": alt.Color("percentile:N", title=None, sort=["p95", "p50"],
                           scale=alt.Scale(domain=["p95", "p50"], range=["#d62728", "#1f77b4"])),
        "detail": "setup:N",
        "tooltip": ["setup:N", "viewers:Q", "percentile:N", alt.Tooltip("seconds:Q", format=".2f"), "errors:Q"]}
    if len(setups) > 1:
        encoding["strokeDash"] = alt.StrokeDash(
            "setup:N", title=None, sort=setups,
            legend=alt.Legend(symbolType="stroke", symbolStrokeColor="#333", symbolStrokeWidth=2, symbolSize=400),
            scale=alt.Scale(domain=setups, range=[[1, 0]] + [[6, 4], [2, 2]][: len(setups) - 1]))
    # The points are a layer of their own: on the lines, they would make the set-ups' legend show dots,
    # not the dashes that tell the set-ups apart.
    points = alt.Chart(rows).mark_point(filled=True, size=60, opacity=1).encode(
        **{key: value for key, value in encoding.items() if key != "strokeDash"})
    lines = alt.Chart(rows).mark_line().encode(**encoding) + points
    target = alt.Chart(pd.DataFrame({"seconds": [TARGET_P95_MS / 1000], "label": ["target: p95 ≤ 1 s"]}))
    rule = target.mark_rule(strokeDash=[5, 4], color="#555").encode(y="seconds:Q")
    label = target.mark_text(align="left", dx=4, dy=-7, color="#555").encode(
        y="seconds:Q", x=alt.value(2), text="label:N")
    served = setups[0] if len(setups) == 1 else " and ".join(setups)
    return (lines + rule + label).properties(
        width=520, height=320,
        title={"text": f"Page view time against concurrent viewers ({served})", "subtitle": subtitle})


def draw_p95(runs: list[dict[str, Any]], path: Path) -> list[Path]:
    """Save the curve of the runs (one, or several set-ups side by side) as a PNG at ``path`` (Altair through
    vl-convert); without vl-convert, its Vega-Lite spec (``.vl.json``) and a plain SVG drawn here of the
    first run. Returns the files written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chart = p95_chart(runs)
    try:
        import vl_convert  # noqa: F401 - what Altair's PNG export needs
    except ImportError:
        spec = path.with_suffix(".vl.json")
        spec.write_text(json.dumps(chart.to_dict(), indent=2))
        svg = path.with_suffix(".svg")
        svg.write_text(plain_svg(runs[0]))
        print("vl-convert is not installed: wrote the chart's Vega-Lite spec and a plain SVG instead of a PNG")
        return [spec, svg]
    chart.save(str(path), format="png", scale_factor=2)
    return [path]


def plain_svg(results: dict[str, Any]) -> str:
    """The same curve as a small hand-drawn SVG (log-log axes), for when no Vega renderer is at hand."""
    rows = chart_rows(results)
    if not rows:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    width, height, left, bottom, top, right = 640, 380, 70, 50, 40, 90
    xs = sorted({r["viewers"] for r in rows})
    lo_y = min(min(r["seconds"] for r in rows), TARGET_P95_MS / 1000) / 1.5
    hi_y = max(max(r["seconds"] for r in rows), TARGET_P95_MS / 1000) * 1.5
    lo_x, hi_x = min(xs) / 1.2, max(xs) * 1.2

    def px(v: float) -> float:
        return left + (math.log(v) - math.log(lo_x)) / (math.log(hi_x) - math.log(lo_x)) * (width - left - right)

    def py(v: float) -> float:
        return height - bottom - (math.log(v) - math.log(lo_y)) / (math.log(hi_y) - math.log(lo_y)) * (
            height - bottom - top)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
             f'<text x="{left}" y="20" font-size="14">Page view time against concurrent viewers (p95, p50)</text>']
    for v in xs:
        parts.append(f'<text x="{px(v):.1f}" y="{height - bottom + 18}" text-anchor="middle">{v}</text>')
    decade = 10 ** math.floor(math.log10(lo_y))
    while decade <= hi_y:
        for tick in (decade, 2 * decade, 5 * decade):
            if lo_y <= tick <= hi_y:
                y = py(tick)
                parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                             f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g} s</text>')
        decade *= 10
    target = py(TARGET_P95_MS / 1000)
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{target:.1f}" y2="{target:.1f}" stroke="#555" '
                 f'stroke-dasharray="5,4"/><text x="{width - right + 4}" y="{target + 4:.1f}">target 1 s</text>')
    for name, colour in (("p95", "#d62728"), ("p50", "#1f77b4")):
        points = [(px(r["viewers"]), py(r["seconds"])) for r in rows if r["percentile"] == name]
        if not points:
            continue
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>' for x, y in points]
        parts.append(f'<text x="{points[-1][0] + 8:.1f}" y="{points[-1][1] + 4:.1f}" fill="{colour}">{name}</text>')
    middle = (left + width - right) / 2
    parts.append(f'<text x="{middle}" y="{height - 12}" text-anchor="middle">concurrent viewers</text>')
    parts.append("</svg>")
    return "\n".join(parts)

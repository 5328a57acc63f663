"""The chart specs of :mod:`coaching.charts`, read from their Vega-Lite dicts (``chart.to_dict()``, which
Altair validates against the schema). Each chart is fed a small hand-made frame with the columns its
:mod:`coaching.trends` function documents; no store is needed."""

from __future__ import annotations

import json
from collections.abc import Callable

import altair as alt
import numpy as np
import pandas as pd
import pytest

from coaching import charts
from coaching.charts import MEASURE_COLOURS
from coaching.trends import AUDIT, KORE, SENTIMENT

Spec = dict[str, object]

# --- reading a spec -----------------------------------------------------------------------------------


def spec_of(chart: alt.TopLevelMixin) -> Spec:
    """The chart's Vega-Lite spec, validated against the schema (raises if it is not valid)."""
    spec = chart.to_dict(validate=True)
    json.dumps(spec, allow_nan=False)  # strict JSON, as the browser gets it: no NaN left in the data
    return spec


def layers(spec: Spec) -> list[Spec]:
    """The unit specs of a chart: its layers, or the chart itself when it is not layered."""
    return spec.get("layer", [spec])


def mark(layer: Spec) -> str:
    m = layer["mark"]
    return m if isinstance(m, str) else m["type"]


def layers_with(spec: Spec, mark_type: str) -> list[Spec]:
    return [layer for layer in layers(spec) if mark(layer) == mark_type]


def trend_layers(spec: Spec) -> list[Spec]:
    """A trend chart's layers that draw its averages (its lines and points), not its reference lines."""
    return layers_with(spec, "line") + layers_with(spec, "point")


def pass_score_layers(spec: Spec) -> list[Spec]:
    """The layers at a fixed score (a ``datum`` on an axis): the pass score's rules and labels."""
    return [layer for layer in layers(spec)
            if any("datum" in layer["encoding"].get(axis, {}) for axis in ("x", "y"))]


def only_layer(spec: Spec, mark_type: str) -> Spec:
    found = layers_with(spec, mark_type)
    assert len(found) == 1, f"expected one {mark_type} layer, got {len(found)}"
    return found[0]


def rows(spec: Spec, layer: Spec | None = None) -> list[dict[str, object]]:
    """The data rows a layer draws (its own data, else the chart's), before any Vega-Lite transform."""
    data = (layer or {}).get("data") or spec["data"]
    if "values" in data:
        return data["values"]
    return spec["datasets"][data["name"]]


def visible_rows(spec: Spec, layer: Spec) -> list[dict[str, object]]:
    """:func:`rows` after the layer's filter transforms (only ``oneOf`` predicates are used here)."""
    out = rows(spec, layer)
    for step in layer.get("transform", []):
        predicate = step["filter"]
        out = [row for row in out if row[predicate["field"]] in predicate["oneOf"]]
    return out


def tooltip(layer: Spec) -> dict[str, Spec]:
    """The layer's tooltip entries by field."""
    return {entry["field"]: entry for entry in layer["encoding"]["tooltip"]}


def param(spec: Spec, name: str) -> Spec:
    """The named parameter, wherever Altair put it (top level for layered charts, else the unit)."""
    found = [p for p in spec.get("params", []) if p["name"] == name]
    found += [p for layer in layers(spec) for p in layer.get("params", []) if p["name"] == name]
    assert len(found) == 1, f"expected one param {name!r}, got {found}"
    return found[0]


# --- the frames each trends function returns ---------------------------------------------------------

JAN, FEB = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")


def trend_frame(series: bool = False) -> pd.DataFrame:
    """score_trends (or own_trends with ``series``): period, measure, mean, n, thin."""
    base = pd.DataFrame({
        "period": [JAN, JAN, JAN, FEB, FEB, FEB],
        "measure": [KORE, AUDIT, SENTIMENT] * 2,
        "mean": [42.0, 35.5, 7.2, -10.0, 12.0, 6.1],
        "n": [3, 12, 3, 20, 4, 20],
    })
    base["thin"] = base["n"] < 5
    base["rolling_mean"], base["rolling_n"] = np.nan, pd.array([None] * len(base), dtype="Int64")  # week
    if not series:
        return base
    team = base.assign(mean=base["mean"] + 1, n=base["n"] * 3, thin=False)
    return pd.concat([base.assign(series="You"), team.assign(series="Team average")], ignore_index=True)[
        ["series", "period", "measure", "mean", "n", "thin", "rolling_mean", "rolling_n"]]


def daily_frame(days: int, series: bool = False) -> pd.DataFrame:
    """score_trends by day over ``days`` days (Kore only), with a made-up rolling mean."""
    periods = pd.date_range("2026-09-01", periods=days, freq="D")
    frame = pd.DataFrame({"period": periods, "measure": KORE, "mean": np.linspace(-20, 60, days), "n": 3,
                          "thin": True, "rolling_mean": np.linspace(-10, 50, days), "rolling_n": 21})
    return frame.assign(series="You") if series else frame


#: Two agents who share a name (told apart by email, as agent_score_trends labels them) and a third.
AGENTS = {"ana@example.com": "Ana Diaz (ana@example.com)", "ana.2@example.com": "Ana Diaz (ana.2@example.com)",
          "bo@example.com": "Bo Li-Featherstonehaugh-Cholmondeley of the Night Shift, Billing West"}


def agents_frame() -> pd.DataFrame:
    """agent_score_trends: each of :data:`AGENTS` in January and February, every measure."""
    parts = []
    for offset, (person, label) in enumerate(AGENTS.items()):
        parts.append(trend_frame().assign(person_id=person, agent=label, mean=lambda f, o=offset: f["mean"] + o))
    return pd.concat(parts, ignore_index=True)[
        ["person_id", "agent", "period", "measure", "mean", "n", "thin", "rolling_mean", "rolling_n"]]


def points_frame() -> pd.DataFrame:
    """kore_vs_audit."""
    return pd.DataFrame({
        "conversation_id": ["conv-1", "conv-2", "conv-3"],
        "agent": ["Ana", "Ben", "Ana"],
        "start_time": pd.to_datetime(["2024-01-02 09:00", "2024-01-03 10:30", "2024-01-04 16:15"]),
        "kore_score": [80.0, -20.0, 10.0],
        "audit_score": [60.0, 0.0, 10.0],
        "gap": [-20.0, 20.0, 0.0],
    })


def gaps_frame() -> pd.DataFrame:
    """audit_gap_by_agent: sd_gap is NaN below two audited interactions."""
    return pd.DataFrame({
        "agent": ["Ana", "Ben", "Cy"],
        "person_id": ["ana@example.com", "ben@example.com", "cy@example.com"],
        "n": [6, 4, 1],
        "mean_gap": [-12.5, 4.0, 30.0],
        "sd_gap": [3.5, 10.25, np.nan],
        "mean_kore": [70.0, 20.0, 10.0],
        "mean_audit": [57.5, 24.0, 40.0],
    })


def metrics_frame() -> pd.DataFrame:
    """metric_overturns, in an order that is neither alphabetical nor by any count."""
    return pd.DataFrame({
        "metric": ["Hold etiquette", "Active listening", "Verification", "Closing"],
        "evaluated": [40, 40, 38, 40],
        "not_adhered": [9, 4, 6, 2],
        "disputed": [5, 3, 0, 2],
        "overturned": [2, 0, 0, 2],
        "overturn_share": [0.4, 0.0, np.nan, 1.0],
    })


def disputes_frame() -> pd.DataFrame:
    """dispute_trends: February has no disputes, so its overturn share (and rounds, days) are NaN."""
    return pd.DataFrame({
        "period": [JAN, FEB],
        "audited": [20, 8],
        "disputed": [4, 0],
        "dispute_rate": [0.2, 0.0],
        "mean_rounds": [1.5, np.nan],
        "overturn_share": [0.25, np.nan],
        "resolved": [4, 0],
        "median_days_to_resolve": [3.5, np.nan],
    })


def effects_frame() -> pd.DataFrame:
    """coaching_effect: a1 fully measured, a2 without an uncoached change, a3 without scores after."""
    return pd.DataFrame({
        "assignment_id": ["a1", "a2", "a3"],
        "agent": ["Ana", "Ben", "Cy"],
        "person_id": ["ana@example.com", "ben@example.com", "cy@example.com"],
        "name": ["Call flow", "Empathy", "Holds"],
        "assigned_date": pd.to_datetime(["2024-03-05", "2024-03-12", "2024-03-19"]),
        "coaching_areas": [np.array(["Call flow"]), np.array(["Empathy", "Tone"]), np.array(["Holds"])],
        "lead": ["Lee", "Lee", None],
        "before_mean": [40.0, 55.0, 60.0],
        "before_n": [6, 5, 4],
        "after_mean": [52.0, 50.0, np.nan],
        "after_n": [7, 5, 0],
        "change": [12.0, -5.0, np.nan],
        "change_low": [4.0, -11.0, np.nan],
        "change_high": [20.0, 1.0, np.nan],
        "uncoached_change": [2.0, np.nan, np.nan],
        "effect": [10.0, np.nan, np.nan],
    })


def summary_frame(by: str) -> pd.DataFrame:
    """coaching_effect_summary per ``by``: the last group has nothing measured (mean_effect NaN)."""
    return pd.DataFrame({
        by: ["Call flow", "Empathy", "Holds"] if by == "coaching_area" else ["Lee", "Mo", "Nia"],
        "assignments": [3, 2, 1],
        "measured": [3, 2, 0],
        "mean_change": [8.0, -3.0, np.nan],
        "mean_uncoached_change": [2.0, 1.0, np.nan],
        "mean_effect": [6.0, -4.0, np.nan],
    })


#: Each chart function with a frame for it: (id, function, frame).
CHARTS: list[tuple[str, Callable[[pd.DataFrame], alt.TopLevelMixin], Callable[[], pd.DataFrame]]] = [
    ("score_trend", charts.score_trend_chart, trend_frame),
    ("score_trend_own", charts.score_trend_chart, lambda: trend_frame(series=True)),
    ("sentiment_trend", charts.sentiment_trend_chart, trend_frame),
    ("sentiment_trend_own", charts.sentiment_trend_chart, lambda: trend_frame(series=True)),
    ("score_trend_month", lambda f: charts.score_trend_chart(f, "month", 25), trend_frame),
    ("score_trend_daily", lambda f: charts.score_trend_chart(f, "day"), lambda: daily_frame(90)),
    ("own_trend_daily", lambda f: charts.score_trend_chart(f, "day"), lambda: daily_frame(90, series=True)),
    ("agent_trend_kore", lambda f: charts.agent_trend_chart(f, KORE), agents_frame),
    ("agent_trend_audit", lambda f: charts.agent_trend_chart(f, AUDIT, "month", 55), agents_frame),
    ("agent_trend_sentiment", lambda f: charts.agent_trend_chart(f, SENTIMENT), agents_frame),
    ("kore_audit_scatter", charts.kore_audit_scatter, points_frame),
    ("audit_gap", charts.audit_gap_chart, gaps_frame),
    ("metric_overturn", charts.metric_overturn_chart, metrics_frame),
    ("dispute_trend", charts.dispute_trend_chart, disputes_frame),
    ("dispute_trend_month", lambda f: charts.dispute_trend_chart(f, "month"), disputes_frame),
    ("coaching_effect", charts.coaching_effect_chart, effects_frame),
    ("effect_summary_area", lambda f: charts.effect_summary_chart(f, "coaching_area"),
     lambda: summary_frame("coaching_area")),
    ("effect_summary_lead", lambda f: charts.effect_summary_chart(f, "lead"), lambda: summary_frame("lead")),
]
CHART_IDS = [c[0] for c in CHARTS]


# --- every chart -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "frame"), [c[1:] for c in CHARTS], ids=CHART_IDS)
def test_every_chart_is_a_valid_vega_lite_spec(make, frame) -> None:
    spec = spec_of(make(frame()))
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    assert spec["width"] == "container"
    for layer in layers(spec):
        assert "tooltip" in layer["encoding"] or mark(layer) in ("line", "rule"), "every mark has a tooltip"


@pytest.mark.parametrize(("make", "frame"), [c[1:] for c in CHARTS], ids=CHART_IDS)
def test_every_chart_draws_without_validating_again(make, frame, monkeypatch) -> None:
    """What Streamlit calls on every run, ``to_dict()``, gives the validated spec without validating it
    again (a third of a chart page's time), and the chart still passes for an Altair chart."""
    from streamlit import type_util

    chart = make(frame())
    validated = chart.to_dict(validate=True)
    assert type_util.is_altair_chart(chart) and isinstance(chart, alt.TopLevelMixin)

    checked = []
    original = alt.utils.schemapi.validate_jsonschema

    def recorded(spec, *args, **kwargs):
        checked.append(spec)
        return original(spec, *args, **kwargs)

    monkeypatch.setattr(alt.utils.schemapi, "validate_jsonschema", recorded)
    assert chart.to_dict() == validated
    # Only small pieces Altair builds on the way (the named dataset) are checked, never a chart's spec.
    assert not [spec for spec in checked if {"mark", "layer", "encoding"} & set(spec)]
    chart.to_dict(validate=True)
    assert [spec for spec in checked if {"mark", "layer", "encoding"} & set(spec)]


@pytest.mark.parametrize(("make", "frame"), [c[1:] for c in CHARTS], ids=CHART_IDS)
def test_every_chart_is_built_from_channel_objects(make, frame, monkeypatch) -> None:
    """No encoding is a shorthand string or a plain dict: Altair turns those into channels by hashing
    every class of its schema (about 10 ms a channel, on every chart a cold page builds)."""
    made = []
    original = alt.utils.schemapi._FromDict.__init__

    def recorded(self, *args, **kwargs):
        made.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(alt.utils.schemapi._FromDict, "__init__", recorded)
    make(frame())
    assert made == []
    alt.Chart(frame()).mark_point().encode(x="x:Q")  # the check sees a shorthand string
    assert made


@pytest.mark.parametrize(("make", "frame"), [c[1:] for c in CHARTS], ids=CHART_IDS)
def test_every_chart_accepts_an_empty_result(make, frame) -> None:
    """An empty result of the trends function (its columns and their types, no rows) still charts."""
    empty = frame().iloc[:0]
    spec = spec_of(make(empty))
    drawn = [row for layer in layers(spec) for row in rows(spec, layer)
             if set(row) - {"x", "y", "reference"}]  # the fixed reference lines are data of their own
    assert drawn == []


@pytest.mark.parametrize(
    ("make", "frame"),
    [c[1:] for c in CHARTS],
    ids=CHART_IDS,
)
def test_every_chart_accepts_an_untyped_empty_frame(make, frame) -> None:
    """``pd.DataFrame(columns=...)``: the right columns, every one of dtype object."""
    empty = pd.DataFrame(columns=list(frame().columns))
    spec_of(make(empty))


# --- score and sentiment trends ----------------------------------------------------------------------


def test_score_trend_shares_one_fixed_score_axis() -> None:
    spec = spec_of(charts.score_trend_chart(trend_frame()))
    assert [mark(layer) for layer in layers(spec)] == ["line", "point", "rule"]  # the pass score's last
    for layer in trend_layers(spec):
        y = layer["encoding"]["y"]
        assert y["field"] == "mean"
        assert y["scale"]["domain"] == [-100, 100]


def test_score_trend_draws_only_kore_and_audit() -> None:
    spec = spec_of(charts.score_trend_chart(trend_frame()))
    for layer in trend_layers(spec):
        shown = {row["measure"] for row in visible_rows(spec, layer)}
        assert shown == {KORE, AUDIT}


def test_score_trend_colours_are_fixed_per_measure() -> None:
    spec = spec_of(charts.score_trend_chart(trend_frame()))
    fixed = {"domain": [KORE, AUDIT], "range": [MEASURE_COLOURS[KORE], MEASURE_COLOURS[AUDIT]]}
    line, points = only_layer(spec, "line"), only_layer(spec, "point")
    assert line["encoding"]["color"]["field"] == "measure"
    assert line["encoding"]["color"]["scale"] == fixed
    assert points["encoding"]["fill"]["field"] == "measure"
    assert points["encoding"]["fill"]["scale"] == fixed
    assert len(set(MEASURE_COLOURS.values())) == 3, "one colour per measure"


def test_score_trend_tooltip_has_average_and_count() -> None:
    points = only_layer(spec_of(charts.score_trend_chart(trend_frame())), "point")
    tips = tooltip(points)
    assert tips["mean"]["title"] == "Average"
    assert tips["n"]["title"] == "Evaluations"
    assert "series" not in tips


def test_score_trend_thin_points_are_filled_white() -> None:
    spec = spec_of(charts.score_trend_chart(trend_frame()))
    fill = only_layer(spec, "point")["encoding"]["fill"]
    assert fill["condition"] == {"test": "datum.thin", "value": "white"}
    thin = {(row["measure"], row["period"]) for row in rows(spec, only_layer(spec, "point")) if row["thin"]}
    assert thin == {(KORE, "2024-01-01T00:00:00"), (SENTIMENT, "2024-01-01T00:00:00"),
                    (AUDIT, "2024-02-01T00:00:00")}


def test_score_trend_thin_points_keep_an_outline() -> None:
    points = only_layer(spec_of(charts.score_trend_chart(trend_frame())), "point")
    has_stroke = "stroke" in points["encoding"] or "stroke" in points["mark"]
    has_colour_as_stroke = "color" in points["encoding"] and points["mark"].get("filled") is False
    assert has_stroke or has_colour_as_stroke


def test_own_trend_separates_the_team_average_by_dash() -> None:
    spec = spec_of(charts.score_trend_chart(trend_frame(series=True)))
    line, points = only_layer(spec, "line"), only_layer(spec, "point")
    assert line["encoding"]["strokeDash"]["field"] == "series"
    assert line["encoding"]["detail"]["field"] == "series"
    assert points["encoding"]["detail"]["field"] == "series"
    assert tooltip(points)["series"]["title"] == "Series"
    assert {row["series"] for row in rows(spec, points)} == {"You", "Team average"}


def test_score_trend_without_series_has_no_dash() -> None:
    spec = spec_of(charts.score_trend_chart(trend_frame()))
    for layer in trend_layers(spec):
        assert "strokeDash" not in layer["encoding"]
        assert "detail" not in layer["encoding"]


#: Vega-Lite's strokeDash range when none is given (src/compile/scale/range.ts); [1, 0] is solid.
VEGA_LITE_DASHES = [[1, 0], [4, 2], [2, 1], [1, 1], [1, 2, 4, 2]]


def test_own_trend_dashes_the_team_average_not_the_agent() -> None:
    line = only_layer(spec_of(charts.score_trend_chart(trend_frame(series=True))), "line")
    scale = line["encoding"]["strokeDash"].get("scale", {})
    domain = scale.get("domain", sorted({"You", "Team average"}))
    dashes = dict(zip(domain, scale.get("range", VEGA_LITE_DASHES), strict=False))
    assert dashes["You"] == [1, 0]
    assert dashes["Team average"] != [1, 0]


def test_sentiment_trend_has_its_own_axis_and_colour() -> None:
    spec = spec_of(charts.sentiment_trend_chart(trend_frame()))
    assert pass_score_layers(spec) == []  # sentiment has no pass score
    for layer in layers(spec):
        assert layer["encoding"]["y"]["scale"]["domain"] == [1, 10]
        assert {row["measure"] for row in visible_rows(spec, layer)} == {SENTIMENT}
    assert only_layer(spec, "line")["encoding"]["color"]["scale"] == {
        "domain": [SENTIMENT], "range": [MEASURE_COLOURS[SENTIMENT]]}


@pytest.mark.parametrize("series", [False, True], ids=["team", "own"])
def test_scores_and_sentiment_never_share_an_axis(series: bool) -> None:
    frame = trend_frame(series)
    scores = spec_of(charts.score_trend_chart(frame))
    sentiment = spec_of(charts.sentiment_trend_chart(frame))
    on_scores = {row["measure"] for layer in trend_layers(scores) for row in visible_rows(scores, layer)}
    on_sentiment = {row["measure"] for layer in layers(sentiment) for row in visible_rows(sentiment, layer)}
    assert on_scores == {KORE, AUDIT}
    assert on_sentiment == {SENTIMENT}
    assert {str(layer["encoding"]["y"]["scale"]["domain"]) for layer in trend_layers(scores)} == {"[-100, 100]"}
    assert {str(layer["encoding"]["y"]["scale"]["domain"]) for layer in layers(sentiment)} == {"[1, 10]"}


# --- a line per agent, the pass score, months and days ------------------------------------------------


def test_a_line_per_agent_each_in_its_colour_named_in_the_legend() -> None:
    spec = spec_of(charts.agent_trend_chart(agents_frame(), KORE))
    line, points = only_layer(spec, "line"), only_layer(spec, "point")
    colour = line["encoding"]["color"]
    assert colour["field"] == "agent"
    # A colour each, in the frame's order (agent_score_trends sorts by name); the twins are two entries.
    assert colour["scale"] == {"domain": list(AGENTS.values()), "scheme": charts.AGENT_SCHEME}
    assert colour["title"] == "Agent"
    assert colour["legend"]["orient"] == "right" and colour["legend"]["labelLimit"] == charts.LABEL_LIMIT
    assert points["encoding"]["stroke"]["field"] == "agent"
    assert points["encoding"]["fill"]["field"] == "agent"
    # Lines are drawn per person: two agents never merge into one line, whatever their names.
    assert line["encoding"]["detail"]["field"] == "person_id" and points["encoding"]["detail"]["field"] == "person_id"
    shown = visible_rows(spec, line)
    assert {row["measure"] for row in shown} == {KORE}
    assert {row["person_id"] for row in shown} == set(AGENTS)
    # The tooltip names the agent in full (the legend may cut a long name short).
    tips = tooltip(points)
    assert tips["agent"]["title"] == "Agent" and {"mean", "n", "period"} <= set(tips)
    assert spec["title"]["text"] == KORE


def test_one_line_per_agent_charts_never_mix_measures_or_axes() -> None:
    for measure, domain in ((KORE, [-100, 100]), (AUDIT, [-100, 100]), (SENTIMENT, [1, 10])):
        spec = spec_of(charts.agent_trend_chart(agents_frame(), measure))
        for layer in trend_layers(spec):
            assert layer["encoding"]["y"]["scale"]["domain"] == domain
            assert {row["measure"] for row in visible_rows(spec, layer)} == {measure}
        assert bool(pass_score_layers(spec)) == (measure != SENTIMENT), measure
    with pytest.raises(ValueError, match="unknown measure"):
        charts.agent_trend_chart(agents_frame(), "Handle time")


def pass_line(spec: Spec, axis: str = "y") -> Spec:
    """The pass score's rule on ``axis``."""
    found = [layer for layer in pass_score_layers(spec) if "datum" in layer["encoding"].get(axis, {})]
    assert len(found) == 1 and mark(found[0]) == "rule", found
    return found[0]


@pytest.mark.parametrize(("make", "frame", "orient"), [
    (lambda f, score: charts.score_trend_chart(f, "week", score), trend_frame, "top"),
    (lambda f, score: charts.score_trend_chart(f, "week", score), lambda: trend_frame(series=True), "top"),
    (lambda f, score: charts.score_trend_chart(f, "day", score), lambda: daily_frame(90), "top"),
    (lambda f, score: charts.agent_trend_chart(f, KORE, "week", score), agents_frame, "right"),
    (lambda f, score: charts.agent_trend_chart(f, AUDIT, "month", score), agents_frame, "right"),
], ids=["team", "own", "daily", "agents_kore", "agents_audit"])
def test_kore_and_audit_charts_draw_the_pass_score_as_a_named_line(make, frame, orient: str) -> None:
    spec = spec_of(make(frame(), 25.5))
    rule = pass_line(spec)
    assert rule["encoding"]["y"] == {"datum": 25.5, "type": "quantitative"}
    assert rule["encoding"]["tooltip"] == {"value": "Pass score: 25.5"}
    # Named in a legend of its own (a label on the line would sit on the points near it), dashed grey.
    dash = rule["encoding"]["strokeDash"]
    assert rows(spec, rule) == [{"reference": "Pass score 25.5"}] and dash["field"] == "reference"
    assert dash["scale"] == {"domain": ["Pass score 25.5"], "range": [charts.PASS_DASH]}
    assert dash["legend"]["orient"] == orient and rule["mark"]["color"] == charts.PASS_COLOUR
    # On the scores' own axis (the y scale is shared); only the dashes are its own, apart from an own
    # trend's solid and dashed series.
    assert spec["resolve"] == {"scale": {"strokeDash": "independent"}}
    default = spec_of(make(frame(), charts.DEFAULT_PASS_SCORE))
    assert pass_line(default)["encoding"]["y"]["datum"] == 40


def test_the_scatter_draws_the_pass_score_on_both_axes() -> None:
    spec = spec_of(charts.kore_audit_scatter(points_frame(), 30))
    across, up = pass_line(spec, "x"), pass_line(spec, "y")
    assert across["encoding"]["x"]["datum"] == 30 and up["encoding"]["y"]["datum"] == 30
    assert rows(spec, across) == rows(spec, up) == [{"reference": "Pass score 30"}]  # one legend entry


def period_axis(spec: Spec) -> Spec:
    return [layer for layer in layers(spec) if layer["encoding"].get("x", {}).get("field") == "period"][0][
        "encoding"]["x"]["axis"]


@pytest.mark.parametrize("make", [
    lambda f, grain: charts.score_trend_chart(f, grain),
    lambda f, grain: charts.sentiment_trend_chart(f, grain),
    lambda f, grain: charts.agent_trend_chart(f, KORE, grain),
], ids=["scores", "sentiment", "agents"])
def test_a_trend_by_month_has_a_tick_for_each_month(make) -> None:
    frame = agents_frame()
    monthly = period_axis(spec_of(make(frame, "month")))
    assert monthly["labelExpr"] == "timeFormat(datum.value, '%b %Y')"  # "Sep 2026"
    assert monthly["tickCount"] == {"interval": "month", "step": 1}
    assert monthly["format"] == "%d %b %Y"  # what each mark's description says of its period
    weekly = period_axis(spec_of(make(frame, "week")))
    assert weekly["format"] == "%d %b %Y" and "tickCount" not in weekly
    # Dates that would run together are left out, with room between those shown.
    for axis in (monthly, weekly):
        assert axis["labelOverlap"] is True and axis["labelSeparation"] == charts.DATE_SEPARATION


def test_the_dispute_trend_by_month_has_a_tick_for_each_month() -> None:
    axis = spec_of(charts.dispute_trend_chart(disputes_frame(), "month"))["layer"][0]["encoding"]["x"]["axis"]
    assert axis["labelExpr"] == "timeFormat(datum.value, '%b %Y')"
    assert axis["tickCount"] == {"interval": "month", "step": 1}


@pytest.mark.parametrize("series", [False, True], ids=["team", "own"])
def test_more_than_60_days_draw_faint_days_under_their_rolling_mean(series: bool) -> None:
    many = spec_of(charts.score_trend_chart(daily_frame(charts.DAILY_POINTS + 1, series), "day"))
    line, points = only_layer(many, "line"), only_layer(many, "point")
    assert line["encoding"]["y"]["field"] == "rolling_mean"
    assert line["encoding"]["y"]["scale"]["domain"] == [-100, 100]
    assert points["encoding"]["y"]["field"] == "mean" and points["mark"]["opacity"] < 0.5
    tips = tooltip(points)
    assert tips["rolling_mean"]["title"] == "Average of the 7 days to it" and "rolling_n" in tips
    if series:
        assert line["encoding"]["strokeDash"]["field"] == "series"
    # A measure scored on fewer days keeps its own line though another has many (an agent's few audits).
    audits = daily_frame(charts.DAILY_POINTS + 1).assign(measure=AUDIT).iloc[:charts.DAILY_POINTS]
    mixed = pd.concat([daily_frame(charts.DAILY_POINTS + 1), audits], ignore_index=True).assign(
        person_id="ana@example.com", agent="Ana")
    for measure, rolled in ((KORE, True), (AUDIT, False)):
        line = only_layer(spec_of(charts.agent_trend_chart(mixed, measure, "day")), "line")
        assert (line["encoding"]["y"]["field"] == "rolling_mean") == rolled, measure
    # Up to 60 days, and weeks however many: the averages themselves, joined by their line.
    for frame, grain in ((daily_frame(charts.DAILY_POINTS, series), "day"),
                         (daily_frame(charts.DAILY_POINTS + 1, series), "week")):
        few = spec_of(charts.score_trend_chart(frame, grain))
        assert only_layer(few, "line")["encoding"]["y"]["field"] == "mean"
        assert only_layer(few, "point")["mark"]["opacity"] == 1
        assert "rolling_mean" not in tooltip(only_layer(few, "point"))


#: The charts of rows (agents, assignments, metrics, coaching areas, leads), with the field that names a
#: row and the tooltip fields that name it in full.
ROW_CHARTS = [
    ("audit_gap", charts.audit_gap_chart, gaps_frame, "agent", {"agent"}),
    ("metric_overturn", charts.metric_overturn_chart, metrics_frame, "metric", {"metric"}),
    ("coaching_effect", charts.coaching_effect_chart, effects_frame, "label", {"agent", "name", "assigned_date"}),
    ("effect_summary_area", lambda f: charts.effect_summary_chart(f, "coaching_area"),
     lambda: summary_frame("coaching_area"), "coaching_area", {"coaching_area"}),
    ("effect_summary_lead", lambda f: charts.effect_summary_chart(f, "lead"), lambda: summary_frame("lead"),
     "lead", {"lead"}),
]


@pytest.mark.parametrize(("make", "frame", "field", "named"), [c[1:] for c in ROW_CHARTS],
                         ids=[c[0] for c in ROW_CHARTS])
def test_charts_of_rows_grow_with_their_rows_and_name_each_in_full(make, frame, field, named) -> None:
    long_name = "A name long enough to be cut short on any axis at 1280 or 1440 pixels wide, and then some"
    rows_frame = frame()
    rows_frame[field if field != "label" else "agent"] = [long_name + f" {i}" for i in range(len(rows_frame))]
    spec = spec_of(make(rows_frame))
    # A step per row: the chart is as tall as its rows need, every label on its own line.
    assert spec["height"] == {"step": charts.ROW_STEP}
    for layer in layers(spec):
        y = layer["encoding"].get("y")
        if y and y.get("field") == field:
            assert y["axis"]["labelLimit"] <= charts.LABEL_LIMIT  # cut short, with "…"
            assert named <= set(tooltip(layer)), "the tooltip names the row in full"
            assert any(str(row.get(field, "")).startswith(long_name) for row in rows(spec, layer))


# --- Kore against audit ------------------------------------------------------------------------------


def test_scatter_axes_are_both_the_score_range() -> None:
    dots = only_layer(spec_of(charts.kore_audit_scatter(points_frame())), "circle")
    x, y = dots["encoding"]["x"], dots["encoding"]["y"]
    assert (x["field"], y["field"]) == ("kore_score", "audit_score")
    assert x["scale"]["domain"] == [-100, 100]
    assert y["scale"]["domain"] == [-100, 100]
    assert (x["title"], y["title"]) == (KORE, AUDIT)


def test_scatter_diagonal_runs_corner_to_corner() -> None:
    spec = spec_of(charts.kore_audit_scatter(points_frame()))
    diagonal = only_layer(spec, "line")
    assert (diagonal["encoding"]["x"]["field"], diagonal["encoding"]["y"]["field"]) == ("x", "y")
    assert rows(spec, diagonal) == [{"x": -100, "y": -100}, {"x": 100, "y": 100}]


def test_scatter_point_pick_selects_a_conversation() -> None:
    spec = spec_of(charts.kore_audit_scatter(points_frame()))
    pick = param(spec, charts.POINT_PICK)
    assert pick["select"] == {"type": "point", "fields": ["conversation_id"], "on": "click"}
    dots = only_layer(spec, "circle")
    assert pick.get("views", [dots.get("name")]) == [dots.get("name")]
    assert dots["encoding"]["color"]["condition"]["param"] == charts.POINT_PICK
    assert [row["conversation_id"] for row in rows(spec, dots)] == ["conv-1", "conv-2", "conv-3"]


def test_scatter_tooltip_names_the_conversation_and_gap() -> None:
    tips = tooltip(only_layer(spec_of(charts.kore_audit_scatter(points_frame())), "circle"))
    assert tips["conversation_id"]["title"] == "Conversation"
    assert tips["gap"]["title"] == "Gap (audit − Kore)"
    assert {"agent", "start_time", "kore_score", "audit_score"} <= set(tips)


def test_audit_gap_agent_pick() -> None:
    spec = spec_of(charts.audit_gap_chart(gaps_frame()))
    pick = param(spec, charts.AGENT_PICK)
    assert pick["select"] == {"type": "point", "fields": ["person_id"], "on": "click"}  # who, not a name
    means = only_layer(spec, "point")
    assert means["encoding"]["x"]["field"] == "mean_gap"
    assert means["encoding"]["color"]["condition"]["param"] == charts.AGENT_PICK


def test_audit_gap_rule_spans_one_sd_either_side() -> None:
    spec = spec_of(charts.audit_gap_chart(gaps_frame()))
    spread = [layer for layer in layers_with(spec, "rule") if layer["encoding"]["x"]["field"] == "low"]
    assert len(spread) == 1
    assert spread[0]["encoding"]["x2"]["field"] == "high"
    got = {row["agent"]: (row["low"], row["high"]) for row in rows(spec, spread[0])}
    # Cy's single audit has no sd: no spread to draw (null, which Vega-Lite leaves out).
    assert got == {"Ana": (-16.0, -9.0), "Ben": (-6.25, 14.25), "Cy": (None, None)}


def test_audit_gap_zero_line() -> None:
    spec = spec_of(charts.audit_gap_chart(gaps_frame()))
    zero = [layer for layer in layers_with(spec, "rule") if layer["encoding"]["x"]["field"] == "x"]
    assert len(zero) == 1
    assert rows(spec, zero[0]) == [{"x": 0}]
    assert "y" not in zero[0]["encoding"]


def test_audit_gap_agents_are_ordered_by_mean_gap() -> None:
    spec = spec_of(charts.audit_gap_chart(gaps_frame()))
    for layer in layers(spec):
        if "y" in layer["encoding"]:
            assert layer["encoding"]["y"]["sort"] == {"field": "mean_gap", "order": "descending"}


def test_audit_gap_draws_the_agents_who_differ_most() -> None:
    """Beyond ``rows`` agents the chart keeps the frame's first (``audit_gap_by_agent`` puts the largest
    gap first); the page says so and its CSV has everyone."""
    many = pd.concat([gaps_frame()] * 20, ignore_index=True)
    many["agent"] = [f"Agent {i:02d}" for i in range(len(many))]
    spec = spec_of(charts.audit_gap_chart(many, rows=5))
    assert [row["agent"] for row in rows(spec, only_layer(spec, "point"))] == list(many["agent"][:5])
    assert len(rows(spec, only_layer(spec, "point"))) == 5
    spec = spec_of(charts.audit_gap_chart(many))
    assert len(rows(spec, only_layer(spec, "point"))) == charts.CHART_ROWS < len(many)


# --- disputes ----------------------------------------------------------------------------------------


def test_metric_overturns_melt_drops_zero_counts() -> None:
    spec = spec_of(charts.metric_overturn_chart(metrics_frame()))
    got = sorted((row["metric"], row["kind"], row["count"]) for row in rows(spec))
    assert got == sorted([
        ("Hold etiquette", "Overturned", 2), ("Hold etiquette", "Disputed", 5),
        ("Active listening", "Disputed", 3),
        ("Closing", "Overturned", 2), ("Closing", "Disputed", 2),
    ])


def test_metric_overturns_keep_the_input_order_and_overlay_the_bars() -> None:
    frame = metrics_frame()
    enc = spec_of(charts.metric_overturn_chart(frame))["encoding"]
    assert enc["y"]["field"] == "metric"
    assert enc["y"]["sort"] == list(frame["metric"])
    assert "stack" in enc["x"] and enc["x"]["stack"] is None  # overturned drawn over disputed, not beside
    assert enc["color"]["scale"]["domain"] == ["Disputed", "Overturned"]
    assert enc["color"]["scale"]["range"][1] == MEASURE_COLOURS[AUDIT]
    reversed_order = list(frame["metric"])[::-1]
    assert spec_of(charts.metric_overturn_chart(frame.iloc[::-1]))["encoding"]["y"]["sort"] == reversed_order


def test_metric_overturns_draw_each_overturned_bar_over_its_disputed_one() -> None:
    """Bars at one place are drawn in the data's order: every Disputed bar first, then the Overturned ones
    (shorter) on top, where they can be seen. Counts are whole numbers on the axis too."""
    spec = spec_of(charts.metric_overturn_chart(metrics_frame()))
    kinds = [row["kind"] for row in rows(spec)]
    assert kinds == sorted(kinds) and kinds[0] == "Disputed" and kinds[-1] == "Overturned"
    axis = spec["encoding"]["x"]["axis"]
    assert axis["tickMinStep"] == 1 and axis["format"] == "d"


@pytest.mark.parametrize(("make", "frame"), [
    (charts.dispute_trend_chart, disputes_frame),
    (charts.metric_overturn_chart, metrics_frame),
    (charts.score_trend_chart, trend_frame),
    (charts.score_trend_chart, lambda: trend_frame(series=True)),
    (lambda f: charts.agent_trend_chart(f, KORE), agents_frame),
], ids=["dispute_trend", "metric_overturn", "score_trend", "own_trend", "agent_trend"])
def test_legends_write_names_up_to_the_label_limit(make, frame) -> None:
    """Vega cuts a legend's names at 160 px by default: "Share of disputes overturned", as the share was once
    named, lost its end."""
    spec = spec_of(make(frame()))
    legends = [enc["legend"] for layer in layers(spec) for enc in layer["encoding"].values()
               if isinstance(enc, dict) and enc.get("legend")]
    assert legends
    assert all(legend["labelLimit"] == charts.LABEL_LIMIT for legend in legends), legends


def test_dispute_trend_is_a_percentage_axis() -> None:
    spec = spec_of(charts.dispute_trend_chart(disputes_frame()))
    for layer in layers(spec):
        y = layer["encoding"]["y"]
        assert y["field"] == "value"
        assert y["axis"]["format"] == "%"
        assert y["scale"]["domain"] == [0, 1]


def test_dispute_trend_drops_missing_rates_only() -> None:
    spec = spec_of(charts.dispute_trend_chart(disputes_frame()))
    got = sorted((row["period"][:10], row["rate"], row["value"]) for row in rows(spec))
    assert got == [
        ("2024-01-01", "Dispute rate", 0.2),
        ("2024-01-01", "Share overturned", 0.25),
        ("2024-02-01", "Dispute rate", 0.0),  # kept though its rounds and days are missing
    ]


def test_dispute_trend_tooltip_has_counts_rounds_and_days() -> None:
    spec = spec_of(charts.dispute_trend_chart(disputes_frame()))
    for layer in layers(spec):
        tips = tooltip(layer)
        assert tips["median_days_to_resolve"]["title"] == "Median days to resolve"
        assert {"audited", "disputed", "mean_rounds", "value"} <= set(tips)


# --- coaching effect ---------------------------------------------------------------------------------


def test_coaching_effect_leaves_out_unmeasured_assignments() -> None:
    spec = spec_of(charts.coaching_effect_chart(effects_frame()))
    for layer in layers_with(spec, "rule") + layers_with(spec, "point"):
        if layer["encoding"]["x"]["field"] == "x":
            continue  # the zero line
        assert [row["assignment_id"] for row in rows(spec, layer)] == ["a1", "a2"]
        assert layer["encoding"]["y"]["field"] == "label"


def test_coaching_effect_draws_the_most_recent_measured_assignments() -> None:
    """``coaching_effect`` lists the newest first; the chart keeps the first ``rows`` measured ones."""
    many = pd.concat([effects_frame()] * 30, ignore_index=True)
    many["assignment_id"] = [f"a{i:03d}" for i in range(len(many))]
    measured = list(many.dropna(subset=["change"])["assignment_id"])
    spec = spec_of(charts.coaching_effect_chart(many, rows=3))
    assert [row["assignment_id"] for row in rows(spec, only_layer(spec, "point"))] == measured[:3]
    spec = spec_of(charts.coaching_effect_chart(many))
    assert len(rows(spec, only_layer(spec, "point"))) == charts.CHART_ROWS < len(measured)


def test_coaching_effect_labels_name_agent_assignment_and_date() -> None:
    spec = spec_of(charts.coaching_effect_chart(effects_frame()))
    labels = [row["label"] for row in rows(spec, only_layer(spec, "point"))]
    # Who and when first: cut short, a label still tells one agent's assignments apart.
    assert labels == ["Ana · 05 Mar 2024 · Call flow", "Ben · 12 Mar 2024 · Empathy"]


def test_coaching_effect_interval_is_the_change_bounds() -> None:
    spec = spec_of(charts.coaching_effect_chart(effects_frame()))
    interval = [layer for layer in layers_with(spec, "rule") if layer["encoding"]["x"]["field"] != "x"]
    assert len(interval) == 1
    assert interval[0]["encoding"]["x"]["field"] == "change_low"
    assert interval[0]["encoding"]["x2"]["field"] == "change_high"
    assert {(row["change_low"], row["change_high"]) for row in rows(spec, interval[0])} == {
        (4.0, 20.0), (-11.0, 1.0)}
    assert only_layer(spec, "point")["encoding"]["x"]["field"] == "change"


def test_coaching_effect_uncoached_tick_only_where_measured() -> None:
    spec = spec_of(charts.coaching_effect_chart(effects_frame()))
    tick = only_layer(spec, "tick")
    assert tick["encoding"]["x"]["field"] == "uncoached_change"
    assert [(row["assignment_id"], row["uncoached_change"]) for row in rows(spec, tick)] == [("a1", 2.0)]


def test_coaching_effect_agent_pick_and_zero_line() -> None:
    spec = spec_of(charts.coaching_effect_chart(effects_frame()))
    pick = param(spec, charts.AGENT_PICK)
    assert pick["select"] == {"type": "point", "fields": ["person_id"], "on": "click"}  # who, not a name
    assert only_layer(spec, "point")["encoding"]["color"]["condition"]["param"] == charts.AGENT_PICK
    zero = [layer for layer in layers_with(spec, "rule") if layer["encoding"]["x"]["field"] == "x"]
    assert len(zero) == 1 and rows(spec, zero[0]) == [{"x": 0}]
    assert set(tooltip(only_layer(spec, "point"))) >= {"change", "uncoached_change", "effect", "before_n"}


@pytest.mark.parametrize(("by", "title"), [("coaching_area", "Coaching area"), ("lead", "Lead")])
def test_effect_summary_per_area_or_lead(by: str, title: str) -> None:
    spec = spec_of(charts.effect_summary_chart(summary_frame(by), by))
    enc = spec["encoding"]
    assert enc["y"]["field"] == by
    assert enc["y"]["sort"] == "-x"
    assert enc["x"]["field"] == "mean_effect"
    assert enc["tooltip"][0] == {"field": by, "title": title, "type": "nominal"}
    assert [row[by] for row in rows(spec)] == list(summary_frame(by)[by][:2])  # no NaN mean_effect row


def test_effect_summary_colours_gains_and_losses() -> None:
    enc = spec_of(charts.effect_summary_chart(summary_frame("lead"), "lead"))["encoding"]
    assert enc["color"]["condition"] == {"test": "(datum.mean_effect >= 0)", "value": MEASURE_COLOURS[SENTIMENT]}
    assert enc["color"]["value"] == MEASURE_COLOURS[AUDIT]


def test_effect_summary_rejects_another_grouping() -> None:
    with pytest.raises(ValueError, match="agent"):
        charts.effect_summary_chart(summary_frame("lead").rename(columns={"lead": "agent"}), "agent")

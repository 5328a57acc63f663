"""Chart specs for the trends pages: pure functions from a :mod:`coaching.trends` DataFrame to an Altair
chart. No Streamlit here; a page hands the chart to ``st.altair_chart``.

Scales are honest: the Kore Evaluation and Supervisor Audit Scores share one −100…100 axis, sentiment
(1…10) gets its own. Every mark has a tooltip with the count behind it, and an average resting on few
evaluations (``thin``) is drawn as a hollow point. Charts a page can drill into carry a named point
selection (:data:`AGENT_PICK`, :data:`POINT_PICK`).
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import altair as alt
import pandas as pd

from coaching.trends import AUDIT, KORE, SENTIMENT, TEAM_AVERAGE, YOU

SCORE_DOMAIN = (-100, 100)
SENTIMENT_DOMAIN = (1, 10)
#: One colour per measure, the same on every chart.
MEASURE_COLOURS = {KORE: "#1f77b4", AUDIT: "#d62728", SENTIMENT: "#2ca02c"}
#: The agent's own line is solid, the team average dashed.
SERIES_DASHES = {YOU: [1, 0], TEAM_AVERAGE: [4, 2]}
#: Selection names a page reads from ``st.altair_chart(..., on_select="rerun")``.
AGENT_PICK = "agent_pick"
POINT_PICK = "point_pick"
WIDTH: Final = "container"
#: The most rows a dot-and-interval chart draws (agents, assignments): beyond a few dozen it is a wall,
#: not a chart. The page says when rows are left out; its table and CSV have them all.
CHART_ROWS = 40
#: Rows of a dot-and-interval chart: points, so a rule and its dot sit on the same line.
ROWS = alt.Scale(type="point", padding=0.6)
_AnyChart = TypeVar("_AnyChart", bound=alt.TopLevelMixin)
_UNVALIDATED: dict[type, type] = {}


def _checked_once(chart: _AnyChart) -> _AnyChart:
    """The chart, turned to a spec without Altair validating it against the Vega-Lite schema again.

    Streamlit calls ``to_dict()`` on every page run, and Altair's validation there was a third of a chart
    page's time. The specs here depend on the data only through the named dataset, and
    ``tests/test_charts.py`` validates every one (``to_dict(validate=True)``). The chart keeps its
    class's name and module, which is how Streamlit recognises an Altair chart.
    """
    base = type(chart)
    quick = _UNVALIDATED.get(base)
    if quick is None:
        def to_dict(self: alt.TopLevelMixin, validate: bool = False, **kwargs: Any) -> dict[str, Any]:
            return base.to_dict(self, validate, **kwargs)

        quick = type(base.__name__, (base,), {"to_dict": to_dict, "__module__": base.__module__,
                                              "__qualname__": base.__qualname__})
        _UNVALIDATED[base] = quick
    object.__setattr__(chart, "__class__", quick)  # not an Altair property (its __setattr__ would keep it)
    return chart


def _colour_when(predicate: Any, chosen: str, other: str) -> alt.ColorValue:
    """``alt.condition(predicate, chosen, other)`` as the colour channel it stands for.

    Altair makes a channel of a plain dict (which ``alt.condition`` of two values gives, like a shorthand
    string) by hashing every class of its schema: about 10 ms for each such channel of every chart built.
    A channel object is taken as it is, so the charts here name their channel classes.
    """
    return alt.ColorValue(**alt.condition(predicate, alt.value(chosen), alt.value(other)))


def _measure_colour(measures: list[str]) -> alt.Color:
    return alt.Color("measure:N", title="Score",
                     scale=alt.Scale(domain=measures, range=[MEASURE_COLOURS[m] for m in measures]),
                     legend=alt.Legend(orient="top"))


def _trend_layer(data: pd.DataFrame, measures: list[str], domain: tuple[int, int], title: str,
                 dashed_series: bool) -> alt.LayerChart:
    base = alt.Chart(data).transform_filter(alt.FieldOneOfPredicate(field="measure", oneOf=measures))
    x = alt.X("period:T", title=None, axis=alt.Axis(format="%d %b %Y", labelOverlap=True))
    y = alt.Y("mean:Q", title=title, scale=alt.Scale(domain=list(domain)))
    detail = [alt.Detail("series:N")] if dashed_series else []
    dash = ([alt.StrokeDash("series:N", title=None, legend=alt.Legend(orient="top"),
                            scale=alt.Scale(domain=list(SERIES_DASHES), range=list(SERIES_DASHES.values())))]
            if dashed_series else [])
    tooltip = [alt.Tooltip("period:T", title="Period"), alt.Tooltip("measure:N", title="Score"),
               alt.Tooltip("mean:Q", title="Average", format=".1f"),
               alt.Tooltip("n:Q", title="Evaluations", format=",")]
    if dashed_series:
        tooltip.insert(0, alt.Tooltip("series:N", title="Series"))
    lines = base.mark_line().encode(x, y, _measure_colour(measures), *dash, *detail)
    # Colour by fill and stroke (with a fill encoding Vega-Lite drops `color`): a thin point keeps its
    # coloured outline and is white inside.
    scale = alt.Scale(domain=measures, range=[MEASURE_COLOURS[m] for m in measures])
    points = base.mark_point(size=45, strokeWidth=1.5, filled=True).encode(
        x, y, *detail,
        stroke=alt.Stroke("measure:N", scale=scale, legend=None),
        fill=alt.condition(alt.datum.thin, alt.value("white"),
                           alt.Fill("measure:N", scale=scale, legend=None)),
        tooltip=tooltip,
    )
    return _checked_once(alt.LayerChart(layer=[lines, points], width=WIDTH, height=260))


def score_trend_chart(trends: pd.DataFrame) -> alt.LayerChart:
    """:func:`coaching.trends.score_trends` (or ``own_trends``, whose ``series`` column is drawn dashed
    for the team average): the Kore Evaluation and Supervisor Audit Scores on one −100…100 axis. Hollow
    points rest on fewer than :data:`coaching.trends.FEW` evaluations."""
    return _trend_layer(trends, [KORE, AUDIT], SCORE_DOMAIN, "Score (−100…100)", "series" in trends.columns)


def sentiment_trend_chart(trends: pd.DataFrame) -> alt.LayerChart:
    """The same trends' Sentiment Score, on its own 1…10 axis (never on the scores' axis)."""
    return _trend_layer(trends, [SENTIMENT], SENTIMENT_DOMAIN, "Sentiment (1…10)", "series" in trends.columns)


def kore_audit_scatter(points: pd.DataFrame) -> alt.LayerChart:
    """:func:`coaching.trends.kore_vs_audit`: one point per audited interaction, Kore across and audit
    up, both on −100…100, with the diagonal where they agree. Choosing a point selects its
    conversation (:data:`POINT_PICK`)."""
    pick = alt.selection_point(name=POINT_PICK, fields=["conversation_id"], on="click")
    scale = alt.Scale(domain=list(SCORE_DOMAIN))
    dots = alt.Chart(points).mark_circle(size=40, opacity=0.6).encode(
        x=alt.X("kore_score:Q", title=KORE, scale=scale),
        y=alt.Y("audit_score:Q", title=AUDIT, scale=scale),
        color=_colour_when(pick, MEASURE_COLOURS[AUDIT], "#999999"),
        tooltip=[alt.Tooltip("agent:N", title="Agent"), alt.Tooltip("start_time:T", title="Interaction"),
                 alt.Tooltip("kore_score:Q", title=KORE, format=".0f"),
                 alt.Tooltip("audit_score:Q", title=AUDIT, format=".0f"),
                 alt.Tooltip("gap:Q", title="Gap (audit − Kore)", format="+.0f"),
                 alt.Tooltip("conversation_id:N", title="Conversation")],
    ).add_params(pick)
    diagonal = alt.Chart(pd.DataFrame({"x": list(SCORE_DOMAIN), "y": list(SCORE_DOMAIN)})).mark_line(
        color="#666666", strokeDash=[4, 4]).encode(x=alt.X("x:Q"), y=alt.Y("y:Q"))
    return _checked_once(alt.LayerChart(layer=[diagonal, dots], width=WIDTH, height=360))


def audit_gap_chart(gaps: pd.DataFrame, rows: int = CHART_ROWS) -> alt.LayerChart:
    """:func:`coaching.trends.audit_gap_by_agent`: each agent's mean gap (audit − Kore) with ± one
    standard deviation, for the ``rows`` agents whose audits disagree most with Kore (the frame's first
    rows); choosing an agent selects them (:data:`AGENT_PICK`)."""
    pick = alt.selection_point(name=AGENT_PICK, fields=["person_id"], on="click")
    gaps = gaps.head(rows)
    data = gaps.assign(low=gaps["mean_gap"] - gaps["sd_gap"], high=gaps["mean_gap"] + gaps["sd_gap"])
    y = alt.Y("agent:N", title=None, sort=alt.EncodingSortField("mean_gap", order="descending"), scale=ROWS)
    tooltip = [alt.Tooltip("agent:N", title="Agent"), alt.Tooltip("n:Q", title="Audited", format=","),
               alt.Tooltip("mean_gap:Q", title="Mean gap", format="+.1f"),
               alt.Tooltip("sd_gap:Q", title="Spread (sd)", format=".1f"),
               alt.Tooltip("mean_kore:Q", title=f"Mean {KORE}", format=".1f"),
               alt.Tooltip("mean_audit:Q", title=f"Mean {AUDIT}", format=".1f")]
    spread = alt.Chart(data).mark_rule(color="#999999").encode(
        y, x=alt.X("low:Q", title="Gap: audit − Kore (points)"), x2=alt.X2("high:Q"), tooltip=tooltip)
    means = alt.Chart(data).mark_point(filled=True, size=70).encode(
        y, x=alt.X("mean_gap:Q"), tooltip=tooltip, color=_colour_when(pick, MEASURE_COLOURS[AUDIT], "#bbbbbb"),
    ).add_params(pick)
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(strokeDash=[4, 4], color="#666666").encode(x=alt.X("x:Q"))
    return _checked_once(alt.LayerChart(layer=[spread, means, zero], width=WIDTH, height=max(120, 28 * len(gaps))))


def metric_overturn_chart(metrics: pd.DataFrame) -> alt.Chart:
    """:func:`coaching.trends.metric_overturns`: disputes per metric, the overturned part highlighted."""
    data = metrics.melt(id_vars=["metric", "overturn_share"], value_vars=["overturned", "disputed"],
                        var_name="kind", value_name="count")
    data = data.assign(kind=data["kind"].map({"overturned": "Overturned", "disputed": "Disputed"}))
    chart: alt.Chart = alt.Chart(data[data["count"] > 0]).mark_bar().encode(
        y=alt.Y("metric:N", title=None, sort=list(metrics["metric"])),
        x=alt.X("count:Q", title="Disputes", stack=None),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=["Disputed", "Overturned"],
                                                              range=["#c7c7c7", MEASURE_COLOURS[AUDIT]]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("metric:N", title="Metric"), alt.Tooltip("kind:N", title="Disputes"),
                 alt.Tooltip("count:Q", title="Count", format=","),
                 alt.Tooltip("overturn_share:Q", title="Share overturned", format=".0%")],
    ).properties(width=WIDTH, height=max(120, 22 * len(metrics)))
    return _checked_once(chart)


def dispute_trend_chart(disputes: pd.DataFrame) -> alt.LayerChart:
    """:func:`coaching.trends.dispute_trends`: the dispute rate and the share overturned per period (one
    0…100% axis), with counts, rounds and time to resolve in the tooltip."""
    data = disputes.melt(
        id_vars=["period", "audited", "disputed", "mean_rounds", "resolved", "median_days_to_resolve"],
        value_vars=["dispute_rate", "overturn_share"], var_name="rate", value_name="value")
    data = data.assign(rate=data["rate"].map({"dispute_rate": "Dispute rate",
                                              "overturn_share": "Share of disputes overturned"}))
    base = alt.Chart(data.dropna(subset=["value"])).encode(
        x=alt.X("period:T", title=None, axis=alt.Axis(format="%d %b %Y", labelOverlap=True)),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("rate:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("period:T", title="Audited in"), alt.Tooltip("rate:N", title="Rate"),
                 alt.Tooltip("value:Q", title="Value", format=".0%"),
                 alt.Tooltip("audited:Q", title="Audited", format=","),
                 alt.Tooltip("disputed:Q", title="Disputed", format=","),
                 alt.Tooltip("mean_rounds:Q", title="Mean dispute rounds", format=".1f"),
                 alt.Tooltip("median_days_to_resolve:Q", title="Median days to resolve", format=".1f")],
    )
    layers = [base.mark_line(), base.mark_point(filled=True)]
    return _checked_once(alt.LayerChart(layer=layers, width=WIDTH, height=240))


def coaching_effect_chart(effects: pd.DataFrame, rows: int = CHART_ROWS) -> alt.LayerChart:
    """:func:`coaching.trends.coaching_effect`: each assignment's change in the agent's Kore average
    (after − before) with its 95% interval, and a tick where uncoached agents moved over the same
    dates, for the ``rows`` most recent assignments measured on both sides (the frame's first).
    Choosing an assignment selects its agent (:data:`AGENT_PICK`)."""
    pick = alt.selection_point(name=AGENT_PICK, fields=["person_id"], on="click")
    data = effects.dropna(subset=["change"]).head(rows).assign(
        label=lambda f: f["agent"] + " · " + f["name"] + " · "
        + pd.to_datetime(f["assigned_date"]).dt.strftime("%d %b %Y"))
    y = alt.Y("label:N", title=None, sort=None, scale=ROWS)
    tooltip = [alt.Tooltip("agent:N", title="Agent"), alt.Tooltip("name:N", title="Assignment"),
               alt.Tooltip("assigned_date:T", title="Assigned"),
               alt.Tooltip("before_mean:Q", title="Before", format=".1f"),
               alt.Tooltip("before_n:Q", title="Evaluations before"),
               alt.Tooltip("after_mean:Q", title="After", format=".1f"),
               alt.Tooltip("after_n:Q", title="Evaluations after"),
               alt.Tooltip("change:Q", title="Change", format="+.1f"),
               alt.Tooltip("uncoached_change:Q", title="Uncoached change", format="+.1f"),
               alt.Tooltip("effect:Q", title="Effect", format="+.1f")]
    interval = alt.Chart(data).mark_rule(color="#999999").encode(
        y, x=alt.X("change_low:Q", title="Change in Kore average (points)"), x2=alt.X2("change_high:Q"),
        tooltip=tooltip)
    change = alt.Chart(data).mark_point(filled=True, size=60).encode(
        y, x=alt.X("change:Q"), tooltip=tooltip, color=_colour_when(pick, MEASURE_COLOURS[KORE], "#bbbbbb"),
    ).add_params(pick)
    uncoached = alt.Chart(data.dropna(subset=["uncoached_change"])).mark_tick(
        color="#ff7f0e", thickness=2).encode(y, x=alt.X("uncoached_change:Q"), tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(strokeDash=[4, 4], color="#666666").encode(x=alt.X("x:Q"))
    layers = [interval, change, uncoached, zero]
    return _checked_once(alt.LayerChart(layer=layers, width=WIDTH, height=max(120, 26 * len(data))))


def effect_summary_chart(summary: pd.DataFrame, by: str) -> alt.Chart:
    """:func:`coaching.trends.coaching_effect_summary`: the mean effect per coaching area or lead."""
    titles = {"coaching_area": "Coaching area", "lead": "Lead"}
    if by not in titles:
        raise ValueError(f"summaries are per {' or per '.join(titles)}, not {by!r}")
    title = titles[by]
    shown = summary.dropna(subset=["mean_effect"])
    chart: alt.Chart = alt.Chart(shown).mark_bar().encode(
        y=alt.Y(f"{by}:N", title=None, sort="-x"),
        x=alt.X("mean_effect:Q", title="Mean effect (coached − uncoached change, points)"),
        color=_colour_when(alt.datum.mean_effect >= 0, MEASURE_COLOURS[SENTIMENT], MEASURE_COLOURS[AUDIT]),
        tooltip=[alt.Tooltip(f"{by}:N", title=title),
                 alt.Tooltip("assignments:Q", title="Assignments"),
                 alt.Tooltip("measured:Q", title="Measured"),
                 alt.Tooltip("mean_change:Q", title="Mean change", format="+.1f"),
                 alt.Tooltip("mean_uncoached_change:Q", title="Mean uncoached change", format="+.1f"),
                 alt.Tooltip("mean_effect:Q", title="Mean effect", format="+.1f")],
    ).properties(width=WIDTH, height=max(100, 24 * len(shown)))
    return _checked_once(chart)

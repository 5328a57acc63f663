"""Chart specs for the trends pages: pure functions from a :mod:`coaching.trends` DataFrame to an Altair
chart. No Streamlit here; a page hands the chart to ``st.altair_chart``.

Scales are honest: the Kore Evaluation and Supervisor Audit Scores share one −100…100 axis, sentiment
(1…10) gets its own. Every mark has a tooltip with the count behind it, and an average resting on few
evaluations (``thin``) is drawn as a hollow point. Charts a page can drill into carry a named point
selection (:data:`AGENT_PICK`, :data:`POINT_PICK`).

Readable at 1280 and 1440 px: a chart of agents, assignments, metrics, coaching areas or leads grows a
row (:data:`ROW_STEP`) for each, its names cut at :data:`LABEL_LIMIT` pixels with the whole name in the
tooltip; a trend by month has a tick per month; a trend by day over more than :data:`DAILY_POINTS` days
draws its days faint under their rolling mean; Kore and audit scores show the pass score as a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal, TypeVar

import altair as alt
import pandas as pd

from coaching.settings import DEFAULT_PASS_SCORE
from coaching.trends import AUDIT, KORE, MEASURES, ROLLING_DAYS, SENTIMENT, TEAM_AVERAGE, YOU

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
#: The height of each row of a chart of agents, assignments, metrics, coaching areas or leads (pixels):
#: the chart grows with its rows, so every name has its line.
ROW_STEP = 26
#: The longest name an axis or a legend writes (pixels): a longer one ends in "…"; the tooltip has it all.
LABEL_LIMIT = 220
#: A trend by day with more days than this draws each day faint and a line of their rolling mean
#: (:data:`coaching.trends.ROLLING_DAYS` days): beyond about two months the daily line is noise.
DAILY_POINTS = 60
#: The colours of agents drawn a line each (ten: as many as ``coaching.trends.MAX_COMPARED``).
AGENT_SCHEME: Final = "tableau10"
#: The pass score's reference line: its colour and dashes (its legend entry says "Pass score 40").
PASS_COLOUR = "#555555"
PASS_DASH = [6, 3]
#: Least space between two dates on a time axis (pixels): closer ones are left out, not run together.
DATE_SEPARATION = 12
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
                     legend=alt.Legend(orient="top", labelLimit=LABEL_LIMIT))


def _period_x(grain: str) -> alt.X:
    """The time axis of a trend: by month a tick for each month ("Sep 2026"), else dates. The axis' format
    is also how each mark's description (what a screen reader says) writes its period: the full date."""
    if grain == "month":
        axis = alt.Axis(format="%d %b %Y", labelExpr="timeFormat(datum.value, '%b %Y')",
                        tickCount=alt.TimeIntervalStep(interval="month", step=1),
                        labelOverlap=True, labelSeparation=DATE_SEPARATION)
    else:
        axis = alt.Axis(format="%d %b %Y", labelOverlap=True, labelSeparation=DATE_SEPARATION)
    return alt.X("period:T", title=None, axis=axis)


def _pass_score_layers(score: float, *, across: bool = False,
                       orient: Literal["top", "right"] = "top") -> list[alt.Chart]:
    """The pass score as a dashed grey line named in a legend of its own ("Pass score 40"; a label on
    the line would sit on the points near it): across a chart whose y axis is a score, or up one whose
    x axis is (``across``). Its data is the one row naming it; the position is the score itself."""
    label = f"Pass score {score:g}"
    at: Any = (alt.XDatum(score, type="quantitative") if across
               else alt.YDatum(score, type="quantitative"))
    dash = alt.StrokeDash("reference:N", title=None, scale=alt.Scale(domain=[label], range=[PASS_DASH]),
                          legend=alt.Legend(orient=orient, symbolStrokeColor=PASS_COLOUR, symbolType="stroke",
                                            labelLimit=LABEL_LIMIT))
    rule = alt.Chart(alt.InlineData(values=[{"reference": label}])).mark_rule(color=PASS_COLOUR, strokeWidth=1.2)
    return [rule.encode(at, strokeDash=dash, tooltip=alt.TooltipValue(f"Pass score: {score:g}"))]


def draws_rolling_mean(data: pd.DataFrame, grain: str, measures: Sequence[str] = MEASURES) -> bool:
    """Whether a trend of ``measures`` is drawn as faint days under their rolling mean: by day, over more
    than :data:`DAILY_POINTS` days with a score of them (an agent's few audits keep their own line)."""
    if grain != "day" or "rolling_mean" not in data.columns:
        return False
    return bool(data.loc[data["measure"].isin(measures), "period"].nunique() > DAILY_POINTS)


def _trend_layer(data: pd.DataFrame, measures: list[str], domain: tuple[int, int], title: str, *,
                 grain: str, pass_score: float | None, by_agent: bool = False,
                 chart_title: str | None = None) -> alt.LayerChart:
    """Lines and points of ``measures`` over time: coloured by measure, or by agent (``by_agent``: a
    line per ``person_id``, named by ``agent`` in the legend); an own trend's ``series`` dashed."""
    base = alt.Chart(data).transform_filter(alt.FieldOneOfPredicate(field="measure", oneOf=measures))
    x = _period_x(grain)
    y = alt.Y("mean:Q", title=title, scale=alt.Scale(domain=list(domain)))
    dashed_series = "series" in data.columns
    tooltip = [alt.Tooltip("period:T", title="Period"), alt.Tooltip("measure:N", title="Score"),
               alt.Tooltip("mean:Q", title="Average", format=".1f"),
               alt.Tooltip("n:Q", title="Evaluations", format=",")]
    if by_agent:
        agents = list(dict.fromkeys(data["agent"]))
        scale = alt.Scale(domain=agents, scheme=AGENT_SCHEME)
        field = "agent:N"
        colour = alt.Color(field, title="Agent", scale=scale,
                           legend=alt.Legend(orient="right", labelLimit=LABEL_LIMIT, symbolType="stroke"))
        detail = [alt.Detail("person_id:N")]  # two agents never share a line, whatever their names
        tooltip.insert(0, alt.Tooltip("agent:N", title="Agent"))
    else:
        scale = alt.Scale(domain=measures, range=[MEASURE_COLOURS[m] for m in measures])
        field = "measure:N"
        colour = alt.Color(field, title="Score", scale=scale, legend=alt.Legend(orient="top", labelLimit=LABEL_LIMIT))
        detail = [alt.Detail("series:N")] if dashed_series else []
    dash = []
    if dashed_series:
        # The agent's own series ("You", or their name when a lead looks) solid, the team average dashed.
        own = [s for s in dict.fromkeys(data["series"]) if s != TEAM_AVERAGE][:1] or [YOU]
        dash = [alt.StrokeDash("series:N", title=None, legend=alt.Legend(orient="top", labelLimit=LABEL_LIMIT),
                               scale=alt.Scale(domain=[*own, TEAM_AVERAGE],
                                               range=[SERIES_DASHES[YOU], SERIES_DASHES[TEAM_AVERAGE]]))]
        tooltip.insert(0, alt.Tooltip("series:N", title="Series"))
    rolling = draws_rolling_mean(data, grain, measures)
    if rolling:
        tooltip += [alt.Tooltip("rolling_mean:Q", title=f"Average of the {ROLLING_DAYS} days to it", format=".1f"),
                    alt.Tooltip("rolling_n:Q", title=f"Evaluations in the {ROLLING_DAYS} days", format=",")]
        line_y = alt.Y("rolling_mean:Q", title=title, scale=alt.Scale(domain=list(domain)))
    else:
        line_y = y
    lines = base.mark_line(strokeWidth=2 if rolling else 1.5).encode(x, line_y, colour, *dash, *detail)
    # Colour by fill and stroke (with a fill encoding Vega-Lite drops `color`): a thin point keeps its
    # coloured outline and is white inside. By day over many days the points are faint, the line their mean.
    points = base.mark_point(size=25 if rolling else 45, strokeWidth=1 if rolling else 1.5, filled=True,
                             opacity=0.35 if rolling else 1).encode(
        x, y, *detail,
        stroke=alt.Stroke(field, scale=scale, legend=None),
        fill=alt.condition(alt.datum.thin, alt.value("white"), alt.Fill(field, scale=scale, legend=None)),
        tooltip=tooltip,
    )
    layers: list[alt.Chart] = [lines, points]
    if pass_score is not None:
        layers += _pass_score_layers(pass_score, orient="right" if by_agent else "top")
    titled: dict[str, Any] = {"title": alt.Title(chart_title, anchor="start")} if chart_title else {}
    # The pass score's dashes are its own, not the series' (solid for the agent, dashed for the team).
    apart = alt.Resolve(scale=alt.ScaleResolveMap(strokeDash="independent"))
    return _checked_once(alt.LayerChart(layer=layers, width=WIDTH, height=260, resolve=apart, **titled))


def score_trend_chart(trends: pd.DataFrame, grain: str = "week",
                      pass_score: float = DEFAULT_PASS_SCORE) -> alt.LayerChart:
    """:func:`coaching.trends.score_trends` (or ``own_trends``, whose ``series`` column is drawn dashed
    for the team average): the Kore Evaluation and Supervisor Audit Scores on one −100…100 axis, with
    the pass score's line. Hollow points rest on fewer than :data:`coaching.trends.FEW` evaluations."""
    return _trend_layer(trends, [KORE, AUDIT], SCORE_DOMAIN, "Score (−100…100)", grain=grain,
                        pass_score=pass_score)


def sentiment_trend_chart(trends: pd.DataFrame, grain: str = "week") -> alt.LayerChart:
    """The same trends' Sentiment Score, on its own 1…10 axis (never on the scores' axis)."""
    return _trend_layer(trends, [SENTIMENT], SENTIMENT_DOMAIN, "Sentiment (1…10)", grain=grain, pass_score=None)


def agent_trend_chart(trends: pd.DataFrame, measure: str, grain: str = "week",
                      pass_score: float = DEFAULT_PASS_SCORE) -> alt.LayerChart:
    """:func:`coaching.trends.agent_score_trends`: one ``measure``, a line and a colour for each agent
    (``person_id``), the legend naming them; Kore and audit on −100…100 with the pass score's line,
    sentiment on 1…10."""
    if measure == SENTIMENT:
        return _trend_layer(trends, [SENTIMENT], SENTIMENT_DOMAIN, "Sentiment (1…10)", grain=grain,
                            pass_score=None, by_agent=True, chart_title=measure)
    if measure not in (KORE, AUDIT):
        raise ValueError(f"unknown measure {measure!r}")
    return _trend_layer(trends, [measure], SCORE_DOMAIN, "Score (−100…100)", grain=grain,
                        pass_score=pass_score, by_agent=True, chart_title=measure)


def kore_audit_scatter(points: pd.DataFrame, pass_score: float = DEFAULT_PASS_SCORE) -> alt.LayerChart:
    """:func:`coaching.trends.kore_vs_audit`: one point per audited interaction, Kore across and audit
    up, both on −100…100, with the diagonal where they agree and the pass score on both axes (the
    quarters: both pass, both fail, or they disagree). Choosing a point selects its conversation
    (:data:`POINT_PICK`)."""
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
    layers = [diagonal, dots, *_pass_score_layers(pass_score), *_pass_score_layers(pass_score, across=True)]
    return _checked_once(alt.LayerChart(layer=layers, width=WIDTH, height=360))


def audit_gap_chart(gaps: pd.DataFrame, rows: int = CHART_ROWS) -> alt.LayerChart:
    """:func:`coaching.trends.audit_gap_by_agent`: each agent's mean gap (audit − Kore) with ± one
    standard deviation, for the ``rows`` agents whose audits disagree most with Kore (the frame's first
    rows); choosing an agent selects them (:data:`AGENT_PICK`)."""
    pick = alt.selection_point(name=AGENT_PICK, fields=["person_id"], on="click")
    gaps = gaps.head(rows)
    data = gaps.assign(low=gaps["mean_gap"] - gaps["sd_gap"], high=gaps["mean_gap"] + gaps["sd_gap"])
    y = alt.Y("agent:N", title=None, sort=alt.EncodingSortField("mean_gap", order="descending"), scale=ROWS,
              axis=alt.Axis(labelLimit=LABEL_LIMIT))
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
    return _checked_once(alt.LayerChart(layer=[spread, means, zero], width=WIDTH, height=alt.Step(ROW_STEP)))


def metric_overturn_chart(metrics: pd.DataFrame) -> alt.Chart:
    """:func:`coaching.trends.metric_overturns`: disputes per metric, the overturned part highlighted."""
    # Disputed first, so each metric's overturned bar is drawn over its disputed one.
    data = metrics.melt(id_vars=["metric", "overturn_share"], value_vars=["disputed", "overturned"],
                        var_name="kind", value_name="count")
    data = data.assign(kind=data["kind"].map({"overturned": "Overturned", "disputed": "Disputed"}))
    chart: alt.Chart = alt.Chart(data[data["count"] > 0]).mark_bar().encode(
        y=alt.Y("metric:N", title=None, sort=list(metrics["metric"]), axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        x=alt.X("count:Q", title="Disputes", stack=None, axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("kind:N", title=None, scale=alt.Scale(domain=["Disputed", "Overturned"],
                                                              range=["#c7c7c7", MEASURE_COLOURS[AUDIT]]),
                        legend=alt.Legend(orient="top", labelLimit=LABEL_LIMIT)),
        tooltip=[alt.Tooltip("metric:N", title="Metric"), alt.Tooltip("kind:N", title="Disputes"),
                 alt.Tooltip("count:Q", title="Count", format=","),
                 alt.Tooltip("overturn_share:Q", title="Share overturned", format=".0%")],
    ).properties(width=WIDTH, height=alt.Step(ROW_STEP))
    return _checked_once(chart)


def dispute_trend_chart(disputes: pd.DataFrame, grain: str = "week") -> alt.LayerChart:
    """:func:`coaching.trends.dispute_trends`: the dispute rate (disputed ÷ audited) and the share
    overturned per period (one 0…100% axis), with counts, rounds and time to resolve in the tooltip."""
    data = disputes.melt(
        id_vars=["period", "audited", "disputed", "mean_rounds", "resolved", "median_days_to_resolve"],
        value_vars=["dispute_rate", "overturn_share"], var_name="rate", value_name="value")
    data = data.assign(rate=data["rate"].map({"dispute_rate": "Dispute rate",
                                              "overturn_share": "Share overturned"}))
    base = alt.Chart(data.dropna(subset=["value"])).encode(
        x=_period_x(grain),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("rate:N", title=None, legend=alt.Legend(orient="top", labelLimit=LABEL_LIMIT)),
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
    # Who and when first: a label cut short still tells an agent's assignments apart.
    data = effects.dropna(subset=["change"]).head(rows).assign(
        label=lambda f: f["agent"] + " · " + pd.to_datetime(f["assigned_date"]).dt.strftime("%d %b %Y")
        + " · " + f["name"])
    y = alt.Y("label:N", title=None, sort=None, scale=ROWS, axis=alt.Axis(labelLimit=LABEL_LIMIT))
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
    return _checked_once(alt.LayerChart(layer=layers, width=WIDTH, height=alt.Step(ROW_STEP)))


def effect_summary_chart(summary: pd.DataFrame, by: str) -> alt.Chart:
    """:func:`coaching.trends.coaching_effect_summary`: the mean effect per coaching area or lead."""
    titles = {"coaching_area": "Coaching area", "lead": "Lead"}
    if by not in titles:
        raise ValueError(f"summaries are per {' or per '.join(titles)}, not {by!r}")
    title = titles[by]
    shown = summary.dropna(subset=["mean_effect"])
    chart: alt.Chart = alt.Chart(shown).mark_bar().encode(
        y=alt.Y(f"{by}:N", title=None, sort="-x", axis=alt.Axis(labelLimit=LABEL_LIMIT // 2)),
        x=alt.X("mean_effect:Q", title="Mean effect (points)"),
        color=_colour_when(alt.datum.mean_effect >= 0, MEASURE_COLOURS[SENTIMENT], MEASURE_COLOURS[AUDIT]),
        tooltip=[alt.Tooltip(f"{by}:N", title=title),
                 alt.Tooltip("assignments:Q", title="Assignments"),
                 alt.Tooltip("measured:Q", title="Measured"),
                 alt.Tooltip("mean_change:Q", title="Mean change", format="+.1f"),
                 alt.Tooltip("mean_uncoached_change:Q", title="Mean uncoached change", format="+.1f"),
                 alt.Tooltip("mean_effect:Q", title="Mean effect (coached − uncoached)", format="+.1f")],
    ).properties(width=WIDTH, height=alt.Step(ROW_STEP))
    return _checked_once(chart)


#: Selection name of the metric heatmap's cells (fields ``person_id`` and ``metric``).
CELL_PICK = "cell_pick"
#: Height of one agent's row of the heatmap (pixels): every agent's name stays readable.
HEATMAP_ROW = 24
#: The colour scale's reach, in percentage points either side of the team rate (beyond it, full colour).
HEATMAP_REACH = 30
#: Longest line of a metric's name on the heatmap's axis (characters); the tooltip has the whole name.
METRIC_LINE = 11
#: The heatmap's metric names: font size and line height (pixels).
_METRIC_FONT, _METRIC_LEADING = 11, 13


def _metric_axis(metrics: list[str], team_rates: dict[str, float] | None) -> alt.Axis:
    """The heatmap's metrics across its top: each name wrapped in lines of at most :data:`METRIC_LINE`
    characters (a longer word keeps a line of its own), then the metric's team rate when there is one
    (``team_rates``: one team on the chart); every name shown.

    Vega draws a label's further lines below its first, into the chart, so every name gets as many lines
    as the longest (blank ones first) and the padding lifts them clear: the names sit on the chart.
    """
    import json  # here, not at the top: the heatmap's functions were added at the end of the module
    import textwrap

    wrapped = {m: [*(textwrap.wrap(m, METRIC_LINE, break_long_words=False, break_on_hyphens=False) or [m]),
                   *([f"team {team_rates[m]:.0%}"] if team_rates is not None else [])]
               for m in metrics}
    lines = max((len(w) for w in wrapped.values()), default=1)
    padded = {m: [""] * (lines - len(w)) + w for m, w in wrapped.items()}
    return alt.Axis(orient="top", labelAngle=0, labelAlign="center", labelBaseline="bottom",
                    labelExpr=f"({json.dumps(padded, ensure_ascii=True)})[datum.label] || datum.label",
                    labelLimit=0, labelOverlap=False, labelFontSize=_METRIC_FONT, labelLineHeight=_METRIC_LEADING,
                    labelPadding=4 + (lines - 1) * _METRIC_LEADING, ticks=False, domain=False)


def metric_heatmap_chart(cells: pd.DataFrame) -> alt.LayerChart:
    """:func:`coaching.metric_heatmap.arrange`'s cells: agents down in its ``row`` order, one
    :data:`HEATMAP_ROW` each (long names cut short, the whole name in the tooltip); metrics across, their
    names wrapped above each column, with the team rate when the agents are of one team (else each team has
    its own, in the tooltip); each cell coloured by how far the agent's share not adhered is above (red) or
    below (blue) their team's rate, in points, with the share written in it. A thin cell (fewer than
    :data:`coaching.metric_heatmap.FEW` scored) is faded and shows "·" instead. Choosing a cell selects its
    agent and metric (:data:`CELL_PICK`)."""
    from coaching.metric_heatmap import FEW, one_team  # here, not at the top: see _metric_axis

    pick = alt.selection_point(name=CELL_PICK, fields=["person_id", "metric"], on="click", clear="dblclick")
    columns = ["person_id", "agent", "team", "metric", "scored", "not_adhered", "share", "team_rate",
               "above_team", "thin", "row"]
    thin = cells["thin"].astype(bool)
    data = cells[columns].assign(
        thin=thin,
        text=["·" if t else f"{share:.0%}" for share, t in zip(cells["share"], thin, strict=True)],
        note=[f"Fewer than {FEW} scored: read with care" if t else "" for t in thin],
    )
    metrics = sorted(str(m) for m in data["metric"].unique())
    # One team rate a metric only when the agents are of one team; else the tooltip has each agent's team's.
    team_rates = ({str(m): float(r) for m, r in data.groupby("metric")["team_rate"].first().items()}
                  if len(data) and one_team(data) else None)
    x = alt.X("metric:N", title=None, sort=metrics, axis=_metric_axis(metrics, team_rates))
    y = alt.Y("agent:N", title=None, sort=alt.EncodingSortField(field="row", op="min", order="ascending"),
              axis=alt.Axis(labelLimit=170, labelFontSize=11, ticks=False, domain=False))
    tooltip = [alt.Tooltip("agent:N", title="Agent"), alt.Tooltip("team:N", title="Team"),
               alt.Tooltip("metric:N", title="Metric"), alt.Tooltip("scored:Q", title="Scored", format=","),
               alt.Tooltip("not_adhered:Q", title="Not adhered", format=","),
               alt.Tooltip("share:Q", title="Share not adhered", format=".0%"),
               alt.Tooltip("team_rate:Q", title="Their team's rate", format=".0%"),
               alt.Tooltip("above_team:Q", title="Against their team's rate (points)", format="+.1f"),
               alt.Tooltip("note:N", title="Note")]
    rects = alt.Chart(data).mark_rect().encode(
        x, y,
        color=alt.Color("above_team:Q", title="Share not adhered against their team's rate (points)",
                        scale=alt.Scale(scheme="redblue", reverse=True, domain=[-HEATMAP_REACH, HEATMAP_REACH],
                                        clamp=True),
                        legend=alt.Legend(orient="top", format="+d", gradientLength=220, titleLimit=400)),
        opacity=alt.OpacityValue(**alt.condition(alt.datum.thin, alt.value(0.35), alt.value(1.0))),
        stroke=alt.StrokeValue(**alt.condition(pick, alt.value("#111111"), alt.value("#ffffff"), empty=False)),
        strokeWidth=alt.StrokeWidthValue(**alt.condition(pick, alt.value(2.5), alt.value(1.0), empty=False)),
        tooltip=tooltip,
    ).add_params(pick)
    strong = alt.expr.abs(alt.datum.above_team) > HEATMAP_REACH * 0.6
    labels = alt.Chart(data).mark_text().encode(
        x, y, text=alt.Text("text:N"), color=_colour_when(strong, "#ffffff", "#222222"),
        size=alt.SizeValue(**alt.condition(alt.datum.thin, alt.value(18), alt.value(10))), tooltip=tooltip)
    # A metric an agent has no scored interaction of is a grey cell, never a blank one (which would read as
    # level with the team).
    agents = data.drop_duplicates("person_id")[["person_id", "agent", "team", "row"]]
    grid = agents.merge(pd.DataFrame({"metric": metrics}, dtype=object), how="cross")
    gaps = grid.merge(data[["person_id", "metric"]], how="left", on=["person_id", "metric"], indicator=True)
    gaps = gaps[gaps["_merge"] == "left_only"].drop(columns="_merge").assign(
        note="No scored interactions in these dates")
    empty = alt.Chart(gaps).mark_rect(color="#e4e4e4", stroke="#ffffff", strokeWidth=1).encode(
        x, y, tooltip=[alt.Tooltip("agent:N", title="Agent"), alt.Tooltip("metric:N", title="Metric"),
                       alt.Tooltip("note:N", title="Note")])
    # Fit the width only: Streamlit's default fits the legend and the axes into the height too, which
    # squeezed the rows until their names overlapped.
    return _checked_once(alt.LayerChart(layer=[rects, labels, empty], width=WIDTH,
                                        height=HEATMAP_ROW * max(len(agents), 1),
                                        autosize=alt.AutoSizeParams(type="fit-x", contains="padding")))

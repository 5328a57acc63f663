"""Score Trends: how scores move, where Auto QA and audits disagree, whether coaching works, how disputes
go (team leads, QA, admins, over their scope); an agent sees their own scores against their team's
average, and so does a lead for one agent of theirs (``/trends?agent=<person_id>``). The figures come
from `coaching.trends`, the charts from `coaching.charts`.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from coaching import charts, settings
from coaching.access import AccessDenied, Capability, can
from coaching.export import csv_bytes
from coaching.trends import (
    AUDIT,
    DATES_LABEL,
    DEFAULT_DAYS,
    DIP,
    FEW,
    FILTER_LABELS,
    GRAIN_LABEL,
    GRAINS,
    KORE,
    MAX_COMPARED,
    MEASURES,
    MIN_TEAM_AGENTS,
    MONITOR_CHANGE,
    MONITOR_DAYS,
    ROLLING_DAYS,
    SENTIMENT,
    SPIKE,
    VIEWS,
    TrendFilters,
    agent_in_scope,
    agent_score_trends,
    audit_gap_by_agent,
    coaching_effect_report,
    coaching_monitor,
    compares_agents,
    dispute_trends,
    filter_options,
    headline_figures,
    kore_vs_audit,
    metric_overturns,
    own_headline,
    own_trends,
    score_trends,
)
from ui import cache, clock, navigation, session
from ui.cache import scoped
from ui.text import escape_markdown

viewer = session.viewer()
store = session.store()
today = clock.today()
lead_view = can(viewer, Capability.TEAM_ANALYTICS)
#: The pass score Kore and audit charts draw (the setting the Audit and Coaching pages judge by).
pass_score = settings.review_settings().pass_score
#: Most rows a table shows (the first); its CSV download has them all.
MOST_ROWS = 1_000
#: The query parameter naming the agent whose trends a lead opens (a person_id: who, never a name).
AGENT_PARAM = "agent"


def download(frame: pd.DataFrame, name: str) -> None:
    """The data behind a chart, as CSV (safe to open in a spreadsheet), written only when someone asks for it
    (not on every run)."""
    st.download_button("Download CSV", lambda: csv_bytes(frame), file_name=f"{name}.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore", key=f"csv_{name}")


def chosen(event: object, selection: str) -> list[dict]:
    """The points chosen on a chart under ``selection`` (a chart's event, or its state)."""
    return ((event or {}).get("selection") or {}).get(selection) or []


def pick_agent(chart_key: str) -> None:
    """Drill down: the agent chosen on a chart becomes the Agent filter."""
    picked = chosen(st.session_state.get(chart_key), charts.AGENT_PICK)
    if picked:
        st.session_state["trend_agents"] = [picked[0]["person_id"]]  # who, never a name


def date_controls(container: DeltaGenerator) -> tuple[date, date]:
    # The widget's state, not value=: the Team page sets it when it opens an agent's trends.
    st.session_state.setdefault("trend_dates", (today - timedelta(days=DEFAULT_DAYS - 1), today))
    dates = container.date_input(DATES_LABEL, max_value=today, format="YYYY-MM-DD", key="trend_dates")
    start, end = (tuple(dates) + (None, None))[:2] if dates else (None, None)
    if start is None:
        start = today - timedelta(days=DEFAULT_DAYS - 1)
    return start, end or start


def grain_control(container: DeltaGenerator) -> str:
    """Day, week or month: shown only in the views it changes. One choice for all of them, kept while
    another view is open."""
    grain: str = container.segmented_control(GRAIN_LABEL, GRAINS, default="week", required=True,
                                             key="trend_grain", format_func=str.capitalize, persist_state="page")
    return grain


def period_controls() -> tuple[date, date, str]:
    left, right = st.columns([3, 2])
    start, end = date_controls(left)
    return start, end, grain_control(right)


def reading_note(grain: str, trends: pd.DataFrame) -> str:
    """How to read a trend chart: hollow points, the pass score, faint days under their rolling mean."""
    note = (f"Hover a point for its average and count; hollow points rest on fewer than {FEW}. The dashed "
            f"grey line is the pass score ({pass_score:g}).")
    if charts.draws_rolling_mean(trends, grain):
        note += (f" Over more than {charts.DAILY_POINTS} days with scores each day is a faint point and the "
                 f"line is the average of the {ROLLING_DAYS} days up to it.")
    return note


def period_words(filters: TrendFilters) -> str:
    """The dates against the days before them, as a caption says it."""
    before_start, before_end = filters.previous
    return (f"{filters.start:%d %b %Y} – {filters.end:%d %b %Y} against the {filters.days:,} days before "
            f"({before_start:%d %b} – {before_end:%d %b %Y})")


def draw_headline(filters: TrendFilters, agent: str | None) -> None:
    """The headline figures: each average over the dates with its change against the days before, what it
    rests on, the pass score and the team's average."""
    headline = scoped(store, viewer, own_headline, filters, agent, pass_score)
    st.caption(f"Averages of {period_words(filters)}.")
    for column, figure in zip(st.columns(len(MEASURES)), headline_figures(headline, pass_score), strict=True):
        with column.container(border=True, gap="xsmall"):
            st.metric(figure.label, figure.value, figure.change,
                      delta_description=f"vs the {filters.days:,} days before" if figure.change else None,
                      help=f"The average {figure.measure} of the evaluations in these dates, and its change "
                           f"against the {filters.days:,} days before (shown where each has {FEW} or more).")
            st.caption(figure.details[:1].upper() + figure.details[1:] + ".")


def draw_own(trends: pd.DataFrame, grain: str, name: str, filters: TrendFilters, agent: str | None = None) -> None:
    """An agent's own trends beside their team's average: the headline figures, scores, then sentiment, and
    the CSV."""
    draw_headline(filters, agent)
    st.caption(reading_note(grain, trends))
    st.altair_chart(cache.chart(charts.score_trend_chart, trends, grain, pass_score), key="own_chart")
    st.altair_chart(cache.chart(charts.sentiment_trend_chart, trends, grain), key="own_sentiment_chart")
    download(trends, name)


def show_own() -> None:
    st.title("My Score Trends")
    st.caption(f"Your scores against your team's average (shown where {MIN_TEAM_AGENTS} or more agents of your "
               "team have that score). Kore and audit scores share the −100…100 axis; sentiment has its own.")
    start, end, grain = period_controls()
    filters = TrendFilters(start, end)
    trends = scoped(store, viewer, own_trends, filters, grain)
    if trends.empty:
        st.info("No evaluated interactions of yours in these dates.")
        return
    draw_own(trends, grain, "my-score-trends", filters)


def back_to_team() -> None:
    st.page_link("pages/trends.py", label="Back to Score Trends", icon=":material/arrow_back:")


def show_agent(person_id: str) -> None:
    """One agent's trends against their team's average, for their lead (or QA, an admin): the agent's own
    view. Someone outside the viewer's scope, or no one, gets a message and nothing else."""
    try:
        agent = scoped(store, viewer, agent_in_scope, person_id)
    except AccessDenied as denied:
        st.title("Score Trends")
        st.error(escape_markdown(str(denied)))  # it quotes the link's value
        back_to_team()
        return
    st.title(f"Score Trends: {escape_markdown(agent.label)}")
    back_to_team()
    st.caption(f"{escape_markdown(agent.label)}'s scores (solid) against their team's average (dashed, shown "
               f"where {MIN_TEAM_AGENTS} or more agents of the team have that score). Kore and audit scores "
               "share the −100…100 axis; sentiment has its own.")
    start, end, grain = period_controls()
    filters = TrendFilters(start, end)
    trends = scoped(store, viewer, own_trends, filters, grain, agent.person_id)
    if trends.empty:
        st.info(f"No evaluated interactions of {escape_markdown(agent.label)} or their team in these dates.")
        return
    draw_own(trends, grain, "agent-score-trends", filters, agent.person_id)


def totals_caption(trends: pd.DataFrame) -> str:
    """The evaluations behind each score, Kore first."""
    totals = trends.groupby("measure")["n"].sum()
    return " · ".join(f"{measure}: {totals[measure]:,} evaluations" for measure in MEASURES if measure in totals)


def show_agents_compared(filters: TrendFilters, grain: str) -> None:
    """A line per chosen agent on each score (2 to MAX_COMPARED agents)."""
    trends = scoped(store, viewer, agent_score_trends, filters, grain)
    if trends.empty:
        st.info("No evaluated interactions match these filters.")
        return
    st.caption(f"A line for each agent chosen ({trends['person_id'].nunique()} with scores in these dates). "
               + totals_caption(trends) + ". " + reading_note(grain, trends))
    for measure in (KORE, AUDIT, SENTIMENT):
        if (trends["measure"] == measure).any():
            st.altair_chart(cache.chart(charts.agent_trend_chart, trends, measure, grain, pass_score),
                            key=f"agents_chart_{measure}")
        else:
            st.caption(f"No {measure} for these agents in these dates.")
    download(trends, "score-trends-per-agent")
    st.caption("Each agent against their team's average:")
    with st.container(horizontal=True, gap="medium"):
        for person_id, label in trends[["person_id", "agent"]].drop_duplicates().itertuples(index=False):
            st.page_link("pages/trends.py", label=escape_markdown(label), icon=":material/person:",
                         query_params={AGENT_PARAM: person_id})


def show_score_trends(filters: TrendFilters) -> None:
    grain = grain_control(st.container(width=360))
    if compares_agents(filters):
        show_agents_compared(filters, grain)
        return
    if len(filters.agents) > MAX_COMPARED:
        st.info(f"{len(filters.agents)} agents are chosen: more than {MAX_COMPARED} are drawn together, as one "
                f"line per score. Choose {MAX_COMPARED} or fewer to draw a line for each agent.")
    trends = scoped(store, viewer, score_trends, filters, grain)
    if trends.empty:
        st.info("No evaluated interactions match these filters.")
        return
    st.caption(totals_caption(trends) + ". " + reading_note(grain, trends))
    st.altair_chart(cache.chart(charts.score_trend_chart, trends, grain, pass_score), key="trend_chart")
    st.altair_chart(cache.chart(charts.sentiment_trend_chart, trends, grain), key="sentiment_chart")
    download(trends, "score-trends")


def show_kore_vs_audit(filters: TrendFilters) -> None:
    points = scoped(store, viewer, kore_vs_audit, filters)
    if points.empty:
        st.info("No audited interactions with a Kore score match these filters.")
        return
    st.subheader("Audited interactions")
    st.caption(f"{len(points):,} most recent audited interactions; on the dashed diagonal Kore and the audit "
               f"agree, and the grey lines mark the pass score ({pass_score:g}) on each. Choose a point to open "
               "its audit.")
    event = st.altair_chart(cache.chart(charts.kore_audit_scatter, points, pass_score), on_select="rerun",
                            key="scatter",
                            selection_mode=charts.POINT_PICK)
    if picked := chosen(event, charts.POINT_PICK):
        navigation.open_audit(picked[0]["conversation_id"])
    download(points, "kore-vs-audit")
    st.subheader("Gap per agent")
    gaps = scoped(store, viewer, audit_gap_by_agent, filters)
    if len(gaps) > charts.CHART_ROWS:
        st.caption(f"The {charts.CHART_ROWS} agents (of {len(gaps):,}) whose audits differ most from Kore: mean "
                   "of audit − Kore with ± one standard deviation; the CSV has every agent. Choose an agent to "
                   "see only them.")
    else:
        st.caption("Mean of audit − Kore with ± one standard deviation. Choose an agent to see only them.")
    # Only the rows the chart draws: the chart cache's key hashes every row it is handed.
    st.altair_chart(cache.chart(charts.audit_gap_chart, gaps.head(charts.CHART_ROWS)),
                    on_select=lambda: pick_agent("gap_chart"), key="gap_chart", selection_mode=charts.AGENT_PICK)
    download(gaps, "audit-gap-per-agent")


def show_coaching(filters: TrendFilters) -> None:
    st.subheader("Coaching monitor")
    monitor = scoped(store, viewer, coaching_monitor, today, filters)
    st.caption(f"Assignments made in these dates: the agent's Kore average in the {MONITOR_DAYS} days before "
               f"the assignment against the last {MONITOR_DAYS} days; a move of {MONITOR_CHANGE:g} points or "
               "more is a spike or a dip.")
    if monitor.empty:
        st.info("No coaching assignments were made in these dates.")
        return
    if len(monitor) > MOST_ROWS:
        st.caption(f"The newest {MOST_ROWS:,} of {len(monitor):,} assignments are shown; the CSV has them all.")
    st.dataframe(
        monitor.head(MOST_ROWS),
        # The figures a lead reads first come before the follow-up date: at 1280 px the table shows up to the
        # marker; the follow-up date and the areas scroll.
        column_order=["name", "agent", "assigned_date", "status", "kore_before", "kore_recent", "change", "marker",
                      "coaching_areas", "follow_up_date"],
        column_config={
            "name": st.column_config.TextColumn("Name", width=150),
            "agent": st.column_config.TextColumn("Agent", width=110),
            "assigned_date": st.column_config.DateColumn("Assigned Date", format="DD MMM YYYY", width=100),
            "follow_up_date": st.column_config.DateColumn("Follow-Up Date", format="DD MMM YYYY", width=100),
            "coaching_areas": st.column_config.ListColumn("Coaching Areas", width=140),
            "status": st.column_config.TextColumn("Status", width=90),
            "kore_before": st.column_config.NumberColumn(
                "Kore before", format="%.1f", width=80,
                help=f"The agent's Kore average in the {MONITOR_DAYS} days before the assigned date"),
            "kore_recent": st.column_config.NumberColumn(
                "Kore recent", format="%.1f", width=80,
                help=f"The agent's Kore average in the last {MONITOR_DAYS} days"),
            "change": st.column_config.NumberColumn("Change", format="%+.1f", width=70),
            "marker": st.column_config.TextColumn(f"{SPIKE} / {DIP}", width=80),
        },
        hide_index=True,
        placeholder="—",
    )
    download(monitor, "coaching-monitor")
    st.subheader("Coaching effect")
    window = st.number_input("Days on each side of the assigned date", 1, 60, 7, key="effect_window",
                             width=240)
    report = scoped(store, viewer, coaching_effect_report, filters, int(window))
    effects = report["effects"]
    measured = effects.dropna(subset=["change"])
    drawn = (f" The chart draws the {charts.CHART_ROWS} most recent; the CSV has them all."
             if len(measured) > charts.CHART_ROWS else "")
    st.caption(
        f"{len(measured):,} of {len(effects):,} assignments have Kore scores on both sides.{drawn} Each point "
        "is the change in the agent's Kore average (after − before) with its 95% interval; the orange tick is "
        "how much uncoached agents moved over the same dates. Choose one to see only that agent."
    )
    if not measured.empty:
        st.altair_chart(cache.chart(charts.coaching_effect_chart, measured.head(charts.CHART_ROWS)),
                        on_select=lambda: pick_agent("effect_chart"), key="effect_chart",
                        selection_mode=charts.AGENT_PICK)
    download(effects, "coaching-effect")
    by_area, by_lead = st.columns(2)
    for column, by, title in ((by_area, "coaching_area", "Per coaching area"), (by_lead, "lead", "Per lead")):
        with column:
            st.markdown(f"**{title}**")
            summary = report[by]
            if summary["mean_effect"].notna().any():
                st.altair_chart(cache.chart(charts.effect_summary_chart, summary, by), key=f"effect_{by}")
            st.dataframe(summary, hide_index=True, column_config={
                by: "Coaching area" if by == "coaching_area" else "Lead",
                "assignments": "Assignments", "measured": "Measured",
                "mean_change": st.column_config.NumberColumn("Mean change", format="%+.1f"),
                "mean_uncoached_change": st.column_config.NumberColumn("Uncoached", format="%+.1f"),
                "mean_effect": st.column_config.NumberColumn("Mean effect", format="%+.1f"),
            }, placeholder="—")
            download(summary, f"coaching-effect-per-{by.replace('_', '-')}")


def show_disputes(filters: TrendFilters) -> None:
    grain = grain_control(st.container(width=360))
    disputes = scoped(store, viewer, dispute_trends, filters, grain)
    if disputes.empty:
        st.info("No audits were submitted in these dates.")
        return
    st.caption("Per period of the audit, of the audits submitted in these dates (whenever the interaction was): "
               "the dispute rate (audits with a disputed metric ÷ audits) and the share overturned (answered "
               "disputes the reviewer accepted). Rounds and time to resolve are in the table.")
    st.altair_chart(cache.chart(charts.dispute_trend_chart, disputes, grain), key="dispute_chart")
    st.dataframe(disputes, hide_index=True, column_config={
        "period": st.column_config.DateColumn("Audited in", format="DD MMM YYYY"),
        "audited": st.column_config.NumberColumn("Audited", help="Audits submitted in the period"),
        "disputed": st.column_config.NumberColumn("Disputed", help="Of those audits, the ones with a disputed metric"),
        "dispute_rate": st.column_config.NumberColumn("Dispute rate", format="percent",
                                                      help="Audits with a disputed metric ÷ audits"),
        "mean_rounds": st.column_config.NumberColumn("Mean dispute rounds", format="%.1f"),
        "overturn_share": st.column_config.NumberColumn(
            "Share overturned", format="percent", help="Answered disputes of those audits the reviewer accepted"),
        "resolved": "Resolved or closed",
        "median_days_to_resolve": st.column_config.NumberColumn("Median days to resolve", format="%.1f"),
    }, placeholder="—")
    download(disputes, "dispute-trends")
    st.subheader("Per metric")
    st.caption("Of the evaluations of interactions that started in these dates, whenever they were audited: so "
               "an audit submitted in these dates of an earlier interaction counts above, not here.")
    metrics = scoped(store, viewer, metric_overturns, filters)
    disputed = metrics[metrics["disputed"] > 0]
    if disputed.empty:
        st.info("No metric was disputed in the evaluations of these interactions.")
    else:
        st.altair_chart(cache.chart(charts.metric_overturn_chart, disputed), key="metric_chart")
        st.dataframe(disputed, hide_index=True, column_config={
            "metric": "Metric", "evaluated": "Scored", "not_adhered": "Not adhered",
            "audited": st.column_config.NumberColumn("Audited", help="Audited evaluations that scored the metric"),
            "disputed": "Disputed",
            "dispute_rate": st.column_config.NumberColumn(
                "Dispute rate", format="percent", help="Audited evaluations that disputed the metric ÷ those audited"),
            "overturned": st.column_config.NumberColumn("Overturned",
                                                        help="Disputes of the metric the reviewer accepted"),
            "overturn_share": st.column_config.NumberColumn(
                "Share overturned", format="percent", help="Overturned ÷ answered disputes of the metric"),
            "mean_rounds": st.column_config.NumberColumn("Mean dispute rounds", format="%.1f"),
            "median_days_to_resolve": st.column_config.NumberColumn("Median days to resolve", format="%.1f"),
        }, placeholder="—")
    download(metrics, "metric-overturns")


def show_team() -> None:
    st.title("Score Trends")
    start, end = date_controls(st.columns([3, 2])[0])
    options = scoped(store, viewer, filter_options)
    with st.expander("Filters", icon=":material/filter_list:"):
        first, second = st.columns(2)
        teams = first.multiselect(FILTER_LABELS["teams"], options["teams"], key="trend_teams")
        labels = options["agent_labels"]  # agents are chosen by who they are, shown by name
        agents = second.multiselect(FILTER_LABELS["agents"], options["agents"], format_func=labels.get,
                                    key="trend_agents")
        queues = first.multiselect(FILTER_LABELS["queues"], options["queues"], key="trend_queues")
        areas = second.multiselect(FILTER_LABELS["coaching_areas"], options["coaching_areas"], key="trend_areas",
                                   help="Agents who have an assignment in the area")
        forms = first.multiselect(FILTER_LABELS["forms"], options["forms"], key="trend_forms")
    filters = TrendFilters(start, end, tuple(teams), tuple(agents), tuple(queues), tuple(areas), tuple(forms))
    if agents:
        shown = ", ".join(escape_markdown(labels.get(a, a)) for a in agents)
        st.caption(f"Showing {shown}. Clear the Agent filter to see everyone.")
    views = st.tabs(VIEWS, key="trend_view", on_change="rerun")
    for view, tab in zip(VIEWS, views, strict=True):
        if not tab.open:
            continue
        with tab:
            # The grain ("Average per") is shown in the views it changes: Score trends and Disputes.
            if view == "Score trends":
                show_score_trends(filters)
            elif view == "Kore vs audit":
                show_kore_vs_audit(filters)
            elif view == "Coaching":
                show_coaching(filters)
            else:
                show_disputes(filters)


if not lead_view:
    show_own()
elif (asked := st.query_params.get(AGENT_PARAM)) is not None:
    show_agent(asked)
else:
    show_team()

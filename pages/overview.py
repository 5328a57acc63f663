"""Overview: for an agent, what needs them today; for a lead, QA or an admin, their part of the store at a glance.

An agent reads, each item opening its page: the reviews waiting on them, the longest waiting first, with their
service level (`coaching.overview.oldest_first`, the Review page's rule); their overdue and upcoming follow-ups
(`coaching.assignments`' rule); their Kore and audit averages of the last days against the days before, the
pass score and their team's (`coaching.trends.own_headline`); and their latest coaching session. An agent
without the Coaching Assignments permission sees only what they may open: their scores.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coaching import settings
from coaching.access import AGENT, Capability, can
from coaching.assignments import OVERDUE, status_marker
from coaching.overview import SCORE_DAYS, AgentToday, agent_today, oldest_first, store_overview
from coaching.review_tabs import PENDING_TAB
from coaching.trends import AUDIT, KORE, TrendFilters, headline_figures, own_headline
from ui import clock, session
from ui.cache import scoped
from ui.text import escape_markdown, status_markdown

viewer = session.viewer()
store = session.store()
options = settings.review_settings()
overview = scoped(store, viewer, store_overview)
#: Most items a list of the agent's day shows; the page it links to has them all.
MOST_ITEMS = 5


def data_captions() -> None:
    if overview.first_interaction and overview.last_interaction:
        st.caption(
            f"Interactions from {overview.first_interaction:%d %b %Y} to {overview.last_interaction:%d %b %Y}."
        )


def show_store() -> None:
    """A lead's, QA's or an admin's overview: counts over their scope."""
    first, second, third, fourth = st.columns(4)
    first.metric("Evaluated interactions", f"{overview.evaluations:,}")
    second.metric("Supervisor audits", f"{overview.audited:,}")
    third.metric("Agents", f"{overview.agents:,}")
    fourth.metric("Coaching assignments", f"{overview.assignments:,}")
    with st.container(horizontal=True):
        st.page_link("pages/coaching.py", label="Coaching Assignments", icon=":material/school:")
        st.page_link("pages/review.py", label="Review: pending, disputes, resolved", icon=":material/rate_review:")
    data_captions()


# -- an agent's day -----------------------------------------------------------------------------------


def badge(label: str, colour: str) -> None:
    """A tag showing ``label`` as text (``st.badge`` escapes only brackets itself)."""
    st.badge(escape_markdown(label).replace("\\[", "[").replace("\\]", "]"), color=colour)


def show_waiting(waiting: pd.DataFrame, on_reviewer: int) -> None:
    """The reviews waiting on the agent, the longest waiting first, each opening its audit (keyed
    ``waiting-<position>``)."""
    st.subheader(f"Waiting on you ({len(waiting):,})" if len(waiting) else "Waiting on you")
    if waiting.empty:
        st.caption("No review is waiting on you.")
    for position, row in enumerate(waiting.head(MOST_ITEMS).itertuples(index=False)):
        with st.container(border=True, gap="xsmall", key=f"waiting-{position}"):
            queues = escape_markdown(", ".join(row.queues)) or "No queue"
            st.page_link("pages/audit.py", label=f"Audit of {row.date:%d %b %Y} · {queues}",
                         icon=":material/fact_check:",
                         query_params={"conversation": row.conversation_id},
                         help="Open the audit of this interaction")
            with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                if row.past_service_level:
                    badge("Past service level", "red")
                else:
                    badge("Within service level", "green")
                score = "—" if pd.isna(row.audit_score) else f"{row.audit_score:g}"
                st.caption(f"Waiting {row.waiting_days:.1f} business days · {row.to_do} · audit score {score}")
    more = len(waiting) - MOST_ITEMS
    words = ([f"{more:,} more waiting on you"] if more > 0 else []) + (
        [f"{on_reviewer:,} waiting on the reviewer"] if on_reviewer else [])
    label = "Review: Pending Review" + (f" ({', '.join(words)})" if words else "")
    st.page_link("pages/review.py", label=label, icon=":material/rate_review:", query_params={"tab": PENDING_TAB})
    st.caption(f"The service level is {options.service_level_days:g} business days (Monday to Friday, UTC) in a "
               "review status.")


def show_follow_ups(follow_ups: pd.DataFrame) -> None:
    """The agent's overdue and upcoming follow-ups, earliest first, each opening its session (keyed
    ``follow-up-<position>``)."""
    overdue = int((follow_ups["follow_up"] == OVERDUE).sum()) if len(follow_ups) else 0
    st.subheader("Follow-ups" + (f" ({overdue:,} overdue)" if overdue else ""))
    if follow_ups.empty:
        st.caption("No follow-up is overdue or due in the next days.")
    for position, row in enumerate(follow_ups.head(MOST_ITEMS).itertuples(index=False)):
        with st.container(border=True, gap="xsmall", key=f"follow-up-{position}"):
            st.page_link("pages/coaching.py", label=escape_markdown(row.name), icon=":material/school:",
                         query_params={"assignment": row.assignment_id, "agent": row.person_id},
                         help="Open this coaching session")
            with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                badge(row.follow_up, "red" if row.follow_up == OVERDUE else "orange")
                st.caption(f"Follow-up {row.follow_up_date:%d %b %Y} · {escape_markdown(row.status)}")
    more = len(follow_ups) - MOST_ITEMS
    st.page_link("pages/coaching.py", icon=":material/school:",
                 label="All coaching assignments" + (f" ({more:,} more follow-ups)" if more > 0 else ""))


def show_scores() -> None:
    """The agent's Kore and audit averages of the last days against the days before, the pass score and
    their team's."""
    filters = TrendFilters.last_days(clock.today(), SCORE_DAYS)
    st.subheader("Your scores")
    figures = {f.measure: f for f in headline_figures(
        scoped(store, viewer, own_headline, filters, None, options.pass_score), options.pass_score)}
    before_start, before_end = filters.previous
    st.caption(f"The last {SCORE_DAYS} days ({filters.start:%d %b} – {filters.end:%d %b %Y}) against the "
               f"{SCORE_DAYS} before ({before_start:%d %b} – {before_end:%d %b}).")
    if not any(figures[measure].value != "—" for measure in (KORE, AUDIT)):
        last = overview.last_interaction
        st.info("No Kore or audit scores of yours in these days"
                + (f": your latest evaluated interaction is from {last:%d %b %Y}." if last else ".")
                + " My Score Trends shows any dates.", icon=":material/info:")
        st.page_link("pages/trends.py", label="My Score Trends", icon=":material/monitoring:")
        return
    for column, measure in zip(st.columns(2, gap="large"), (KORE, AUDIT), strict=True):
        figure = figures[measure]
        with column.container(border=True, gap="xsmall"):
            st.metric(figure.label, figure.value, figure.change,
                      delta_description=f"vs the {SCORE_DAYS} days before" if figure.change else None)
            st.caption(figure.details[:1].upper() + figure.details[1:] + ".")
    st.page_link("pages/trends.py", label="My Score Trends", icon=":material/monitoring:")


def show_latest(day: AgentToday) -> None:
    """The agent's newest coaching session: what it is about and its action plan."""
    st.subheader("Latest coaching")
    latest = day.latest
    if latest is None:
        st.caption("No coaching session yet.")
        return
    with st.container(border=True, gap="small", key="latest-coaching"):
        st.page_link("pages/coaching.py", label=escape_markdown(latest.name), icon=":material/school:",
                     query_params={"assignment": latest.assignment_id, "agent": latest.person_id},
                     help="Open this coaching session")
        assigned = f"Assigned {latest.assigned_date:%d %b %Y}"
        if latest.assigned_by:
            assigned += f" by {escape_markdown(latest.assigned_by)}"
        if latest.follow_up_date:
            assigned += f" · follow-up {latest.follow_up_date:%d %b %Y}"
        st.caption(assigned)
        with st.container(horizontal=True, gap="xsmall", vertical_alignment="center"):
            if day.latest_status:  # a state after its icon, as the Coaching Assignments page shows it
                marker = status_marker(day.latest_status)
                st.markdown(status_markdown(day.latest_status, marker.colour, marker.icon),
                            help=marker.meaning or None, width="content")
            for area in latest.coaching_areas:
                badge(area, "blue")
        if latest.action_plan:
            st.markdown(f"**Action plan:** {escape_markdown(latest.action_plan)}")


def show_counts() -> None:
    """How many of the agent's interactions were evaluated and audited, from when to when."""
    st.subheader("Your evaluations")
    with st.container(horizontal=True, gap="medium"):
        st.metric("Evaluated interactions", f"{overview.evaluations:,}", border=True, width=220)
        st.metric("Supervisor audits", f"{overview.audited:,}", border=True, width=220)
    data_captions()


def show_agent() -> None:
    coaching = can(viewer, Capability.COACHING)
    st.caption(f"{'What needs you' if coaching else 'How you are doing'} today, {clock.today():%A %d %B %Y}.")
    if coaching:
        day = scoped(store, viewer, agent_today, clock.today(), options.accept_dispute)
        waiting = oldest_first(day.waiting, clock.now(), options.service_level_days)
        to_do, follow = st.columns(2, gap="large")
        with to_do:
            show_waiting(waiting, day.waiting_on_reviewer)
        with follow:
            show_follow_ups(day.follow_ups)
        show_scores()
        show_latest(day)
    else:
        show_scores()
    show_counts()


st.title("Overview")
if overview.is_empty:
    st.info(
        "Nothing to show yet. Evaluations and coaching assignments appear here once they are imported "
        "(`coaching import PATH…`, or `coaching demo` for demo data)."
    )
    st.stop()
if viewer.role == AGENT:
    show_agent()
else:
    show_store()

"""Overview: the viewer's part of the store at a glance."""

from __future__ import annotations

import streamlit as st

from coaching.access import AGENT, Capability, can
from coaching.overview import store_overview
from ui import session
from ui.cache import scoped

viewer = session.viewer()
overview = scoped(session.store(), viewer, store_overview)

st.title("Overview")
if overview.is_empty:
    st.info(
        "Nothing to show yet. Evaluations and coaching assignments appear here once they are imported "
        "(`coaching import PATH…`, or `coaching demo` for demo data)."
    )
    st.stop()

first, second, third, fourth = st.columns(4)
first.metric("Evaluated interactions", f"{overview.evaluations:,}")
second.metric("Supervisor audits", f"{overview.audited:,}")
coaching = can(viewer, Capability.COACHING)
if viewer.role != AGENT:
    third.metric("Agents", f"{overview.agents:,}")
elif coaching:  # reviews open on the Review page, which needs the coaching permissions
    third.metric("Pending reviews", f"{overview.pending_reviews:,}")
if coaching:
    fourth.metric("Coaching assignments", f"{overview.assignments:,}")
    with st.container(horizontal=True):
        st.page_link("pages/coaching.py", label="Coaching Assignments", icon=":material/school:")
        st.page_link("pages/review.py", label="Review: pending, disputes, resolved", icon=":material/rate_review:")
if overview.first_interaction and overview.last_interaction:
    st.caption(
        f"Interactions from {overview.first_interaction:%d %b %Y} to {overview.last_interaction:%d %b %Y}."
    )
if overview.last_import_at:
    st.caption(f"Data last imported {overview.last_import_at:%d %b %Y %H:%M} UTC.")

"""Overview: what the store holds and when it was last loaded."""

from __future__ import annotations

import streamlit as st

from coaching.overview import store_overview
from coaching.store import StoreError

st.title("Coaching & Quality")

store = st.session_state["store"]
try:
    with store.snapshot() as con:
        overview = store_overview(con)
except StoreError as error:
    st.error(f"The store is not loaded: {error}")
    st.stop()

if overview.is_empty:
    st.info("The store is empty. Load exports with `coaching import PATH…`, or demo data with `coaching demo`.")
    st.stop()

st.success(f"Store loaded: {store.path.name}")
first, second, third, fourth = st.columns(4)
first.metric("Evaluated interactions", f"{overview.evaluations:,}")
second.metric("Supervisor audits", f"{overview.audited:,}")
third.metric("Agents", f"{overview.agents:,}", help=f"in {overview.teams:,} teams")
fourth.metric("Coaching assignments", f"{overview.assignments:,}")
if overview.first_interaction and overview.last_interaction:
    st.caption(
        f"Interactions from {overview.first_interaction:%d %b %Y} to {overview.last_interaction:%d %b %Y}; "
        f"{overview.review_events:,} review events."
    )
if overview.last_import_at:
    st.caption(
        f"Last import: {overview.last_import_at:%d %b %Y %H:%M} UTC ({overview.last_import_files} file(s))."
    )

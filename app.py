"""The dashboard's script (served by ``server.py``: `streamlit run server.py`, or ``python3 dev.py run``).

It finds out who is signed in (``ui.session``), turns them into a viewer (a roster entry), offers the pages their role
may open through `st.navigation`, and runs the page the URL asks for. Until someone is signed in it
shows the way to sign in in place of the page, which comes back to the same URL (page and query).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from coaching import access, settings
from coaching.access import Capability
from coaching.store import StoreError
from ui import freshness, session
from ui.text import escape_markdown

#: The page icon, served by the app itself (a Material icon name would make the browser fetch it from an
#: internet font service): Material Symbols' "support_agent" (Apache 2.0), drawn from the font Streamlit
#: bundles.
PAGE_ICON = Path(__file__).resolve().parent / "static" / "favicon.png"

st.set_page_config(page_title="Coaching & Quality", page_icon=PAGE_ICON, layout="wide")

PAGES = {
    "overview": (st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
                 Capability.OVERVIEW),
    "coaching": (st.Page("pages/coaching.py", title="Coaching Assignments", icon=":material/school:"),
                 Capability.COACHING),
    "audit": (st.Page("pages/audit.py", title="Audit", icon=":material/fact_check:", visibility="hidden"),
              Capability.COACHING),
    "trends": (st.Page("pages/trends.py", title="Score Trends", icon=":material/monitoring:", url_path="trends"),
               Capability.OVERVIEW),
    "team": (st.Page("pages/team.py", title="Team", icon=":material/groups:", url_path="team"),
             Capability.TEAM_ANALYTICS),
    "heatmap": (st.Page("pages/heatmap.py", title="Metric Heatmap", icon=":material/grid_on:"),
                Capability.TEAM_ANALYTICS),
    "review": (st.Page("pages/review.py", title="Review", icon=":material/rate_review:", url_path="review"),
               Capability.COACHING),
    "import": (st.Page("pages/import_exports.py", title="Import", icon=":material/upload_file:"),
               Capability.IMPORT),
}

# Identified afresh on every run: a viewer left from an earlier run (before a sign-out) is no one.
st.session_state.pop("viewer", None)
email = session.signed_in_email()
if not email:
    # Every page is registered (hidden) so the link that was opened stays the one to land on.
    st.navigation([page for page, _ in PAGES.values()], position="hidden")
    session.sign_in_screen()
    st.stop()

store = session.store()
try:
    with store.snapshot() as con:
        viewer = access.identify(con, email)
except access.AccessDenied as denied:
    with session.narrow():
        st.title("Coaching & Quality")
        st.error(escape_markdown(str(denied)))  # it quotes the email the sign-in gave
        st.button("Sign out", on_click=session.sign_out)
    st.stop()
except StoreError as error:
    st.error(f"The dashboard's data is not loaded: {error}")
    st.stop()
try:
    settings.review_settings()  # the pages read them too: a bad value is reported once, here
except settings.SettingError as error:
    st.error(f"The dashboard is misconfigured: {error}.")
    st.stop()

st.session_state["viewer"] = viewer
allowed = [page for page, needs in PAGES.values() if access.can(viewer, needs)]
navigation = st.navigation(allowed)
with st.sidebar:
    who = f"{escape_markdown(viewer.role)} · {escape_markdown(viewer.email)}"
    st.markdown(f"**{escape_markdown(viewer.name)}**  \n{who}")
    if not access.can(viewer, Capability.COACHING):
        st.caption(access.missing_permissions(viewer, Capability.COACHING))
    st.button("Sign out", icon=":material/logout:", on_click=session.sign_out, width="stretch")
    freshness.data_as_of(store)
navigation.run()

"""The dashboard's entry point: `streamlit run app.py`.

It opens the store, decides which pages exist, and hands over to `st.navigation`.
"""

from __future__ import annotations

import streamlit as st

from coaching import settings
from coaching.store import Store, open_store

st.set_page_config(page_title="Coaching & Quality", page_icon=":material/support_agent:", layout="wide")


@st.cache_resource
def store_for(path: str) -> Store:
    """The process-wide reader of the store (it follows new imports by itself)."""
    return open_store(settings.db_path(path))


st.session_state["store"] = store_for(str(settings.db_path()))

navigation = st.navigation(
    [st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True)]
)
navigation.run()

"""How fresh the dashboard's data is, said the same way on every page ("Data as of …", in the sidebar)."""

from __future__ import annotations

import streamlit as st

from coaching import kore_sync
from coaching.store import Store


def data_as_of(store: Store) -> None:
    """A caption with the later of the store's last import and the time its last Kore sync read up to."""
    with store.snapshot() as con:
        moment = kore_sync.data_as_of(con, store.path)
    st.caption(f"Data as of {moment:%d %b %Y %H:%M} UTC" if moment else "No data imported yet")

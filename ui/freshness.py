"""How fresh the dashboard's data is, said the same way on every page ("Data as of …", in the sidebar)."""

from __future__ import annotations

import logging
from datetime import datetime

import streamlit as st

from coaching import kore_sync
from coaching.store import Store

log = logging.getLogger(__name__)


def data_as_of(store: Store) -> None:
    """A caption with the later of the store's last import and the time its last Kore sync read up to.
    It never breaks a page: when the sync's records cannot be read it says the store's last import."""
    with store.snapshot() as con:
        moment: datetime | None
        try:
            moment = kore_sync.data_as_of(con, store.path)
        except Exception:  # a sidebar caption must not take the page down with it
            log.exception("Data as of: the sync's records could not be read; showing the last import")
            moment = kore_sync.last_import(con)
    st.caption(f"Data as of {moment:%d %b %Y %H:%M} UTC" if moment else "No data imported yet")

"""Going from a page to one interaction's audit, with the way back the audit page offers."""

from __future__ import annotations

import pandas as pd
import streamlit as st


def chosen_row(event: object, rows: pd.DataFrame) -> pd.Series | None:
    """The row of ``rows`` chosen in a single-row ``st.dataframe`` selection, or None."""
    chosen = getattr(getattr(event, "selection", None), "rows", None)
    return rows.iloc[chosen[0]] if chosen else None


def open_audit(conversation_id: str, **back: str) -> None:
    """Go to the audit of ``conversation_id`` in this tab. ``back`` is where the audit's back button
    returns: ``assignment`` and ``agent`` for a coaching session, or ``tab`` for a Review tab."""
    st.switch_page("pages/audit.py", query_params={"conversation": conversation_id, **back})

"""Going from a page to one interaction's audit, with the way back the audit page offers."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

#: The label of a row's link to its interaction's audit.
OPEN_AUDIT = "Open audit"


def chosen_row(event: object, rows: pd.DataFrame) -> pd.Series | None:
    """The row of ``rows`` chosen in a single-row ``st.dataframe`` selection, or None."""
    chosen = getattr(getattr(event, "selection", None), "rows", None)
    return rows.iloc[chosen[0]] if chosen else None


def open_audit(conversation_id: str, **back: str) -> None:
    """Go to the audit of ``conversation_id`` in this tab. ``back`` is where the audit's back button
    returns: ``assignment`` and ``agent`` for a coaching session, or ``tab`` for a Review tab."""
    st.switch_page("pages/audit.py", query_params={"conversation": conversation_id, **back})


def audit_link(where: DeltaGenerator, conversation_id: str, **back: str) -> None:
    """A real link to the audit of ``conversation_id`` in ``where`` (a row's cell): a click opens it in
    this tab, a middle-click in a new one (signed in there too). ``back`` as for :func:`open_audit`."""
    where.page_link("pages/audit.py", label=OPEN_AUDIT, icon=":material/fact_check:",
                    query_params={"conversation": conversation_id, **back})

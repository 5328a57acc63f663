"""Choices that outlast a visit to another page.

Streamlit forgets a widget's value when a run does not draw it, so a list's filters would be gone after
a look at a session or an audit. :func:`keep` copies the value aside after the widget is drawn, and
:func:`restore` hands it back through the widget's state before it is drawn again (never as a default:
a changing default changes the widget's identity, which drops the next click).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

_KEPT = "kept:"


def restore(key: str, options: Iterable[Any] | None = None) -> None:
    """Give the widget ``key`` its kept value if the session has none for it; for a multiselect, only
    the kept values still among ``options``."""
    if key in st.session_state or _KEPT + key not in st.session_state:
        return
    value = st.session_state[_KEPT + key]
    if options is not None:
        offered = set(options)
        value = [v for v in value if v in offered]
    st.session_state[key] = value


def keep(key: str) -> None:
    """Remember the widget ``key``'s current value for the next visit."""
    if key in st.session_state:
        st.session_state[_KEPT + key] = st.session_state[key]

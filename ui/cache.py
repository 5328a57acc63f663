"""Caching query results without ever serving one viewer's rows to another.

Every entry is keyed by the function, the viewer's scope (``Viewer.scope``: viewers with equal
scopes see the same rows), the store generation the page reads, and the arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from coaching.access import Viewer
from coaching.store import Store

T = TypeVar("T")


@st.cache_data(ttl=900, max_entries=512, show_spinner=False)
def _cached(
    name: str,
    scope: tuple[str, ...],
    generation: tuple[int, int, int] | None,
    args: tuple[Any, ...],
    _function: Callable[..., Any],
    _store: Store,
    _viewer: Viewer,
) -> Any:
    with _store.snapshot() as con:  # the snapshot the page holds: same generation
        return _function(con, _viewer, *args)


def scoped(store: Store, viewer: Viewer, function: Callable[..., T], *args: Any) -> T:
    """``function(con, viewer, *args)`` on the page's snapshot, cached per viewer scope."""
    with store.snapshot():
        name = f"{function.__module__}.{function.__qualname__}"
        return _cached(name, viewer.scope, store.held_generation(), args, function, store, viewer)

"""Caching query results without ever serving one viewer's rows to another.

Every entry is keyed by the function, the viewer's scope (``Viewer.scope``: viewers with equal
scopes see the same rows), the store generation the page reads, and the arguments.

Results are kept as objects (``st.cache_resource``), not pickled and unpickled on every hit as
``st.cache_data`` does: at contact-center scale, unpickling an admin's frames cost more than the
rest of the page. Each caller gets a shallow copy of a cached DataFrame, which pandas' copy-on-write
turns into a private copy the moment a page changes it, so no page can alter what another is served.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from coaching.access import Viewer
from coaching.store import Store

T = TypeVar("T")


@st.cache_resource(ttl=900, max_entries=512, show_spinner=False)
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


def _private(value: T) -> T:
    """What a caller may change freely: a copy-on-write view of a frame, a copy of a container."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy(deep=False)
    if isinstance(value, dict):
        return {k: _private(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [_private(v) for v in value]  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(  # type: ignore[return-value]
            value, **{f.name: _private(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init})
    return value


def scoped(store: Store, viewer: Viewer, function: Callable[..., T], *args: Any) -> T:
    """``function(con, viewer, *args)`` on the page's snapshot, cached per viewer scope."""
    with store.snapshot():
        name = f"{function.__module__}.{function.__qualname__}"
        return _private(_cached(name, scope=viewer.scope, generation=store.held_generation(), args=args,
                                _function=function, _store=store, _viewer=viewer))


def clear() -> None:
    """Forget every cached result (tests and the benchmark start cold with it)."""
    _cached.clear()

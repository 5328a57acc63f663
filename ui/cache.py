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
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
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
    copied: object = value
    if isinstance(value, pd.DataFrame | pd.Series):
        copied = value.copy(deep=False)
    elif isinstance(value, dict):
        copied = {k: _private(v) for k, v in value.items()}
    elif isinstance(value, list):
        copied = list(value)  # of names and numbers, never of frames
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        copied = dataclasses.replace(
            value, **{f.name: _private(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init})
    return cast(T, copied)


def _name(function: Callable[..., Any]) -> str:
    """How a cache entry names the function that made it."""
    return f"{function.__module__}.{function.__qualname__}"


def scoped(store: Store, viewer: Viewer, function: Callable[..., T], *args: Any) -> T:
    """``function(con, viewer, *args)`` on the page's snapshot, cached per viewer scope."""
    with store.snapshot():
        result: T = _cached(_name(function), scope=viewer.scope, generation=store.held_generation(),
                            args=args, _function=function, _store=store, _viewer=viewer)
        return _private(result)


def _drawable(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without its columns of lists: no chart draws one, and they cannot be hashed cheaply."""
    listed = [c for c in frame.columns if frame[c].dtype == object
              and isinstance(next((v for v in frame[c] if v is not None), None), list | tuple | np.ndarray)]
    return frame.drop(columns=listed) if listed else frame


def _digest(frame: pd.DataFrame) -> str:
    """A fingerprint of a frame: its columns, their types and every value."""
    fingerprint = hashlib.sha256(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    fingerprint.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return fingerprint.hexdigest()


@st.cache_resource(ttl=900, max_entries=256, show_spinner=False)
def _chart(name: str, digest: str, args: tuple[Any, ...], _make: Callable[..., Any], _frame: pd.DataFrame) -> Any:
    return _make(_frame, *args)


def chart(make: Callable[..., T], frame: pd.DataFrame, *args: Any) -> T:
    """``make(frame, *args)``, an Altair chart from :mod:`coaching.charts`, built once per distinct data.

    Building a chart (Altair checks every encoding as it is made) cost more than drawing it. The entry is
    keyed by the frame's contents, so a chart is never drawn from anyone else's data. Columns of lists
    (coaching areas) are left out of both. The chart is shared: Streamlit only reads it.
    """
    drawn = _drawable(frame)
    built: T = _chart(_name(make), _digest(drawn), args, make, drawn)
    return built


def clear() -> None:
    """Forget every cached result and chart (tests and the benchmark start cold with it)."""
    _cached.clear()
    _chart.clear()

"""The dashboard's web server: `streamlit run server.py` (what ``python3 dev.py run`` starts).

It serves the dashboard's script, ``app.py``, through Streamlit's ASGI entry point (`st.App`) with the
sign-in routes and gate of :mod:`ui.account` beside it: the form that sets the session cookie, and
the return to the opened page after single sign-on. Everything a page shows is still ``app.py``'s.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.middleware import Middleware

from ui import account
from ui.session import oidc_configured

#: What the pages import: loaded once at start-up, before the collector is told to leave it alone.
WARM_IMPORTS = ("pandas", "numpy", "pyarrow", "duckdb", "altair", "coaching.assignments", "coaching.audit",
                "coaching.charts", "coaching.metric_heatmap", "coaching.overview", "coaching.review_tabs",
                "coaching.team", "coaching.trends", "ui.cache")


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """Import what every page needs, then freeze it (`gc.freeze`): the hundreds of thousands of objects
    that modules hold for the life of the process are never scanned by a garbage collection again, so
    the collections Python still makes on its own stay short for every viewer."""
    for module in WARM_IMPORTS:
        importlib.import_module(module)
    gc.collect()
    gc.freeze()
    yield


app = st.App(
    str(Path(__file__).resolve().with_name("app.py")),
    routes=account.routes(),
    middleware=[Middleware(account.SessionGate, oidc_configured=oidc_configured)],
    lifespan=lifespan,
)

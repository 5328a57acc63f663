"""The dashboard's web server: `streamlit run server.py` (what ``python3 dev.py run`` starts).

It serves the dashboard's script, ``app.py``, through Streamlit's ASGI entry point (`st.App`) with the
sign-in routes and gate of :mod:`ui.account` beside it: the form that sets the session cookie, and
the return to the opened page after single sign-on. Everything a page shows is still ``app.py``'s.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from ui import account
from ui.session import oidc_configured

app = st.App(
    str(Path(__file__).resolve().with_name("app.py")),
    routes=account.routes(),
    middleware=[Middleware(account.SessionGate, oidc_configured=oidc_configured)],
)

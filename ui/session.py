"""Who is signed in: Streamlit's own sign-in (OpenID Connect) when configured, else our form.

Whenever ``st.user.is_logged_in`` is true, its email is the viewer (tests sign in with
``AppTest.user``). Otherwise the viewer is whoever signed in through the form in this session.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from coaching import access, credentials, settings
from coaching.access import Capability, Viewer
from coaching.store import Store, open_store

SIGNED_IN = "signed_in_email"


@st.cache_resource
def _store(path: str) -> Store:
    return open_store(Path(path))


def store() -> Store:
    """The process-wide reader of the configured store (it follows new imports by itself)."""
    return _store(str(settings.db_path()))


def oidc_configured() -> bool:
    """Whether `.streamlit/secrets.toml` has an ``[auth]`` section for `st.login`."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def signed_in_email() -> str | None:
    if st.user.get("is_logged_in") is True:
        email = st.user.get("email")
        return email if isinstance(email, str) else None
    signed_in: str | None = st.session_state.get(SIGNED_IN)
    return signed_in


def sign_out() -> None:
    """A button callback: forget the form sign-in, or end the identity provider's session.

    The run that follows the click shows the sign-in form.
    """
    st.session_state.pop(SIGNED_IN, None)  # app.py identifies the viewer afresh on every run
    if st.user.get("is_logged_in") is True:
        st.logout()


def sign_in_form() -> None:
    """The dashboard's own sign-in form, with throttling of repeated failures."""
    _, middle, _ = st.columns([1, 2, 1])  # a narrow form, centred on the wide layout
    with middle:
        _sign_in_body()


def _sign_in_body() -> None:
    st.title("Coaching & Quality")
    st.caption("Sign in to see your coaching and quality reviews.")
    if oidc_configured():
        st.button("Sign in with your organisation", type="primary", on_click=st.login)
        return
    with st.form("sign_in", enter_to_submit=True):
        email = st.text_input("Email", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    # Checking the lock-out, the password and recording the outcome are one step in coaching/.
    result = credentials.attempt_sign_in(store().path, email, password)
    if result.outcome is credentials.Outcome.LOCKED:
        st.error(f"Too many failed sign-ins for this email. Try again in {int(result.wait) + 1} seconds.")
        return
    if result.outcome is credentials.Outcome.UNAVAILABLE:
        st.error(f"Sign-in is unavailable: {result.reason}")
        return
    if not result.accepted:
        st.error("That email and password do not match an account.")
        return
    st.session_state[SIGNED_IN] = result.email
    st.rerun()


def viewer(needs: Capability = Capability.OVERVIEW) -> Viewer:
    """The signed-in viewer that app.py identified for this run, if they may open a page that ``needs``.

    Pages check for themselves as well as through `st.navigation`: while no run has reached
    app.py's `st.navigation` yet, Streamlit runs a page of the `pages/` folder on its own (its
    first-generation multipage mode), without app.py's sign-in gate.
    """
    found: Viewer | None = st.session_state.get("viewer")
    if found is None and PagesManager.uses_pages_directory:
        # The first run on a fresh server was a page's link: Streamlit ran the page on its own, in its
        # folder-of-pages mode, because app.py's `st.navigation` has not run yet. Leave that mode and
        # run again: the rerun goes through app.py (sign-in, navigation) to the same page and query.
        # (`uses_pages_directory` is Streamlit's own flag, not public API: one reason streamlit is pinned
        # to 1.67.x; tests/test_pages.py and the browser journeys check this path.)
        PagesManager.uses_pages_directory = False
        st.rerun()
    if found is None:  # still not through app.py: never show a page's data
        st.error("Sign in to see this page.")
        st.stop()
    if not access.can(found, needs):
        st.error(access.missing_permissions(found, needs))
        st.stop()
    return found

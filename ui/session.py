"""Who is signed in: Streamlit's own sign-in (OpenID Connect) when configured, else our form's session.

Whenever ``st.user.is_logged_in`` is true, its email is the viewer (tests sign in with
``AppTest.user``). Otherwise the viewer is whoever the ``coaching_session`` cookie's live session
belongs to (:mod:`coaching.sessions`), checked again on every run: a session that ended in another tab,
expired or whose password changed signs this tab out at its next click. The cookie is set by the sign-in
form of :mod:`ui.account`, which ``server.py`` serves beside Streamlit.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from coaching import access, sessions, settings
from coaching.access import Capability, Viewer
from coaching.store import Store, open_store
from ui import account


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


def session_token() -> str | None:
    """The form session's token as this tab's browser sent it (with the page's first request)."""
    return st.context.cookies.get(account.SESSION_COOKIE)


def signed_in_email() -> str | None:
    """The email of whoever is signed in for this run, or None."""
    if st.user.get("is_logged_in") is True:
        email = st.user.get("email")
        return email if isinstance(email, str) else None
    token = session_token()
    if token is None:
        return None
    try:
        return sessions.resolve(settings.db_path(), token, settings.session_policy())
    except (sessions.SessionStoreError, settings.SettingError) as error:
        # Not "your session has ended": it may well be live, and will be once the file can be read.
        st.error(f"Sign-in is unavailable: {error}.")
        st.stop()


def _open(url: str) -> None:
    """Send the browser to ``url`` of this server (what `st.login` and `st.logout` do for their pages)."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        message = ForwardMsg()
        message.auth_redirect.url = url
        ctx.enqueue(message)


def _this_page() -> str:
    """The path and query of the page in the browser, to come back to after signing in."""
    path = urlsplit(st.context.url or "/").path or "/"
    query = urlencode([(key, value) for key in st.query_params for value in st.query_params.get_all(key)])
    return account.page_target(path, query)


def sign_out() -> None:
    """A button callback: end the form session on the server (the cookie works nowhere after), or end
    the identity provider's session; then the browser goes to the sign-in form."""
    if st.user.get("is_logged_in") is True:
        st.logout()
        return
    token = session_token()
    with contextlib.suppress(sessions.SessionStoreError):  # nothing is kept: the form says why next
        sessions.end(settings.db_path(), token)
    _open(account.sign_in_url("/", "signed-out"))


def narrow() -> DeltaGenerator:
    """A narrow column centred on the wide layout, for the screens around signing in."""
    _, middle, _ = st.columns([1, 2, 1])
    return middle


def sign_in_screen() -> None:
    """What someone not signed in sees in place of a page: the way to sign in, coming back here."""
    with narrow():
        st.title("Coaching & Quality")
        st.caption("Sign in to see your coaching and quality reviews.")
        here = _this_page()
        if oidc_configured():
            # Through our route when this process serves it: it remembers this page for the way back.
            target = f"{account.SSO_PATH}?{urlencode({'next': here})}" if account.served() else None
            if target is None:
                st.button("Sign in with your organisation", type="primary", on_click=st.login)
            else:
                st.button("Sign in with your organisation", type="primary", on_click=_open, args=(target,))
            return
        if not account.served():
            st.error("Sign-in through the dashboard's form needs its server: start it with "
                     "`python3 dev.py run` (or `streamlit run server.py`), not `streamlit run app.py`.")
            return
        if session_token() is not None:  # a cookie, but its session ended
            st.info(account.REASONS["ended"])
        st.button("Sign in", type="primary", on_click=_open, args=(account.sign_in_url(here),))


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

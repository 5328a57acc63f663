"""Signing in over HTTP: the sign-in form, the session cookie, and the gate in front of the pages.

Streamlit talks to a page over a websocket, which cannot set a cookie; so the form that starts a
session is a plain HTML page of our own, served beside Streamlit by ``server.py`` (Streamlit's ASGI
entry point, `st.App`):

* ``GET /account/sign-in?next=/coaching?…`` shows the form; ``POST`` checks the password through
  :func:`coaching.credentials.attempt_sign_in`, starts a session (:mod:`coaching.sessions`), sets the
  ``coaching_session`` cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure`` over HTTPS) and sends the
  browser on to ``next``: the page and query the person first opened.
* :class:`SessionGate` sends a page load without a live session to that form (form sign-in only); the
  page's own run still checks the cookie (``ui.session``), so the gate is a convenience, not the lock.
* With single sign-on configured (``[auth]`` for `st.login`), ``GET /account/sso?next=…`` remembers
  ``next`` in a short-lived cookie and starts Streamlit's sign-in; the gate sends the browser back from
  Streamlit's ``/oauth2callback`` to ``next`` instead of the home page.

No token, password or email ever goes into a URL or a log.
"""

from __future__ import annotations

import functools
import html
import logging
import secrets
import unicodedata
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from coaching import credentials, sessions, settings

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "coaching_session"
#: The page to land on after single sign-on (the identity provider returns to Streamlit's callback).
RETURN_COOKIE = "coaching_return_to"
#: The sign-in form's anti-forgery token, kept by the browser and sent back in the form.
FORM_COOKIE = "coaching_sign_in_form"
SIGN_IN_PATH = "/account/sign-in"
SSO_PATH = "/account/sso"
#: Streamlit's own sign-in routes (`st.login`): never gated.
OIDC_CALLBACK_PATH = "/oauth2callback"
_UNGATED_PREFIXES = ("/account/", "/auth/", OIDC_CALLBACK_PATH, "/_stcore/", "/static/", "/media/",
                     "/component/", "/app/static/")
#: How long a remembered page waits for single sign-on to come back.
RETURN_SECONDS = 15 * 60
#: A sign-in form's body is two short fields and a token; anything longer is not our form.
MAX_FORM_BYTES = 8 * 1024
MAX_NEXT_LENGTH = 2048
#: Why the form is shown again, by the ``reason`` in its URL: only these texts ever show.
REASONS = {
    "signed-out": "You have signed out.",
    "ended": "Your session has ended. Sign in again to go on.",
}

_served = False


def served() -> bool:
    """Whether this process serves the sign-in routes (it was started through ``server.py``)."""
    return _served


def routes() -> list[Route]:
    """The routes ``server.py`` adds beside Streamlit's."""
    global _served
    _served = True
    return [
        Route(SIGN_IN_PATH, sign_in, methods=["GET", "POST"]),
        Route(SSO_PATH, single_sign_on, methods=["GET"]),
    ]


# --- where to go after signing in ------------------------------------------------------------------


def safe_next(value: object) -> str:
    """``value`` if it is a path of this dashboard to land on, else the home page ``/``.

    Only a path on this server: never another site (``//host``, ``https://…``, a backslash), never the
    sign-in pages themselves, never anything with control characters.
    """
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_NEXT_LENGTH:
        return "/"
    if value.startswith(("//", "/\\")) or "\\" in value or any(unicodedata.category(c) == "Cc" for c in value):
        return "/"  # Cc: the C0 and C1 controls and DEL
    path = value.split("?", 1)[0]
    if path.startswith(_UNGATED_PREFIXES) or path == OIDC_CALLBACK_PATH:
        return "/"
    return value


def page_target(path: str, query: str) -> str:
    """The path and query a browser asked for, as a ``next`` to come back to."""
    return safe_next(f"{path}?{query}" if query else path)


def sign_in_url(next_path: str, reason: str | None = None) -> str:
    """The sign-in form's address, coming back to ``next_path``."""
    params = {"next": safe_next(next_path)}
    if reason in REASONS:
        params["reason"] = reason
    return f"{SIGN_IN_PATH}?{urlencode(params, quote_via=quote)}"


# --- the session cookie ----------------------------------------------------------------------------


def _is_https(request: Request) -> bool:
    forced = settings.secure_cookies()
    if forced is not None:
        return forced
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _set_session_cookie(response: Response, request: Request, token: str, policy: sessions.SessionPolicy) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=int(policy.lifetime.total_seconds()), path="/",
                        httponly=True, samesite="lax", secure=_is_https(request))


def _forget_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_is_https(request))


def _store_path() -> Path:
    return settings.db_path()


class _Unknown(Exception):
    """The sessions cannot be read now: a cookie's session may well be live, so it is neither let in
    nor forgotten."""


async def _signed_in(request: Request) -> str | None:
    """The email of the request's live session; None when it has none. Raises :class:`_Unknown` when the
    sessions cannot be read (a locked or damaged file, a bad session setting)."""
    token = request.cookies.get(SESSION_COOKIE)
    if token is None:
        return None
    try:
        return await run_in_threadpool(sessions.resolve, _store_path(), token, settings.session_policy())
    except (sessions.SessionStoreError, settings.SettingError) as error:
        raise _Unknown(str(error)) from None


# --- the sign-in form ------------------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>Sign in · Coaching &amp; Quality</title>
<style>
  {font_face}
  :root {{ color-scheme: light; }}
  * {{ box-sizing: border-box; }}
  body {{ margin: 0; min-height: 100vh; display: flex; align-items: flex-start; justify-content: center;
         font: 16px/1.5 "Source Sans", system-ui, -apple-system, "Segoe UI", Roboto,
         "DejaVu Sans", sans-serif; color: #31333f; background: #fff; }}
  main {{ width: 100%; max-width: 420px; margin: 12vh 24px 24px; }}
  h1 {{ font-size: 2.25rem; font-weight: 700; margin: 0 0 .25rem; letter-spacing: -.01em; }}
  p.lead {{ color: #6b6f7b; margin: 0 0 1.5rem; }}
  form {{ border: 1px solid #d5d7de; border-radius: .5rem; padding: 1.25rem 1.25rem 1.5rem; }}
  label {{ display: block; font-size: .875rem; margin: 0 0 .25rem; }}
  input[type=email], input[type=password] {{ width: 100%; font: inherit; padding: .5rem .75rem; margin: 0 0 1rem;
         border: 1px solid #d5d7de; border-radius: .5rem; background: #f0f2f6; color: inherit; }}
  input:focus {{ outline: 2px solid #ff4b4b; outline-offset: 0; border-color: #ff4b4b; }}
  button {{ font: inherit; font-weight: 600; color: #fff; background: #ff4b4b; border: 0; border-radius: .5rem;
           padding: .5rem 1rem; cursor: pointer; }}
  button:hover {{ background: #e03e3e; }}
  button:focus-visible {{ outline: 2px solid #31333f; outline-offset: 2px; }}
  .message {{ border-radius: .5rem; padding: .75rem 1rem; margin: 0 0 1rem; }}
  .error {{ background: #ffe9e9; color: #7d1a1a; }}
  .info {{ background: #e6f1fc; color: #0b3d6e; }}
</style>
</head>
<body>
<main>
  <h1>Coaching &amp; Quality</h1>
  <p class="lead">Sign in to see your coaching and quality reviews.</p>
  {message}
  <form method="post" action="{action}">
    <input type="hidden" name="form_token" value="{form_token}">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="{email}"{focus_email}>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required{focus_password}>
    <button type="submit">Sign in</button>
  </form>
</main>
</body>
</html>
"""

#: Our page loads nothing but Streamlit's own font from this server: no scripts, no images, nothing from
#: elsewhere; it posts only to itself.
_PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; font-src 'self'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@functools.cache
def _font_face() -> str:
    """The pages' typeface, Source Sans, as Streamlit serves it (its file name carries a build hash)."""
    import streamlit

    media = Path(streamlit.__file__).parent / "static" / "static" / "media"
    found = sorted(media.glob("SourceSansVF-Upright.ttf.*.woff2"))
    if not found:
        return ""
    return (f'@font-face {{ font-family: "Source Sans"; font-weight: 200 900; font-display: swap; '
            f'src: url("/static/media/{found[0].name}") format("woff2"); }}')


def _form_page(request: Request, next_path: str, *, email: str = "", message: str = "", kind: str = "error",
               status: int = 200) -> HTMLResponse:
    form_token = request.cookies.get(FORM_COOKIE)
    if not form_token or len(form_token) > 64:
        form_token = secrets.token_urlsafe(24)
    box = f'<div class="message {kind}" role="alert">{html.escape(message)}</div>' if message else ""
    action = f"{SIGN_IN_PATH}?{urlencode({'next': next_path}, quote_via=quote)}"
    page = _PAGE.format(font_face=_font_face(), message=box, action=html.escape(action),
                        form_token=html.escape(form_token), email=html.escape(email),
                        focus_email="" if email else " autofocus",
                        focus_password=" autofocus" if email else "")
    response = HTMLResponse(page, status_code=status, headers=_PAGE_HEADERS)
    response.set_cookie(FORM_COOKIE, form_token, path="/account/", httponly=True, samesite="strict",
                        secure=_is_https(request))
    return response


async def _form_fields(request: Request) -> dict[str, str] | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=8, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in parsed.items() if values}


async def sign_in(request: Request) -> Response:
    """The sign-in form (GET) and signing in through it (POST)."""
    next_path = safe_next(request.query_params.get("next", "/"))
    if request.method == "GET":
        try:
            if await _signed_in(request):
                return RedirectResponse(next_path, status_code=303)
        except _Unknown as error:  # the cookie is kept: its session may be live
            return _form_page(request, next_path, status=503, message=f"Sign-in is unavailable: {error}.")
        reason = request.query_params.get("reason", "")
        response = _form_page(request, next_path, message=REASONS.get(reason, ""), kind="info")
        if request.cookies.get(SESSION_COOKIE) is not None:  # a dead session's cookie: forget it
            _forget_session_cookie(response, request)
        return response

    fields = await _form_fields(request)
    if fields is None:
        return _form_page(request, next_path, message="That was not a sign-in form. Try again.", status=400)
    email = fields.get("email", "")[:320]
    sent_token = fields.get("form_token", "")
    kept_token = request.cookies.get(FORM_COOKIE, "")
    if not kept_token or not secrets.compare_digest(sent_token.encode(), kept_token.encode()):
        return _form_page(request, next_path, email=email, status=400,
                          message="The sign-in form was out of date. Enter your password again.")
    try:
        result = await run_in_threadpool(credentials.attempt_sign_in, _store_path(), email,
                                         fields.get("password", ""))
        policy = settings.session_policy()
        token = await run_in_threadpool(sessions.start, _store_path(), result.email) if result.accepted else ""
    except (sessions.SessionStoreError, settings.SettingError) as error:
        return _form_page(request, next_path, email=email, status=503, message=f"Sign-in is unavailable: {error}.")
    if result.outcome is credentials.Outcome.LOCKED:
        return _form_page(request, next_path, email=email, status=429,
                          message=f"Too many failed sign-ins for this email. Try again in {int(result.wait) + 1} "
                                  "seconds.")
    if result.outcome is credentials.Outcome.UNAVAILABLE:
        return _form_page(request, next_path, email=email, status=503,
                          message=f"Sign-in is unavailable: {result.reason}")
    if not result.accepted:
        return _form_page(request, next_path, email=email, status=401,
                          message="That email and password do not match an account.")
    landing = RedirectResponse(next_path, status_code=303)
    _set_session_cookie(landing, request, token, policy)
    landing.delete_cookie(FORM_COOKIE, path="/account/")
    return landing


# --- single sign-on: come back to the page that was opened ----------------------------------------


async def single_sign_on(request: Request) -> Response:
    """Remember the page to come back to, then start Streamlit's own sign-in (`st.login`)."""
    from streamlit.auth_util import is_authlib_installed, validate_auth_credentials
    from streamlit.errors import StreamlitAuthError
    from streamlit.user_info import generate_login_redirect_url  # what `st.login()` opens

    # The checks `st.login` makes before it sends anyone off: a missing setting is said here, once.
    try:
        if not is_authlib_installed():
            raise StreamlitAuthError("Authlib is not installed (pip install -e . installs it)")
        validate_auth_credentials("default")
    except StreamlitAuthError as error:
        log.error("Single sign-on is not set up correctly: %s", error)
        return HTMLResponse("Single sign-on is not set up correctly; the server's log says why.", status_code=503,
                            headers=_PAGE_HEADERS)
    response = RedirectResponse(generate_login_redirect_url("default"), status_code=302)
    response.set_cookie(RETURN_COOKIE, quote(safe_next(request.query_params.get("next", "/")), safe="/?=&"),
                        max_age=RETURN_SECONDS, path="/", httponly=True, samesite="lax", secure=_is_https(request))
    return response


# --- the gate -----------------------------------------------------------------------------------


def _is_page_load(scope: Scope, headers: MutableHeaders) -> bool:
    """A browser opening one of the dashboard's pages (not a script, style, image or API call)."""
    if scope["method"] not in ("GET", "HEAD"):
        return False
    if str(scope["path"]).startswith(_UNGATED_PREFIXES):
        return False
    destination = headers.get("sec-fetch-dest")
    if destination is not None:
        return destination == "document"
    return "text/html" in headers.get("accept", "")


class SessionGate:
    """ASGI middleware: a page load without a live form session goes to the sign-in form first.

    With single sign-on configured (``oidc_configured`` true) the pages show their own sign-in button
    instead, and the gate only brings the browser back from Streamlit's callback to the page it opened.
    """

    def __init__(self, app: ASGIApp, oidc_configured: Callable[[], bool]) -> None:
        self.app = app
        self.oidc_configured = oidc_configured

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if scope["path"] == OIDC_CALLBACK_PATH:
            if not {"state", "code", "error"} & set(request.query_params):
                # The provider's way back after signing out (Streamlit sends it here with nothing to
                # check): home, without Streamlit logging it as a stale sign-in.
                await RedirectResponse("/", status_code=302)(scope, receive, send)
                return
            if RETURN_COOKIE in request.cookies:
                await self.app(scope, receive, self._returning(request, send))
                return
        if (_is_page_load(scope, MutableHeaders(scope=scope)) and not self.oidc_configured()
                and await self._nobody(request)):
            had_cookie = SESSION_COOKIE in request.cookies
            target = page_target(scope["path"], request.url.query)
            response = RedirectResponse(sign_in_url(target, "ended" if had_cookie else None), status_code=303)
            if had_cookie:
                _forget_session_cookie(response, request)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _nobody(request: Request) -> bool:
        """Whether the request has no live session. When the sessions cannot be read, the page loads and
        its own run says why; the cookie is not taken for a dead one."""
        try:
            return await _signed_in(request) is None
        except _Unknown:
            return False

    @staticmethod
    def _returning(request: Request, send: Send) -> Send:
        """Streamlit's callback redirects home after signing in: send the browser to the page it opened."""
        from urllib.parse import unquote

        target = safe_next(unquote(request.cookies.get(RETURN_COOKIE, "")))

        async def send_back(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (302, 303, 307):
                headers = MutableHeaders(scope=message)
                if "_streamlit_user" in " ".join(headers.getlist("set-cookie")) and headers.get("location") == "/":
                    headers["location"] = target
                headers.append("set-cookie", f"{RETURN_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")
            await send(message)

        return send_back

"""One viewer of the dashboard, talking to the server the way a browser and Streamlit's frontend do.

The load benchmark (``benchmarks/load.py``) runs hundreds of these at once in one asyncio loop; no
browser, no AppTest. What a viewer does, and what the frontend would have done in its place:

* **Sign in over HTTP**, as the browser does on the dashboard's own form: ``GET
  /account/sign-in?next=PAGE`` (sets the ``coaching_sign_in_form`` cookie; the HTML carries the same
  token in a hidden field), ``POST`` email, password and token with that cookie, and follow the 303 to
  the page with the ``coaching_session`` cookie it sets (HttpOnly: only the websocket's handshake
  carries it to the page's script, which reads it through ``st.context.cookies``).
* **Open the page**: the page's HTML (a document load: the session gate checks the cookie), then what
  Streamlit's frontend asks first, ``/_stcore/health`` (which sets the ``_streamlit_xsrf`` cookie) and
  ``/_stcore/host-config``; then the websocket ``/_stcore/stream`` with the subprotocols
  ``streamlit, <xsrf token>`` (and the last session id as a third when it reconnects), the cookies and
  the page's Origin. Its static files (the JavaScript bundle) are taken as cached by the browser.
* **Run a page**: a ``BackMsg`` ``rerun_script`` whose ``ClientState`` names the page by its URL path
  (``page_name``) on a page load, or by ``page_script_hash`` (from the ``navigation`` message) when a
  sidebar link is followed; with the query string, the hashes of the large messages it has cached
  (``cached_message_hashes``: the server then sends a ``ref_hash`` instead of the message again) and
  the browser's context (time zone, locale, URL, colour scheme). It sends no widget states: a viewer
  who only moves between pages, never touching a filter.
* **Read the answer**: ``ForwardMsg`` ``new_session`` (the run's id), ``navigation`` (the pages this
  viewer may open), ``delta`` (the page's elements) and finally ``script_finished`` with its status.
  The view's time is from sending ``rerun_script`` to receiving that ``script_finished``.

A view fails (:class:`ViewError`) on an exception element in the page, an error alert, a
``script_finished`` that is not a success, ``page_not_found``, a sign-in redirect, a page without the
viewer's own name in the sidebar (signed out, or someone else), a closed websocket or a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import unicodedata
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote, urlencode, urlsplit

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

#: The pages every viewer opens at random, by URL path ("" is Overview, the home page), and a lead's two
#: more. Audit and Import are not in the sidebar (Import is an admin's).
AGENT_PAGES = ("", "coaching", "review", "trends")
LEAD_PAGES = (*AGENT_PAGES, "team", "heatmap")
PAGE_NAMES = {"": "overview", "coaching": "coaching", "review": "review", "trends": "trends", "team": "team",
              "heatmap": "heatmap"}
#: What a browser caches of the server's large messages (Streamlit's frontend keeps them by hash).
MAX_CACHED_MESSAGES = 2_000
FORM_TOKEN = re.compile(rb'name="form_token" value="([^"]+)"')
_INVISIBLE = {"Cf"}  # escape_markdown puts a zero-width space after '@'


class ViewError(Exception):
    """A page view that failed; ``kind`` names how (the report counts errors by kind)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    #: Their name on the roster: the sidebar shows it on every page.
    name: str
    #: "agent" or "lead".
    role: str

    @property
    def pages(self) -> tuple[str, ...]:
        return LEAD_PAGES if self.role == "lead" else AGENT_PAGES


@dataclass
class PageView:
    """One page view: from sending ``rerun_script`` to ``script_finished``."""

    page: str
    #: Seconds since the run began (the load benchmark's clock), when ``rerun_script`` was sent.
    started: float
    ms: float | None = None
    error: str | None = None
    detail: str = ""
    bytes: int = 0
    messages: int = 0
    #: Large messages the server did not send again because this viewer had them (``ref_hash``).
    cached_refs: int = 0
    #: A page load by URL (the first page, or after a reconnect), rather than a sidebar link.
    load: bool = False


def _plain(markdown: str) -> str:
    """Markdown as it reads: without backslash escapes and invisible characters."""
    return "".join(c for c in markdown.replace("\\", "") if unicodedata.category(c) not in _INVISIBLE)


async def http(base: str, method: str, target: str, cookies: dict[str, str], *, form: dict[str, str] | None = None,
               document: bool = False, timeout: float = 120.0) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request, as a browser sends it, on a connection of its own; the cookies the response
    sets go into ``cookies``. Returns the status, the headers (last of each name) and the body."""
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    lines = [f"{method} {target} HTTP/1.1", f"Host: {url.netloc}", "Connection: close",
             "User-Agent: coaching-load-benchmark", "Accept-Encoding: identity"]
    if document:  # what the session gate looks at to tell a page load from an API call
        lines += ["Accept: text/html,application/xhtml+xml", "Sec-Fetch-Dest: document", "Sec-Fetch-Mode: navigate"]
    else:
        lines.append("Accept: */*")
    if cookies:
        lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
    body = b""
    if form is not None:
        body = urlencode(form).encode()
        lines += [f"Origin: {base}", "Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()

    raw = await asyncio.wait_for(exchange(), timeout)
    head, _, content = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    if not status_line.startswith("HTTP/"):
        raise ViewError("http", f"{method} {target}: no HTTP response")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        headers[name] = value
        if name == "set-cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value)
            except CookieError:
                continue
            for morsel in jar.values():
                if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                    cookies.pop(morsel.key, None)
                else:
                    cookies[morsel.key] = morsel.value
    if headers.get("transfer-encoding", "").lower() == "chunked":
        content = _unchunk(content)
    return int(status_line.split()[1]), headers, content


def _unchunk(data: bytes) -> bytes:
    out, rest = b"", data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2:]
    return out


class Viewer:
    """A signed-in browser tab on the dashboard, run by one asyncio task."""

    def __init__(self, base_url: str, account: Account, *, view_timeout: float = 120.0,
                 clock: float | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.account = account
        self.view_timeout = view_timeout
        #: The benchmark's clock origin (``time.perf_counter()`` at the run's start).
        self.origin = time.perf_counter() if clock is None else clock
        self.cookies: dict[str, str] = {}
        self.ws: ClientConnection | None = None
        self.session_id = ""
        #: The pages the server offers this viewer, URL path → page script hash (from ``navigation``).
        self.page_hashes: dict[str, str] = {}
        self.current = ""
        self.cached: dict[str, None] = {}  # insertion-ordered, so the oldest go first

    def now(self) -> float:
        return time.perf_counter() - self.origin

    # -- signing in and opening a page ------------------------------------------------------------

    async def sign_in(self, next_path: str = "/") -> float:
        """Sign in through the form, landing on ``next_path``; returns the POST's time in ms."""
        target = f"/account/sign-in?{urlencode({'next': next_path}, quote_via=quote)}"
        status, _, page = await http(self.base, "GET", target, self.cookies, document=True)
        found = FORM_TOKEN.search(page)
        if status != 200 or not found:
            raise ViewError("sign-in", f"the form answered {status} without a form token")
        fields = {"email": self.account.email, "password": self.account.password, "form_token": found.group(1).decode()}
        started = time.perf_counter()
        status, headers, _ = await http(self.base, "POST", target, self.cookies, form=fields)
        took = (time.perf_counter() - started) * 1000
        if status != 303 or "coaching_session" not in self.cookies:
            raise ViewError("sign-in", f"the form answered {status}, not a redirect with a session")
        if headers.get("location") != next_path:
            raise ViewError("sign-in", f"sent to {headers.get('location')!r}, not back to {next_path!r}")
        return took

    async def open(self, path: str = "", *, resume: bool = False) -> PageView:
        """Load the page at URL ``/path`` as a browser does, (re)connecting the websocket, and run it."""
        await self.close()
        for target in (f"/{path}", "/_stcore/health", "/_stcore/host-config"):
            try:
                status, _, _ = await http(self.base, "GET", target, self.cookies, document=target == f"/{path}",
                                          timeout=self.view_timeout)
            except (OSError, TimeoutError) as error:
                raise ViewError("page load", f"GET {target}: {type(error).__name__} {error}".strip()) from None
            if status != 200:
                raise ViewError("page load", f"GET {target} answered {status}")
        protocols = ["streamlit", self.cookies.get("_streamlit_xsrf", "PLACEHOLDER_AUTH_TOKEN")]
        if resume and self.session_id:
            protocols.append(self.session_id)
        ws_url = "ws" + self.base[len("http"):] + "/_stcore/stream"
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items() if k != "coaching_sign_in_form")
        try:
            self.ws = await asyncio.wait_for(
                connect(ws_url, subprotocols=protocols, origin=self.base,  # type: ignore[arg-type]
                        additional_headers={"Cookie": cookie}, user_agent_header="coaching-load-benchmark",
                        # A browser never pings; it answers the server's pings (the library does too).
                        ping_interval=None, max_size=None, open_timeout=None),
                self.view_timeout)
        except (OSError, InvalidHandshake, TimeoutError) as error:
            raise ViewError("connect", f"the websocket's handshake: {type(error).__name__} {error}".strip()) from None
        self.current = path
        return await self._run(path, page_name=path, load=True)

    async def follow(self, path: str) -> PageView:
        """Follow the sidebar's link to ``/path``: the frontend reruns with that page's hash."""
        page_hash = self.page_hashes.get(path)
        if page_hash is None:
            raise ViewError("navigation", f"the sidebar offers no /{path}")
        self.current = path
        return await self._run(path, page_script_hash=page_hash)

    async def close(self) -> None:
        if self.ws is not None:
            ws, self.ws = self.ws, None
            with contextlib.suppress(TimeoutError, ConnectionClosed, OSError):
                await asyncio.wait_for(ws.close(), 10)

    # -- one script run ----------------------------------------------------------------------------

    async def _run(self, path: str, *, page_name: str | None = None, page_script_hash: str = "",
                   load: bool = False) -> PageView:
        if self.ws is None:
            raise ViewError("disconnect", "no websocket")
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = ""
        state.page_script_hash = page_script_hash
        if page_name is not None:
            state.page_name = page_name
        state.cached_message_hashes.extend(self.cached)
        context = state.context_info
        context.timezone, context.timezone_offset, context.locale = "UTC", 0, "en-US"
        context.url, context.is_embedded, context.color_scheme = f"{self.base}/{path}", False, "light"
        view = PageView(page=PAGE_NAMES.get(path, path), started=self.now(), load=load)
        sent = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
            await asyncio.wait_for(self._answer(view), self.view_timeout)
        except TimeoutError:
            view.error, view.detail = "timeout", f"no script_finished within {self.view_timeout:.0f} s"
            await self.close()  # what a person does then: reload (the next view opens the page afresh)
            return view
        except ConnectionClosed as closed:
            view.error, view.detail = "disconnect", f"websocket closed ({closed.rcvd.code if closed.rcvd else '-'})"
            self.ws = None
            return view
        except ViewError as error:
            view.error, view.detail = error.kind, error.detail
        view.ms = (time.perf_counter() - sent) * 1000
        return view

    async def _answer(self, view: PageView) -> None:
        """Read ForwardMsgs until this run's ``script_finished``; raise :class:`ViewError` for what a
        person would see as a failed page (after reading the run to its end, so the next run starts
        clean)."""
        assert self.ws is not None
        run_id: str | None = None
        own_name = False
        problem: ViewError | None = None
        while True:
            raw = await self.ws.recv(decode=False)
            view.bytes += len(raw)
            view.messages += 1
            fwd = ForwardMsg.FromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                run_id = fwd.metadata.run.script_run_id
                if fwd.new_session.initialize.session_id:
                    self.session_id = fwd.new_session.initialize.session_id
            elif run_id is None:
                continue  # the tail of an earlier run
            elif kind == "navigation":
                self.page_hashes = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
            elif kind == "ref_hash":
                view.cached_refs += 1
                if fwd.ref_hash not in self.cached:
                    problem = problem or ViewError("protocol", "a reference to a message this viewer never had")
            elif kind == "delta":
                if fwd.metadata.cacheable:
                    self._remember(fwd.hash)
                element = fwd.delta.new_element if fwd.delta.WhichOneof("type") == "new_element" else None
                if element is None:
                    continue
                shown = element.WhichOneof("type")
                if shown == "exception" and not element.exception.is_warning:
                    problem = problem or ViewError("exception", f"{element.exception.type}: "
                                                   f"{element.exception.message}"[:300])
                elif shown == "alert" and element.alert.format == Alert.ERROR:
                    problem = problem or ViewError("error message", element.alert.body[:300])
                elif (shown == "markdown" and fwd.metadata.delta_path[:1] == [1]
                      and f"**{self.account.name}**" in _plain(element.markdown.body)):
                    own_name = True  # the sidebar's "**Name**  \nRole · email"
            elif kind == "page_not_found":
                problem = problem or ViewError("page not found", fwd.page_not_found.page_name)
            elif kind == "auth_redirect":
                problem = problem or ViewError("signed out", "sent to sign in")
            elif kind == "session_event" and fwd.session_event.WhichOneof("type") == "script_compilation_exception":
                problem = problem or ViewError("exception", "the script did not compile")
            elif kind == "script_finished":
                status = fwd.script_finished
                if fwd.metadata.run.script_run_id and fwd.metadata.run.script_run_id != run_id:
                    continue
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    run_id = None  # the page reran itself (st.rerun): the next run is the view's
                    continue
                if status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                    continue
                if status != ForwardMsg.FINISHED_SUCCESSFULLY:
                    raise ViewError("script failed", ForwardMsg.ScriptFinishedStatus.Name(status))
                if problem:
                    raise problem
                if not own_name:
                    raise ViewError("not this viewer", "the sidebar does not name the signed-in viewer")
                return

    def _remember(self, digest: str) -> None:
        if digest:
            self.cached.pop(digest, None)
            self.cached[digest] = None
            while len(self.cached) > MAX_CACHED_MESSAGES:
                del self.cached[next(iter(self.cached))]

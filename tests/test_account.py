"""Signing in over HTTP (ui/account.py): the sign-in form and its cookie, where it sends the browser,
the gate in front of the pages, and the return from single sign-on.

The routes and the gate run in a small Starlette app composed as server.py composes them, without
Streamlit's runtime: every other path answers "PAGE", standing in for the dashboard.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from coaching import credentials, sessions
from ui import account

PRIYA = "priya.nair@example.com"
TOM = "tom.becker@example.com"
SECRET = "correct horse battery"
WRONG = "not the password at all"
#: What a browser sends when it opens a page (and what the gate looks for).
PAGE_LOAD = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Dest": "document"}
DEEP_LINK = "/coaching?agent=priya.nair%40example.com&session=CS-0001&tab=2"
PROPERTY = settings(max_examples=300, deadline=None, database=None)

pytestmark = pytest.mark.usefixtures("cheap_hasher")


@pytest.fixture(scope="module")
def roster_store(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The template store (its roster) with a password for Priya and none for Tom, made once per module
    with a cheap hasher; every test works on a copy of it."""
    from coaching import store

    db = tmp_path_factory.mktemp("account") / "coaching.duckdb"
    shutil.copyfile(template_store, db)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(credentials, "HASHER", PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
        credentials.set_password(db, PRIYA, SECRET)
    store.close_all()
    yield db


@pytest.fixture
def db(roster_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's own copy of the store and its credentials (so its own sessions and sign-in records);
    the app reads it."""
    from coaching import store

    copy = tmp_path / "data" / "coaching.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(roster_store, copy)
    shutil.copyfile(credentials.credentials_path(roster_store), credentials.credentials_path(copy))
    monkeypatch.setenv("COACHING_DB", str(copy))
    for name in ("COACHING_SECURE_COOKIES", "COACHING_SESSION_IDLE_HOURS", "COACHING_SESSION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    yield copy
    store.close_all()


def _page(request: Request) -> PlainTextResponse:
    return PlainTextResponse("PAGE")


@pytest.fixture
def make_app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Starlette]:
    # account.routes() marks the process as serving them; put that back after the test.
    monkeypatch.setattr(account, "_served", False)

    def make(oidc: bool = False) -> Starlette:
        return Starlette(
            routes=[*account.routes(), Route("/{path:path}", _page, methods=["GET", "HEAD", "POST"])],
            middleware=[Middleware(account.SessionGate, oidc_configured=lambda: oidc)],
        )

    return make


@pytest.fixture
def client(db: Path, make_app: Callable[..., Starlette]) -> Iterator[TestClient]:
    with TestClient(make_app(), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def https_client(db: Path, make_app: Callable[..., Starlette]) -> Iterator[TestClient]:
    with TestClient(make_app(), base_url="https://testserver", follow_redirects=False) as test_client:
        yield test_client


# -- helpers ----------------------------------------------------------------------------------------


def _form_token(response: httpx.Response) -> str:
    found = re.search(r'<input type="hidden" name="form_token" value="([^"]*)">', response.text)
    assert found, response.text
    return found.group(1)


def _set_cookies(response: httpx.Response, name: str) -> list[str]:
    return [header for header in response.headers.get_list("set-cookie") if header.startswith(f"{name}=")]


def _attributes(set_cookie: str) -> dict[str, str]:
    """A Set-Cookie header's attributes, names in lower case (flags map to "")."""
    attributes = {}
    for part in set_cookie.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def _cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def _session_rows(db: Path) -> int:
    path = sessions.sessions_path(db)
    if not path.exists():
        return 0
    with sqlite3.connect(path) as con:
        (count,) = con.execute("SELECT count(*) FROM sessions").fetchone()
    return int(count)


def _sign_in(client: TestClient, email: str = PRIYA, password: str = SECRET, next_path: str = DEEP_LINK,
             headers: dict[str, str] | None = None) -> httpx.Response:
    """Open the form (which sets the anti-forgery cookie), then send it."""
    form = client.get(account.sign_in_url(next_path))
    assert form.status_code == 200
    return client.post(f"{account.SIGN_IN_PATH}?{httpx.QueryParams({'next': next_path})}",
                       data={"email": email, "password": password, "form_token": _form_token(form)},
                       headers=headers or {})


def _session_token(response: httpx.Response) -> str:
    (set_cookie,) = _set_cookies(response, account.SESSION_COOKIE)
    return _cookie_value(set_cookie)


def _next_of(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == account.SIGN_IN_PATH, location
    (next_path,) = parse_qs(parts.query)["next"]
    return next_path


def _is_deletion(set_cookie: str) -> bool:
    attributes = _attributes(set_cookie)
    return attributes.get("max-age") == "0" or "1970" in attributes.get("expires", "")


# -- the gate sends page loads to the form ----------------------------------------------------------


def test_a_deep_link_goes_to_the_form_and_comes_back_to_it(client: TestClient) -> None:
    response = client.get(DEEP_LINK, headers=PAGE_LOAD)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{account.SIGN_IN_PATH}?next=%2Fcoaching%3Fagent%3D")
    assert "reason=" not in location
    assert _next_of(location) == DEEP_LINK  # path and query exactly as opened, url-encoded in next
    assert not _set_cookies(response, account.SESSION_COOKIE)


@pytest.mark.parametrize("headers", [{"Accept": "text/html"}, {"Sec-Fetch-Dest": "document", "Accept": "*/*"}])
def test_what_counts_as_a_page_load(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get("/", headers=headers).status_code == 303
    assert client.head("/trends", headers=headers).status_code == 303


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/coaching", {"Sec-Fetch-Dest": "script", "Accept": "text/html"}),
        ("GET", "/coaching", {"Sec-Fetch-Dest": "empty"}),
        ("GET", "/coaching", {"Accept": "application/json"}),
        ("GET", "/coaching", {"Accept": "*/*"}),
        ("POST", "/coaching", PAGE_LOAD),
        ("GET", "/_stcore/health", PAGE_LOAD),
        ("GET", "/_stcore/host-config", {"Accept": "text/html"}),
        ("GET", "/static/x.js", {"Sec-Fetch-Dest": "script"}),
        ("GET", "/static/index.html", PAGE_LOAD),
        ("GET", "/media/abc.png", PAGE_LOAD),
        ("GET", "/component/x/index.html", PAGE_LOAD),
        ("GET", "/app/static/logo.svg", PAGE_LOAD),
        ("GET", "/auth/login", PAGE_LOAD),
        ("GET", "/oauth2callback?code=x&state=y", PAGE_LOAD),
        ("GET", "/account/anything", PAGE_LOAD),
    ],
)
def test_what_is_never_gated(client: TestClient, method: str, path: str, headers: dict[str, str]) -> None:
    response = client.request(method, path, headers=headers)
    assert response.status_code == 200
    assert response.text == "PAGE"


def test_with_single_sign_on_the_pages_are_not_gated(db: Path, make_app: Callable[..., Starlette]) -> None:
    with TestClient(make_app(oidc=True), follow_redirects=False) as sso_client:
        response = sso_client.get(DEEP_LINK, headers=PAGE_LOAD)
        assert (response.status_code, response.text) == (200, "PAGE")
        sso_client.cookies.set(account.SESSION_COOKIE, "A" * 43)  # not even a dead cookie is touched
        response = sso_client.get(DEEP_LINK, headers=PAGE_LOAD)
        assert (response.status_code, response.text) == (200, "PAGE")
        assert not _set_cookies(response, account.SESSION_COOKIE)


# -- the form ---------------------------------------------------------------------------------------


def test_the_form_sets_its_anti_forgery_token_and_safe_headers(client: TestClient) -> None:
    response = client.get(account.sign_in_url(DEEP_LINK))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    (form_cookie,) = _set_cookies(response, account.FORM_COOKIE)
    attributes = _attributes(form_cookie)
    assert "httponly" in attributes and attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/account/"
    token = _cookie_value(form_cookie)
    assert len(token) >= 32
    assert _form_token(response) == token
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in response.text.lower()
    assert 'type="password"' in response.text
    assert not re.search(r'name="password"[^>]*value=', response.text)
    # the form posts back to itself, keeping next
    action = re.search(r'<form method="post" action="([^"]*)"', response.text).group(1)
    assert _next_of(action.replace("&amp;", "&")) == DEEP_LINK


def test_the_form_keeps_the_browsers_anti_forgery_token(client: TestClient) -> None:
    first = _form_token(client.get(account.SIGN_IN_PATH))
    assert _form_token(client.get(account.SIGN_IN_PATH)) == first


def test_a_hostile_anti_forgery_cookie_is_escaped(client: TestClient) -> None:
    client.cookies.set(account.FORM_COOKIE, '"><script>alert(1)</script>', path="/account/")
    response = client.get(account.SIGN_IN_PATH)
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_only_known_reasons_show(client: TestClient) -> None:
    assert account.REASONS["signed-out"] in client.get(account.sign_in_url("/", "signed-out")).text
    response = client.get(f"{account.SIGN_IN_PATH}?reason=%3Cscript%3Eyou%20were%20hacked")
    assert "hacked" not in response.text and "<script>" not in response.text


def test_a_post_without_the_anti_forgery_token_is_refused(client: TestClient, db: Path) -> None:
    response = client.post(account.SIGN_IN_PATH, data={"email": PRIYA, "password": SECRET})
    assert response.status_code == 400
    assert "out of date" in response.text
    assert not _set_cookies(response, account.SESSION_COOKIE)
    assert _session_rows(db) == 0


def test_a_post_with_the_field_but_without_the_cookie_is_refused(client: TestClient, db: Path) -> None:
    token = _form_token(client.get(account.SIGN_IN_PATH))
    client.cookies.clear()
    response = client.post(account.SIGN_IN_PATH, data={"email": PRIYA, "password": SECRET, "form_token": token})
    assert response.status_code == 400
    assert _session_rows(db) == 0


@pytest.mark.parametrize("sent", ["wrong", "", "x" * 64])
def test_a_post_with_a_wrong_anti_forgery_token_is_refused(client: TestClient, db: Path, sent: str) -> None:
    client.get(account.SIGN_IN_PATH)
    response = client.post(account.SIGN_IN_PATH, data={"email": PRIYA, "password": SECRET, "form_token": sent})
    assert response.status_code == 400
    assert not _set_cookies(response, account.SESSION_COOKIE)
    assert SECRET not in response.text
    assert _session_rows(db) == 0


def test_a_wrong_password_is_refused_with_a_message(client: TestClient, db: Path) -> None:
    response = _sign_in(client, password=WRONG)
    assert response.status_code == 401
    assert "do not match an account" in response.text
    assert not _set_cookies(response, account.SESSION_COOKIE)
    assert WRONG not in response.text
    assert f'value="{PRIYA}"' in response.text  # the email is kept, the password is not
    assert _session_rows(db) == 0


@pytest.mark.parametrize("email", ["nobody@example.com", TOM, ""])
def test_an_unknown_email_or_one_without_a_password_gets_the_same_answer(client: TestClient, email: str) -> None:
    response = _sign_in(client, email=email, password=SECRET)
    assert response.status_code == 401
    assert "do not match an account" in response.text


def test_html_in_the_email_is_escaped(client: TestClient) -> None:
    email = '"><script>alert(1)</script>@example.com'
    response = _sign_in(client, email=email, password=WRONG)
    assert response.status_code == 401
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_a_body_over_the_limit_is_refused(client: TestClient, db: Path) -> None:
    token = _form_token(client.get(account.SIGN_IN_PATH))
    padding = "x" * (account.MAX_FORM_BYTES + 1)
    response = client.post(account.SIGN_IN_PATH,
                           data={"email": PRIYA, "password": SECRET, "form_token": token, "pad": padding})
    assert response.status_code == 400
    assert "not a sign-in form" in response.text
    assert _session_rows(db) == 0


@pytest.mark.parametrize("body", [b"\xff\xfe\xfd", b"&".join(b"f%d=1" % n for n in range(20))])
def test_a_body_that_is_no_form_is_refused(client: TestClient, body: bytes) -> None:
    client.get(account.SIGN_IN_PATH)
    response = client.post(account.SIGN_IN_PATH, content=body,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400


# -- signing in -------------------------------------------------------------------------------------


def test_the_right_password_starts_a_session_and_goes_to_next(client: TestClient, db: Path) -> None:
    response = _sign_in(client)
    assert response.status_code == 303
    assert response.headers["location"] == DEEP_LINK
    (set_cookie,) = _set_cookies(response, account.SESSION_COOKIE)
    attributes = _attributes(set_cookie)
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    assert attributes["path"] == "/"
    assert attributes["max-age"] == str(7 * 24 * 3600)
    assert "secure" not in attributes  # plain http
    token = _cookie_value(set_cookie)
    assert sessions.resolve(db, token) == PRIYA
    assert _session_rows(db) == 1
    assert any(_is_deletion(header) for header in _set_cookies(response, account.FORM_COOKIE))

    page = client.get(DEEP_LINK, headers=PAGE_LOAD)  # the cookie now lets the page through
    assert (page.status_code, page.text) == (200, "PAGE")
    again = client.get(account.sign_in_url("/trends?agent=x"))  # the form, signed in: straight on
    assert again.status_code == 303
    assert again.headers["location"] == "/trends?agent=x"


def test_the_email_is_matched_ignoring_case(client: TestClient, db: Path) -> None:
    response = _sign_in(client, email="  Priya.Nair@EXAMPLE.com ")
    assert response.status_code == 303
    assert sessions.resolve(db, _session_token(response)) == PRIYA


def test_the_cookie_lasts_as_long_as_the_session(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACHING_SESSION_DAYS", "2")
    (set_cookie,) = _set_cookies(_sign_in(client), account.SESSION_COOKIE)
    assert _attributes(set_cookie)["max-age"] == str(2 * 24 * 3600)


def test_the_cookie_is_secure_over_https(https_client: TestClient) -> None:
    response = _sign_in(https_client)
    assert response.status_code == 303
    (set_cookie,) = _set_cookies(response, account.SESSION_COOKIE)
    assert "secure" in _attributes(set_cookie)
    page = https_client.get(DEEP_LINK, headers=PAGE_LOAD)
    assert (page.status_code, page.text) == (200, "PAGE")


def test_the_cookie_is_secure_behind_a_proxy_saying_https(client: TestClient) -> None:
    response = _sign_in(client, headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 303
    (set_cookie,) = _set_cookies(response, account.SESSION_COOKIE)
    assert "secure" in _attributes(set_cookie)


def test_secure_cookies_false_forces_the_flag_off(https_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACHING_SECURE_COOKIES", "false")
    response = _sign_in(https_client, headers={"X-Forwarded-Proto": "https"})
    (set_cookie,) = _set_cookies(response, account.SESSION_COOKIE)
    assert "secure" not in _attributes(set_cookie)


def test_secure_cookies_true_forces_the_flag_on(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    client.get(account.SIGN_IN_PATH)  # the form's cookie, while it is not yet Secure (this client is http)
    token = client.cookies[account.FORM_COOKIE]
    monkeypatch.setenv("COACHING_SECURE_COOKIES", "true")
    response = client.post(account.SIGN_IN_PATH, data={"email": PRIYA, "password": SECRET, "form_token": token})
    (set_cookie,) = _set_cookies(response, account.SESSION_COOKIE)
    assert "secure" in _attributes(set_cookie)


def test_a_setting_that_cannot_be_used_makes_sign_in_unavailable(
    client: TestClient, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.get(account.SIGN_IN_PATH)
    token = client.cookies[account.FORM_COOKIE]
    monkeypatch.setenv("COACHING_SESSION_DAYS", "forever")
    response = client.post(account.SIGN_IN_PATH, data={"email": PRIYA, "password": SECRET, "form_token": token})
    assert response.status_code == 503
    assert "COACHING_SESSION_DAYS" in response.text
    assert not _set_cookies(response, account.SESSION_COOKIE)
    assert _session_rows(db) == 0


# -- dead cookies -----------------------------------------------------------------------------------


def _dead_cookie_sends_to_the_form(client: TestClient) -> None:
    response = client.get(DEEP_LINK, headers=PAGE_LOAD)
    assert response.status_code == 303
    location = response.headers["location"]
    assert parse_qs(urlsplit(location).query)["reason"] == ["ended"]
    assert _next_of(location) == DEEP_LINK
    (deletion,) = _set_cookies(response, account.SESSION_COOKIE)
    assert _is_deletion(deletion)
    assert _attributes(deletion)["path"] == "/"
    form = client.get(location)
    assert form.status_code == 200
    assert account.REASONS["ended"] in form.text


def test_a_signed_out_session_is_sent_to_the_form_and_its_cookie_deleted(client: TestClient, db: Path) -> None:
    token = _session_token(_sign_in(client))
    copied = dict(client.cookies)
    sessions.end(db, token)  # signing out, as the page's button does
    _dead_cookie_sends_to_the_form(client)
    # the copied cookie, in another browser, is refused too
    with TestClient(client.app, follow_redirects=False, cookies=copied) as other:
        assert other.get(DEEP_LINK, headers=PAGE_LOAD).status_code == 303


@pytest.mark.parametrize("cookie", ["tampered", "A" * 43, "x", "%C3%A9", "A" * 5000, '"quoted"', "a=b"])
def test_a_tampered_or_unknown_cookie_is_sent_to_the_form(client: TestClient, cookie: str) -> None:
    if cookie == "tampered":
        token = _session_token(_sign_in(client))
        cookie = token[:10] + ("B" if token[10] == "A" else "A") + token[11:]
    client.cookies.clear()
    client.cookies.set(account.SESSION_COOKIE, cookie)
    _dead_cookie_sends_to_the_form(client)


def test_a_cookie_of_raw_non_ascii_bytes_is_sent_to_the_form(client: TestClient) -> None:
    response = client.get(DEEP_LINK, headers=[(b"accept", b"text/html"),
                                              (b"cookie", f"{account.SESSION_COOKIE}=éè".encode())])
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.headers["location"]).query)["reason"] == ["ended"]


def test_an_expired_session_is_sent_to_the_form(client: TestClient, db: Path) -> None:
    token = sessions.start(db, PRIYA, now=1_000_000.0)  # long ago
    client.cookies.set(account.SESSION_COOKIE, token)
    _dead_cookie_sends_to_the_form(client)


def test_the_form_forgets_a_dead_cookie(client: TestClient) -> None:
    client.cookies.set(account.SESSION_COOKIE, "A" * 43)
    response = client.get(account.SIGN_IN_PATH)
    assert response.status_code == 200
    (deletion,) = _set_cookies(response, account.SESSION_COOKIE)
    assert _is_deletion(deletion)


def test_a_new_password_signs_out_over_http(client: TestClient, db: Path) -> None:
    _sign_in(client)
    assert client.get(DEEP_LINK, headers=PAGE_LOAD).status_code == 200
    credentials.set_password(db, PRIYA, "a brand new passphrase")
    assert client.get(DEEP_LINK, headers=PAGE_LOAD).status_code == 303


def test_a_store_error_does_not_delete_a_live_sessions_cookie(client: TestClient, db: Path) -> None:
    _sign_in(client)
    path = sessions.sessions_path(db)
    saved = path.read_bytes()
    path.write_bytes(b"garbage" * 600)  # e.g. a disk error, or the file being restored
    response = client.get(DEEP_LINK, headers=PAGE_LOAD)
    path.write_bytes(saved)
    assert not any(_is_deletion(header) for header in _set_cookies(response, account.SESSION_COOKIE))


# -- throttling -------------------------------------------------------------------------------------


def test_repeated_failures_are_throttled(client: TestClient, db: Path) -> None:
    # attempt_sign_in binds credentials.POLICY as its default when defined, and the route passes no
    # policy: patching credentials.POLICY would change nothing, so this runs the real threshold.
    threshold = credentials.POLICY.threshold
    for _ in range(threshold):
        assert _sign_in(client, password=WRONG).status_code == 401
    locked = _sign_in(client, password=SECRET)  # even the right password is not checked now
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text
    assert re.search(r"Try again in \d+ seconds", locked.text)
    assert not _set_cookies(locked, account.SESSION_COOKIE)
    assert _session_rows(db) == 0
    other = _sign_in(client, email=TOM, password=WRONG)  # another email is not locked
    assert other.status_code == 401


# -- where the browser lands ------------------------------------------------------------------------

HOSTILE_NEXT = [
    "//evil.example",
    "//evil.example/coaching",
    "https://evil.example",
    "http://evil.example/",
    "javascript:alert(1)",
    "/\\evil.example",
    "/\\\\evil.example",
    "\\\\evil.example",
    "/account/sign-in",
    "/account/sign-in?next=//evil.example",
    "/account/sso?next=/x",
    "/oauth2callback",
    "/oauth2callback?code=x&state=y",
    "/auth/login",
    "/_stcore/health",
    "/static/x.js",
    "/\t/evil.example",
    "/\r\nSet-Cookie: x=y",
    "/a\x00b",
    "/a\x7fb",
    "/" + "a" * 4999,
    "",
    "coaching",
    " /coaching",
]


@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
def test_a_hostile_next_lands_on_the_home_page(client: TestClient, hostile: str) -> None:
    assert account.safe_next(hostile) == "/"
    response = _sign_in(client, next_path=hostile)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("hostile", ["//evil.example", "https://evil.example", "/\\evil"])
def test_a_hostile_next_is_not_kept_by_the_form(client: TestClient, hostile: str) -> None:
    response = client.get(f"{account.SIGN_IN_PATH}?{httpx.QueryParams({'next': hostile})}")
    assert "evil" not in response.text
    signed_in = _session_token(_sign_in(client))
    assert signed_in
    again = client.get(f"{account.SIGN_IN_PATH}?{httpx.QueryParams({'next': hostile})}")
    assert (again.status_code, again.headers["location"]) == (303, "/")


@pytest.mark.parametrize("good", ["/", "/coaching", DEEP_LINK, "/trends?from=2024-01-01&to=2024-12-31",
                                  "/review?q=%2F%2Fevil", "/a/b/c"])
def test_a_path_of_the_dashboard_is_kept(good: str) -> None:
    assert account.safe_next(good) == good


@pytest.mark.parametrize("value", [None, 42, b"/coaching", ["/coaching"]])
def test_safe_next_of_what_is_no_text(value: object) -> None:
    assert account.safe_next(value) == "/"


def test_sign_in_url_and_page_target() -> None:
    assert account.page_target("/coaching", "") == "/coaching"
    assert account.page_target("/coaching", "a=1&b=2") == "/coaching?a=1&b=2"
    assert account.page_target("//evil.example", "") == "/"
    assert account.sign_in_url("/coaching?a=1&b=2") == "/account/sign-in?next=%2Fcoaching%3Fa%3D1%26b%3D2"
    assert account.sign_in_url("/x", "ended") == "/account/sign-in?next=%2Fx&reason=ended"
    assert account.sign_in_url("/x", "made-up") == "/account/sign-in?next=%2Fx"
    assert account.sign_in_url("https://evil.example") == "/account/sign-in?next=%2F"


def _is_control(character: str) -> bool:
    return unicodedata.category(character) == "Cc"


@PROPERTY
@given(value=st.one_of(st.text(), st.text().map(lambda text: "/" + text),
                       st.text(alphabet="/\\?#:.%@ \t\r\nevil").map(lambda text: "/" + text)))
def test_safe_next_always_gives_a_path_of_this_server(value: str) -> None:
    result = account.safe_next(value)
    assert result.startswith("/")
    assert not result.startswith(("//", "/\\"))
    assert "\\" not in result
    assert not any(ord(character) < 0x20 or character == "\x7f" for character in result)
    assert len(result) <= account.MAX_NEXT_LENGTH
    assert result in ("/", value)


@pytest.mark.parametrize("control", ["\x80", "\x85", "\x9b"])
def test_safe_next_refuses_c1_control_characters(control: str) -> None:
    result = account.safe_next(f"/coaching{control}x")
    assert not any(_is_control(character) for character in result)


# -- back from single sign-on -----------------------------------------------------------------------


def _callback_app(status: int = 302, location: str = "/", user_cookie: bool = True):
    """Stands in for Streamlit's /oauth2callback: a redirect home, setting its user cookie or not."""

    async def app(scope, receive, send):
        assert scope["type"] == "http"
        headers = [(b"location", location.encode()), (b"content-length", b"0")]
        if user_cookie:
            headers.append((b"set-cookie", b"_streamlit_user=signed; Path=/; HttpOnly; SameSite=Lax"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    return app


def _callback(app, return_to: str | None) -> httpx.Response:
    gate = account.SessionGate(app, oidc_configured=lambda: True)
    sso_client = TestClient(gate, follow_redirects=False)  # not entered: the stand-in has no lifespan
    if return_to is not None:
        sso_client.cookies.set(account.RETURN_COOKIE, quote(return_to, safe="/?=&"))
    response = sso_client.get("/oauth2callback?code=abc&state=xyz", headers=PAGE_LOAD)
    sso_client.close()
    return response


def _return_cookie_cleared(response: httpx.Response) -> bool:
    return any(_is_deletion(header) for header in _set_cookies(response, account.RETURN_COOKIE))


def test_single_sign_on_comes_back_to_the_page_opened() -> None:
    response = _callback(_callback_app(), DEEP_LINK)
    assert response.status_code == 302
    assert response.headers["location"] == DEEP_LINK
    assert _return_cookie_cleared(response)
    assert _set_cookies(response, "_streamlit_user")  # Streamlit's own cookie goes through


@pytest.mark.parametrize("status", [303, 307])
def test_other_redirect_statuses_come_back_too(status: int) -> None:
    response = _callback(_callback_app(status=status), "/trends?agent=x")
    assert response.headers["location"] == "/trends?agent=x"


def test_a_failed_sign_on_keeps_streamlits_location() -> None:
    response = _callback(_callback_app(user_cookie=False), DEEP_LINK)
    assert response.headers["location"] == "/"
    assert _return_cookie_cleared(response)


def test_a_location_other_than_home_is_kept() -> None:
    response = _callback(_callback_app(location="/?error=access_denied"), DEEP_LINK)
    assert response.headers["location"] == "/?error=access_denied"


@pytest.mark.parametrize("hostile", ["//evil.example", "https://evil.example", "/\\evil", "/oauth2callback"])
def test_a_hostile_return_cookie_lands_on_the_home_page(hostile: str) -> None:
    response = _callback(_callback_app(), hostile)
    assert response.headers["location"] == "/"


def test_without_a_return_cookie_the_callback_is_untouched() -> None:
    response = _callback(_callback_app(), None)
    assert response.headers["location"] == "/"
    assert not _set_cookies(response, account.RETURN_COOKIE)


# -- nothing secret ever leaves in a URL, a page or a log -------------------------------------------


def test_no_response_or_log_holds_the_token_or_the_password(
    client: TestClient, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[httpx.Response] = []
    seen.append(client.get(DEEP_LINK, headers=PAGE_LOAD))
    seen.append(client.get(seen[-1].headers["location"]))
    seen.append(_sign_in(client, password=WRONG))
    signed_in = _sign_in(client)
    token = _session_token(signed_in)
    seen.append(signed_in)
    seen.append(client.get(DEEP_LINK, headers=PAGE_LOAD))
    seen.append(client.get(account.sign_in_url(DEEP_LINK)))
    sessions.end(db, token)
    seen.append(client.get(DEEP_LINK, headers=PAGE_LOAD))
    seen.append(client.get(seen[-1].headers["location"]))
    digest = hashlib.sha256(token.encode()).hexdigest()
    for response in seen:
        for secret in (token, digest, SECRET, WRONG):
            assert secret not in response.headers.get("location", "")
            assert secret not in response.text
        for header in response.headers.get_list("set-cookie"):
            assert SECRET not in header and WRONG not in header
            assert token not in header or header.startswith(f"{account.SESSION_COOKIE}=")
    for secret in (token, digest, SECRET, WRONG):
        assert secret not in caplog.text


def test_the_providers_way_back_after_signing_out_goes_home(client: TestClient) -> None:
    """After a single sign-on sign-out the provider returns to the callback with nothing to check: home,
    without reaching Streamlit's callback (which would log it as a stale sign-in)."""
    for query in ("", "?foo=bar"):
        response = client.get(f"{account.OIDC_CALLBACK_PATH}{query}")
        assert (response.status_code, response.headers["location"]) == (302, "/")
    # A real callback (state and code, or an error) goes on to Streamlit's handler.
    for query in ("?state=s&code=c", "?error=access_denied&state=s"):
        assert client.get(f"{account.OIDC_CALLBACK_PATH}{query}").text == "PAGE"


def test_single_sign_on_not_set_up_is_said_plainly(client: TestClient) -> None:
    """Without complete [auth] settings, the single sign-on route says so (and logs why) instead of sending
    the browser to a provider that cannot answer."""
    response = client.get(f"{account.SSO_PATH}?next=/coaching")
    assert response.status_code == 503
    assert response.text == "Single sign-on is not set up correctly; the server's log says why."
    assert account.RETURN_COOKIE not in response.headers.get("set-cookie", "")

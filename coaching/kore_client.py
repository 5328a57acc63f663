"""Kore.ai Quality AI's reporting APIs over HTTP: one page of one window, asked for politely.

Kore publishes two endpoints that `coaching sync kore` reads, both ``POST``
``{base}/qualityai/api/v1/public/qualitymanagement/app/{streamId}/{scorereporting|rawdata}`` with the
headers ``accountId``, ``orgId``, ``auth`` (a JWT signed with the app's client secret, HS256, naming the
client id as ``appId``) and ``Content-Type: application/json``, and a body of ``startDate``, ``endDate``,
``offset``, ``limit`` (at most 100) and ``include_below_threshold``.

What this module adds to a plain POST:

* Kore's limit (60 requests a minute per account, both APIs together) is kept on this side by a sliding
  window (:class:`RateLimiter`): at most N requests in any window of time, every attempt counted, the log
  kept beside the store so that consecutive runs and processes share it.
* The Raw Data API is also sent ``page`` (``offset // limit + 1``): its docs list it beside ``offset``.
* A 429, a 5xx, a timeout, a dropped connection and a body that is not complete JSON are retried with
  exponential backoff and full jitter (tenacity), never sooner than a ``Retry-After`` asks.
* A 4xx whose body says the rate limit was exceeded is retried as a 429 is (Kore's docs give the message,
  not the status), and so is a 200 whose JSON is not a page the import takes (an array, an error object).
* A 401, 403 or 404 is not retried: it raises :class:`KoreAuthError` or :class:`KoreError` with the
  settings to check. Nothing here logs or prints a header, the secret or the JWT.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import jwt
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from coaching.importer import kore_api
from coaching.settings import KoreCredentials, KoreSyncSettings

log = logging.getLogger(__name__)

#: The endpoints the sync reads, by the name the saved pages give them.
ENDPOINTS = ("scorereporting", "rawdata")
#: Kore's most records per page.
MAX_PAGE_SIZE = 100
#: The longest wait a Retry-After is honoured for (a larger one is taken as this).
MOST_RETRY_AFTER = 600.0
#: How Kore's rate-limit message starts ("You've exceeded the per-minute rate limit. …"); its docs give the
#: message, not the status, so any 4xx saying it is retried like a 429.
RATE_LIMIT_WORDS = ("rate limit", "rate-limit", "ratelimit", "too many requests")


def page_records(body: Any, endpoint: str) -> list[Any] | None:
    """The records of a response body when the import takes it for a page (the saved wrapper around it
    reads without a problem), else None: a JSON array or an error object is not a page."""
    document = {"request": {"endpoint": endpoint}, "response": body}
    page = kore_api.read_page(Path(f"{endpoint}.json"), endpoint, document)
    if page is None or page.problems:
        return None
    return list(page.records)


def endpoint_url(credentials: KoreCredentials, endpoint: str) -> str:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown Kore endpoint {endpoint!r}")
    return (f"{credentials.base_url}/qualityai/api/v1/public/qualitymanagement/app/"
            f"{credentials.stream_id}/{endpoint}")


def kore_time(moment: datetime) -> str:
    """A UTC time as Kore's body fields want it: ``YYYY-MM-DDTHH:MM:SS.NNNZ``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def make_jwt(credentials: KoreCredentials, now: datetime | None = None) -> str:
    """The ``auth`` header: ``{"sub", "appId"}`` signed with the client secret (HS256), with a fresh ``jti``
    and a short life (``iat``, ``exp``: a token that leaks is of no use for long)."""
    issued = now or datetime.now(UTC)
    claims = {
        "sub": credentials.subject,
        "appId": credentials.client_id,
        "jti": uuid.uuid4().hex,
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(minutes=10)).timestamp()),
    }
    return jwt.encode(claims, credentials.client_secret, algorithm="HS256")


def write_atomically(path: Path, text: str, *, durable: bool) -> None:
    """Replace ``path`` with ``text`` whole (written beside it, then renamed over it), so a reader never sees
    half of it; ``durable`` also flushes it to disk first. One writer at a time (the sync's lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(partial, path)


class KoreError(RuntimeError):
    """Kore could not be read; the message says what to check, and never holds a secret."""


class KoreAuthError(KoreError):
    """Kore refused who we said we are (401/403)."""


class Retryable(Exception):
    """A fault worth another attempt: a 429, a 5xx, a timeout, a broken connection or body."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class RateLimiter:
    """At most ``limit`` requests in any ``window`` seconds (Kore counts a rolling sixty seconds).

    A sliding log of the last ``limit`` send times: a request waits until the oldest of them is more than
    ``window`` old. With ``log_path`` the log is kept in that file too (wall-clock times, written at each
    request), so the next run, or another process of the same store, starts from it rather than from an
    empty minute. ``clock`` and ``sleep`` are injectable so tests need not wait a minute.
    """

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] = time.sleep, log_path: Path | None = None) -> None:
        self.limit, self.window = limit, window
        self.clock = clock or (time.time if log_path is not None else time.monotonic)
        self.sleep = sleep
        self.log_path = log_path
        self._sent: deque[float] = deque(self._load())
        self._lock = threading.Lock()

    def _load(self) -> list[float]:
        if self.log_path is None:
            return []
        try:
            data = json.loads(self.log_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            log.warning("the requests log %s cannot be read (%s); starting from an empty minute", self.log_path,
                        error)
            return []
        now = self.clock()
        sent = data.get("sent") if isinstance(data, dict) else None
        times = [float(t) for t in sent or [] if isinstance(t, int | float) and not isinstance(t, bool)]
        # A time ahead of the clock (it was set back) counts as now: never a wait longer than the window.
        return sorted(min(t, now) for t in times if now - t < self.window)[-self.limit:]

    def _save(self) -> None:
        if self.log_path is None:
            return
        try:
            write_atomically(self.log_path, json.dumps({"sent": list(self._sent)}), durable=False)
        except OSError as error:  # the limit still holds within this run
            log.warning("the requests log %s cannot be written (%s)", self.log_path, error)

    def acquire(self) -> float:
        """Wait for a free slot and take it; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    self._save()
                    return waited
                pause = min(self.window, self.window - (now - self._sent[0]))
            self.sleep(pause)
            waited += pause


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header in seconds (a number, or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MOST_RETRY_AFTER)


def _refusal(status: int, endpoint: str) -> KoreError:
    if status == 401:
        return KoreAuthError(
            f"Kore refused the credentials (HTTP 401 from {endpoint}): check KORE_CLIENT_ID and "
            "KORE_CLIENT_SECRET (the JWT names the client id and is signed with the secret), then KORE_ACCOUNT_ID "
            "and KORE_ORG_ID"
        )
    if status == 403:
        return KoreAuthError(
            f"Kore refused the request (HTTP 403 from {endpoint}): the app of KORE_CLIENT_ID needs the API scope "
            "'Quality Management Analytics', and KORE_ACCOUNT_ID and KORE_ORG_ID must be that app's"
        )
    return KoreError(
        f"Kore has no such endpoint (HTTP 404 from {endpoint}): check KORE_BASE_URL and KORE_STREAM_ID "
        "(the app's streamId or botId)"
    )


class KoreClient:
    """Pages of Kore's reporting APIs, one request at a time, within the rate limit, retried when worth it.

    ``transport`` (an httpx transport), ``sleep`` and ``limiter`` are for tests; the default limiter keeps
    ``settings.requests_per_window`` per ``settings.rate_window_seconds``.
    """

    def __init__(self, credentials: KoreCredentials, settings: KoreSyncSettings, *,
                 limiter: RateLimiter | None = None, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.credentials = credentials
        self.settings = settings
        self.sleep = sleep
        self.limiter = limiter or RateLimiter(settings.requests_per_window, settings.rate_window_seconds, sleep=sleep)
        self.requests = 0
        self._http = httpx.Client(timeout=httpx.Timeout(settings.timeout_seconds), transport=transport,
                                  follow_redirects=False)

    def __enter__(self) -> KoreClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def page(self, endpoint: str, start: datetime, end: datetime, offset: int,
             limit: int) -> tuple[dict[str, Any], Any]:
        """One page: the request as sent (its body, without headers) and the response body as Kore sent it."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        body: dict[str, Any] = {
            "startDate": kore_time(start),
            "endDate": kore_time(end),
            "offset": offset,
            "limit": limit,
            "include_below_threshold": self.settings.include_below_threshold,
        }
        if endpoint == "rawdata":
            # The Raw Data API's page documents ``page`` (1-based, default 1) beside ``offset``, and its
            # sample request sends both: the two name the same page, whichever Kore reads.
            body["page"] = offset // limit + 1
        retrying = Retrying(
            retry=retry_if_exception_type(Retryable),
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            response = retrying(self._send, endpoint, body)
        except Retryable as fault:
            raise KoreError(
                f"Kore's {endpoint} did not answer usably after {self.settings.max_attempts} attempts "
                f"(last: {fault.reason}); the sync stops here and resumes from this page next time"
            ) from None
        return body, response

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_random_exponential(multiplier=self.settings.backoff_seconds,
                                          max=self.settings.max_backoff_seconds)(state)
        fault = state.outcome.exception() if state.outcome is not None else None
        asked = fault.retry_after if isinstance(fault, Retryable) else None
        return max(backoff, asked or 0.0)

    def _before_sleep(self, state: RetryCallState) -> None:
        fault = state.outcome.exception() if state.outcome is not None else None
        pause = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning("Kore: %s; attempt %d of %d in %.1f s", fault, state.attempt_number + 1,
                    self.settings.max_attempts, pause)

    def _send(self, endpoint: str, body: dict[str, Any]) -> Any:
        self.limiter.acquire()
        self.requests += 1
        headers = {
            "accountId": self.credentials.account_id,
            "orgId": self.credentials.org_id,
            "auth": make_jwt(self.credentials),
            "Content-Type": "application/json",
        }
        log.debug("Kore: POST %s %s..%s offset %d limit %d", endpoint, body["startDate"], body["endDate"],
                  body["offset"], body["limit"])
        try:
            response = self._http.post(endpoint_url(self.credentials, endpoint), headers=headers,
                                       content=json.dumps(body).encode())
        except httpx.TimeoutException:
            raise Retryable(f"no answer within {self.settings.timeout_seconds:g} s") from None
        except httpx.TransportError as error:
            raise Retryable(f"the connection failed ({type(error).__name__})") from None
        status = response.status_code
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if status == 429 or status >= 500:
            raise Retryable(f"HTTP {status}", retry_after)
        if 400 <= status < 500 and any(w in response.text.lower() for w in RATE_LIMIT_WORDS):
            raise Retryable(f"HTTP {status} saying the rate limit was exceeded", retry_after)
        if status in (401, 403, 404):
            raise _refusal(status, endpoint)
        if status != 200:
            raise KoreError(f"Kore's {endpoint} answered HTTP {status}: {response.text[:300]!r}")
        try:
            answer = json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise Retryable(f"the body was not complete JSON ({len(response.content)} bytes)") from None
        if page_records(answer, endpoint) is None:
            # A 200 whose JSON is no page (an array, an error object): never saved for the import to refuse.
            raise Retryable(f"HTTP 200 with JSON that is not a page of records: {response.text[:200]!r}", retry_after)
        return answer

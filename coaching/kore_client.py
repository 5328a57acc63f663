"""Kore.ai Quality AI's reporting APIs over HTTP: one page of one window, asked for politely.

Kore publishes two endpoints that `coaching sync kore` reads, both ``POST``
``{base}/qualityai/api/v1/public/qualitymanagement/app/{streamId}/{scorereporting|rawdata}`` with the
headers ``accountId``, ``orgId``, ``auth`` (a JWT signed with the app's client secret, HS256, naming the
client id as ``appId``) and ``Content-Type: application/json``, and a body of ``startDate``, ``endDate``,
``offset``, ``limit`` (at most 100) and ``include_below_threshold``.

What this module adds to a plain POST:

* Kore's limit (60 requests a minute per account, both APIs together) is kept on this side by a sliding
  window (:class:`RateLimiter`): at most N requests in any window of time, every attempt counted.
* A 429, a 5xx, a timeout, a dropped connection and a body that is not complete JSON are retried with
  exponential backoff and full jitter (tenacity), never sooner than a ``Retry-After`` asks.
* A 401, 403 or 404 is not retried: it raises :class:`KoreAuthError` or :class:`KoreError` with the
  settings to check. Nothing here logs or prints a header, the secret or the JWT.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2 as httpx
import jwt
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from coaching.settings import KoreCredentials, KoreSyncSettings

log = logging.getLogger(__name__)

#: The endpoints the sync reads, by the name the saved pages give them.
ENDPOINTS = ("scorereporting", "rawdata")
#: Kore's most records per page.
MAX_PAGE_SIZE = 100
#: The longest wait a Retry-After is honoured for (a larger one is taken as this).
MOST_RETRY_AFTER = 600.0


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
    ``window`` old. ``clock`` and ``sleep`` are injectable so tests need not wait a minute.
    """

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit, self.window = limit, window
        self.clock, self.sleep = clock, sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

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
                    return waited
                pause = self.window - (now - self._sent[0])
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
        if status == 429 or status >= 500:
            raise Retryable(f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After")))
        if status in (401, 403, 404):
            raise _refusal(status, endpoint)
        if status != 200:
            raise KoreError(f"Kore's {endpoint} answered HTTP {status}: {response.text[:300]!r}")
        try:
            return json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise Retryable(f"the body was not complete JSON ({len(response.content)} bytes)") from None

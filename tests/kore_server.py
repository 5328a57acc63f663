"""A local HTTP server that plays Kore.ai's Quality AI reporting APIs, for the sync's tests.

Both endpoints (``…/scorereporting`` and ``…/rawdata``) answer with records in the shapes Kore publishes
(the samples of its docs: ``koreEvalutionScore`` as spelt there, ``Queues``/``Agents``/``Metrics`` with
spaced keys, the Raw Data API's ``"Conversation ID"`` and ``"Conversation Start Time"``), paged by
``offset``/``limit`` with ``totalResults``, ``totalPages`` and ``hasMore``. It checks the ``auth`` JWT with the
client secret (a wrong one gets 401), counts requests per account in a rolling window (past the limit:
429 with ``Retry-After``), and plays faults queued with :meth:`KoreServer.inject`: ``"500"``, ``"429"``,
``"timeout"`` (answers after ``delay`` seconds), ``"truncated"`` (the connection closes mid-body),
``"cut_json"`` (a complete response whose JSON is cut short), ``"shift"`` (a new conversation appears at
the front of the window right after this page: every later page shifts by one, as paging by offset does
when records arrive meanwhile), ``"limit_400"`` (Kore's rate-limit message with a 400, not a 429),
``"array"`` (a 200 whose body is the bare list of records) and ``"error_object"`` (a 200 whose body is an
error object). Lasting misbehaviours are attributes: ``ignore_offset`` (every request answered with the
first page, ``hasMore`` true while there are more than a page), ``total_bias`` (``totalResults`` off by that
many, always: a stable mismatch). The rate window is injectable, so no test waits a minute. Each request
is logged with its ``page`` (when sent) and the time it arrived (``time.time()``).
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt

from coaching.settings import KoreCredentials

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "kore_api"
PREFIX = "/qualityai/api/v1/public/qualitymanagement/app/"
RATE_LIMITED = "You've exceeded the per-minute rate limit. Wait for sometime before retrying."

#: One record of each endpoint as Kore's docs publish it (trimmed to one metric each): the template every
#: conversation is drawn on when tests/fixtures/kore_api/ has no published sample.
SCOREREPORTING_RECORD: dict[str, Any] = {
    "conversationId": "c-0179c0cc",
    "Queues": [{"Queue ID": "qu-8ebc557", "Queue Name": "Inbound Q"}],
    "Agents": [{"Agent ID": "a-647043a", "Agent Name": "satya admin"}],
    "koreEvalutionScore": 0,
    "fatalErrorCount": 0,
    "Language": "English",
    "duration_status": "evaluated",
    "Metrics": [{"Metric ID": "em-5a2e735a", "Metric Name": "Greeting", "Metric Weight": 5,
                 "Metric Negative Weight": 11, "Qualification": "YES", "isFatalError": False,
                 "Auditor Response": None}],
    "contactDirection": "inbound",
    "AuditStatus": "Unassigned",
    "AuditDate": None,
    "AuditorName": None,
    "custom_fields": {},
}
RAWDATA_RECORD: dict[str, Any] = {
    "src": "rtm",
    "contactDirection": "inbound",
    "Conversation ID": "c-de2dd02c",
    "Conversation Start Time": "2026-05-02T13:01:34.000Z",
    "Conversation End Time": "2026-05-02T13:03:13.000Z",
    "Language": "English",
    "Duration": "99000 milliseconds",
    "Sentiment Score": 1.78,
    "Queues": [{"Queue ID": "qu-321bc8a2", "Queue Name": "Expressq11"}],
    "Agents": [{"agentId": "a-6470432", "Agent Name": "satya admin", "Agent Start Time": "2026-05-02T13:01:34.000Z",
                "Empathy Score": 0, "Agent Email": "john.doe@example.com"}],
    "Kore Evaluation Score": 35,
    "Fatal Errors": 0,
    "Audit Status": "Unassigned",
    "Audit Date": None,
    "Auditor Name": None,
    "duration_status": "evaluated",
    "Metrics": [{"Metric ID": "em-1dea972c", "Metric Name": "Greeting", "Metric Weight": 5,
                 "Metric Negative Weight": 11, "Qualification": "YES", "isFatalError": False,
                 "triggerJustification": [], "justification": [], "Auditor Response": None}],
    "custom_fields": {},
}


def _published(pattern: str, fallback: dict[str, Any]) -> dict[str, Any]:
    """The first record of the published sample saved under tests/fixtures/kore_api/ (the import's helper
    keeps them verbatim), else the copy above."""
    for path in sorted(FIXTURES.glob(pattern)):
        body = json.loads(path.read_text(encoding="utf-8"))
        results = body.get("results") if isinstance(body, dict) else body
        if isinstance(results, list) and results and isinstance(results[0], dict):
            return results[0]
    return fallback


SCOREREPORTING_RECORD = _published("auto-qa-reporting-*.json", SCOREREPORTING_RECORD)
RAWDATA_RECORD = _published("raw-data-*.json", RAWDATA_RECORD)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_kore_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T")).replace(tzinfo=None)


@dataclass
class Conversation:
    """One evaluated conversation as Kore holds it."""

    conversation_id: str
    start: datetime  # naive UTC
    agent_name: str
    agent_email: str
    agent_id: str
    kore_score: float | None
    audit_score: float | None = None
    audited_at: datetime | None = None
    auditor: str | None = None

    def scorereporting(self) -> dict[str, Any]:
        record = copy.deepcopy(SCOREREPORTING_RECORD)
        record["conversationId"] = self.conversation_id
        record["Agents"] = [{"Agent ID": self.agent_id, "Agent Name": self.agent_name}]
        record["koreEvalutionScore"] = self.kore_score
        if self.kore_score is None:
            record["duration_status"], record["Metrics"] = "below_threshold", []
        if self.audit_score is not None:
            record.update({"AuditStatus": "Audited", "AuditScore": self.audit_score,
                           "AuditDate": iso(self.audited_at or self.start), "AuditorName": self.auditor})
        return record

    def rawdata(self) -> dict[str, Any]:
        record = copy.deepcopy(RAWDATA_RECORD)
        record["Conversation ID"] = self.conversation_id
        record["Conversation Start Time"] = iso(self.start)
        record["Conversation End Time"] = iso(self.start + timedelta(minutes=3))
        record["Agents"][0].update({"agentId": self.agent_id, "Agent Name": self.agent_name,
                                    "Agent Email": self.agent_email, "Agent Start Time": iso(self.start)})
        record["Kore Evaluation Score"] = "NA" if self.kore_score is None else self.kore_score
        if self.kore_score is None:
            record["duration_status"], record["Metrics"] = "below_threshold", []
        if self.audit_score is not None:
            record.update({"Audit Status": "Audited", "Audit Score": self.audit_score,
                           "Audit Date": iso(self.audited_at or self.start), "Auditor Name": self.auditor})
        return record

    def render(self, endpoint: str) -> dict[str, Any]:
        return self.scorereporting() if endpoint == "scorereporting" else self.rawdata()


@dataclass
class Fault:
    kind: str  # 500, 429, timeout, truncated, cut_json, shift, limit_400, array, error_object
    endpoint: str | None = None
    offset: int | None = None
    delay: float = 0.0


@dataclass
class Request:
    endpoint: str
    start: str
    end: str
    offset: int
    limit: int
    status: int
    page: int | None = None
    #: When it arrived (``time.time()``): what a test of the rate limit across runs reads.
    at: float = 0.0


@dataclass(repr=False)
class KoreServer:
    """Kore on 127.0.0.1 (a free port); ``with KoreServer(...) as kore:`` starts and stops it."""

    credentials: KoreCredentials
    rate_limit: int = 60
    rate_window: float = 60.0
    conversations: list[Conversation] = field(default_factory=list)
    log: list[Request] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    shifted: int = 0
    #: A server that ignores ``offset``: every page is the first.
    ignore_offset: bool = False
    #: Added to ``totalResults`` on every page: a count that never equals the records.
    total_bias: int = 0
    #: Every ``auth`` header received: what must never show in a log.
    tokens: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._received: deque[float] = deque()
        self._server: ThreadingHTTPServer | None = None

    def __repr__(self) -> str:
        return f"KoreServer({len(self.conversations)} conversations, {len(self.log)} requests)"

    # -- the data ------------------------------------------------------------------------------------
    def add(self, *conversations: Conversation) -> None:
        with self._lock:
            self.conversations += conversations

    def audit(self, conversation_id: str, score: float, at: datetime, auditor: str = "Quinn QA") -> None:
        with self._lock:
            for c in self.conversations:
                if c.conversation_id == conversation_id:
                    c.audit_score, c.audited_at, c.auditor = score, at, auditor

    def inject(self, kind: str, endpoint: str | None = None, offset: int | None = None, delay: float = 0.0,
               times: int = 1) -> None:
        with self._lock:
            self.faults += [Fault(kind, endpoint, offset, delay) for _ in range(times)]

    def expected(self) -> dict[str, tuple[float | None, float | None]]:
        """Every conversation's (Kore score, audit score): what a store synced from here must hold."""
        with self._lock:
            return {c.conversation_id: (c.kore_score, c.audit_score) for c in self.conversations}

    def statuses(self) -> list[int]:
        return [r.status for r in self.log]

    # -- serving -------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def client_credentials(self, **changes: str) -> KoreCredentials:
        """The credentials a client of this server uses (``client_secret="wrong"`` for a bad one)."""
        fields = {"account_id": self.credentials.account_id, "org_id": self.credentials.org_id,
                  "client_id": self.credentials.client_id, "client_secret": self.credentials.client_secret,
                  "stream_id": self.credentials.stream_id, "base_url": self.base_url}
        return KoreCredentials(**(fields | changes))

    def __enter__(self) -> KoreServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def env(self) -> dict[str, str]:
        """The environment a `coaching sync kore` process needs to reach this server."""
        return {"KORE_ACCOUNT_ID": self.credentials.account_id, "KORE_ORG_ID": self.credentials.org_id,
                "KORE_CLIENT_ID": self.credentials.client_id, "KORE_CLIENT_SECRET": self.credentials.client_secret,
                "KORE_STREAM_ID": self.credentials.stream_id, "KORE_BASE_URL": self.base_url}

    # -- answering -----------------------------------------------------------------------------------
    def _authorised(self, headers: Any) -> bool:
        self.tokens.append(headers.get("auth", ""))
        if headers.get("accountId") != self.credentials.account_id or not headers.get("orgId"):
            return False
        if headers.get("Content-Type") != "application/json":
            return False
        try:
            claims = jwt.decode(headers.get("auth", ""), self.credentials.client_secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return False
        return claims.get("appId") == self.credentials.client_id and "sub" in claims

    def _over_limit(self) -> float | None:
        """Count this request; the seconds to wait when it is over the limit."""
        with self._lock:
            now = time.monotonic()
            while self._received and now - self._received[0] >= self.rate_window:
                self._received.popleft()
            if len(self._received) >= self.rate_limit:
                return self.rate_window - (now - self._received[0])
            self._received.append(now)
            return None

    def _fault(self, endpoint: str, offset: int) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.endpoint in (None, endpoint) and fault.offset in (None, offset):
                    return self.faults.pop(i)
        return None

    def page(self, endpoint: str, start: datetime, end: datetime, offset: int, limit: int) -> dict[str, Any]:
        with self._lock:
            matching = sorted((c for c in self.conversations if start <= c.start < end),
                              key=lambda c: (c.start, c.conversation_id))
            if self.ignore_offset:
                offset = 0
            records = [c.render(endpoint) for c in matching[offset:offset + limit]]
        total = len(matching)
        return {"results": records, "totalResults": total + self.total_bias,
                "totalPages": math.ceil(total / limit) if limit else 0, "hasMore": offset + len(records) < total}

    def shift(self, start: datetime) -> None:
        """A new conversation at the very start of the window: every record after it moves one place."""
        self.shifted += 1
        self.add(Conversation(f"c-shift-{self.shifted}", start, "Late Arrival", "late.arrival@example.com",
                              "a-late", 12.0))


def _handler(kore: KoreServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, payload: Any, request: Request | None, headers: dict[str, str] | None = None,
                    body: bytes | None = None, declared: int | None = None) -> None:
            data = body if body is not None else json.dumps(payload).encode()
            if request is not None:
                request.status = status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(declared if declared is not None else len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(data)
                self.wfile.flush()
            except OSError:
                pass
            if declared is not None and declared != len(data):
                self.close_connection = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            path = self.path
            parts = path[len(PREFIX):].split("/") if path.startswith(PREFIX) else []
            if len(parts) != 2 or parts[0] != kore.credentials.stream_id or parts[1] not in ("scorereporting",
                                                                                              "rawdata"):
                self._answer(404, {"errors": [{"msg": "Not found"}]}, None)
                return
            endpoint = parts[1]
            try:
                body = json.loads(raw)
                start, end = parse_kore_time(body["startDate"]), parse_kore_time(body["endDate"])
                offset, limit = int(body.get("offset", 0)), int(body.get("limit", 10))
            except (ValueError, KeyError, TypeError):
                self._answer(400, {"errors": [{"msg": "Bad request"}]}, None)
                return
            page = body.get("page")
            request = Request(endpoint, body["startDate"], body["endDate"], offset, limit, 0,
                              page if isinstance(page, int) else None, time.time())
            kore.log.append(request)
            if not self._authorised_request():
                self._answer(401, {"errors": [{"msg": "Invalid auth token", "code": 401}]}, request)
                return
            wait = kore._over_limit()
            if wait is not None:
                self._answer(429, {"errors": [{"msg": RATE_LIMITED}]}, request,
                             {"Retry-After": f"{max(wait, 0.01):.3f}"})
                return
            if limit > 100 or limit < 1:
                self._answer(400, {"errors": [{"msg": "limit must be 1 to 100"}]}, request)
                return
            fault = kore._fault(endpoint, offset)
            if fault is not None and fault.kind == "500":
                self._answer(500, {"errors": [{"msg": "Internal error"}]}, request)
                return
            if fault is not None and fault.kind == "429":
                self._answer(429, {"errors": [{"msg": RATE_LIMITED}]}, request, {"Retry-After": "0.01"})
                return
            if fault is not None and fault.kind == "limit_400":
                self._answer(400, {"errors": [{"msg": RATE_LIMITED}]}, request)
                return
            if fault is not None and fault.kind == "error_object":
                self._answer(200, {"errors": [{"msg": "Something went wrong", "code": 200}]}, request)
                return
            if fault is not None and fault.kind == "timeout":
                time.sleep(fault.delay)
            payload = kore.page(endpoint, start, end, offset, limit)
            data = json.dumps(payload).encode()
            if fault is not None and fault.kind == "truncated":
                self._answer(200, None, request, body=data[: len(data) // 2], declared=len(data))
                return
            if fault is not None and fault.kind == "cut_json":
                self._answer(200, None, request, body=data[: len(data) // 2])
                return
            if fault is not None and fault.kind == "array":
                self._answer(200, payload["results"], request)
                return
            if fault is not None and fault.kind == "shift":
                kore.shift(start)
            self._answer(200, None, request, body=data)

        def _authorised_request(self) -> bool:
            return kore._authorised(self.headers)

    return Handler


def conversations(count: int, first_day: datetime, days: int, *, seed: int = 0) -> Iterator[Conversation]:
    """``count`` conversations spread over ``days`` days from ``first_day`` (three agents; every fifth below
    the duration threshold, without a score)."""
    agents = [("Priya Nair", "priya.nair@example.com", "a-priya"), ("Tom Becker", "tom.becker@example.com", "a-tom"),
              ("Ada Lane", "ada.lane@example.com", "a-ada")]
    span = days * 24 * 3600
    for i in range(count):
        name, email, agent_id = agents[(i + seed) % len(agents)]
        moment = first_day + timedelta(seconds=(i * 7919 + seed * 104729) % span)
        yield Conversation(f"c-{seed}-{i:05d}", moment.replace(microsecond=0), name, email, agent_id,
                           None if i % 5 == 4 else float((i * 37) % 201 - 100))


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)

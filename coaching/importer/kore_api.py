"""Kore's Quality AI API pages: the Auto QA Reporting API's and the Raw Data API's responses, as published.

A page is a response body (``{"results": [...], "totalResults": …, "hasMore": …}``; any one list of records
will do) or a page saved in the request wrapper the sync writes::

    {"request": {"endpoint": "scorereporting" | "rawdata", "startDate": ISO, "endDate": ISO,
                 "offset": n, "limit": n},
     "response": <the response body, verbatim>}

Keys are matched as Kore spells them in every published version of its docs and in the parameter tables
(:data:`SPELLINGS`: data, not code), ignoring case, spaces, underscores and hyphens. The records of every
page of a run are merged by conversation (an Auto QA record and a Raw Data record of the same conversation
are one evaluation, :data:`RAW_DATA_FIRST` says whose value wins), given a conversation time (:func:`_time`),
and turned into rows of the Interaction Evaluation report (:data:`coaching.importer.formats.EVALUATIONS`),
one :class:`~coaching.importer.sources.Source` per page and set of fields given, which the import stages
like any report. docs/kore-api.md is the contract in words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb
import pyarrow as pa

from coaching import store
from coaching.importer import formats
from coaching.importer.formats import HeaderMatch, MetricColumns
from coaching.importer.problems import Problem
from coaching.sql import sql_str

if TYPE_CHECKING:  # sources opens the files and calls this module; this module builds its Sources
    from coaching.importer.sources import Source

AUTO_QA = "scorereporting"
RAW_DATA = "rawdata"
ENDPOINTS = (AUTO_QA, RAW_DATA)
ENDPOINT_TITLES = {AUTO_QA: "Auto QA Reporting API", RAW_DATA: "Raw Data API"}
#: An origin (as :data:`AUTO_QA` and :data:`RAW_DATA` are): an evaluation that records of both APIs gave in
#: one run (:func:`_merge`). Not an endpoint: no page is of it; it names the merged row's APIs in
#: :data:`SOURCE_LABELS` and in the run's ``api_sources`` table.
BOTH = "scorereporting+rawdata"
#: ``evaluations.source``: which of Kore's APIs gave records of the evaluation, over every import (a
#: record of the other API, in a later run, makes it both); or the report it came from, which stays its
#: source when API records update it.
SOURCE_LABELS = {AUTO_QA: "Auto QA API", RAW_DATA: "Raw Data API", BOTH: "Auto QA and Raw Data APIs"}
REPORT_SOURCE = "Interaction Evaluation report"
#: The temporary table (src, origin, gives_metrics) naming the run's sources of API records, their origin
#: and whether their records have a Metrics key (:func:`build_sources` writes it, :func:`api_sources`
#: reads it).
API_SOURCES_TABLE = "api_sources"

#: Every key read, by level (a record, one of its Queues, Agents or Metrics), as Kore spells it in the
#: published samples and parameter tables of the Auto QA Reporting and Raw Data API pages (every version).
#: Matched ignoring case, spaces, underscores and hyphens: ``Audit Status`` = ``AuditStatus`` = ``audit_status``.
SPELLINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "record": {
        "conversation_id": ("conversationId", "Conversation ID", "conversation_id"),
        "channel": ("channel", "Channel"),
        "queues": ("Queues", "queues"),
        "language": ("Language", "language"),
        "agents": ("Agents", "agents"),
        "start_time": ("Conversation Start Time", "startTime", "conversationStartTime"),
        "sentiment_score": ("Sentiment Score", "sentimentScore"),
        "escalation": ("IsEscalationObserved",),
        "kore_score": ("koreEvaluationScore", "koreEvalutionScore", "Kore Evaluation Score"),
        "evaluation_status": ("evaluation_status", "evaluationStatus"),
        "is_passed": ("IsPassed",),
        "fatal_errors": ("fatalErrorCount", "Fatal Errors"),
        "audit_score": ("AuditScore", "Audit Score"),
        "audit_status": ("AuditStatus", "audit_status", "Audit Status"),
        "audit_date": ("AuditDate", "audit_date", "Audit Date"),
        "auditor": ("AuditorName", "auditor", "Auditor Name"),
        "contact_direction": ("contactDirection", "contact_direction", "Contact Direction"),
        "duration_status": ("duration_status", "durationStatus", "Duration Status"),
        "evaluated_at": ("evaluatedAt",),
        "evaluation_form": ("evaluationForm", "formName", "Evaluation Form", "Evaluation Form Name"),
        "metrics": ("Metrics", "metrics"),
    },
    "queue": {
        "queue_id": ("Queue ID", "queueId"),
        "queue_name": ("Queue Name", "queueName"),
    },
    "agent": {
        "agent_id": ("Agent ID", "agentId"),
        "agent_name": ("Agent Name", "agentName"),
        "agent_email": ("Agent Email", "agentEmail"),
    },
    "metric": {
        "metric_id": ("Metric ID", "metricId"),
        "metric_name": ("Metric Name", "metricName"),
        "metric_weight": ("Metric Weight", "metricWeight"),
        "metric_negative_weight": ("Metric Negative Weight", "metricNegativeWeight"),
        "qualification": ("Qualification", "qualification"),
        "is_fatal_error": ("isFatalError",),
        "auditor_response": ("Auditor Response", "auditorResponse"),
    },
}
#: The list of records in a response body, as Kore names it (``results`` in every published sample).
RECORD_LISTS = ("results", "data")
#: Paging fields: a body with one of them and an empty list is an empty page.
PAGING = ("totalResults", "totalPages", "hasMore")

#: Fields whose Raw Data value wins when an Auto QA record and a Raw Data record of one conversation meet,
#: in one run or in two: what the conversation was (its time, channel, sentiment, the agents with their
#: emails). Every other field (scores, metrics, fatal errors, pass, duration status, direction, language,
#: audit) is the Auto QA Reporting API's, the scoring endpoint. Either record fills what the other gives
#: no value for (no key, null, "NA"); docs/kore-api.md, "One conversation, two APIs" and "Updating".
RAW_DATA_FIRST = ("start_time", "channel", "sentiment_score", "escalation", "agents", "queues")
_RAW_FIRST = {*RAW_DATA_FIRST, "last_queue"}
#: The evaluation columns that are the Raw Data API's (:data:`RAW_DATA_FIRST`, with the Last Queue and the
#: scored agent's email, which only it gives); the rest are the Auto QA Reporting API's.
RAW_DATA_COLUMNS = frozenset({*_RAW_FIRST, "agent_email"})


def normalise(key: str) -> str:
    """A key as spellings match it: lower case, without spaces, underscores or hyphens."""
    return re.sub(r"[\s_\-]+", "", key).lower()


_LOOKUP: dict[str, dict[str, str]] = {
    level: {normalise(s): name for name, spellings in fields.items() for s in spellings}
    for level, fields in SPELLINGS.items()
}
_MANUAL = formats.MANUAL_SUFFIX.strip().lower()
_VERDICTS = {"pass": "1", "passed": "1", "fail": "0", "failed": "0", "notevaluated": None}
_REQUEST_KEYS = ("request", "response")
#: Columns of the Interaction Evaluation report no API record has: a JSON record with one is a report row.
_REPORT_ONLY = {formats.normalise(c.header) for c in formats.EVALUATIONS.columns
                if c.field in ("scored_agent", "last_queue")}


@dataclass
class Page:
    """One file's API page: its records, where each is, and the request it answered (when saved with it)."""

    path: Path
    name: str
    records: list[Any]
    lines: list[int]  # each record's number (line_unit) in messages
    line_unit: str
    list_path: str  # how a key path names the list: ``results``, ``response.results``, or ``""`` (an array)
    endpoint: str | None = None
    window_start: str | None = None  # the request's startDate
    problems: list[Problem] = field(default_factory=list)


def _key_text(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else json.dumps(key, ensure_ascii=False)


def is_api_record(record: Any) -> bool:
    """A record of either API: a conversation id and a score, metrics, agents or a conversation time (and
    not a row of the Interaction Evaluation report written as JSON, which names its Scored Agent)."""
    if not isinstance(record, dict):
        return False
    keys = {normalise(k) for k in record if isinstance(k, str)}
    if keys & _REPORT_ONLY:
        return False
    found = {_LOOKUP["record"].get(k) for k in keys}
    return "conversation_id" in found and bool(found & {"kore_score", "metrics", "agents", "start_time"})


def read_page(path: Path, name: str, document: Any, records: list[Any] | None = None,
              lines: list[int] | None = None) -> Page | None:
    """The API page ``document`` holds, or None when it is not one.

    ``records`` and ``lines``: an array's or NDJSON file's records (``document`` is then None).
    """
    if records is not None:
        if records and all(is_api_record(r) for r in records):
            return Page(path, name, records, lines or list(range(1, len(records) + 1)), "line", "")
        return None
    if not isinstance(document, dict):
        return None
    wrapped = {normalise(k): k for k in document} == {"request": "request", "response": "response"} or (
        set(document) == set(_REQUEST_KEYS)
    )
    if wrapped:
        request, body = document["request"], document["response"]
        page = _body_page(path, name, body, "response.")
        if page is None:
            page = Page(path, name, [], [], "record", "response")
            page.problems.append(Problem(name, None, "response", _short(body),
                                         "the API's response body: an object with a list of records (results)"))
        _read_request(page, request)
        return page
    return _body_page(path, name, document, "")


def _body_page(path: Path, name: str, body: Any, prefix: str) -> Page | None:
    if not isinstance(body, dict):
        return None
    lists = [(k, v) for k, v in body.items() if isinstance(v, list)]
    named = [(k, v) for k, v in lists if normalise(k) in RECORD_LISTS]
    candidates = named or [(k, v) for k, v in lists if v and all(isinstance(r, dict) for r in v)]
    if len(candidates) != 1:
        return None
    key, records = candidates[0]
    if records and not any(is_api_record(r) for r in records):
        return None
    if not records and not (prefix or named or any(p in body for p in PAGING)):
        return None
    return Page(path, name, records, list(range(1, len(records) + 1)), "record", prefix + _key_text(key))


def _read_request(page: Page, request: Any) -> None:
    where = "request"
    if not isinstance(request, dict):
        page.problems.append(Problem(page.name, None, where, _short(request),
                                     "the request as an object (endpoint, startDate, endDate, offset, limit)"))
        return
    keys = {normalise(k): k for k in request}
    endpoint = request.get(keys.get("endpoint", "endpoint"))
    if endpoint is not None:
        text = str(endpoint).strip().rstrip("/").rsplit("/", 1)[-1].lower()
        if text not in ENDPOINTS:
            page.problems.append(Problem(page.name, None, f"{where}.endpoint", _short(endpoint),
                                         "scorereporting or rawdata"))
        else:
            page.endpoint = text
    start = request.get(keys.get("startdate", "startDate"))
    if start is not None:
        if not isinstance(start, str):
            page.problems.append(Problem(page.name, None, f"{where}.startDate", _short(start),
                                         "an ISO 8601 date and time (text)"))
        else:
            page.window_start = start


def _short(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:199] + "…"


# ------------------------------------------------------------------------------------------------
# One record, read
# ------------------------------------------------------------------------------------------------
@dataclass
class Metric:
    name: str
    is_manual: bool
    result: str | None
    fatal: str | None
    weight: str | None
    violation: str | None


@dataclass
class Record:
    """One API record read: its values by field (text, as staging reads it), the fields it gives, and where."""

    page: Page
    number: int  # its place in the page's list (0-based)
    endpoint: str
    values: dict[str, str | None] = field(default_factory=dict)
    given: set[str] = field(default_factory=set)  # EVALUATIONS fields the record gives (even as null)
    agents: list[dict[str, str | None]] = field(default_factory=list)
    metrics: list[Metric] | None = None  # None: no Metrics key
    evaluated_at: str | None = None
    spellings: dict[str, str] = field(default_factory=dict)  # field -> the key as the record spells it

    @property
    def line(self) -> int:
        return self.page.lines[self.number]


class _Reader:
    """Reads records into :class:`Record` s, collecting problems and the fields it does not use."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.ignored: dict[str, None] = {}

    def problem(self, page: Page, number: int, path: str, value: Any, expected: str) -> None:
        self.problems.append(Problem(page.name, page.lines[number], path, _short(value), expected, page.line_unit))

    def fields(self, level: str, obj: dict[str, Any], page: Page, number: int, path: str,
               prefix: str) -> dict[str, tuple[str, Any]]:
        """``obj``'s known fields: name -> (key as spelled, value); unknown keys are remembered."""
        found: dict[str, tuple[str, Any]] = {}
        for key, value in obj.items():
            name = _LOOKUP[level].get(normalise(key)) if isinstance(key, str) else None
            if name is None:
                self.ignored[prefix + str(key)] = None
                continue
            if name in found and found[name][1] != value:
                self.problem(page, number, f"{path}.{_key_text(key)}", value,
                             f"one value for {found[name][0]!r} and {key!r} (two spellings of one field)")
                continue
            found.setdefault(name, (key, value))
        return found

    def read(self, page: Page, number: int, endpoint: str | None) -> Record | None:
        raw = page.records[number]
        base = f"{page.list_path}[{number}]"
        if not isinstance(raw, dict):
            self.problem(page, number, base, raw, "a JSON object per record")
            return None
        before = len(self.problems)
        got = self.fields("record", raw, page, number, base, "")
        kind = endpoint or (RAW_DATA if "start_time" in got else AUTO_QA)
        record = Record(page, number, kind)
        record.spellings = {name: key for name, (key, _) in got.items()}

        def path(name: str) -> str:
            return f"{base}.{_key_text(got[name][0])}" if name in got else f"{base}.{SPELLINGS['record'][name][0]}"

        def value(name: str) -> Any:
            return got[name][1] if name in got else None

        def put(target: str, text: str | None) -> None:
            record.values[target] = text
            record.given.add(target)

        cid = value("conversation_id")
        if isinstance(cid, bool) or not isinstance(cid, str | int) or not str(cid).strip():
            self.problem(page, number, path("conversation_id"), cid,
                         "the conversation's id (text): every record needs one")
        else:
            put("conversation_id", str(cid).strip())
        for name, target in (("channel", "channel"), ("language", "language"),
                             ("contact_direction", "contact_direction"), ("duration_status", "duration_status"),
                             ("auditor", "auditor"), ("evaluation_form", "evaluation_form")):
            if name in got:
                put(target, self.text(page, number, path(name), value(name)))
        for name, target in (("kore_score", "kore_score"), ("audit_score", "audit_score"),
                             ("sentiment_score", "sentiment_score")):
            if name in got:
                put(target, self.number(page, number, path(name), value(name)))
        for name, target in (("start_time", "start_time"), ("audit_date", "audited_at")):
            if name in got:
                put(target, self.time(page, number, path(name), value(name)))
        if "evaluated_at" in got:
            record.evaluated_at = self.time(page, number, path("evaluated_at"), value("evaluated_at"))
        if "escalation" in got:
            put("escalation", self.boolean(page, number, path("escalation"), value("escalation")))
        if "is_passed" in got:
            put("is_passed", self.boolean(page, number, path("is_passed"), value("is_passed")))
        if "evaluation_status" in got:  # pass / fail / not_evaluated: Kore's own verdict, over IsPassed
            status = value("evaluation_status")
            verdict = normalise(status) if isinstance(status, str) else None
            if status is None:
                put("is_passed", None)
            elif verdict in _VERDICTS:
                put("is_passed", _VERDICTS[verdict])
            else:
                self.problem(page, number, path("evaluation_status"), status, "pass, fail or not_evaluated")
        if "fatal_errors" in got:
            count = value("fatal_errors")
            if count is None:
                put("is_fatal", None)
            elif isinstance(count, bool):
                put("is_fatal", "1" if count else "0")
            elif isinstance(count, int | float) and count >= 0:
                put("is_fatal", "1" if count > 0 else "0")
            else:
                self.problem(page, number, path("fatal_errors"), count,
                             "the number of fatal errors (a whole number, 0 or more)")
        if "audit_status" in got:
            self.text(page, number, path("audit_status"), value("audit_status"))  # checked; not stored
        self.read_queues(record, page, number, path("queues"), got, put)
        self.read_agents(record, page, number, path("agents"), got)
        if "metrics" in got:
            record.metrics = self.read_metrics(page, number, path("metrics"), value("metrics"))
        return record if len(self.problems) == before else None

    def text(self, page: Page, number: int, path: str, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(page, number, path, value, "text")
            return None
        return str(value)

    def number(self, page: Page, number: int, path: str, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(page, number, path, value, "a number")
            return None
        return str(value)  # text is read (and its range checked) by staging

    def boolean(self, page: Page, number: int, path: str, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int) and not isinstance(value, float):
            return str(value)  # staging reads 1/0, true/false, yes/no
        self.problem(page, number, path, value, "true or false")
        return None

    def time(self, page: Page, number: int, path: str, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(page, number, path, value, "an ISO 8601 date and time (text)")
            return None
        return value

    def objects(self, page: Page, number: int, path: str, value: Any, what: str) -> list[Any] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self.problem(page, number, path, value, f"a list of {what}")
            return None
        return value

    def read_queues(self, record: Record, page: Page, number: int, path: str,
                    got: dict[str, tuple[str, Any]], put: Callable[[str, str | None], None]) -> None:
        if "queues" not in got:
            return
        queues = self.objects(page, number, path, got["queues"][1], "queues")
        names: list[str] = []
        for i, queue in enumerate(queues or []):
            if isinstance(queue, str):
                names.append(queue)
                continue
            if not isinstance(queue, dict):
                self.problem(page, number, f"{path}[{i}]", queue, "a queue (an object with a \"Queue Name\")")
                continue
            q = self.fields("queue", queue, page, number, f"{path}[{i}]", "Queues[].")
            name = q.get("queue_name", (None, None))[1] or q.get("queue_id", (None, None))[1]
            if name is not None:
                text = self.text(page, number, f"{path}[{i}]", name)
                if text:
                    names.append(text)
        record.values["queues"] = ", ".join(names) if names else None
        record.values["last_queue"] = names[-1] if names else None
        record.given |= {"queues", "last_queue"}

    def read_agents(self, record: Record, page: Page, number: int, path: str,
                    got: dict[str, tuple[str, Any]]) -> None:
        agents = got["agents"][1] if "agents" in got else None
        if agents is not None and not isinstance(agents, list):
            self.problem(page, number, path, agents, "a list of agents")
            return
        if not agents:
            self.problem(page, number, path, agents,
                         "the agents, the scored agent first (an object with \"Agent ID\" and \"Agent Name\")")
            return
        for i, agent in enumerate(agents):
            where = f"{path}[{i}]"
            if not isinstance(agent, dict):
                self.problem(page, number, where, agent, "an agent (an object with \"Agent ID\" and \"Agent Name\")")
                continue
            a = self.fields("agent", agent, page, number, where, "Agents[].")
            read = {
                name: self.text(page, number, f"{where}.{_key_text(a[name][0])}", a[name][1]) if name in a else None
                for name in ("agent_id", "agent_name", "agent_email")
            }
            read = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in read.items()}
            if i == 0 and not (read["agent_name"] or read["agent_id"]):
                key = a["agent_name"][0] if "agent_name" in a else "Agent Name"
                self.problem(page, number, f"{where}.{_key_text(key)}", a.get("agent_name", (None, None))[1],
                             "the scored agent's name or Agent ID")
            record.agents.append(read)

    def read_metrics(self, page: Page, number: int, path: str, value: Any) -> list[Metric] | None:
        metrics = self.objects(page, number, path, value, "metrics")
        if metrics is None:
            return [] if value is None else None
        read: list[Metric] = []
        seen: set[str] = set()
        for i, metric in enumerate(metrics):
            where = f"{path}[{i}]"
            if not isinstance(metric, dict):
                self.problem(page, number, where, metric, "a metric (an object with a \"Metric Name\")")
                continue
            m = self.fields("metric", metric, page, number, where, "Metrics[].")

            def at(name: str, fields: dict[str, tuple[str, Any]] = m, where: str = where) -> str:
                key = fields[name][0] if name in fields else SPELLINGS["metric"][name][0]
                return f"{where}.{_key_text(key)}"

            def get(name: str, fields: dict[str, tuple[str, Any]] = m) -> Any:
                return fields[name][1] if name in fields else None

            name = get("metric_name")
            if name is None or (isinstance(name, str) and not name.strip()):
                name = get("metric_id")  # the oldest samples name most metrics by their id alone
            if not isinstance(name, str) or not name.strip():
                self.problem(page, number, at("metric_name"), get("metric_name"),
                             "a metric name (text; or a \"Metric ID\")")
                continue
            name = name.strip()
            is_manual = name.lower().endswith(_MANUAL)
            if is_manual:
                name = name[: -len(_MANUAL)].rstrip(" -").rstrip()
            if name in seen:
                self.problem(page, number, at("metric_name"), name, "each metric once in a record")
                continue
            seen.add(name)
            result = self.result(page, number, at("qualification"), get("qualification"))
            audited = self.result(page, number, at("auditor_response"), get("auditor_response"))
            if result in (None, "-", "") and audited not in (None, "-", ""):
                result = audited  # a metric only the auditor answers (a manual evaluation metric)
            read.append(Metric(
                name, is_manual, result,
                self.boolean(page, number, at("is_fatal_error"), get("is_fatal_error")),
                self.number(page, number, at("metric_weight"), get("metric_weight")),
                self.number(page, number, at("metric_negative_weight"), get("metric_negative_weight")),
            ))
        return read

    def result(self, page: Page, number: int, path: str, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "1" if value else "0"
        if not isinstance(value, str | int):
            self.problem(page, number, path, value, "YES, NO or NA")
            return None
        return str(value)  # staging checks it (formats.METRIC_RESULTS)


# ------------------------------------------------------------------------------------------------
# A run's records: merged by conversation, timed, flattened
# ------------------------------------------------------------------------------------------------
@dataclass
class Evaluation:
    """One conversation's records in a run, merged: the row the import stages, and the record it lives in."""

    home: Record
    values: dict[str, str | None]
    given: set[str]
    metrics: list[Metric] | None
    origin: str  # AUTO_QA, RAW_DATA or BOTH: the APIs whose records it merges


def _merge(auto: Record | None, raw: Record | None) -> Evaluation:
    """One evaluation from the Auto QA record and the Raw Data record of a conversation (either may be None)."""
    records = [r for r in (auto, raw) if r is not None]
    values: dict[str, str | None] = {}
    given: set[str] = set()
    for target in {t for r in records for t in r.given}:
        first = [raw, auto] if target in _RAW_FIRST else [auto, raw]
        order = [r for r in first if r is not None and target in r.given]
        chosen = next((r for r in order if not _gives_no_value(r.values[target])), order[0])
        values[target] = chosen.values[target]
        given.add(target)
    agents_from = raw if raw is not None and raw.agents else records[0]
    scored = _scored_agent(auto, raw)
    names = [a["agent_name"] or a["agent_id"] or a["agent_email"] for a in agents_from.agents]
    values["agents"] = ", ".join(n for n in names if n) or None
    given.add("agents")
    for target, key in (("scored_agent", "agent_name"), ("agent_id", "agent_id"), ("agent_email", "agent_email")):
        if target == "scored_agent":
            values[target] = scored.get("agent_name") or scored.get("agent_id") or scored.get("agent_email")
            given.add(target)
        elif any(any(a.get(key) for a in r.agents) for r in records):
            values[target] = scored.get(key)
            given.add(target)
    given_metrics = [r.metrics for r in (auto, raw) if r is not None and r.metrics is not None]
    metrics = next((m for m in given_metrics if m), given_metrics[0] if given_metrics else None)
    home = auto or raw
    assert home is not None
    origin = BOTH if auto is not None and raw is not None else home.endpoint
    return Evaluation(home, values, given, metrics, origin)


def _gives_no_value(value: str | None) -> bool:
    """A record's value (Python) that is no value: null, or a marker staging reads as missing ("NA", "-",
    …). (The writing's SQL counterpart, over stored and staged columns, is ``writing._absent_sql``.)"""
    return value is None or value.strip().lower() in formats.MISSING_MARKERS


def _scored_agent(auto: Record | None, raw: Record | None) -> dict[str, str | None]:
    """The scored agent (each record's first agent), with the Raw Data record's email for the same Agent ID."""
    first = (auto.agents[0] if auto is not None and auto.agents else None) or (
        raw.agents[0] if raw is not None and raw.agents else {})
    scored = dict(first)
    if raw is not None and raw.agents and not scored.get("agent_email"):
        same = [a for a in raw.agents if scored.get("agent_id") and a.get("agent_id") == scored.get("agent_id")]
        if not scored.get("agent_id"):
            same = raw.agents[:1]
        if same:
            scored["agent_email"] = same[0].get("agent_email")
            scored["agent_id"] = scored.get("agent_id") or same[0].get("agent_id")
    return scored


def _stored_times(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = con.execute(
        "SELECT conversation_id, strftime(start_time, '%Y-%m-%dT%H:%M:%S.%fZ') FROM evaluations "
        "WHERE start_time IS NOT NULL AND conversation_id IN (SELECT unnest(?))",
        [list(ids)],
    ).fetchall()
    return {cid: when for cid, when in rows}


TIME_EXPECTED = (
    "a conversation time: import this page with the Raw Data API page of the same conversation, "
    "or save it with its request ({\"request\": {\"endpoint\", \"startDate\", \"endDate\"}, \"response\": …}, "
    "see docs/kore-api.md)"
)


def _time(evaluation: Evaluation, raw: Record | None, stored: dict[str, str]) -> tuple[str | None, str]:
    """The conversation's time, and where it came from.

    In order: the Raw Data record's Conversation Start Time; the time the store already has (so a
    trailing window read again never moves an evaluation); the Auto QA record's evaluatedAt; the start of
    the page's request window. The start, not the end: a sync's window is a day, from its midnight to the
    next day's, so its end is the next window's start and would date a conversation a day late, while its
    start is on the window's own day whichever bounds Kore includes (undocumented). Were Kore to select
    on the time it scored a conversation (undocumented too), minutes after it, the start would still be
    the nearer bound.
    """
    if raw is not None and raw.values.get("start_time"):
        return raw.values["start_time"], "raw data"
    cid = evaluation.values.get("conversation_id")
    if cid is not None and cid in stored:
        return stored[cid], "store"
    if evaluation.home.evaluated_at:
        return evaluation.home.evaluated_at, "evaluatedAt"
    starts = [r.page.window_start for r in (evaluation.home, raw) if r is not None and r.page.window_start]
    if starts:
        return starts[0], "window"
    return None, "none"


#: The report columns an API row fills, in this order (the first must stay ``conversation_id``: the
#: store's ``source`` names API rows by it).
ROW_FIELDS = (
    "conversation_id", "channel", "queues", "last_queue", "language", "agents", "scored_agent", "agent_email",
    "agent_id", "start_time", "sentiment_score", "escalation", "kore_score", "is_passed", "is_fatal",
    "audit_score", "contact_direction", "duration_status", "evaluation_form", "audited_at", "auditor",
)
_LABELS = {"conversation_id": "conversationId", "scored_agent": "Agents[0].\"Agent Name\"",
           "agent_email": "Agents[0].\"Agent Email\"", "agent_id": "Agents[0].\"Agent ID\"",
           "queues": "Queues", "last_queue": "Queues[-1]", "agents": "Agents", "is_passed": "evaluation_status",
           "is_fatal": "fatalErrorCount", "audited_at": "AuditDate"}
_METRIC_PARTS = (("result", "qualification"), ("fatal", "is_fatal_error"), ("weight", "metric_weight"),
                 ("violation", "metric_negative_weight"))


class ApiSource(NamedTuple):
    """What the writing needs to know of a source of API records."""

    origin: str  # AUTO_QA, RAW_DATA or BOTH: the APIs whose records its rows merge
    gives_metrics: bool  # its records have a Metrics key (else the stored metrics stay)


@dataclass
class Built:
    """What the run's API pages give the import: sources to stage, problems, warnings."""

    sources: list[Source]
    problems: list[Problem]
    warnings: list[str]


def build_sources(con: duckdb.DuckDBPyConnection, pages: Sequence[Page], first_index: int,
                  make_source: Callable[..., Source]) -> Built:
    """The run's API pages as sources of Interaction Evaluation report rows (see the module's docstring)."""
    reader = _Reader()
    problems: list[Problem] = [p for page in pages for p in page.problems]
    by_kind: dict[str, dict[str, Record]] = {AUTO_QA: {}, RAW_DATA: {}}
    replaced: list[str] = []
    for page in pages:
        for number in range(len(page.records)):
            record = reader.read(page, number, page.endpoint)
            if record is None:
                continue
            cid = record.values["conversation_id"]
            assert cid is not None
            earlier = by_kind[record.endpoint].get(cid)
            if earlier is not None and (earlier.values, earlier.metrics) != (record.values, record.metrics):
                replaced.append(cid)
            by_kind[record.endpoint][cid] = record  # a later page of the run wins (it was read later)
    problems += reader.problems
    ids = list(dict.fromkeys([*by_kind[AUTO_QA], *by_kind[RAW_DATA]]))
    stored = _stored_times(con, ids)
    evaluations: list[Evaluation] = []
    by_window = 0
    for cid in ids:
        auto, raw = by_kind[AUTO_QA].get(cid), by_kind[RAW_DATA].get(cid)
        evaluation = _merge(auto, raw)
        when, time_from = _time(evaluation, raw, stored)
        if when is None:
            home = evaluation.home
            problems.append(Problem(home.page.name, home.line, f"{home.page.list_path}[{home.number}]", cid,
                                    TIME_EXPECTED, home.page.line_unit))
            continue
        by_window += time_from == "window"
        evaluation.values["start_time"] = when
        evaluation.given.add("start_time")
        evaluations.append(evaluation)
    warnings: list[str] = []
    if reader.ignored:
        names = list(reader.ignored)
        more = f" and {len(names) - 8} more" if len(names) > 8 else ""
        warnings.append(f"{len(names)} unknown API field(s) ignored: {', '.join(names[:8])}{more}")
    if replaced:
        warnings.append(f"{len(replaced)} conversation(s) appear on two pages of one API with different "
                        f"values; the later page's record was used: {', '.join(replaced[:5])}")
    if by_window:
        warnings.append(f"{by_window} evaluation(s) have no conversation time of their own (no Raw Data record): "
                        "dated by the start of their page's request window")
    if problems:
        return Built([], problems, warnings)
    sources: list[Source] = []
    # One source per page, origin, Metrics key or not and set of fields given: what the writing needs to
    # know of a row (which APIs gave it, whether it gives metrics) is its source's.
    groups: dict[tuple[int, ApiSource, frozenset[str]], list[Evaluation]] = {}
    page_index = {id(page): i for i, page in enumerate(pages)}
    for evaluation in evaluations:
        kind = ApiSource(evaluation.origin, evaluation.metrics is not None)
        groups.setdefault((page_index[id(evaluation.home.page)], kind, frozenset(evaluation.given)), []).append(
            evaluation)
    for i, page in enumerate(pages):  # a page with no evaluations of its own is still an evaluations file
        if not any(key[0] == i for key in groups):
            groups[(i, ApiSource(page.endpoint or AUTO_QA, False), frozenset({"conversation_id"}))] = []
    kinds: list[tuple[int, str, bool]] = []
    for (i, kind, given), group in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1], sorted(g[0][2]))):
        built = _source(pages[i], given, group, first_index + len(sources), make_source, con)
        if isinstance(built, Problem):
            return Built([], [built], warnings)
        kinds.append((built.index, *kind))
        sources.append(built)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {API_SOURCES_TABLE} (src INTEGER, origin VARCHAR, gives_metrics BOOLEAN)")
    if kinds:
        con.executemany(f"INSERT INTO {API_SOURCES_TABLE} VALUES (?, ?, ?)", kinds)
    return Built(sources, [], warnings)


def api_sources(con: duckdb.DuckDBPyConnection) -> dict[int, ApiSource]:
    """The run's sources of API records, by index (none when the run has no API pages)."""
    if not store.has_table(con, API_SOURCES_TABLE):
        return {}
    rows = con.execute(f"SELECT src, origin, gives_metrics FROM {API_SOURCES_TABLE}").fetchall()
    return {src: ApiSource(origin, gives_metrics) for src, origin, gives_metrics in rows}


def keeps_stored(column: str, sources: Mapping[int, ApiSource], staged_absent: str, stored_absent: str) -> str | None:
    """SQL over a row of the run (``s``) that gives ``column`` and the stored evaluation it updates (``t``):
    true when the stored value stays (docs/kore-api.md, "Updating"); None when no row of the run can keep
    a stored value (the run has no records of a single API), so the caller adds no condition at all.

    That is when a record of one API updates an evaluation a record of the other API gave (its source
    says so; a report counts as both): a value of the API whose word ``column`` is
    (:data:`RAW_DATA_COLUMNS`) replaces the stored one unless it is none (``staged_absent``); the other
    API's only fills a stored value that is missing (``stored_absent``). So an Auto QA and a Raw Data
    record give the same evaluation in one run (:func:`_merge`) or in two, in either order. Rows of a
    report, or of both APIs at once, replace what they give.
    """
    parts = []
    for origin, other in ((AUTO_QA, RAW_DATA), (RAW_DATA, AUTO_QA)):
        indexes = sorted(i for i, source in sources.items() if source.origin == origin)
        if not indexes:
            continue
        authority = (column in RAW_DATA_COLUMNS) == (origin == RAW_DATA)
        keep = staged_absent if authority else f"{staged_absent} OR NOT {stored_absent}"
        given_by_other = ", ".join(sql_str(label) for label in (SOURCE_LABELS[other], SOURCE_LABELS[BOTH],
                                                                REPORT_SOURCE))
        parts.append(f"(s.src IN ({', '.join(map(str, indexes))}) AND t.source IN ({given_by_other}) "
                     f"AND ({keep}))")
    return " OR ".join(parts) or None


def keeps_stored_metrics(sources: Mapping[int, ApiSource]) -> str | None:
    """SQL (as :func:`keeps_stored`, None likewise): the stored evaluation keeps its metrics (its list, layout,
    digest and the names that count): the run's record has no Metrics key, or :func:`keeps_stored` says so
    (an empty list is no metrics)."""
    without = sorted(i for i, source in sources.items() if not source.gives_metrics)
    parts = [f"s.src IN ({', '.join(map(str, without))})"] if without else []
    kept = keeps_stored("metrics", sources, "coalesce(len(s.metrics), 0) = 0", "coalesce(len(t.metrics), 0) = 0")
    parts += [kept] if kept is not None else []
    return " OR ".join(parts) or None


def merged_source_sql(origin: str, stored: str | None) -> str:
    """SQL: the ``evaluations.source`` label (:data:`SOURCE_LABELS`) of an evaluation a record of ``origin``
    gives, merged with the stored evaluation's label (``stored``, SQL; None for a new evaluation): a record
    of the other API makes it both; a report's label stays."""
    label = sql_str(SOURCE_LABELS[origin])
    if stored is None:
        return label
    both = sql_str(SOURCE_LABELS[BOTH])
    other = {AUTO_QA: SOURCE_LABELS[RAW_DATA], RAW_DATA: SOURCE_LABELS[AUTO_QA]}.get(origin)
    union = f"WHEN {stored} IN ({sql_str(other)}, {both}) THEN {both} " if other else ""
    return f"CASE WHEN {stored} = {sql_str(REPORT_SOURCE)} THEN {stored} {union}ELSE {label} END"


_RECORD_FIELDS = {"is_passed": ("evaluation_status", "is_passed"), "is_fatal": ("fatal_errors",),
                  "audited_at": ("audit_date",)}


def _source(page: Page, given: Iterable[str], group: list[Evaluation], index: int,
            make_source: Callable[..., Source], con: duckdb.DuckDBPyConnection) -> Source | Problem:
    """One source: these evaluations of one page that give the same fields, as report rows (each column
    named as the page spells its key, so a value staging refuses is named the way the page has it)."""
    fields_given = [f for f in ROW_FIELDS if f in given]
    spelled: dict[str, str] = {}
    for evaluation in group:
        for name, key in evaluation.home.spellings.items():
            spelled.setdefault(name, key)

    def label(name: str) -> str:
        if name == "conversation_id":
            return "conversationId"
        for record_field in _RECORD_FIELDS.get(name, (name,)):
            if record_field in spelled:
                return spelled[record_field]
        return _LABELS.get(name, name)

    header = [label(name) for name in fields_given]
    fields = {name: i for i, name in enumerate(fields_given)}
    metric_names: dict[str, bool] = {}
    for evaluation in group:
        for metric in evaluation.metrics or []:
            metric_names.setdefault(metric.name, metric.is_manual)
    if len(metric_names) > formats.MAX_METRICS:
        return Problem(page.name, None, None, None, formats.too_many_metrics(len(metric_names)))
    metrics_key = spelled.get("metrics", "Metrics")
    camel = metrics_key[:1].islower()  # the parameter table's spellings (metricWeight), else the samples'
    parts = [SPELLINGS["metric"][part][1 if camel and len(SPELLINGS["metric"][part]) > 1 else 0]
             for _, part in _METRIC_PARTS]
    metric_columns: list[MetricColumns] = []
    for position, (name, is_manual) in enumerate(metric_names.items()):
        first = len(header)
        header += [f"{metrics_key}[{name}].{part}" for part in parts]
        metric_columns.append(MetricColumns(position, name, is_manual, first, first + 1, first + 2, first + 3))
    rows: list[list[str | None]] = []
    lines: list[int] = []
    for evaluation in group:
        row = [evaluation.values.get(name) for name in fields_given]
        by_name = {m.name: m for m in evaluation.metrics or []}
        for name in metric_names:
            got = by_name.get(name)
            row += [None] * 4 if got is None else [got.result, got.fatal, got.weight, got.violation]
        rows.append(row)
        lines.append(evaluation.home.line)
    table = pa.table({f"c{i}": pa.array([r[i] for r in rows], type=pa.string()) for i in range(len(header))})
    view = f"api_source_{index}"
    con.register(view, table)
    match = HeaderMatch(formats.EVALUATIONS, fields, metric_columns, [])
    return make_source(index, page, header, lines, match, view)

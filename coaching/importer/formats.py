"""The export formats: their columns, how each value is read and checked, and how a file is recognised.

A format is recognised by its header, never by the file's name. Header names match case-insensitively
and ignoring whitespace, underscores and hyphens ("Follow-Up Date" = "follow_up_date" = "FollowUpDate").
Every value arrives as text; each column type turns the text into a typed SQL expression and says,
as an SQL condition, when the text is not acceptable and what was expected instead.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from coaching import review_machine
from coaching.sql import sql_str

# Kore writes a missing value as empty, N/A, NA or a quoted dash; negative numbers as '-36'.
MISSING_MARKERS = ("", "n/a", "na", "'-'", "-", "null", "none")
_MARKERS_SQL = ", ".join("'" + m.replace("'", "''") + "'" for m in MISSING_MARKERS)

#: The characters trimmed from every value's ends, as code points: space, tab, LF, CR, no-break space.
_TRIMMED = (32, 9, 10, 13, 160)
_TRIMMED_CODES = ", ".join(str(c) for c in _TRIMMED)
_TRIMMED_CHARS = " || ".join(f"chr({c})" for c in _TRIMMED)
_TRIMMED_AT_END = " OR ".join(f"ends_with(x, chr({c}))" for c in _TRIMMED)
#: Markers are short ASCII, and lower() maps no longer text to them (no other character lowers to
#: their letters), so only text this short is compared with them.
_MARKER_BYTES = max(len(m) for m in MISSING_MARKERS)
assert all(m.isascii() for m in MISSING_MARKERS)

#: DuckDB macros the formats' SQL relies on; the importer creates them on its connection.
#: ``kore_clean`` is the full rule (trim, missing markers, Kore's single quotes). It runs on millions
#: of cells, so the usual value takes a fast path with the same result: ``kore_untrimmed`` finds that
#: there is nothing to trim from a cheap look at the first code point and the last bytes (a UTF-8
#: character never ends inside another), which ``trim`` with a character set is slow to find out;
#: only short text is compared with the markers, and only quoted text goes to the regular expression.
#: ``kore_split`` splits only text that has a separator.
#: ``kore_number`` reads plain decimal numbers only (digits, an optional sign, point and exponent).
#: DuckDB's cast also reads ``1_0`` as 10 and ``+-5`` (or `` +-5``) as -5, and nothing else that is
#: not such a number but infinity and NaN (which the formats refuse: not finite). Text that starts
#: with ``-``, ``.``, a digit or a letter (never ``+``, a quote or padding) and has no ``_`` is cast as
#: it is; the rest is cast unquoted unless it has ``_`` or ``+-``, and only when unquoting can change it:
#: text that starts below ``-`` (a quote, padding, ``+``) or has a no-break space (the cast ignores other
#: padding at the end), so missing values (empty, N/A) never reach the regular expression. A few
#: ``contains`` cost a few nanoseconds a cell where a regular expression costs ten times more; the
#: expression stays small, as DuckDB's planning time grows with it on a report with many metrics (with
#: ``kore_clean`` in it, one row of 500 metrics took twice as long), and has no subexpression written
#: twice (one written twice is computed on every row, not only on the rare padded ones).
#: ``kore_digit_first``: dates and times start with a digit (DuckDB's cast reads ``epoch`` as 1970);
#: ``kore_digit_first_clean`` looks past the padding and quote ``kore_clean`` drops, at no regex.
SQL_MACROS = f"""
CREATE OR REPLACE TEMP MACRO kore_trim(x) AS trim(x, {_TRIMMED_CHARS});
CREATE OR REPLACE TEMP MACRO kore_dequoted(t) AS regexp_replace(t, '^''(.*)''$', '\\1');
CREATE OR REPLACE TEMP MACRO kore_untrimmed(x) AS
    ascii(x) NOT IN ({_TRIMMED_CODES}) AND NOT ({_TRIMMED_AT_END});
CREATE OR REPLACE TEMP MACRO kore_clean_trimmed(t) AS
    CASE WHEN strlen(t) <= {_MARKER_BYTES} AND lower(t) IN ({_MARKERS_SQL}) THEN NULL
         WHEN NOT starts_with(t, '''') THEN t
         ELSE kore_dequoted(t) END;
CREATE OR REPLACE TEMP MACRO kore_clean(x) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN kore_untrimmed(x) THEN kore_clean_trimmed(x)
         ELSE kore_clean_trimmed(kore_trim(x)) END;
CREATE OR REPLACE TEMP MACRO kore_text(x) AS kore_clean(x);
CREATE OR REPLACE TEMP MACRO kore_unquoted(x) AS kore_dequoted(kore_trim(x));
CREATE OR REPLACE TEMP MACRO kore_split(c) AS
    CASE WHEN c IS NULL THEN NULL
         WHEN NOT (contains(c, ',') OR contains(c, ';') OR contains(c, '|')) THEN
             CASE WHEN trim(c) = '' THEN CAST([] AS VARCHAR[]) ELSE [trim(c)] END
         ELSE list_filter(list_transform(regexp_split_to_array(c, '\\s*[,;|]\\s*'), lambda v: trim(v)),
                          lambda v: v <> '') END;
CREATE OR REPLACE TEMP MACRO kore_list(x) AS kore_split(kore_clean(x));
CREATE OR REPLACE TEMP MACRO kore_number(x) AS
    coalesce(CASE WHEN ascii(x) >= 45 AND NOT contains(x, '_') THEN TRY_CAST(x AS DOUBLE) END,
             CASE WHEN (ascii(x) < 45 OR contains(x, chr(160))) AND x <> ''
                       AND NOT (contains(x, '_') OR contains(x, '+-'))
                  THEN TRY_CAST(kore_unquoted(x) AS DOUBLE) END);
CREATE OR REPLACE TEMP MACRO kore_digit_first(x) AS ascii(x) BETWEEN 48 AND 57;
CREATE OR REPLACE TEMP MACRO kore_digit_first_clean(x) AS
    ascii(ltrim(x, {_TRIMMED_CHARS} || chr(39))) BETWEEN 48 AND 57;
"""


def normalise(header: str) -> str:
    """A header name as formats match it: lower case, without whitespace, underscores or hyphens."""
    return re.sub(r"[\s_\-\ufeff]+", "", header).lower()


def is_missing(raw: str) -> str:
    """SQL: the raw text stands for a missing value."""
    # kore_clean(raw) IS NULL, without its CASE (whose fixed cost shows on millions of cells).
    return f"({raw} IS NULL OR lower(kore_trim({raw})) IN ({_MARKERS_SQL}))"


# ------------------------------------------------------------------------------------------------
# Column types
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnType:
    """How one column's raw text becomes a value.

    ``typed(raw)`` is SQL giving the value, or NULL when the text is missing *or* unreadable (the
    importer tells the two apart with :func:`is_missing`); ``unacceptable(value)`` is SQL true when a
    value that was read is still not allowed (out of range), or None when any value will do.
    Plain values take a fast path: these expressions run on millions of cells.
    ``null_only_when_missing``: ``typed`` is NULL exactly when the text is missing (so a value that
    is there is always readable), which lets the importer skip the check for an optional column.
    """

    sql_type: str = "VARCHAR"
    null_only_when_missing: ClassVar[bool] = False

    def typed(self, raw: str) -> str:
        return f"kore_text({raw})"

    def unacceptable(self, value: str) -> str | None:
        return None

    def expected(self) -> str:
        return "text"


@dataclass(frozen=True)
class Text(ColumnType):
    # kore_text(x) is x itself or kore_clean(x), which is NULL only for a missing marker.
    null_only_when_missing: ClassVar[bool] = True


@dataclass(frozen=True)
class Number(ColumnType):
    low: float | None = None
    high: float | None = None
    sql_type: str = "DOUBLE"

    def typed(self, raw: str) -> str:
        # Plain decimal numbers only (kore_number): quoted ones ('-36') and padded ones take the slow
        # path, where markers need no test of their own: none of them reads as a number.
        return f"kore_number({raw})"

    def unacceptable(self, value: str) -> str:
        checks = [f"NOT isfinite({value})"]
        if self.low is not None:
            checks.append(f"{value} < {self.low}")
        if self.high is not None:
            checks.append(f"{value} > {self.high}")
        return " OR ".join(checks)

    def expected(self) -> str:
        if self.low is not None and self.high is not None:
            return f"a number from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"a number, {self.low:g} or more"
        return "a number"


@dataclass(frozen=True)
class Integer(ColumnType):
    low: int = 0
    high: int = 1_000_000
    sql_type: str = "INTEGER"

    def typed(self, raw: str) -> str:
        number = f"kore_number({raw})"
        # 2 and 2.0 are the same whole number (pandas writes the latter); 2.5 is not one.
        return f"CASE WHEN {number} = floor({number}) AND abs({number}) < 1e9 THEN CAST({number} AS INTEGER) END"

    def unacceptable(self, value: str) -> str:
        return f"{value} < {self.low} OR {value} > {self.high}"

    def expected(self) -> str:
        return f"a whole number from {self.low} to {self.high}"


#: Dates outside these years are typos, not history (and beyond what every reader handles).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200

_TRUE = ("1", "true", "yes", "y")
_FALSE = ("0", "false", "no", "n")


@dataclass(frozen=True)
class Boolean(ColumnType):
    sql_type: str = "BOOLEAN"

    def typed(self, raw: str) -> str:
        slow = f"lower(kore_clean({raw}))"
        return (
            f"CASE {raw} WHEN '0' THEN false WHEN '1' THEN true ELSE "
            f"CASE WHEN {slow} IN ({', '.join(map(sql_str, _TRUE))}) THEN true "
            f"WHEN {slow} IN ({', '.join(map(sql_str, _FALSE))}) THEN false END END"
        )

    def expected(self) -> str:
        return "1 or 0 (or true/false, yes/no)"


@dataclass(frozen=True)
class Date(ColumnType):
    sql_type: str = "DATE"

    def typed(self, raw: str) -> str:
        clean = f"kore_clean({raw})"
        return (
            f"coalesce(CASE WHEN kore_digit_first({raw}) THEN TRY_CAST({raw} AS DATE) END, "
            f"CASE WHEN kore_digit_first_clean({raw}) THEN coalesce(TRY_CAST({clean} AS DATE), "
            f"TRY_CAST(TRY_CAST({clean} AS TIMESTAMPTZ) AS DATE)) END)"
        )

    def unacceptable(self, value: str) -> str:
        return f"NOT isfinite({value}) OR year({value}) NOT BETWEEN {EARLIEST_YEAR} AND {LATEST_YEAR}"

    def expected(self) -> str:
        return f"a date as YYYY-MM-DD, from {EARLIEST_YEAR} to {LATEST_YEAR}"


@dataclass(frozen=True)
class Timestamp(ColumnType):
    sql_type: str = "TIMESTAMP"

    def typed(self, raw: str) -> str:
        return (
            f"coalesce(CASE WHEN kore_digit_first({raw}) THEN "
            f"TRY_CAST(TRY_CAST({raw} AS TIMESTAMPTZ) AS TIMESTAMP) END, "
            f"CASE WHEN kore_digit_first_clean({raw}) THEN "
            f"TRY_CAST(TRY_CAST(kore_clean({raw}) AS TIMESTAMPTZ) AS TIMESTAMP) END)"
        )

    def unacceptable(self, value: str) -> str:
        return f"NOT isfinite({value}) OR year({value}) NOT BETWEEN {EARLIEST_YEAR} AND {LATEST_YEAR}"

    def expected(self) -> str:
        return (
            "an ISO 8601 date and time, such as 2026-07-27T08:23:44Z (UTC unless an offset is given), "
            f"from {EARLIEST_YEAR} to {LATEST_YEAR}"
        )


@dataclass(frozen=True)
class Email(ColumnType):
    def typed(self, raw: str) -> str:
        clean = f"kore_text({raw})"
        return f"CASE WHEN regexp_full_match({clean}, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+') THEN lower({clean}) END"

    def expected(self) -> str:
        return "an email address"


def _canonical_case(value_sql: str, values: Sequence[str], aliases: dict[str, str]) -> str:
    whens = [f"WHEN {sql_str(v.lower())} THEN {sql_str(v)}" for v in values]
    whens += [f"WHEN {sql_str(a.lower())} THEN {sql_str(v)}" for a, v in aliases.items()]
    return f"CASE lower({value_sql}) {' '.join(whens)} END"


@dataclass(frozen=True)
class Choice(ColumnType):
    """One of a fixed set of values, matched case-insensitively and stored as written here."""

    values: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()

    def typed(self, raw: str) -> str:
        return _canonical_case(f"kore_text({raw})", self.values, dict(self.aliases))

    def expected(self) -> str:
        return "one of " + ", ".join(self.values)


@dataclass(frozen=True)
class TextList(ColumnType):
    """A list written in one field, separated by commas (or semicolons, or bars).

    A missing list reads as NULL like any missing value; the importer stores it as an empty list.
    """

    values: tuple[str, ...] = ()  # when set, every item must be one of these
    sql_type: str = "VARCHAR[]"

    def typed(self, raw: str) -> str:
        items = f"kore_list({raw})"
        if self.values:
            items = f"list_transform({items}, lambda v: {_canonical_case('v', self.values, {})})"
        return f"CASE WHEN len(kore_list({raw})) > 0 THEN {items} END"

    def unacceptable(self, value: str) -> str | None:
        if not self.values:
            return None
        return f"list_contains(list_transform({value}, lambda v: v IS NULL), true)"

    def expected(self) -> str:
        if self.values:
            return "a list of " + ", ".join(self.values) + ", separated by commas"
        return "a list separated by commas"


# ------------------------------------------------------------------------------------------------
# Formats
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    header: str  # the name the format documents
    field: str  # the store column it fills
    type: ColumnType = dataclasses.field(default_factory=Text)  # (``field`` is a column's name here)
    required: bool = False
    aliases: tuple[str, ...] = ()

    def names(self) -> set[str]:
        return {normalise(self.header), *(normalise(a) for a in self.aliases)}


@dataclass(frozen=True)
class Format:
    kind: str  # the kind of rows, as the summary names it
    title: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the natural key: fields unique in the store
    unique: tuple[tuple[str, ...], ...] = ()  # further unique field sets
    table: str = ""

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)

    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]


ROLES = ("Agent", "Supervisor", "QA", "Admin")
PERMISSIONS = ("Agent Dashboard", "Coaching Assignments")
COACHING_TYPES = ("Individual Agent", "Group Agents")
ASSIGNMENT_STATUSES = ("Yet to Start", "In Progress", "Completed")

ROSTER = Format(
    kind="roster",
    title="Roster",
    table="people",
    columns=(
        Column("Agent Name", "name", required=True, aliases=("Name",)),
        Column("Email", "email", Email(), required=True),
        Column("Agent ID", "agent_id"),
        Column("Team", "team"),
        Column("Team Lead", "team_lead_email", Email()),
        Column("Role", "role", Choice(values=ROLES), required=True),
        Column("Permissions", "permissions", TextList(values=PERMISSIONS)),
    ),
    # A person is their email: two people may share a name (see coaching/people.py).
    key=("email",),
    unique=(("agent_id",),),
)

ASSIGNMENTS = Format(
    kind="assignments",
    title="Coaching assignments",
    table="assignments",
    columns=(
        Column("Assignment ID", "assignment_id", required=True),
        Column("Name", "name", required=True),
        Column("Agent", "agent", required=True),
        # Optional: which person "Agent" is, when a name is shared (coaching/people.py).
        Column("Agent Email", "agent_email", Email()),
        Column("Agent ID", "agent_id"),
        Column("Coaching Type", "coaching_type", Choice(values=COACHING_TYPES), required=True),
        Column("Group Name", "group_name"),
        Column("Coaching Areas", "coaching_areas", TextList(), required=True),
        Column("Assigned Date", "assigned_date", Date(), required=True),
        Column("Follow-Up Date", "follow_up_date", Date()),
        Column(
            "Status",
            "status",
            Choice(values=ASSIGNMENT_STATUSES, aliases=(("Start Coaching", "Yet to Start"),)),
            required=True,
        ),
        Column("Assigned By", "assigned_by"),
        Column("Feedback", "feedback"),
        Column("Action Plan", "action_plan"),
    ),
    # person_id: the person the row's agent is, found by the import (coaching/people.py); the run's
    # rows are checked against this key once their agents are known.
    key=("assignment_id", "person_id"),
)

COACHING_INTERACTIONS = Format(
    kind="coaching_interactions",
    title="Coaching interactions",
    table="coaching_interactions",
    columns=(
        Column("Assignment ID", "assignment_id", required=True),
        Column("ConversationID", "conversation_id", required=True),
        Column("Coaching Area", "coaching_area", required=True),
        Column("Date", "date", Date()),
    ),
    key=("assignment_id", "conversation_id"),
)

BEST_RESPONSES = Format(
    kind="best_responses",
    title="Best response examples",
    table="best_responses",
    columns=(
        Column("Assignment ID", "assignment_id", required=True),
        Column("ConversationID", "conversation_id", required=True),
        Column("Note", "note", required=True),
    ),
    key=("assignment_id", "conversation_id"),
)

REVIEW_EVENTS = Format(
    kind="review_events",
    title="Review events",
    table="review_events",
    columns=(
        Column("ConversationID", "conversation_id", required=True),
        Column("Metric", "metric"),
        Column("Round", "round", Integer(low=0, high=99), required=True),
        Column("Actor", "actor", Choice(values=review_machine.ACTORS), required=True),
        Column("Action", "action", Choice(values=review_machine.ACTIONS), required=True),
        Column("Comment", "comment"),
        Column("Timestamp", "timestamp", Timestamp(), required=True),
        Column("Audit Score", "audit_score", Number(low=-100, high=100)),
    ),
    key=("conversation_id", "metric", "round", "action"),
)

SCORE = Number(low=-100, high=100)

#: Kore's Interaction Evaluation report: these columns, then four columns per metric.
EVALUATIONS = Format(
    kind="evaluations",
    title="Interaction evaluation report",
    table="evaluations",
    columns=(
        Column("ConversationID", "conversation_id", required=True),
        Column("Channel", "channel"),
        Column("Queues", "queues", TextList()),
        Column("Last Queue", "last_queue"),
        Column("Language", "language"),
        Column("Agents", "agents", TextList()),
        Column("Scored Agent", "scored_agent", required=True),
        # Not in Kore's CSV report: which person the Scored Agent is, when a name is shared.
        Column("Agent Email", "agent_email", Email(), aliases=("Scored Agent Email",)),
        Column("Agent ID", "agent_id", aliases=("Scored Agent ID",)),
        Column("Start Time", "start_time", Timestamp(), required=True),
        Column("Sentiment Score", "sentiment_score", Number(low=1, high=10)),
        Column("Topics", "topics"),
        Column("Escalation", "escalation", Boolean()),
        Column("Kore Evaluation Score", "kore_score", SCORE, required=False),
        Column("Is Passed", "is_passed", Boolean()),
        Column("Is Fatal Interaction", "is_fatal", Boolean()),
        Column("Audit Score", "audit_score", SCORE),
        Column("Contact Direction", "contact_direction"),
        Column("Duration Status", "duration_status"),
        Column("Evaluation Form", "evaluation_form", required=True),
        Column("Intent", "intent"),
        # Not in the CSV report; filled from Kore's Auto QA API pages.
        Column("Audit Date", "audited_at", Timestamp()),
        Column("Auditor", "auditor"),
    ),
    key=("conversation_id",),
)

#: The columns whose presence marks an Interaction Evaluation report (Kore Evaluation Score may be
#: empty on a row, but its column is always there).
EVALUATION_MARKERS = ("conversationid", "scoredagent", "starttime", "koreevaluationscore")

OUR_FORMATS = (ROSTER, ASSIGNMENTS, COACHING_INTERACTIONS, BEST_RESPONSES, REVIEW_EVENTS)
ALL_FORMATS = (EVALUATIONS, *OUR_FORMATS)
BY_KIND = {f.kind: f for f in ALL_FORMATS}
#: Kinds whose rows name an agent: the columns that say who (a display name, and optionally the
#: person's email or Kore's Agent ID, which decide it).
AGENT_COLUMNS = {"evaluations": "scored_agent", "assignments": "agent"}

# The four columns Kore writes per evaluation metric.
FATAL_SUFFIX = " - Is Fatal Metric"
WEIGHT_SUFFIX = " - Adherence Weight"
VIOLATION_SUFFIX = " - Violation"
MANUAL_SUFFIX = " - Manual Evaluation Metric"

METRIC_RESULTS = {
    "1": "Adhered",
    "yes": "Adhered",
    "adhered": "Adhered",
    "0": "Not Adhered",
    "no": "Not Adhered",
    "not adhered": "Not Adhered",
    "na": "Not Applicable",
    "n/a": "Not Applicable",
    "not applicable": "Not Applicable",
}
METRIC_NOT_EVALUATED = ("", "-", "'-'")
METRIC_RESULT_EXPECTED = "1 (adhered), 0 (not adhered), NA (not applicable) or '-' (not evaluated)"
METRIC_WEIGHT = Number(low=0, high=1000)
METRIC_FATAL = Boolean()


@dataclass(frozen=True)
class MetricColumns:
    """Where one evaluation metric's four values sit in an Interaction Evaluation report."""

    position: int
    metric: str
    is_manual: bool
    result: int
    fatal: int
    weight: int
    violation: int


@dataclass
class HeaderMatch:
    """What a header says: its format, which column fills which field, and what is left over."""

    format: Format
    fields: dict[str, int]  # field -> column index
    metrics: list[MetricColumns] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


class HeaderError(ValueError):
    """A header that fits no format, with the column to blame (or None) and what was expected."""

    def __init__(self, column: str | None, value: str | None, expected: str) -> None:
        super().__init__(expected)
        self.column = column
        self.value = value
        self.expected = expected


def _match_columns(fmt: Format, header: Sequence[str], skip: set[int]) -> dict[str, int]:
    found: dict[str, int] = {}
    names = [(column, column.names()) for column in fmt.columns]  # once, not once per header column
    for index, name in enumerate(header):
        if index in skip:
            continue
        key = normalise(name)
        for column, known in names:
            if key in known and column.field not in found:
                found[column.field] = index
                break
    return found


#: The most evaluation metrics one file may have (four columns each): far more than the forms of a
#: contact center have, and a bound on the work one import may ask for (its SQL grows with them).
MAX_METRICS = 500


def too_many_metrics(found: int) -> str:
    """What a file with more than :data:`MAX_METRICS` metrics is expected to have instead."""
    return (
        f"at most {MAX_METRICS:,} evaluation metrics in one file (found {found:,}); "
        "export fewer evaluation forms per file"
    )


def _evaluation_metrics(header: Sequence[str]) -> tuple[list[MetricColumns], set[int]]:
    """Find the metric quadruples: ``<M>`` (or ``<M> - <suffix>``), then its three suffixed columns.

    Linear in the columns: every name is looked up in dictionaries built once (a search of the whole
    header for each metric's result column took minutes for thousands of metrics).
    """
    stripped = [name.strip() for name in header]
    fatal = [i for i, name in enumerate(stripped) if name.lower().endswith(FATAL_SUFFIX.lower())]
    if len(fatal) > MAX_METRICS:
        raise HeaderError(None, None, too_many_metrics(len(fatal)))
    by_name = {name: i for i, name in enumerate(stripped)}
    # The columns that could be a result column with a suffix ("<M> - Manual Evaluation Metric"), by
    # each "<M>" they could belong to: the part of their name before each " - ".
    by_prefix: dict[str, list[int]] = {}
    for i, name in enumerate(stripped):
        if name.endswith((FATAL_SUFFIX, WEIGHT_SUFFIX, VIOLATION_SUFFIX)):
            continue
        at = name.find(" - ")
        while at >= 0:
            by_prefix.setdefault(name[:at], []).append(i)
            at = name.find(" - ", at + 1)
    metrics: list[MetricColumns] = []
    used: set[int] = set()
    for index in fatal:
        name = header[index]
        metric = stripped[index][: -len(FATAL_SUFFIX)]
        weight = by_name.get(metric + WEIGHT_SUFFIX)
        violation = by_name.get(metric + VIOLATION_SUFFIX)
        result = by_name.get(metric)
        is_manual = False
        if result is None:
            # The result column may carry a suffix, e.g. " - Manual Evaluation Metric".
            candidates = [i for i in by_prefix.get(metric, ()) if i not in (index, weight, violation)]
            manual = [i for i in candidates if header[i].strip().lower().endswith(MANUAL_SUFFIX.lower())]
            if len(manual) == 1:
                candidates = manual  # "Empathy - Manual Evaluation Metric" beside "Empathy - Tone"
            if len(candidates) == 1:
                result = candidates[0]
                is_manual = header[result].strip().lower().endswith(MANUAL_SUFFIX.lower())
        if result is None or weight is None or violation is None:
            missing = [
                label
                for label, i in (
                    (metric, result),
                    (metric + WEIGHT_SUFFIX, weight),
                    (metric + VIOLATION_SUFFIX, violation),
                )
                if i is None
            ]
            raise HeaderError(
                name,
                None,
                f"the four columns of metric {metric!r}; missing: " + ", ".join(missing),
            )
        metrics.append(
            MetricColumns(len(metrics), metric, is_manual, result, index, weight, violation)
        )
        used.update((result, index, weight, violation))
    return metrics, used


def recognise(header: Sequence[str]) -> HeaderMatch:
    """Which format a header belongs to, or a :class:`HeaderError` that says what is missing."""
    normalised = [normalise(h) for h in header]
    seen: dict[str, int] = {}
    for index, key in enumerate(normalised):
        if key and key in seen:
            raise HeaderError(header[index], header[index], "each column name once")
        seen[key] = index
    present = set(normalised)

    if all(marker in present for marker in EVALUATION_MARKERS):
        metrics, used = _evaluation_metrics(header)
        fields = _match_columns(EVALUATIONS, header, used)
        missing = [c.header for c in EVALUATIONS.required() if c.field not in fields]
        if missing:
            raise HeaderError(missing[0], None, "the required column " + repr(missing[0]))
        ignored = [header[i] for i in range(len(header)) if i not in used and i not in fields.values()]
        return HeaderMatch(EVALUATIONS, fields, metrics, ignored)
    # A report that lacks a marker column is still a report when it has metric columns or the rest.
    has_metric = any(h.strip().lower().endswith(FATAL_SUFFIX.lower()) for h in header)
    if "conversationid" in present and (has_metric or sum(m in present for m in EVALUATION_MARKERS) >= 3):
        lacking = next(
            c.header
            for c in EVALUATIONS.columns
            if normalise(c.header) in EVALUATION_MARKERS and normalise(c.header) not in present
        )
        raise HeaderError(lacking, None, f"the required column {lacking!r} of the {EVALUATIONS.title} format")

    candidates = []
    for fmt in OUR_FORMATS:
        fields = _match_columns(fmt, header, set())
        missing = [c.header for c in fmt.required() if c.field not in fields]
        candidates.append((len(missing), -len(fields), fmt, fields, missing))
    candidates.sort(key=lambda c: (c[0], c[1]))
    best_missing, _, fmt, fields, missing = candidates[0]
    if best_missing == 0:
        ties = [c for c in candidates if c[0] == 0 and c[1] == candidates[0][1]]
        if len(ties) > 1:
            names = " or ".join(t[2].title for t in ties)
            raise HeaderError(None, None, f"a header that tells {names} apart")
        ignored = [h for i, h in enumerate(header) if i not in fields.values()]
        return HeaderMatch(fmt, fields, [], ignored)
    if len(fields) >= 2 and best_missing <= 2:
        # Formats that fit the header equally well are all named: the header cannot tell them apart.
        near = [c for c in candidates if c[:2] == candidates[0][:2]]
        raise HeaderError(
            missing[0],
            None,
            "the required column " + ", or ".join(f"{c[4][0]!r} of the {c[2].title} format" for c in near),
        )
    titles = ", ".join(f.title for f in ALL_FORMATS)
    raise HeaderError(None, ", ".join(header[:6]), f"the header of a known export ({titles})")

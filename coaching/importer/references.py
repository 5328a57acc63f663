"""Checks across rows, files and the store: natural keys, and what each kind's rows refer to.

The references are data (:data:`REFERENCES`): each rule is a query for the staged rows that break it
and what a problem says was expected; :func:`check` runs a list of rules. A :class:`Reference` is the
common case (a column names a row of another kind by its key); a :class:`Rule` is any other check.
Each rule's rows are ``src, ordinal, value`` (the row and the value to blame) and then whatever its
message names: ``expected`` is formatted with the whole row, so ``{3}`` is its fourth column.

Known values come from the store and from every staged row, bad ones included (so a bad row does not
make the rows that point at it look wrong), never NULL (NOT IN would match nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from coaching.importer import formats
from coaching.importer.formats import Format
from coaching.importer.problems import Problems
from coaching.importer.sources import Source
from coaching.sql import scalar


def known(kind: str, key: str, stored: str = "") -> str:
    """SQL: every ``key`` of a ``kind`` row in the store (those meeting ``stored``, when given) or staged."""
    where = f" WHERE {stored}" if stored else ""
    return (
        f"SELECT {key} FROM {formats.BY_KIND[kind].table}{where} "
        f"UNION SELECT {key} FROM all_{kind} WHERE {key} IS NOT NULL"
    )


@dataclass(frozen=True)
class Rule:
    """Staged rows that break a rule: ``rows`` finds them (``src, ordinal, value, …``); the problem names
    ``column``'s header and says ``expected`` (formatted with the row). ``before`` is SQL run first."""

    column: str
    rows: str
    expected: str
    before: str = ""


@dataclass(frozen=True)
class Reference:
    """``column`` of every ``kind`` row names a ``target`` row (in the store or the run) by its ``key``,
    else the problem says ``expected``; ``stored`` limits the store's rows that count."""

    kind: str
    column: str
    target: str
    key: str
    expected: str
    stored: str = ""
    before = ""

    @property
    def rows(self) -> str:
        return (
            f"SELECT src, ordinal, {self.column} FROM stage_{self.kind} WHERE {self.column} IS NOT NULL "
            f"AND {self.column} NOT IN ({known(self.target, self.key, self.stored)})"
        )


KNOWN_ASSIGNMENTS = known("assignments", "assignment_id")
KNOWN_CONVERSATIONS = known("evaluations", "conversation_id")
AN_ASSIGNMENT = "the Assignment ID of a coaching assignment in this import or the store"
A_CONVERSATION = "the ConversationID of an evaluated interaction in this import or the store"
#: Every assignment's coaching areas after the run (the run's replace the store's).
_EVERY_AREA = (
    "SELECT assignment_id, unnest(coaching_areas) AS area FROM assignments "
    "WHERE assignment_id NOT IN (SELECT assignment_id FROM all_assignments WHERE assignment_id IS NOT NULL) "
    "UNION SELECT assignment_id, unnest(coaching_areas) FROM all_assignments"
)
#: The metrics the review events name, looked up in the (large) metric rows by a semi join that hashes
#: only the events' side; only the evaluations the events name have their metric lists unnested.
_EVENT_METRICS_FOUND = (
    "CREATE OR REPLACE TEMP TABLE event_metrics_found AS SELECT DISTINCT conversation_id, metric "
    "FROM run_metrics SEMI JOIN (SELECT DISTINCT conversation_id, metric FROM stage_review_events "
    "WHERE metric IS NOT NULL) USING (conversation_id, metric)"
)

#: What each kind's rows refer to, checked in this order once every file was read. (The assignments'
#: agents are checked once they are known: :func:`coaching.importer.agents.check_assignments`.)
REFERENCES: tuple[Rule | Reference, ...] = (
    # Roster: a lead is someone on the roster; an Agent ID belongs to one person.
    Reference("roster", "team_lead_email", "roster", "email",
              "the email of someone on the roster (the team's lead)", stored="on_roster"),
    Rule("agent_id",
         "SELECT s.src, s.ordinal, s.agent_id, p.name, p.email FROM stage_roster s JOIN people p "
         "ON p.email IS NOT NULL AND p.agent_id = s.agent_id AND p.email <> s.email "
         "WHERE p.email NOT IN (SELECT email FROM all_roster WHERE email IS NOT NULL)",
         "an Agent ID no one else has ({3}, {4}, has it in the store)"),
    # Assignments: dates and groups.
    Rule("follow_up_date",
         "SELECT src, ordinal, follow_up_date FROM stage_assignments WHERE follow_up_date < assigned_date",
         "a date on or after the Assigned Date"),
    Rule("group_name",
         "SELECT src, ordinal, group_name FROM stage_assignments "
         "WHERE coaching_type = 'Group Agents' AND group_name IS NULL",
         "the group's name for a Group Agents assignment"),
    # Coaching interactions and best responses name known assignments and conversations; an
    # interaction's coaching area is one of its assignment's.
    Reference("coaching_interactions", "assignment_id", "assignments", "assignment_id", AN_ASSIGNMENT),
    Reference("coaching_interactions", "conversation_id", "evaluations", "conversation_id", A_CONVERSATION),
    Reference("best_responses", "assignment_id", "assignments", "assignment_id", AN_ASSIGNMENT),
    Reference("best_responses", "conversation_id", "evaluations", "conversation_id", A_CONVERSATION),
    Rule("coaching_area",
         f"SELECT s.src, s.ordinal, s.coaching_area, (SELECT string_agg(DISTINCT a.area, ', ' ORDER BY a.area) "
         f"FROM ({_EVERY_AREA}) a WHERE a.assignment_id = s.assignment_id) AS areas "
         f"FROM stage_coaching_interactions s "
         f"WHERE s.assignment_id IN ({KNOWN_ASSIGNMENTS}) AND lower(s.coaching_area) NOT IN "
         f"(SELECT lower(a.area) FROM ({_EVERY_AREA}) a WHERE a.assignment_id = s.assignment_id)",
         "one of the assignment's coaching areas ({3})"),
    # Review events name a known evaluation and one of its metrics.
    Reference("review_events", "conversation_id", "evaluations", "conversation_id", A_CONVERSATION),
    Rule("metric",
         "SELECT s.src, s.ordinal, s.metric FROM stage_review_events s "
         "ANTI JOIN event_metrics_found f USING (conversation_id, metric) "
         f"WHERE s.metric IS NOT NULL AND s.conversation_id IN ({KNOWN_CONVERSATIONS})",
         "the name of one of this evaluation's metrics",
         before=_EVENT_METRICS_FOUND),
)


def check_references(con: duckdb.DuckDBPyConnection, problems: Problems) -> None:
    """Every rule of :data:`REFERENCES`: only when every file was read (a file that was not would make
    every reference to its rows look wrong)."""
    check(con, problems, REFERENCES)


def check(con: duckdb.DuckDBPyConnection, problems: Problems, rules: Iterable[Rule | Reference]) -> None:
    """Record a problem for each staged row that breaks one of ``rules``, in their order."""
    for rule in rules:
        if rule.before:
            con.execute(rule.before)
        report_rows(con, problems, rule.rows, rule.column, _formatted(rule.expected))


def check_keys(con: duckdb.DuckDBPyConnection, problems: Problems, kinds: Sequence[Format]) -> None:
    """A natural key (or another unique set of fields) is on one row of the run only; the problem is on
    each later row and names the first."""
    for fmt in kinds:
        for key in (fmt.key, *fmt.unique):
            columns = ", ".join(key)
            sql = (
                f"SELECT src, ordinal, {key[-1]}, first_src, first_ordinal FROM ("
                f"SELECT src, ordinal, {columns}, "
                f"first_value(src) OVER w AS first_src, first_value(ordinal) OVER w AS first_ordinal, "
                f"row_number() OVER w AS nth FROM stage_{fmt.kind} "
                f"WHERE {' AND '.join(f'{k} IS NOT NULL' for k in key if k != 'metric')} "
                f"WINDOW w AS (PARTITION BY {columns} ORDER BY src, ordinal)) WHERE nth > 1"
            )
            names = " and ".join(label_any(fmt, k) for k in key)
            report_rows(
                con,
                problems,
                sql,
                key[-1],
                _not_already(problems, names),
                other_rows=lambda row: (row[3], row[4]),
            )


def _formatted(expected: str) -> Callable[[tuple[Any, ...]], str]:
    return lambda row: expected.format(*row)


def _not_already(problems: Problems, names: str) -> Callable[[tuple[Any, ...]], str]:
    """The message of a key already on an earlier row (the row's fourth and fifth columns)."""
    return lambda row: f"{names} not already on {problems.where(row[3], row[4])}"


def report_rows(
    con: duckdb.DuckDBPyConnection,
    problems: Problems,
    sql: str,
    field_name: str,
    expected: Callable[[tuple[Any, ...]], str],
    other_rows: Callable[[tuple[Any, ...]], tuple[int, int]] | None = None,
) -> None:
    """Run a check query returning (src, ordinal, value, ...) rows and record each as a problem.

    ``other_rows`` names another row a problem's message points at, so its line is looked up
    together with the others.
    """
    count = scalar(con, f"SELECT count(*) FROM ({sql})")
    if not count:
        return
    rows = con.execute(f"{sql} ORDER BY 1, 2 LIMIT {problems.limit}").fetchall()
    if other_rows is not None:
        problems.cache_lines([other_rows(row) for row in rows])
    for row in rows:
        src, ordinal, value = row[0], row[1], row[2]
        problems.add_row(src, ordinal, label(problems.files[src], field_name), value, expected(row))
    problems.count_rows(count - len(rows))


def _field(fmt: Format, field_name: str) -> str:
    """The format's column that a field is read from: a key's ``person_id`` is the row's agent."""
    return formats.AGENT_COLUMNS[fmt.kind] if field_name == "person_id" else field_name


def label(source: Source, field_name: str) -> str:
    """The column a problem with a field names: as the file writes it, else as the format does."""
    index = source.match.fields.get(_field(source.format, field_name))
    return source.label(index) if index is not None else label_any(source.format, field_name)


def label_any(fmt: Format, field_name: str) -> str:
    return fmt.column(_field(fmt, field_name)).header

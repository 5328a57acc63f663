"""Building SQL text: the few pieces the store's queries, views and the import share.

Values a viewer or a URL supplies are never written into SQL text: queries bind them as parameters,
by name (DuckDB's ``$name`` with a dict), so that a value a query uses twice is bound once. Only
constants of the product (review statuses, metric results, the import's own labels) are written in
as literals, through :func:`sql_str` and :func:`in_list`.

:class:`Where` builds the conditions the dashboard's queries filter by: the viewer's scope
(:func:`coaching.access.agent_filter`, in every query) and the filters a page offers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from coaching.access import Viewer, agent_filter

#: Named parameters of a query: ``{"name": value}`` for each ``$name`` in its text.
Params = dict[str, object]


def sql_str(value: str) -> str:
    """A string constant as an SQL literal."""
    return "'" + value.replace("'", "''") + "'"


def in_list(column: str, values: Iterable[str]) -> str:
    """SQL: ``column`` is one of the constant ``values``."""
    return f"{column} IN ({', '.join(sql_str(v) for v in values)})"


def named(condition: str, params: Sequence[object], prefix: str) -> tuple[str, Params]:
    """``condition``, written with positional ``?`` parameters, with named ones instead (``$prefix_1``,
    ``$prefix_2``, …), so that it can join a query that binds by name (DuckDB does not mix the two).

    ``condition`` is SQL written in ``coaching/`` (never user input) whose only ``?`` are its parameters.
    """
    pieces = condition.split("?")
    if len(pieces) - 1 != len(params):
        raise ValueError(f"{len(params)} parameter(s) for {len(pieces) - 1} '?' in {condition!r}")
    names = [f"{prefix}_{i}" for i in range(1, len(params) + 1)]
    text = pieces[0] + "".join(f"${name}{piece}" for name, piece in zip(names, pieces[1:], strict=True))
    return text, dict(zip(names, params, strict=True))


def scope(viewer: Viewer, column: str) -> tuple[str, Params]:
    """The viewer's scope on ``column`` (a ``person_id``), :func:`coaching.access.agent_filter`'s
    condition bound by name. It binds the same names and values whatever the column, so one query may
    apply it to several tables."""
    return named(*agent_filter(viewer, column), "scope")


def merge(*params: Mapping[str, object]) -> Params:
    """Named parameters of several parts of one query; a name bound twice must mean the same value."""
    merged: Params = {}
    for part in params:
        for name, value in part.items():
            if name in merged and merged[name] != value:
                raise ValueError(f"${name} is bound to two values: {merged[name]!r} and {value!r}")
            merged[name] = value
    return merged


@dataclass
class Where:
    """SQL conditions joined by AND, with the named parameters they bind.

    Each filter method adds its condition only when given something to filter by, so an empty
    filter never narrows anything; the viewer's scope (:meth:`scope`) always narrows.
    """

    parts: list[str] = field(default_factory=list)
    params: Params = field(default_factory=dict)

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) or "true"

    def add(self, condition: str, params: Mapping[str, object] | None = None) -> Where:
        """Any condition (SQL written in ``coaching/``) with the named parameters it binds."""
        self.parts.append(condition)
        self.params = merge(self.params, params or {})
        return self

    def scope(self, viewer: Viewer, column: str) -> Where:
        """The viewer's scope on ``column`` (:func:`scope`)."""
        return self.add(*scope(viewer, column))

    def one_of(self, column: str, name: str, values: Sequence[object]) -> Where:
        """``column`` is one of ``values`` (bound as ``$name``), if any are given."""
        if values:
            self.add(f"list_contains(${name}, {column})", {name: list(values)})
        return self

    def any_of(self, list_column: str, name: str, values: Sequence[object]) -> Where:
        """The list ``list_column`` holds any of ``values`` (bound as ``$name``), if any are given."""
        if values:
            self.add(f"list_has_any({list_column}, ${name})", {name: list(values)})
        return self

    def on_or_after(self, column: str, name: str, day: date | None) -> Where:
        """``column`` (a date or a time) falls on ``day`` or later, if given."""
        if day is not None:
            self.add(f"{column} >= ${name}::DATE", {name: day})
        return self

    def on_or_before(self, column: str, name: str, day: date | None) -> Where:
        """``column`` (a date or a time) falls on ``day`` or earlier, if given: a time any moment of it."""
        if day is not None:
            self.add(f"{column} < ${name}::DATE + 1", {name: day})
        return self

    def between_days(self, column: str, start: date, end: date, prefix: str = "") -> Where:
        """``column`` (a date or a time) falls on ``start`` … ``end``, both days included, bound as
        ``$start`` and ``$end`` (after ``prefix``)."""
        return self.on_or_after(column, f"{prefix}start", start).on_or_before(column, f"{prefix}end", end)


def scalar(con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
    """The one value of a query that returns one row (a count, an aggregate, a key look-up that must hit)."""
    row = con.execute(query, params).fetchone()
    if row is None:
        raise LookupError(f"expected one row from: {query}")
    return row[0]

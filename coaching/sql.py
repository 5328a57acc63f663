"""Building SQL text: the few pieces the store's queries, views and the import share.

Values a viewer or a URL supplies are never written into SQL text: queries bind them as parameters.
Only constants of the product (review statuses, metric results, the import's own labels) are written in
as literals, through :func:`sql_str`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import duckdb


def sql_str(value: str) -> str:
    """A string constant as an SQL literal."""
    return "'" + value.replace("'", "''") + "'"


def in_list(column: str, values: Iterable[str]) -> str:
    """SQL: ``column`` is one of the constant ``values``."""
    return f"{column} IN ({', '.join(sql_str(v) for v in values)})"


def scalar(con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
    """The one value of a query that returns one row (a count, an aggregate, a key look-up that must hit)."""
    row = con.execute(query, params).fetchone()
    if row is None:
        raise LookupError(f"expected one row from: {query}")
    return row[0]

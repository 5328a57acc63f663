"""How far an import is: its steps and DuckDB's own query progress as one share of the whole (0 to 1)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import duckdb

#: Progress callback: what is happening, and the share of the whole import done (0 to 1).
ProgressCallback = Callable[[str, float], None]


def enable_query_progress(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB reports a running query's progress only with its progress bar on (not printed)."""
    con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")


class Progress:
    """Turns steps and DuckDB's own query progress into one share-of-the-whole figure."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.done = 0.0

    def report(self, label: str, share: float = 0.0) -> None:
        self.done = min(1.0, self.done + share)
        if self.callback is not None:
            self.callback(label, self.done)

    def run(
        self,
        con: duckdb.DuckDBPyConnection,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        label: str,
        share: float,
    ) -> duckdb.DuckDBPyConnection:
        if self.callback is None or share < 0.02:
            result = con.execute(sql, params) if params else con.execute(sql)
            self.report(label, share)
            return result
        finished = threading.Event()
        base = self.done

        def poll() -> None:
            while not finished.wait(0.2):
                try:
                    percent = con.query_progress()
                except duckdb.Error:
                    return
                if percent and percent > 0 and self.callback is not None:
                    self.callback(label, base + share * min(percent, 100.0) / 100.0)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            result = con.execute(sql, params) if params else con.execute(sql)
        finally:
            finished.set()
            watcher.join()
        self.report(label, share)
        return result

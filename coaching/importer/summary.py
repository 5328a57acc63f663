"""What an import did: rows per kind (new, updated, unchanged), warnings, time; kept in the store's ``imports``."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from coaching.importer.sources import Files
from coaching.sql import scalar


@dataclass
class KindSummary:
    """Rows of one kind in a run: how many, and how many were new, changed or already there."""

    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportSummary:
    files: list[str]
    kinds: dict[str, KindSummary]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> str:
        return json.dumps(
            {
                "files": self.files,
                "kinds": {k: asdict(v) for k, v in self.kinds.items()},
                "warnings": self.warnings,
                "seconds": round(self.seconds, 3),
            }
        )


def record_import(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[Path],
    files: Files,
    kinds: dict[str, KindSummary],
    warnings: list[str],
    started: float,
) -> ImportSummary:
    """The run's summary, written to ``imports``: the kinds it has rows of, or a file of (``started``:
    when it began, by :func:`time.perf_counter`)."""
    given = {s.format.kind for s in files}
    kinds = {k: v for k, v in kinds.items() if v.rows or k in given}
    summary = ImportSummary([str(f) for f in paths], kinds, warnings)
    summary.seconds = time.perf_counter() - started
    import_id = scalar(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports")
    con.execute(
        "INSERT INTO imports VALUES (?, ?, ?, ?)",
        [import_id, datetime.now(UTC).replace(tzinfo=None), summary.files, summary.as_json()],
    )
    return summary

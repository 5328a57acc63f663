"""What the store holds, in the product's words: the figures the start page shows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb


@dataclass(frozen=True)
class StoreOverview:
    evaluations: int
    audited: int
    agents: int
    teams: int
    assignments: int
    review_events: int
    first_interaction: datetime | None
    last_interaction: datetime | None
    last_import_at: datetime | None
    last_import_files: int

    @property
    def is_empty(self) -> bool:
        return self.evaluations == 0 and self.assignments == 0


def store_overview(con: duckdb.DuckDBPyConnection) -> StoreOverview:
    """Counts across the whole store (no rows of any person: safe for any signed-in viewer)."""
    evaluations, audited, first, last = con.execute(
        "SELECT count(*), count(audit_score), min(start_time), max(start_time) FROM evaluations"
    ).fetchone()
    agents, teams = con.execute(
        "SELECT count(*) FILTER (WHERE role = 'Agent'), count(DISTINCT team) FROM people"
    ).fetchone()
    assignments = con.execute("SELECT count(DISTINCT assignment_id) FROM assignments").fetchone()[0]
    review_events = con.execute("SELECT count(*) FROM review_events").fetchone()[0]
    last_import = con.execute(
        "SELECT imported_at, summary FROM imports ORDER BY import_id DESC LIMIT 1"
    ).fetchone()
    files = len(json.loads(last_import[1])["files"]) if last_import else 0
    return StoreOverview(
        evaluations=evaluations,
        audited=audited,
        agents=agents,
        teams=teams,
        assignments=assignments,
        review_events=review_events,
        first_interaction=first,
        last_interaction=last,
        last_import_at=last_import[0] if last_import else None,
        last_import_files=files,
    )

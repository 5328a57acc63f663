"""What the viewer's part of the store holds: the figures the start page shows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from coaching.access import Viewer
from coaching.review_machine import OPEN_STATUSES
from coaching.sql import in_list, scalar, scope


@dataclass(frozen=True)
class StoreOverview:
    evaluations: int
    audited: int
    agents: int
    assignments: int
    pending_reviews: int
    first_interaction: datetime | None
    last_interaction: datetime | None
    last_import_at: datetime | None
    last_import_files: int

    @property
    def is_empty(self) -> bool:
        return self.evaluations == 0 and self.assignments == 0


def store_overview(con: duckdb.DuckDBPyConnection, viewer: Viewer) -> StoreOverview:
    """Counts over the viewer's scope only (an agent's are their own)."""
    on_evaluations, params = scope(viewer, "e.person_id")
    on_assignments, _ = scope(viewer, "a.person_id")  # the same parameters
    evaluations, audited, agents, first, last = con.execute(
        "SELECT count(*), count(e.audit_score), count(DISTINCT e.person_id), min(e.start_time), "
        f"max(e.start_time) FROM evaluations e WHERE {on_evaluations}",
        params,
    ).fetchone() or (0, 0, 0, None, None)
    assignments = scalar(con, f"SELECT count(*) FROM assignments a WHERE {on_assignments}", params)
    pending = scalar(
        con,
        "SELECT count(*) FROM evaluation_reviews r JOIN evaluations e USING (conversation_id) "
        f"WHERE {in_list('r.review_status', OPEN_STATUSES)} AND {on_evaluations}",
        params,
    )
    last_import = con.execute(
        "SELECT imported_at, summary FROM imports ORDER BY import_id DESC LIMIT 1"
    ).fetchone()
    files = len(json.loads(last_import[1])["files"]) if last_import else 0
    return StoreOverview(
        evaluations=evaluations,
        audited=audited,
        agents=agents,
        assignments=assignments,
        pending_reviews=pending,
        first_interaction=first,
        last_interaction=last,
        last_import_at=last_import[0] if last_import else None,
        last_import_files=files,
    )

"""The people a viewer may see: for a lead, their team; for QA and admins, everyone."""

from __future__ import annotations

import duckdb
import pandas as pd

from coaching.access import Viewer, agent_filter


def agents_in_scope(con: duckdb.DuckDBPyConnection, viewer: Viewer) -> pd.DataFrame:
    """Agents the viewer may see (an agent sees only themself): name, team, on_roster."""
    condition, params = agent_filter(viewer, "p.name")
    return con.execute(
        f"SELECT p.name AS agent, p.team, p.on_roster FROM people p WHERE p.role = 'Agent' AND {condition} "
        "ORDER BY p.name",
        params,
    ).df()

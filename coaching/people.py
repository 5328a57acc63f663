"""People: who a row of an export is about, and the people a viewer may see.

A person is their **email** (the roster's key, and how they sign in), or Kore's **Agent ID** where an
export carries it; never their display name, which two people may share. ``people.person_id`` is:

* the email, for everyone on the roster (and for an agent an export names by email, until the
  roster does);
* ``agent-id:<Agent ID>`` for an agent an export names by Kore's Agent ID only;
* ``name:<name>`` for an agent an export names by name only and no one known has that name.

Evaluations and assignments keep the agent's name as exported and the ``person_id`` the import found
for it (``coaching.importer.agents.resolve_agents``): the Agent Email, else the Agent ID, else the person a
stored row of the same evaluation or assignment already names, else the one known person with that
name. Two or more with the name, and nothing to tell them apart, fails the import with the line. When
the roster later names someone known only by name or Agent ID, their rows follow them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from coaching.access import AGENT, Viewer
from coaching.sql import scope, sql_str

#: Prefixes of the person_id of agents known only from exports.
BY_NAME = "name:"
BY_AGENT_ID = "agent-id:"
#: SQL condition (on ``people``): someone known by more than a name, whom a name alone may mean.
KNOWN_PERSON = "(on_roster OR email IS NOT NULL OR agent_id IS NOT NULL)"
#: SQL: how a person is shown among a list's rows (name, email, agent_id, person_id): their name, and
#: their email (or Agent ID) where another row has the same name.
LABEL = (
    "CASE WHEN count(*) OVER (PARTITION BY name) > 1 "
    "THEN name || ' (' || coalesce(email, agent_id, person_id) || ')' ELSE name END"
)


def agents_in_scope(con: duckdb.DuckDBPyConnection, viewer: Viewer) -> pd.DataFrame:
    """Agents the viewer may see (an agent sees only themself): person_id, agent (their name), label
    (:data:`LABEL`), team, on_roster; by label."""
    condition, params = scope(viewer, "p.person_id")
    return con.execute(
        f"SELECT person_id, name AS agent, {LABEL} AS label, team, on_roster FROM people p "
        f"WHERE p.role = {sql_str(AGENT)} AND {condition} ORDER BY label, person_id",
        params,
    ).df()

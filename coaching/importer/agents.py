"""Who each row's agent is: the people an import's evaluations and assignments name.

:mod:`coaching.people` states the rule; this module applies it in SQL once the run's roster is written.
An agent known only from exports (by name or Agent ID) is a placeholder person until the roster names
them; a name that could be several people is a problem, with the line.
"""

from __future__ import annotations

import duckdb

from coaching import people
from coaching.importer import formats, kore_api
from coaching.importer.formats import AGENT_COLUMNS
from coaching.importer.problems import Problems
from coaching.importer.references import Rule, check, check_keys
from coaching.sql import scalar, sql_str


def remember_people(con: duckdb.DuckDBPyConnection) -> None:
    """``people_before``: who the store knew before the run's roster is written."""
    con.execute("CREATE OR REPLACE TEMP TABLE people_before AS SELECT person_id FROM people")


def identify(con: duckdb.DuckDBPyConnection, problems: Problems) -> list[str]:
    """Once the run's roster is written: who each row's agent is, and what that tells about the
    assignments; returns warnings naming the guesses made by name or by the latest stored row."""
    kept_emails(con)
    warnings = agent_id_holders(con)
    warnings += adopt_placeholders(con) + namesake_warnings(con)
    for kind in AGENT_COLUMNS:
        resolve_agents(con, problems, kind)
    check_assignments(con, problems)
    return warnings


def kept_emails(con: duckdb.DuckDBPyConnection) -> None:
    """``kept_emails`` (src, ordinal, agent_email): the run's evaluations from Kore API records that give no
    Agent Email, over a stored evaluation whose email stays (the record's file has no email, or
    :func:`coaching.importer.kore_api.keeps_stored` keeps the other API's): the row's agent is that email's
    person, as the stored row goes on saying. So an Auto QA record (Agent ID alone) after the Raw Data
    record (an email, no agentId) of its conversation leaves the evaluation its email's person's.

    Rows of a report are not among them: a report without an Agent Email column names its agent by the
    rest of the row, though the stored email stays on it.
    """
    sources = kore_api.api_sources(con)
    if not sources:
        con.execute("CREATE OR REPLACE TEMP TABLE kept_emails (src INTEGER, ordinal BIGINT, agent_email VARCHAR)")
        return
    kept = kore_api.keeps_stored("agent_email", sources, "s.agent_email IS NULL", "t.agent_email IS NULL")
    stays = "NOT s.has_agent_email" + (f" OR coalesce({kept}, false)" if kept is not None else "")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE kept_emails AS SELECT s.src, s.ordinal, t.agent_email "
        "FROM all_evaluations s JOIN evaluations t ON t.conversation_id = s.conversation_id "
        f"WHERE s.ok AND s.src IN ({', '.join(map(str, sorted(sources)))}) AND s.agent_email IS NULL "
        f"AND t.agent_email IS NOT NULL AND ({stays})"
    )


def agent_id_holders(con: duckdb.DuckDBPyConnection) -> list[str]:
    """``agent_id_holders`` (agent_id, holders, person_id, emails): who has each Agent ID, among people
    known by email, for the rows of the run that give an Agent ID without an Agent Email and for the
    people known only by an Agent ID (``agent-id:`` placeholders). A row that gives an Agent Email, or
    keeps the stored one (:func:`kept_emails`), is that email's person whatever its Agent ID
    (:func:`resolve_agents`), so it needs no holder.

    1. The roster's Agent IDs and the rows of the run that give both an Agent Email and the Agent ID name
       the holders. Two or more (``holders`` above 1, ``emails``) is an Agent ID given to several people:
       :func:`resolve_agents` reports the rows that give it without an email.
    2. Only for an Agent ID those name no one for, and that a row of the run gives without an email or a
       placeholder has: what the store learnt before, the stored evaluations and assignments that give
       both an Agent Email and the Agent ID (not one whose conversation or individual assignment the run
       gives another email: a correction), and the people added from them. A roster without Agent IDs, a
       Raw Data page that tied an Agent ID to an email, and an Auto QA page that later gives the Agent ID
       alone finds that email, not a new person known only by the Agent ID (docs/kore-api.md). Several
       emails there (an agent whose email changed, Kore's Agent ID staying) are no problem: the email of
       the latest row (its conversation's time or its assignment's date; then the first email) holds it,
       and the returned warning names the Agent ID and the emails.

    The store is read for those Agent IDs alone: a run whose rows all give an email (or no Agent ID) and a
    store without placeholders read none of it; a stored pair that a roster or run pair contradicts is
    no problem (they say who has the Agent ID now).
    """
    run_pairs = " UNION ALL ".join(
        f"SELECT agent_id, agent_email FROM all_{k} WHERE ok AND agent_id IS NOT NULL AND agent_email IS NOT NULL"
        for k in AGENT_COLUMNS
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE named_agent_ids AS SELECT DISTINCT agent_id, person_id FROM ("
        "SELECT agent_id, person_id FROM people WHERE on_roster AND agent_id IS NOT NULL AND email IS NOT NULL "
        f"UNION ALL {run_pairs})"
    )
    wanted = " UNION ".join(
        [f"SELECT agent_id FROM all_{k} s {'ANTI JOIN kept_emails USING (src, ordinal) ' if k == 'evaluations' else ''}"
         "WHERE s.ok AND s.agent_id IS NOT NULL AND s.agent_email IS NULL"
         for k in AGENT_COLUMNS]
        + ["SELECT agent_id FROM people WHERE NOT on_roster AND email IS NULL AND agent_id IS NOT NULL"]
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE stored_agent_ids_wanted AS SELECT agent_id FROM ({wanted}) "
        "WHERE agent_id NOT IN (SELECT agent_id FROM named_agent_ids)"
    )
    stored = "SELECT NULL::VARCHAR AS agent_id, NULL::VARCHAR AS person_id, NULL::TIMESTAMP AS latest WHERE false"
    if scalar(con, "SELECT count(*) FROM stored_agent_ids_wanted"):
        wanted_ids = "(SELECT agent_id FROM stored_agent_ids_wanted)"
        stored = f"""SELECT agent_id, person_id, max(seen_at) AS latest FROM (
                SELECT agent_id, agent_email AS person_id, start_time AS seen_at FROM evaluations e
                    WHERE agent_id IN {wanted_ids} AND agent_email IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM all_evaluations s WHERE s.ok AND s.conversation_id = e.conversation_id
                        AND s.agent_email IS NOT NULL AND s.agent_email <> e.agent_email)
                UNION ALL SELECT agent_id, agent_email, CAST(assigned_date AS TIMESTAMP) FROM assignments a
                    WHERE agent_id IN {wanted_ids} AND agent_email IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM all_assignments s WHERE s.ok AND s.assignment_id = a.assignment_id
                        AND s.coaching_type = 'Individual Agent'
                        AND s.agent_email IS NOT NULL AND s.agent_email <> a.agent_email)
                UNION ALL SELECT agent_id, person_id, NULL FROM people
                    WHERE agent_id IN {wanted_ids} AND NOT on_roster AND email IS NOT NULL
            ) GROUP BY agent_id, person_id"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE stored_agent_id_holders AS {stored}")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE agent_id_holders AS
            SELECT agent_id, count(*) AS holders, min(person_id) AS person_id,
                   string_agg(person_id, ', ' ORDER BY person_id) AS emails
            FROM named_agent_ids GROUP BY agent_id
            UNION ALL
            SELECT agent_id, 1, first(person_id ORDER BY latest DESC NULLS LAST, person_id),
                   string_agg(person_id, ', ' ORDER BY person_id)
            FROM stored_agent_id_holders GROUP BY agent_id"""
    )
    several = con.execute(
        "SELECT agent_id, emails, person_id FROM agent_id_holders "
        "WHERE agent_id IN (SELECT agent_id FROM stored_agent_id_holders GROUP BY agent_id HAVING count(*) > 1) "
        "ORDER BY agent_id"
    ).fetchall()
    if not several:
        return []
    shown = "; ".join(f"{agent_id} ({emails}) → {person}" for agent_id, emails, person in several[:10])
    more = f" and {len(several) - 10} more" if len(several) > 10 else ""
    return [f"{len(several)} Agent ID(s) that rows give without an Agent Email were given with several emails "
            f"by stored rows, and neither the roster nor this import's rows say whose they are: each went to "
            f"the email of the latest stored row: {shown}{more}. If that is someone else, add the Agent ID "
            f"to the roster."]


def adopt_placeholders(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Agents known only from exports join the person who now has their Agent ID (the one holder of it,
    :func:`agent_id_holders`), or the roster entry that is the only one with their name; their evaluations
    and assignments follow them. Returns warnings naming the matches made by name (a guess the roster's
    names make, never silent)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE adopted AS
            SELECT p.person_id AS placeholder, p.name, coalesce(by_id.person_id, by_name.person_id) AS person_id,
                   by_id.person_id IS NULL AS by_name
            FROM people p
            LEFT JOIN agent_id_holders by_id ON p.agent_id IS NOT NULL AND by_id.holders = 1
                                            AND by_id.agent_id = p.agent_id
            LEFT JOIN (SELECT name, any_value(person_id) AS person_id FROM people WHERE on_roster
                       GROUP BY name HAVING count(*) = 1) by_name
                   ON p.agent_id IS NULL AND by_name.name = p.name
            WHERE NOT p.on_roster AND p.email IS NULL
              AND (p.agent_id IS NOT NULL OR p.person_id LIKE {sql_str(people.BY_NAME + "%")})"""
    )
    con.execute("DELETE FROM adopted WHERE person_id IS NULL")
    matched = con.execute(
        "SELECT a.name, a.person_id, (SELECT count(*) FROM evaluations e WHERE e.person_id = a.placeholder) "
        "FROM adopted a WHERE a.by_name ORDER BY a.name, a.person_id"
    ).fetchall()
    # A member already in a group under the person's email keeps that row, not the placeholder's.
    con.execute(
        "DELETE FROM assignments USING adopted a WHERE assignments.person_id = a.placeholder AND EXISTS "
        "(SELECT 1 FROM assignments b WHERE b.assignment_id = assignments.assignment_id AND b.person_id = a.person_id)"
    )
    for table in ("evaluations", "assignments"):
        con.execute(
            f"UPDATE {table} SET person_id = a.person_id FROM adopted a WHERE {table}.person_id = a.placeholder"
        )
    con.execute("DELETE FROM people WHERE person_id IN (SELECT placeholder FROM adopted)")
    if not matched:
        return []
    shown = ", ".join(f"{name} → {person} ({count:,} evaluation(s))" for name, person, count in matched[:10])
    more = f" and {len(matched) - 10} more" if len(matched) > 10 else ""
    return [f"{len(matched)} agent(s) known only by name were matched by name to the one roster entry that has "
            f"it: {shown}{more}. If that is someone else, re-import their rows with an Agent Email column."]


def namesake_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """A person new to the roster who has the name of someone whose rows were matched by name alone:
    those rows stay where they are, but some may be the new person's."""
    found = con.execute(
        """SELECT n.name, n.person_id, o.person_id,
                  (SELECT count(*) FROM evaluations e WHERE e.person_id = o.person_id
                     AND e.agent_email IS NULL AND e.agent_id IS NULL),
                  (SELECT count(*) FROM assignments a WHERE a.person_id = o.person_id
                     AND a.agent_email IS NULL AND a.agent_id IS NULL)
           FROM people n JOIN people o ON o.name = n.name AND o.person_id <> n.person_id
           WHERE n.on_roster AND n.person_id NOT IN (SELECT person_id FROM people_before)
           ORDER BY 1, 2, 3"""
    ).fetchall()
    return [
        f"{name} ({new}) is new and has the name of {old}, whose {evaluations:,} evaluation(s) and "
        f"{assignments:,} assignment(s) were matched by name alone: they stay {old}'s; re-import any that are "
        f"{new}'s with an Agent Email column"
        for name, new, old, evaluations, assignments in found if evaluations or assignments
    ]


def resolve_agents(con: duckdb.DuckDBPyConnection, problems: Problems, kind: str) -> None:
    """``resolved_<kind>`` (src, ordinal, person_id) for the run's good rows of ``kind``, and
    ``stage_<kind>`` with their ``person_id``; a name that could be several people, or an Agent ID
    given to several, is a problem.

    A row's agent is, in this order: the person with its Agent Email (whoever else rows give its Agent ID;
    for a Kore API record without one, the stored evaluation's email it keeps, :func:`kept_emails`);
    the person with its Agent ID (:func:`agent_id_holders`: the roster's or a row of the run's that gives
    both, else the latest stored row's that gave both, or a new one known by it; an Agent ID the roster and
    the run give to several people is a problem);
    the person a stored row of the same evaluation or assignment with the same name already names;
    the one person (on the roster or known by email or Agent ID) with that name; else someone known
    only by that name. Two or more people with the name, and nothing to decide between them, is
    reported with the line.
    """
    name = AGENT_COLUMNS[kind]
    email = "s.agent_email"
    if kind == "evaluations":
        kept = (
            "LEFT JOIN evaluations k ON k.conversation_id = s.conversation_id AND k.scored_agent = s.scored_agent "
            "LEFT JOIN kept_emails kept_email ON kept_email.src = s.src AND kept_email.ordinal = s.ordinal"
        )
        email = "coalesce(s.agent_email, kept_email.agent_email)"
    else:
        kept = (
            "LEFT JOIN (SELECT assignment_id, agent, any_value(person_id) AS person_id FROM assignments "
            "GROUP BY ALL HAVING count(*) = 1) k ON k.assignment_id = s.assignment_id AND k.agent = s.agent"
        )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE resolved_{kind} AS
            SELECT s.src, s.ordinal, s.{name} AS name, {email} AS agent_email, s.agent_id,
                   CASE WHEN {email} IS NOT NULL THEN {email}
                        WHEN by_id.n > 1 THEN NULL
                        WHEN s.agent_id IS NOT NULL
                            THEN coalesce(by_id.person_id, {sql_str(people.BY_AGENT_ID)} || s.agent_id)
                        WHEN k.person_id IS NOT NULL THEN k.person_id
                        WHEN namesakes.n = 1 THEN namesakes.person_id
                        WHEN namesakes.n IS NULL THEN {sql_str(people.BY_NAME)} || s.{name}
                   END AS person_id,
                   namesakes.n AS namesakes, namesakes.emails,
                   CASE WHEN {email} IS NULL THEN by_id.n END AS holders, by_id.emails AS holder_emails
            FROM (SELECT * FROM all_{kind} WHERE ok) s
            LEFT JOIN (SELECT agent_id, holders AS n, person_id, emails FROM agent_id_holders) by_id
                   ON by_id.agent_id = s.agent_id
            {kept}
            LEFT JOIN (SELECT name, count(*) AS n, any_value(person_id) AS person_id,
                              string_agg(coalesce(email, agent_id), ', ' ORDER BY coalesce(email, agent_id)) AS emails
                       FROM people WHERE {people.KNOWN_PERSON} GROUP BY name) namesakes
                   ON namesakes.name = s.{name}"""
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW stage_{kind} AS SELECT s.*, r.person_id FROM all_{kind} s "
        f"JOIN resolved_{kind} r USING (src, ordinal) WHERE s.ok"
    )
    check(con, problems, (
        Rule("agent_id", f"SELECT src, ordinal, agent_id, holder_emails FROM resolved_{kind} WHERE holders > 1",
             "an Agent ID of one person, but it is given to {3}"),
        Rule(name,
             f"SELECT src, ordinal, name, namesakes, emails FROM resolved_{kind} "
             f"WHERE person_id IS NULL AND coalesce(holders, 0) <= 1",
             "one person, but {3} people are named {2} ({4}): add an Agent Email (or Agent ID) column that says which"),
    ))


def add_unrostered_agents(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Evaluated agents who are no one yet join the people, not on the roster and unable to sign in:
    known by their email or Agent ID when the export gave one, else by their name. Returns a warning
    naming them."""
    added = con.execute(
        "INSERT INTO people (person_id, name, email, agent_id, team, team_lead_email, role, permissions, on_roster) "
        "SELECT person_id, min(name), min(agent_email), min(agent_id), NULL, NULL, 'Agent', CAST([] AS VARCHAR[]), "
        "false FROM resolved_evaluations "
        "WHERE person_id IS NOT NULL AND person_id NOT IN (SELECT person_id FROM people) "
        "GROUP BY person_id ORDER BY 2 RETURNING name"
    ).fetchall()
    unrostered = sorted(r[0] for r in added)
    if not unrostered:
        return []
    shown = ", ".join(unrostered[:10]) + (f" and {len(unrostered) - 10} more" if len(unrostered) > 10 else "")
    return [
        f"{len(unrostered)} evaluated agent(s) are not on the roster and were added; "
        f"they cannot sign in until the roster names them: {shown}"
    ]


#: An individual assignment in the run replaces the stored rows of its Assignment ID (its agent may
#: have been corrected, e.g. by an Agent Email); a group's rows are its members.
REPLACED_INDIVIDUALS = (
    "SELECT assignment_id FROM stage_assignments WHERE coaching_type = 'Individual Agent'"
)


def check_assignments(con: duckdb.DuckDBPyConnection, problems: Problems) -> None:
    """Once the run's assignments know their agents: each is someone known, once per assignment; an
    individual assignment has one agent; every row of an assignment has its name and type."""
    known = "SELECT person_id FROM people UNION SELECT person_id FROM resolved_evaluations"
    unknown = f"FROM resolved_assignments WHERE person_id IS NOT NULL AND person_id NOT IN ({known})"
    check(con, problems, (
        Rule("agent_email", f"SELECT src, ordinal, agent_email {unknown} AND agent_email IS NOT NULL",
             "the email of someone on the roster or in the evaluations"),
        Rule("agent_id", f"SELECT src, ordinal, agent_id {unknown} AND agent_email IS NULL AND agent_id IS NOT NULL",
             "the Agent ID of someone on the roster or in the evaluations"),
        Rule("agent", f"SELECT src, ordinal, name {unknown} AND agent_email IS NULL AND agent_id IS NULL",
             "an agent on the roster or in the evaluations"),
    ))
    check_keys(con, problems, [formats.ASSIGNMENTS])
    every_assignment = (
        "SELECT assignment_id, person_id, agent, name, coaching_type, NULL AS src, NULL AS ordinal FROM assignments "
        "WHERE (assignment_id, person_id) NOT IN (SELECT (assignment_id, person_id) FROM stage_assignments) "
        f"AND assignment_id NOT IN ({REPLACED_INDIVIDUALS}) "
        "UNION ALL SELECT assignment_id, person_id, agent, name, coaching_type, src, ordinal FROM stage_assignments"
    )
    check(con, problems, (
        Rule("coaching_type",
             f"SELECT src, ordinal, coaching_type, others FROM (SELECT src, ordinal, coaching_type, "
             f"count(*) OVER (PARTITION BY assignment_id) AS members, "
             f"string_agg(agent, ', ') OVER (PARTITION BY assignment_id) AS others "
             f"FROM ({every_assignment})) WHERE src IS NOT NULL AND coaching_type = 'Individual Agent' "
             f"AND members > 1",
             "Group Agents: this Assignment ID is given to several agents ({3})"),
        Rule("name",
             f"SELECT src, ordinal, name, first_name FROM (SELECT src, ordinal, name, "
             f"first_value(name) OVER (PARTITION BY assignment_id ORDER BY src NULLS FIRST, ordinal) "
             f"AS first_name FROM ({every_assignment})) WHERE src IS NOT NULL AND name <> first_name",
             "the same Name on every row of the assignment ({3!r})"),
        Rule("coaching_type",
             f"SELECT src, ordinal, coaching_type, first_type FROM (SELECT src, ordinal, coaching_type, "
             f"first_value(coaching_type) OVER (PARTITION BY assignment_id ORDER BY src NULLS FIRST, ordinal) "
             f"AS first_type FROM ({every_assignment})) WHERE src IS NOT NULL AND coaching_type <> first_type",
             "the same Coaching Type on every row of the assignment ({3!r})"),
    ))


def replace_individual_assignments(con: duckdb.DuckDBPyConnection) -> None:
    """The stored rows of each individual assignment in the run that name another person go: the run
    says who the one agent is."""
    con.execute(
        f"DELETE FROM assignments WHERE assignment_id IN ({REPLACED_INDIVIDUALS}) "
        "AND (assignment_id, person_id) NOT IN (SELECT (assignment_id, person_id) FROM stage_assignments)"
    )

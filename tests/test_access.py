"""The security boundary: every row-returning function shows a viewer exactly their scope.

An agent sees their own rows (group assignments look individual, best response examples by others
are anonymised); a lead sees the agents whose roster Team Lead is their email; QA and admins see
everyone. The expectations are computed here in plain SQL against the same demo store.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
from collections.abc import Iterator
from typing import Any

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coaching import access, demo, sql, trends
from coaching.access import ADMIN, AGENT, QA, SUPERVISOR, AccessDenied, Capability, Viewer
from coaching.assignments import (
    AssignmentFilters,
    assignment_detail,
    assignment_list,
    best_response_examples,
    marked_interactions,
)
from coaching.audit import ANOTHER_AGENT, evaluation_detail
from coaching.importer import import_files
from coaching.overview import store_overview
from coaching.people import agents_in_scope
from coaching.review_tabs import TABS, ReviewFilters, review_counts, review_tab

from exports import build_demo_store

SPEC = demo.DemoSpec(agents=36, days=90, seed=5, end=datetime.date(2026, 11, 1))
PROPERTY = settings(max_examples=60, deadline=None, database=None)
PENDING = ("Pending Agent Review", "Pending Supervisor Review")
INDIVIDUAL_COLUMNS = [
    "assignment_id", "agent", "person_id", "name", "coaching_areas", "area_tags", "assigned_date", "follow_up_date",
    "status", "follow_up",
]


# -- the store and what it holds ------------------------------------------------------------------


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    db = build_demo_store(tmp_path_factory.mktemp("access"), SPEC)
    connection = duckdb.connect(str(db), read_only=True)
    yield connection
    connection.close()


def _column(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> list[Any]:
    return [r[0] for r in con.execute(sql, params or []).fetchall()]


def _grouped(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, list[str]]:
    """key -> sorted values, from a query returning (key, value) rows."""
    out: dict[str, list[str]] = {}
    for key, value in con.execute(sql).fetchall():
        out.setdefault(key, []).append(value)
    return {k: sorted(v) for k, v in out.items()}


@dataclasses.dataclass
class Facts:
    """What the store holds, read once with plain SQL: the expectations the tests compare with.
    Agents are people (``person_id``), never names."""

    agents: list[str]  # rostered agents (they can sign in)
    email: dict[str, str]
    name: dict[str, str]  # agent -> their name
    leads: list[str]  # lead emails
    team: dict[str, list[str]]  # lead email -> agents
    assignments: dict[str, list[str]]  # agent -> assignment ids
    conversations: dict[str, list[str]]  # agent -> conversations they are scored on
    scored: dict[str, str]  # conversation -> scored agent
    shared_with: dict[str, set[str]]  # agent -> best response conversations of their assignments
    group_rows: list[tuple[str, str]]  # (agent, group assignment id)
    group_members: dict[str, list[str]]  # group assignment id -> members


@pytest.fixture(scope="module")
def facts(con: duckdb.DuckDBPyConnection) -> Facts:
    agents = _column(con, "SELECT person_id FROM people WHERE role = 'Agent' AND on_roster ORDER BY person_id")
    best = _grouped(
        con,
        "SELECT a.person_id, b.conversation_id FROM best_responses b JOIN assignments a USING (assignment_id)",
    )
    facts = Facts(
        agents=agents,
        email=dict(con.execute("SELECT person_id, email FROM people WHERE email IS NOT NULL").fetchall()),
        name=dict(con.execute("SELECT person_id, name FROM people").fetchall()),
        leads=_column(con, "SELECT email FROM people WHERE role = 'Supervisor' ORDER BY email"),
        team=_grouped(con, "SELECT team_lead_email, person_id FROM people WHERE team_lead_email IS NOT NULL"),
        assignments=_grouped(con, "SELECT person_id, assignment_id FROM assignments"),
        conversations=_grouped(con, "SELECT person_id, conversation_id FROM evaluations"),
        scored=dict(con.execute("SELECT conversation_id, person_id FROM evaluations").fetchall()),
        shared_with={k: set(v) for k, v in best.items()},
        group_rows=[
            tuple(r) for r in con.execute(
                "SELECT person_id, assignment_id FROM assignments WHERE coaching_type = 'Group Agents' "
                "ORDER BY assignment_id, person_id"
            ).fetchall()
        ],
        group_members=_grouped(
            con, "SELECT assignment_id, person_id FROM assignments WHERE coaching_type = 'Group Agents'"
        ),
    )
    # The demo must exercise what the tests look for, or they would pass vacuously.
    assert len(facts.agents) == 36 and len(facts.leads) == 3
    assert facts.group_rows, "the demo has group assignments"
    assert any(
        facts.scored[c] != a for a, shared in facts.shared_with.items() for c in shared
    ), "some best response examples are by another agent"
    return facts


def _viewer(con: duckdb.DuckDBPyConnection, email: str) -> Viewer:
    return access.identify(con, email)


# -- 1. an agent sees nothing of another agent ----------------------------------------------------


@PROPERTY
@given(data=st.data())
def test_an_agent_sees_nothing_of_another_agent(con, facts: Facts, data: st.DataObject) -> None:
    a = data.draw(st.sampled_from(facts.agents), label="viewer")
    b = data.draw(st.sampled_from([x for x in facts.agents if x != a]), label="other")
    viewer = _viewer(con, facts.email[a])
    own_assignments = set(facts.assignments.get(a, []))

    b_assignments = facts.assignments.get(b, [])
    if b_assignments:
        assignment_id = data.draw(st.sampled_from(b_assignments), label="other's assignment")
        detail = assignment_detail(con, viewer, assignment_id)
        if assignment_id in own_assignments:  # a group assignment both are members of: A's own row
            assert detail is not None and detail.person_id == a
        else:
            assert detail is None
        assert assignment_detail(con, viewer, assignment_id, person_id=b) is None
        assert marked_interactions(con, viewer, assignment_id, b).empty
        assert best_response_examples(con, viewer, assignment_id, b).empty

    if own_assignments:
        assignment_id = data.draw(st.sampled_from(sorted(own_assignments)), label="own assignment")
        detail = assignment_detail(con, viewer, assignment_id, a)
        assert detail is not None and detail.person_id == a
        marked = marked_interactions(con, viewer, assignment_id, a)
        if not marked.empty:
            assert set(marked["agent"]) == {facts.name[a]}
        assert sorted(marked.get("conversation_id", [])) == sorted(_column(
            con,
            "SELECT c.conversation_id FROM coaching_interactions c "
            "JOIN evaluations e USING (conversation_id) WHERE c.assignment_id = ? AND e.person_id = ?",
            [assignment_id, a],
        ))
        best = best_response_examples(con, viewer, assignment_id, a)
        if not best.empty:
            assert set(best["agent"]) <= {facts.name[a], ANOTHER_AGENT}
            for conversation_id, agent in zip(best["conversation_id"], best["agent"], strict=True):
                assert agent == (facts.name[a] if facts.scored[conversation_id] == a else ANOTHER_AGENT)

    # B's interactions: shared ones (best responses of A's assignments) are drawn often on purpose.
    b_conversations = facts.conversations.get(b, [])
    shared = sorted(set(b_conversations) & facts.shared_with.get(a, set()))
    pools = [st.sampled_from(b_conversations)] if b_conversations else []
    if shared:
        pools.append(st.sampled_from(shared))
    if pools:
        conversation_id = data.draw(st.one_of(pools), label="other's conversation")
        detail = evaluation_detail(con, viewer, conversation_id)
        if conversation_id in facts.shared_with.get(a, set()):
            assert detail is not None
            assert detail.agent == ANOTHER_AGENT
            assert detail.review_events.empty
            assert detail.review_status is None
            assert detail.dispute_rounds is None
        else:
            assert detail is None


def test_each_agent_sees_only_themself_in_lists_and_counts(con, facts: Facts) -> None:
    """The parts of (1) that depend on the viewer alone, for every agent."""
    for a in facts.agents:
        viewer = _viewer(con, facts.email[a])
        assert viewer.person_id == a and viewer.role == AGENT

        listed = assignment_list(con, viewer)
        assert set(listed["person_id"]) <= {a}
        assert sorted(listed["assignment_id"]) == facts.assignments.get(a, [])

        assert agents_in_scope(con, viewer)["person_id"].tolist() == [a]

        own = evaluation_detail(con, viewer, facts.conversations[a][0])
        assert own is not None and own.person_id == a

        overview = store_overview(con, viewer)
        evaluations, audited, first, last = con.execute(
            "SELECT count(*), count(audit_score), min(start_time), max(start_time) FROM evaluations "
            "WHERE person_id = ?",
            [a],
        ).fetchone()
        assert (overview.evaluations, overview.audited, overview.agents) == (evaluations, audited, 1)
        assert (overview.first_interaction, overview.last_interaction) == (first, last)
        assert overview.assignments == con.execute(
            "SELECT count(*) FROM assignments WHERE person_id = ?", [a]
        ).fetchone()[0]
        assert overview.pending_reviews == con.execute(
            "SELECT count(*) FROM evaluation_reviews r JOIN evaluations e USING (conversation_id) "
            "WHERE e.person_id = ? AND r.review_status IN (?, ?)",
            [a, *PENDING],
        ).fetchone()[0]


def test_every_best_response_by_another_agent_is_anonymised(con, facts: Facts) -> None:
    """Exhaustively: each agent's shared examples by someone else open without name or history."""
    checked = 0
    for a in facts.agents:
        viewer = _viewer(con, facts.email[a])
        for conversation_id in sorted(facts.shared_with.get(a, set())):
            detail = evaluation_detail(con, viewer, conversation_id)
            assert detail is not None
            if facts.scored[conversation_id] == a:
                assert detail.person_id == a
                continue
            checked += 1
            assert detail.agent == ANOTHER_AGENT
            assert detail.review_events.empty
            assert detail.review_status is None and detail.dispute_rounds is None
    assert checked > 0


# -- 2. group assignments look individual to agents ----------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    """Every piece of text in what a function returned: cells, column names, fields, nested values."""
    if value is None:
        return
    if isinstance(value, pd.DataFrame):
        yield from (str(c) for c in value.columns)
        for cell in value.to_numpy().ravel():
            yield from _strings(cell)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield f.name
            yield from _strings(getattr(value, f.name))
    elif isinstance(value, (list, tuple, set)) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(items, (list, tuple, set)):
            for item in items:
                yield from _strings(item)
        else:
            yield str(items)
    else:
        yield str(value)


def test_group_assignments_look_individual_to_agents(con, facts: Facts) -> None:
    """Every member of every group assignment: no group columns, no group name, no other name."""
    returned: dict[str, list[Any]] = {}
    for a, assignment_id in facts.group_rows:
        viewer = _viewer(con, facts.email[a])
        if a not in returned:
            listed = assignment_list(con, viewer)
            assert list(listed.columns) == INDIVIDUAL_COLUMNS
            returned[a] = [listed, agents_in_scope(con, viewer), store_overview(con, viewer)]
        for agent in (None, a):
            detail = assignment_detail(con, viewer, assignment_id, agent)
            assert detail is not None and detail.person_id == a
            assert detail.coaching_type is None and detail.group_name is None
            returned[a].append(detail)
        marked = marked_interactions(con, viewer, assignment_id, a)
        best = best_response_examples(con, viewer, assignment_id, a)
        returned[a] += [marked, best]
        if not marked.empty:
            assert set(marked["agent"]) == {facts.name[a]}
        # The interactions these rows link to; marked ones are the agent's own, best responses
        # may be anyone's.
        for conversation_id in [*marked.get("conversation_id", [])[:1], *best.get("conversation_id", [])]:
            returned[a].append(evaluation_detail(con, viewer, conversation_id))

    for a, values in returned.items():
        text = "\n".join(s for value in values for s in _strings(value))
        co_members = {m for g in facts.assignments[a] for m in facts.group_members.get(g, [])} - {a}
        assert co_members, "a group has more than one member"
        for other in sorted(set(facts.agents) - {a}):  # every other agent, co-members included
            assert facts.name[other] not in text, f"{a} is shown {other}'s name"
            assert other not in text, f"{a} is shown {other}'s email"


# -- 3. a lead sees exactly their team ------------------------------------------------------------


def test_each_lead_lists_and_counts_exactly_their_team(con, facts: Facts) -> None:
    """The parts of (3) that depend on the lead alone, for every lead."""
    for lead in facts.leads:
        viewer = _viewer(con, lead)
        assert viewer.role == SUPERVISOR
        team = facts.team[lead]
        assert team == sorted(_column(con, "SELECT person_id FROM people WHERE team_lead_email = ?", [lead]))

        listed = assignment_list(con, viewer)
        assert set(listed["person_id"]) == set(_column(
            con, "SELECT DISTINCT person_id FROM assignments WHERE person_id IN "
            "(SELECT person_id FROM people WHERE team_lead_email = ?)", [lead],
        ))
        assert len(listed) == con.execute(
            "SELECT count(*) FROM assignments a JOIN people p USING (person_id) "
            "WHERE p.team_lead_email = ?",
            [lead],
        ).fetchone()[0]
        assert {"coaching_type", "group_name"} <= set(listed.columns)
        assert sorted(agents_in_scope(con, viewer)["person_id"]) == team
        for member in team:
            detail = evaluation_detail(con, viewer, facts.conversations[member][0])
            assert detail is not None and detail.person_id == member

        overview = store_overview(con, viewer)
        evaluations, audited, agents, pending = con.execute(
            "SELECT count(*), count(e.audit_score), count(DISTINCT e.person_id), "
            "count(*) FILTER (WHERE r.review_status IN (?, ?)) "
            "FROM evaluations e LEFT JOIN evaluation_reviews r USING (conversation_id) "
            "WHERE e.person_id IN (SELECT person_id FROM people WHERE team_lead_email = ?)",
            [*PENDING, lead],
        ).fetchone()
        assert (overview.evaluations, overview.audited, overview.agents) == (evaluations, audited, agents)
        assert overview.pending_reviews == pending
        assert overview.assignments == len(listed)


@PROPERTY
@given(data=st.data())
def test_a_lead_sees_nothing_outside_their_team(con, facts: Facts, data: st.DataObject) -> None:
    lead = data.draw(st.sampled_from(facts.leads), label="lead")
    viewer = _viewer(con, lead)
    team = facts.team[lead]
    outsiders = [x for x in facts.agents if x not in team]
    member = data.draw(st.sampled_from(team), label="member")
    outsider = data.draw(st.sampled_from(outsiders), label="outsider")

    member_assignments = facts.assignments.get(member, [])
    if member_assignments:
        assignment_id = data.draw(st.sampled_from(member_assignments), label="member's assignment")
        detail = assignment_detail(con, viewer, assignment_id, member)
        assert detail is not None and detail.person_id == member
        marked = marked_interactions(con, viewer, assignment_id, member)
        if not marked.empty:
            assert set(marked["agent"]) == {facts.name[member]}
        best = best_response_examples(con, viewer, assignment_id, member)
        shown = zip(best.get("conversation_id", []), best.get("agent", []), strict=True)
        for conversation_id, agent in shown:
            by = facts.scored[conversation_id]
            assert agent == (facts.name[by] if by in team else ANOTHER_AGENT)
    outsider_assignments = facts.assignments.get(outsider, [])
    if outsider_assignments:
        assignment_id = data.draw(st.sampled_from(outsider_assignments), label="outsider's assignment")
        assert assignment_detail(con, viewer, assignment_id, outsider) is None
        assert marked_interactions(con, viewer, assignment_id, outsider).empty
        assert best_response_examples(con, viewer, assignment_id, outsider).empty

    shared = set().union(*(facts.shared_with.get(m, set()) for m in team))
    outsider_conversations = facts.conversations.get(outsider, [])
    pools = [st.sampled_from(outsider_conversations)] if outsider_conversations else []
    if shared & set(outsider_conversations):
        pools.append(st.sampled_from(sorted(shared & set(outsider_conversations))))
    if pools:
        conversation_id = data.draw(st.one_of(pools), label="outsider's conversation")
        detail = evaluation_detail(con, viewer, conversation_id)
        if conversation_id in shared:
            assert detail is not None and detail.agent == ANOTHER_AGENT
            assert detail.review_events.empty and detail.review_status is None
        else:
            assert detail is None


# -- 4. QA and admins see everyone ----------------------------------------------------------------


@pytest.mark.parametrize("email", ["qa@example.com", "admin@example.com"])
def test_qa_and_admins_see_everyone(con, facts: Facts, email: str) -> None:
    viewer = _viewer(con, email)
    assert viewer.role in (QA, ADMIN) and viewer.sees_everyone

    def count(sql: str) -> int:
        return con.execute(sql).fetchone()[0]

    assert len(assignment_list(con, viewer)) == count("SELECT count(*) FROM assignments")
    assert sorted(agents_in_scope(con, viewer)["person_id"]) == _column(
        con, "SELECT person_id FROM people WHERE role = 'Agent' ORDER BY person_id"
    )
    overview = store_overview(con, viewer)
    assert overview.evaluations == count("SELECT count(*) FROM evaluations")
    assert overview.audited == count("SELECT count(audit_score) FROM evaluations")
    assert overview.agents == count("SELECT count(DISTINCT person_id) FROM evaluations")
    assert overview.assignments == count("SELECT count(*) FROM assignments")
    assert overview.pending_reviews == count(
        "SELECT count(*) FROM evaluation_reviews WHERE review_status IN "
        "('Pending Agent Review', 'Pending Supervisor Review')"
    )
    for agent, assignment_id in facts.group_rows[:10]:
        detail = assignment_detail(con, viewer, assignment_id, agent)
        assert detail is not None and detail.coaching_type == "Group Agents" and detail.group_name
        best = best_response_examples(con, viewer, assignment_id, agent)
        assert ANOTHER_AGENT not in set(best.get("agent", []))
    for conversation_id in list(facts.scored)[::200]:
        detail = evaluation_detail(con, viewer, conversation_id)
        assert detail is not None and detail.person_id == facts.scored[conversation_id]


# -- 5. identify and can --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unrostered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """A small store whose roster leaves out one evaluated agent: the import adds them by name."""
    folder = tmp_path_factory.mktemp("unrostered")
    demo.generate(demo.DemoSpec(agents=4, days=20, seed=2, end=SPEC.end), folder / "exports")
    roster = folder / "exports" / "roster.csv"
    with roster.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    dropped = next(r for r in rows[2:] if r["Role"] == "Agent")
    with roster.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r is not dropped)
    db = folder / "store.duckdb"
    summary = import_files(db, [folder / "exports"])
    assert any(dropped["Agent Name"] in w for w in summary.warnings)
    connection = duckdb.connect(str(db), read_only=True)
    yield connection, dropped["Agent Name"]
    connection.close()


def test_an_unknown_email_is_denied_with_a_clear_message(con) -> None:
    with pytest.raises(AccessDenied, match=r"nobody@example\.com is not on the dashboard's roster"):
        access.identify(con, "Nobody@Example.com")
    for missing in (None, "", "   "):
        with pytest.raises(AccessDenied, match="no email"):
            access.identify(con, missing)


def test_email_matching_ignores_case_and_surrounding_spaces(con, facts: Facts) -> None:
    plain = access.identify(con, "agent@example.com")
    assert access.identify(con, "  AGENT@Example.COM\t") == plain
    assert access.identify(con, " Lead@EXAMPLE.com ") == access.identify(con, "lead@example.com")
    assert plain.email == "agent@example.com"


def test_an_agent_not_on_the_roster_cannot_sign_in(unrostered) -> None:
    con, name = unrostered
    assert con.execute("SELECT email, on_roster, role FROM people WHERE name = ?", [name]).fetchall() == [
        (None, False, AGENT)
    ]
    assert con.execute("SELECT count(*) FROM evaluations WHERE scored_agent = ?", [name]).fetchone()[0] > 0
    would_be = name.lower().replace(" ", ".") + "@example.com"
    for email in (would_be, name, "null", "NULL"):
        with pytest.raises(AccessDenied):
            access.identify(con, email)
    # Nobody's team: only QA and admins see them.
    lead = access.identify(con, "lead@example.com")
    assert name not in agents_in_scope(con, lead)["agent"].tolist()
    assert con.execute("SELECT person_id FROM people WHERE name = ?", [name]).fetchone()[0] == f"name:{name}"
    assert name in agents_in_scope(con, access.identify(con, "qa@example.com"))["agent"].tolist()


def test_what_each_role_can_open(con, facts: Facts) -> None:
    no_coaching = access.identify(con, "no-coaching@example.com")
    assert no_coaching.role == AGENT and no_coaching.permissions == ("Agent Dashboard",)
    assert not access.can(no_coaching, Capability.COACHING)
    assert access.can(no_coaching, Capability.OVERVIEW)
    message = access.missing_permissions(no_coaching, Capability.COACHING)
    assert "Coaching Assignments" in message and "Agent Dashboard" not in message

    agent = access.identify(con, "agent@example.com")
    assert access.can(agent, Capability.COACHING)
    assert not access.can(agent, Capability.TEAM_ANALYTICS)

    lead = access.identify(con, "lead@example.com")
    assert access.can(lead, Capability.TEAM_ANALYTICS) and access.can(lead, Capability.COACHING)

    everyone = [access.identify(con, e) for e in sorted(set(facts.email.values()))]
    assert {v.role for v in everyone} == {AGENT, SUPERVISOR, QA, ADMIN}
    for viewer in everyone:
        assert access.can(viewer, Capability.IMPORT) == (viewer.role == ADMIN), viewer
    assert set(demo.DEMO_ACCOUNTS) <= set(facts.email.values())
    for email, role in demo.DEMO_ACCOUNTS.items():
        assert access.identify(con, email).role == role


# -- 6. scopes key caches -------------------------------------------------------------------------


def test_scopes_separate_what_viewers_see(con, facts: Facts) -> None:
    agent_scopes = [access.identify(con, facts.email[a]).scope for a in facts.agents]
    assert len(set(agent_scopes)) == len(agent_scopes)
    qa, admin = access.identify(con, "qa@example.com"), access.identify(con, "admin@example.com")
    assert qa.scope == admin.scope == ("everyone",)
    lead_scopes = [access.identify(con, lead).scope for lead in facts.leads]
    assert len(set(lead_scopes)) == len(lead_scopes)
    for scope in lead_scopes:
        assert scope not in agent_scopes and scope != qa.scope


# -- 7. viewer data is bound, never interpolated --------------------------------------------------


INJECTION = "x' OR '1'='1"


@pytest.mark.parametrize("role", [AGENT, SUPERVISOR])
def test_viewer_data_is_never_interpolated_into_sql(con, facts: Facts, role: str) -> None:
    viewer = Viewer(name=INJECTION, email=INJECTION, role=role, team=INJECTION,
                    permissions=access.COACHING_PERMISSIONS)
    condition, params = access.agent_filter(viewer, "a.person_id")
    assert INJECTION not in condition and "'" not in condition and params == [INJECTION]

    assert assignment_list(con, viewer).empty
    assert agents_in_scope(con, viewer).empty
    overview = store_overview(con, viewer)
    assert (overview.evaluations, overview.assignments, overview.pending_reviews) == (0, 0, 0)
    agent, assignment_id = facts.group_rows[0]
    assert assignment_detail(con, viewer, assignment_id) is None
    assert assignment_detail(con, viewer, assignment_id, agent) is None
    assert marked_interactions(con, viewer, assignment_id, agent).empty
    assert best_response_examples(con, viewer, assignment_id, agent).empty
    assert evaluation_detail(con, viewer, facts.conversations[agent][0]) is None


def test_filters_bind_what_a_viewer_or_url_chooses(con, facts: Facts) -> None:
    """The filter builders (coaching.sql.Where) bind every chosen value by name: a hostile one matches
    nothing and is never part of the SQL text."""
    qa = access.identify(con, "qa@example.com")
    where = (sql.Where().scope(qa, "e.person_id").one_of("e.person_id", "agents", [INJECTION])
             .any_of("e.queues", "queues", [INJECTION]))
    assert INJECTION not in where.sql and "'" not in where.sql
    assert where.params == {"agents": [INJECTION], "queues": [INJECTION]}
    assert assignment_list(con, qa, AssignmentFilters(statuses=(INJECTION,))).empty
    assert assignment_list(con, qa, AssignmentFilters(coaching_areas=(INJECTION,))).empty
    chosen = ReviewFilters(agents=(INJECTION,))
    assert review_counts(con, qa, chosen) == dict.fromkeys(TABS, 0)
    assert all(review_tab(con, qa, tab, chosen).empty for tab in TABS)
    everything = trends.TrendFilters.last_days(SPEC.end, 400)
    for narrowed in ({"teams": (INJECTION,)}, {"agents": (INJECTION,)}, {"queues": (INJECTION,)},
                     {"forms": (INJECTION,)}, {"coaching_areas": (INJECTION,)}):
        filters = dataclasses.replace(everything, **narrowed)
        assert trends.score_trends(con, qa, filters).empty, narrowed
        if set(narrowed) <= {"teams", "agents", "coaching_areas"}:  # the filters assignments have
            assert trends.coaching_monitor(con, qa, SPEC.end, filters).empty, narrowed
    assert not trends.score_trends(con, qa, everything).empty


def test_the_scope_bound_by_name_is_agent_filter(con, facts: Facts) -> None:
    """coaching.sql.scope is access.agent_filter with named parameters: the same people for every role."""
    viewers = [access.identify(con, facts.email[facts.agents[0]]), access.identify(con, facts.leads[0]),
               access.identify(con, "qa@example.com"),
               Viewer(name="Auditor", email="auditor@example.com", role="Auditor", team=None, permissions=())]
    for viewer in viewers:
        positional, params = access.agent_filter(viewer, "p.person_id")
        named, named_params = sql.scope(viewer, "p.person_id")
        assert "?" not in named and list(named_params.values()) == params
        query = "SELECT person_id FROM people p WHERE {} ORDER BY person_id"
        assert (con.execute(query.format(named), named_params).fetchall()
                == con.execute(query.format(positional), params).fetchall()), viewer.role


def test_named_parameters_are_checked() -> None:
    assert sql.named("a = ? OR b = ?", [1, 2], "p") == ("a = $p_1 OR b = $p_2", {"p_1": 1, "p_2": 2})
    with pytest.raises(ValueError, match="parameter"):
        sql.named("a = ? AND b = ?", [1], "p")
    with pytest.raises(ValueError, match=r"\$x is bound to two values"):
        sql.merge({"x": 1}, {"x": 2})
    assert sql.merge({"x": 1}, {"x": 1, "y": 2}) == {"x": 1, "y": 2}
    # An empty filter narrows nothing.
    where = sql.Where().one_of("c", "cs", ()).any_of("l", "ls", []).on_or_after("d", "f", None)
    assert (where.sql, where.params) == ("true", {})


def test_an_unknown_role_sees_nothing(con, facts: Facts) -> None:
    viewer = Viewer(name=facts.agents[0], email=facts.email[facts.agents[0]], role="Auditor", team=None,
                    permissions=access.COACHING_PERMISSIONS)
    # Caches are keyed by scope: an unknown role must not share QA's and admins' key.
    assert viewer.scope != access.identify(con, "qa@example.com").scope
    assert assignment_list(con, viewer).empty
    assert agents_in_scope(con, viewer).empty
    assert store_overview(con, viewer).evaluations == 0
    assert evaluation_detail(con, viewer, facts.conversations[facts.agents[0]][0]) is None

"""A person is their email (or Kore's Agent ID), never their display name.

Real rosters have two people with one name (a new hire). The import never resolves such a name silently:
a row that names only "Priya Nair" when two Priya Nairs exist is reported with its line, unless it says
which (Agent Email or Agent ID); rows already stored keep the person they had.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coaching import access
from coaching.assignments import assignment_list
from coaching.importer import import_files
from coaching.problems import ImportFailed
from coaching.reviews import ReviewFilters, review_counts
from coaching.trends import TrendFilters, filter_options, kore_vs_audit

PRIYA = "priya.nair@example.com"
NEW_PRIYA = "priya.nair2@example.com"
IE_HEADER = (
    "ConversationID,Channel,Queues,Last Queue,Language,Agents,Scored Agent,Start Time,Sentiment Score,Topics,"
    "Escalation,Kore Evaluation Score,Is Passed,Is Fatal Interaction,Audit Score,Contact Direction,"
    "Duration Status,Evaluation Form,Intent,Greeting,Greeting - Is Fatal Metric,Greeting - Adherence Weight,"
    "Greeting - Violation"
)


def evaluation(conversation_id: str, agent: str, day: int = 2, score: int = 50) -> str:
    return (f"{conversation_id},Voice,Billing queue,Billing queue,en,{agent},{agent},2026-07-{day:02d}T10:00:00Z,"
            f"6,topic,0,{score},1,0,{score},inbound,Evaluated,Billing Voice form,Intent,1,0,10,10")


def report(*rows: str, header: str = IE_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def people(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT person_id, name, email, on_roster FROM people ORDER BY person_id").fetchall()


def scored(db: Path) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(con.execute("SELECT conversation_id, person_id FROM evaluations").fetchall())


def seen_by(db: Path, email: str) -> set[str]:
    """The conversations an agent's Kore-vs-audit and Review counts see: what scope gives them."""
    with duckdb.connect(str(db), read_only=True) as con:
        viewer = access.identify(con, email)
        points = kore_vs_audit(con, viewer, TrendFilters(date(2026, 7, 1), date(2026, 7, 31)))
        return set(points["conversation_id"])


@pytest.fixture
def store(tmp_path: Path, templates: Path, write) -> Path:
    """The templates' store, then one evaluation of the first Priya Nair's."""
    db = tmp_path / "store.duckdb"
    import_files(db, [templates / "roster.csv"])
    import_files(db, [write("first.csv", report(evaluation("p-1", "Priya Nair")))])
    return db


def add_new_priya(db: Path, write) -> None:
    summary = import_files(db, [write("new-hire.csv", "Agent Name,Email,Team,Team Lead,Role,Permissions\n"
                                      "Priya Nair,priya.nair2@example.com,Billing East,sam.ortiz@example.com,Agent,"
                                      '"Agent Dashboard, Coaching Assignments"\n')])
    roster = summary.kinds["roster"]
    assert (roster.new, roster.updated) == (1, 0)  # a new person, not the first Priya changed


def test_a_second_person_with_the_same_name_is_a_new_person(store: Path, write) -> None:
    add_new_priya(store, write)
    assert [(p, n, e, r) for p, n, e, r in people(store) if n == "Priya Nair"] == [
        (NEW_PRIYA, "Priya Nair", NEW_PRIYA, True), (PRIYA, "Priya Nair", PRIYA, True),
    ]
    with duckdb.connect(str(store), read_only=True) as con:
        first, second = access.identify(con, PRIYA), access.identify(con, NEW_PRIYA)
    assert first.scope != second.scope
    assert scored(store)["p-1"] == PRIYA
    assert seen_by(store, PRIYA) == {"p-1"}
    assert seen_by(store, NEW_PRIYA) == set()  # the new hire sees nothing of the first Priya's


def test_a_name_that_two_people_have_is_reported_with_its_line(store: Path, write) -> None:
    add_new_priya(store, write)
    path = write("next.csv", report(evaluation("p-2", "Tom Becker"), evaluation("p-3", "Priya Nair")))
    with pytest.raises(ImportFailed) as failed:
        import_files(store, [path])
    [problem] = failed.value.problems
    assert (problem.file, problem.line, problem.column, problem.value) == (str(path), 3, "Scored Agent",
                                                                           "Priya Nair")
    assert "2 people are named Priya Nair" in problem.expected
    assert PRIYA in problem.expected and NEW_PRIYA in problem.expected and "Agent Email" in problem.expected
    assert "p-2" not in scored(store)  # nothing of the run landed


def test_an_agent_email_decides_who_a_shared_name_is(store: Path, write) -> None:
    add_new_priya(store, write)
    header = IE_HEADER.replace("Scored Agent,", "Scored Agent,Agent Email,")
    row = evaluation("p-3", "Priya Nair").replace("Priya Nair,Priya Nair,", f"Priya Nair,Priya Nair,{NEW_PRIYA},")
    import_files(store, [write("next.csv", report(row, header=header))])
    assert scored(store) == {"p-1": PRIYA, "p-3": NEW_PRIYA}
    assert seen_by(store, NEW_PRIYA) == {"p-3"} and seen_by(store, PRIYA) == {"p-1"}


def test_a_stored_evaluation_keeps_its_person_when_imported_again(store: Path, write) -> None:
    add_new_priya(store, write)
    summary = import_files(store, [write("first-again.csv", report(evaluation("p-1", "Priya Nair")))])
    assert summary.kinds["evaluations"].unchanged == 1
    assert scored(store) == {"p-1": PRIYA}


def test_an_assignment_for_a_shared_name_needs_its_agent_email(store: Path, write, templates: Path) -> None:
    add_new_priya(store, write)
    header = "Assignment ID,Name,Agent,Coaching Type,Coaching Areas,Assigned Date,Status"
    path = write("assignments.csv", f"{header}\nA-9,Empathy,Priya Nair,Individual Agent,Empathy,2026-07-30,"
                                    "In Progress\n")
    with pytest.raises(ImportFailed) as failed:
        import_files(store, [path])
    [problem] = failed.value.problems
    assert (problem.line, problem.column, problem.value) == (2, "Agent", "Priya Nair")
    import_files(store, [write("assignments.csv", f"{header},Agent Email\nA-9,Empathy,Priya Nair,Individual Agent,"
                                                  f"Empathy,2026-07-30,In Progress,{NEW_PRIYA}\n")])
    with duckdb.connect(str(store), read_only=True) as con:
        mine = assignment_list(con, access.identify(con, NEW_PRIYA))
        theirs = assignment_list(con, access.identify(con, PRIYA))
    assert list(mine["assignment_id"]) == ["A-9"] and "A-9" not in set(theirs["assignment_id"])


def test_an_agent_known_only_by_name_joins_the_roster_entry_that_names_them(tmp_path: Path, write) -> None:
    db = tmp_path / "store.duckdb"
    import_files(db, [write("first.csv", report(evaluation("n-1", "Nia Ndiaye")))])
    assert people(db) == [("name:Nia Ndiaye", "Nia Ndiaye", None, False)]
    import_files(db, [write("roster.csv", "Agent Name,Email,Role\nNia Ndiaye,nia@example.com,Agent\n")])
    assert people(db) == [("nia@example.com", "Nia Ndiaye", "nia@example.com", True)]
    assert scored(db) == {"n-1": "nia@example.com"}


def test_kores_agent_id_ties_evaluations_to_the_roster(tmp_path: Path, write) -> None:
    db = tmp_path / "store.duckdb"
    header = IE_HEADER.replace("Scored Agent,", "Scored Agent,Agent ID,")
    row = evaluation("k-1", "N. Ndiaye").replace("N. Ndiaye,N. Ndiaye,", "N. Ndiaye,N. Ndiaye,a-77,")
    import_files(db, [write("first.csv", report(row, header=header))])
    assert scored(db) == {"k-1": "agent-id:a-77"}
    # The roster calls her by another name; her Agent ID says who she is.
    import_files(db, [write("roster.csv", "Agent Name,Email,Agent ID,Role\nNia Ndiaye,nia@example.com,a-77,Agent\n")])
    assert scored(db) == {"k-1": "nia@example.com"}
    assert [p for p, *_ in people(db)] == ["nia@example.com"]


def test_an_agent_id_is_one_persons(tmp_path: Path, write) -> None:
    db = tmp_path / "store.duckdb"
    import_files(db, [write("roster.csv", "Agent Name,Email,Agent ID,Role\nNia Ndiaye,nia@example.com,a-77,Agent\n")])
    path = write("more.csv", "Agent Name,Email,Agent ID,Role\nNed Ndiaye,ned@example.com,a-77,Agent\n")
    with pytest.raises(ImportFailed) as failed:
        import_files(db, [path])
    [problem] = failed.value.problems
    assert (problem.line, problem.column, problem.value) == (2, "Agent ID", "a-77")
    assert "Nia Ndiaye" in problem.expected


def test_a_lead_tells_namesakes_apart_in_the_agent_filters(store: Path, write) -> None:
    add_new_priya(store, write)
    header = IE_HEADER.replace("Scored Agent,", "Scored Agent,Agent Email,")
    row = evaluation("p-3", "Priya Nair").replace("Priya Nair,Priya Nair,", f"Priya Nair,Priya Nair,{NEW_PRIYA},")
    import_files(store, [write("next.csv", report(row, header=header))])
    with duckdb.connect(str(store), read_only=True) as con:
        lead = access.identify(con, "sam.ortiz@example.com")
        labels = filter_options(con, lead)["agent_labels"]
        assert labels[PRIYA] == f"Priya Nair ({PRIYA})" and labels[NEW_PRIYA] == f"Priya Nair ({NEW_PRIYA})"
        only_new = review_counts(con, lead, ReviewFilters(agents=(NEW_PRIYA,)))
        assert sum(only_new.values()) == 0


# -- a property: whatever the names, each agent sees exactly the rows that name them by email ---------


@settings(max_examples=25, deadline=None, database=None)
@given(
    names=st.lists(st.sampled_from(["Ana Silva", "Li Wei", "Sam Lee"]), min_size=2, max_size=5),
    owners=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=8),
)
def test_each_agent_sees_exactly_the_evaluations_that_name_their_email(
    tmp_path_factory: pytest.TempPathFactory, names: list[str], owners: list[int]
) -> None:
    folder = tmp_path_factory.mktemp("namesakes")
    emails = [f"agent{i}@example.com" for i in range(len(names))]
    (folder / "roster.csv").write_text("Agent Name,Email,Role\n" + "".join(
        f"{n},{e},Agent\n" for n, e in zip(names, emails, strict=True)), encoding="utf-8")
    header = IE_HEADER.replace("Scored Agent,", "Scored Agent,Agent Email,")
    rows = []
    for k, owner in enumerate(owners):
        i = owner % len(names)
        rows.append(evaluation(f"c-{k}", names[i]).replace(f"{names[i]},{names[i]},",
                                                            f"{names[i]},{names[i]},{emails[i]},"))
    (folder / "report.csv").write_text(report(*rows, header=header), encoding="utf-8")
    db = folder / "store.duckdb"
    import_files(db, [folder / "roster.csv", folder / "report.csv"])
    for i, email in enumerate(emails):
        expected = {f"c-{k}" for k, owner in enumerate(owners) if owner % len(names) == i}
        assert seen_by(db, email) == expected

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
from coaching.importer import ImportFailed, import_files
from coaching.review_tabs import ReviewFilters, review_counts
from coaching.trends import TrendFilters, filter_options, kore_vs_audit

from exports import IE_HEADER, csv_text, fails

PRIYA = "priya.nair@example.com"
NEW_PRIYA = "priya.nair2@example.com"


def evaluation(conversation_id: str, agent: str, day: int = 2, score: int = 50) -> str:
    return (f"{conversation_id},Voice,Billing queue,Billing queue,en,{agent},{agent},2026-07-{day:02d}T10:00:00Z,"
            f"6,topic,0,{score},1,0,{score},inbound,Evaluated,Billing Voice form,Intent,1,0,10,10")


#: The report with the optional Agent Email column after Scored Agent.
BY_EMAIL_HEADER = IE_HEADER.replace("Scored Agent,", "Scored Agent,Agent Email,")


def evaluation_by_email(conversation_id: str, agent: str, email: str) -> str:
    """A row of :data:`BY_EMAIL_HEADER`: the agent's name, and the email that says who they are."""
    return evaluation(conversation_id, agent).replace(f"{agent},{agent},", f"{agent},{agent},{email},")


def report(*rows: str, header: str = IE_HEADER) -> str:
    return csv_text(header, *rows)


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


def import_new_priyas_evaluation(db: Path, write) -> None:
    """p-3, the new hire's evaluation, told apart from the first Priya's by its Agent Email."""
    import_files(db, [write("next.csv", report(evaluation_by_email("p-3", "Priya Nair", NEW_PRIYA),
                                               header=BY_EMAIL_HEADER))])


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
    import_new_priyas_evaluation(store, write)
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
    import_new_priyas_evaluation(store, write)
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
    rows = [evaluation_by_email(f"c-{k}", names[owner % len(names)], emails[owner % len(names)])
            for k, owner in enumerate(owners)]
    (folder / "report.csv").write_text(report(*rows, header=BY_EMAIL_HEADER), encoding="utf-8")
    db = folder / "store.duckdb"
    import_files(db, [folder / "roster.csv", folder / "report.csv"])
    for i, email in enumerate(emails):
        expected = {f"c-{k}" for k, owner in enumerate(owners) if owner % len(names) == i}
        assert seen_by(db, email) == expected


# -- what a second read found ------------------------------------------------------------------------

ASSIGNMENT_HEADER = "Assignment ID,Name,Agent,Agent Email,Coaching Type,Group Name,Coaching Areas,Assigned Date,Status"


def assignments(*rows: str) -> str:
    return "\n".join([ASSIGNMENT_HEADER, *rows]) + "\n"


def stored_assignments(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT assignment_id, person_id FROM assignments ORDER BY ALL").fetchall()


def test_one_person_twice_in_an_assignment_is_reported_not_a_crash(store: Path, write) -> None:
    path = write("a.csv", assignments(
        "G-1,Basics,Priya Nair,,Group Agents,East,Empathy,2026-07-30,In Progress",
        f"G-1,Basics,P. Nair,{PRIYA},Group Agents,East,Empathy,2026-07-30,In Progress"))
    [problem] = fails(store, [path]).problems
    assert (problem.line, problem.column, problem.value) == (3, "Agent", PRIYA)
    assert problem.expected == f"Assignment ID and Agent not already on line 2 of {path}"


def test_a_match_by_name_to_the_roster_is_reported(tmp_path: Path, write) -> None:
    db = tmp_path / "store.duckdb"
    import_files(db, [write("first.csv", report(evaluation("n-1", "Nia Ndiaye")))])
    summary = import_files(db, [write("roster.csv", "Agent Name,Email,Role\nNia Ndiaye,nia@example.com,Agent\n")])
    [warning] = summary.warnings
    assert "matched by name" in warning and "Nia Ndiaye → nia@example.com (1 evaluation(s))" in warning


def test_a_namesake_joining_the_roster_is_reported(store: Path, write) -> None:
    summary = import_files(store, [write("new-hire.csv", "Agent Name,Email,Role\n"
                                                          f"Priya Nair,{NEW_PRIYA},Agent\n")])
    [warning] = summary.warnings
    assert warning.startswith(f"Priya Nair ({NEW_PRIYA}) is new and has the name of {PRIYA}, whose 1 evaluation(s)")
    assert scored(store) == {"p-1": PRIYA}  # they stay the first Priya's


def test_adopting_a_member_already_in_the_group_by_email_keeps_one_row(tmp_path: Path, write) -> None:
    db = tmp_path / "store.duckdb"
    by_email = evaluation_by_email("a-2", "Alex K", "alex@example.com")
    import_files(db, [write("e.csv", report(evaluation("a-1", "Alex Kim"))),
                      write("e2.csv", report(by_email, header=BY_EMAIL_HEADER)),
                      write("a.csv", assignments(
                          "G-1,Basics,Alex Kim,,Group Agents,East,Empathy,2026-07-30,In Progress",
                          "G-1,Basics,Alex K,alex@example.com,Group Agents,East,Empathy,2026-07-30,In Progress"))])
    import_files(db, [write("roster.csv", "Agent Name,Email,Role\nAlex Kim,alex@example.com,Agent\n")])
    assert stored_assignments(db) == [("G-1", "alex@example.com")]
    # The same file again names one person twice, now that both names are known to be hers: reported.
    [problem] = fails(db, [tmp_path / "a.csv"]).problems
    assert (problem.line, problem.column, problem.value) == (3, "Agent", "alex@example.com")


def test_an_agent_id_given_to_two_people_is_reported(tmp_path: Path, write) -> None:
    db = tmp_path / "store.duckdb"
    header = IE_HEADER.replace("Scored Agent,", "Scored Agent,Agent Email,Agent ID,")

    def row(cid: str, name: str, email: str, agent_id: str) -> str:
        return evaluation(cid, name).replace(f"{name},{name},", f"{name},{name},{email},{agent_id},")

    import_files(db, [write("e.csv", report(row("x-1", "Xavi", "xavi@example.com", "a-77"), header=header))])
    roster = write("roster.csv", "Agent Name,Email,Agent ID,Role\nYara,yara@example.com,a-77,Agent\n")
    [problem] = fails(db, [roster]).problems
    assert (problem.column, problem.value) == ("Agent ID", "a-77") and "xavi@example.com" in problem.expected
    # In one run: an email with an Agent ID, and that Agent ID alone, are the same person.
    import_files(db, [write("z.csv", report(row("z-1", "Zed", "zed@example.com", "z-1"),
                                            row("z-2", "Zed", "", "z-1"), header=header))])
    assert {c: p for c, p in scored(db).items() if c.startswith("z")} == {"z-1": "zed@example.com",
                                                                          "z-2": "zed@example.com"}
    # A row that gives an email is that person, whoever stored rows gave its Agent ID to (an email that
    # changed, the Agent ID staying): the stored rows keep theirs.
    import_files(db, [write("w.csv", report(row("w-1", "Zed", "other@example.com", "z-1"), header=header))])
    assert {c: p for c, p in scored(db).items() if c[0] in "wz"} == {
        "w-1": "other@example.com", "z-1": "zed@example.com", "z-2": "zed@example.com"}
    # A row that gives the Agent ID alone, when this import's rows give it to two people, is reported.
    both = write("v.csv", report(row("v-1", "Zed", "zed@example.com", "z-1"), row("v-2", "Zed", "other@example.com",
                                                                               "z-1"),
                                 row("v-3", "Zed", "", "z-1"), header=header))
    [problem] = fails(db, [both]).problems
    assert (problem.line, problem.column, problem.value) == (4, "Agent ID", "z-1")
    assert "other@example.com" in problem.expected and "zed@example.com" in problem.expected


def test_an_individual_assignment_can_be_given_to_the_right_namesake(store: Path, write) -> None:
    import_files(store, [write("a.csv", assignments("A-1,Empathy,Priya Nair,,Individual Agent,,Empathy,2026-07-30,"
                                                    "In Progress"))])
    assert stored_assignments(store) == [("A-1", PRIYA)]
    add_new_priya(store, write)
    import_files(store, [write("a.csv", assignments(f"A-1,Empathy,Priya Nair,{NEW_PRIYA},Individual Agent,,"
                                                    "Empathy,2026-07-30,In Progress"))])
    assert stored_assignments(store) == [("A-1", NEW_PRIYA)]


def test_every_problem_of_a_run_is_found_in_that_run(store: Path, write) -> None:
    add_new_priya(store, write)
    header = "Assignment ID,Name,Agent,Coaching Type,Coaching Areas,Assigned Date,Follow-Up Date,Status"
    problems = fails(store, [
        write("e.csv", report(evaluation("p-9", "Priya Nair"))),
        write("a.csv", f"{header}\nA-1,Empathy,Priya Nair,Individual Agent,Empathy,2026-07-30,2026-07-01,Open\n"
                       f"A-2,Empathy,Priya Nair,Individual Agent,Empathy,2026-07-30,,In Progress\n"),
    ]).problems
    assert sorted((Path(p.file).name, p.line, p.column) for p in problems) == [
        ("a.csv", 2, "Status"), ("a.csv", 3, "Agent"), ("e.csv", 2, "Scored Agent")]


def test_an_unknown_agent_email_is_reported_on_its_column(store: Path, write) -> None:
    [problem] = fails(store, [write("a.csv", assignments(
        "A-1,Empathy,Priya Nair,priya.nair@example.con,Individual Agent,,Empathy,2026-07-30,In Progress"))]).problems
    assert (problem.line, problem.column, problem.value) == (2, "Agent Email", "priya.nair@example.con")
    assert problem.expected == "the email of someone on the roster or in the evaluations"


def test_namesakes_are_two_rows_of_the_gap_per_agent(store: Path, write) -> None:
    from coaching.trends import audit_gap_by_agent

    add_new_priya(store, write)
    import_new_priyas_evaluation(store, write)
    with duckdb.connect(str(store), read_only=True) as con:
        gaps = audit_gap_by_agent(con, access.identify(con, "sam.ortiz@example.com"),
                                  TrendFilters(date(2026, 7, 1), date(2026, 7, 31)))
    assert sorted(zip(gaps["person_id"], gaps["agent"], strict=True)) == [
        (NEW_PRIYA, f"Priya Nair ({NEW_PRIYA})"), (PRIYA, f"Priya Nair ({PRIYA})")]

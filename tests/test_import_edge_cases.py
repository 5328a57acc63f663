"""Edge cases found in review: each imports cleanly, or fails with a problem a person can act on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from coaching.importer import import_files
from coaching.settings import ImportSettings

from exports import ROSTER_HEADER, csv_text, fails, query


@pytest.fixture
def base(tmp_path: Path, templates: Path) -> Path:
    """A store loaded from the templates."""
    db = tmp_path / "base.duckdb"
    import_files(db, [templates])
    return db


def test_a_roster_without_permissions_or_team_keeps_what_the_store_knows(base: Path, write) -> None:
    roster = write(
        "roster.csv",
        "Agent Name,Email,Role\nPriya Nair,priya.nair@example.com,Agent\nNew Person,new@example.com,Agent\n",
    )
    summary = import_files(base, [roster])
    assert summary.kinds["roster"].new == 1 and summary.kinds["roster"].unchanged == 1
    rows = {
        name: (team, permissions)
        for name, team, permissions in query(
            base, "SELECT name, team, permissions FROM people WHERE name IN ('Priya Nair', 'New Person')"
        )
    }
    assert rows["Priya Nair"] == ("Billing East", ["Agent Dashboard", "Coaching Assignments"])
    assert rows["New Person"] == (None, [])


def test_a_bad_row_does_not_hide_an_unknown_reference(base: Path, write) -> None:
    assignments = write(
        "assignments.csv",
        "Assignment ID,Name,Agent,Coaching Type,Coaching Areas,Assigned Date,Status\n"
        ",Broken,Priya Nair,Individual Agent,Empathy,2026-08-01,In Progress\n",
    )
    marked = write(
        "marked.csv", "Assignment ID,ConversationID,Coaching Area\nA-100,c-0001,Empathy\nA-999,c-0001,Empathy\n"
    )
    problems = fails(base, [assignments, marked]).problems
    found = {(Path(p.file).name, p.line, p.column, p.value) for p in problems}
    assert ("assignments.csv", 2, "Assignment ID", None) in found
    assert ("marked.csv", 3, "Assignment ID", "A-999") in found
    assert len(problems) == 2, [str(p) for p in problems]


def test_an_unreadable_file_does_not_make_every_reference_to_it_a_problem(tmp_path: Path, templates: Path) -> None:
    exports = tmp_path / "exports"
    shutil.copytree(templates, exports)
    report = exports / "ie-report.csv"
    report.write_text(report.read_text().replace("Start Time", "Started"))
    problems = fails(tmp_path / "s.duckdb", [exports]).problems
    assert len(problems) == 1
    assert problems[0].column == "Start Time"


def test_an_assignment_is_individual_or_group_on_every_row(base: Path, write) -> None:
    group = write(
        "group.csv",
        "Assignment ID,Name,Agent,Coaching Type,Group Name,Coaching Areas,Assigned Date,Status\n"
        "A-100,Refund empathy,Tom Becker,Group Agents,Billing East,Empathy,2026-07-30,In Progress\n",
    )
    problems = fails(base, [group]).problems
    assert any(p.column == "Coaching Type" and "Individual Agent" in p.expected for p in problems), [
        str(p) for p in problems
    ]


@pytest.mark.parametrize("written", ["na", "N/A", " NA ", "n/a", "Not Applicable"])
def test_not_applicable_in_any_spelling_is_not_applicable(tmp_path: Path, templates: Path, written: str) -> None:
    text = (templates / "ie-report.csv").read_text()
    lines = text.splitlines()
    lines[3] = lines[3].replace(
        ",Below Threshold,Billing Voice form,,NA,", f',Below Threshold,Billing Voice form,,"{written}",'
    )
    report = tmp_path / "ie-report.csv"
    report.write_text("\n".join(lines) + "\n")
    db = tmp_path / "s.duckdb"
    import_files(db, [report])
    result = "SELECT result FROM evaluation_metrics WHERE conversation_id = 'c-0003' AND metric = ?"
    assert query(db, result, ["Greeting"]) == [("Not Applicable",)]
    assert query(db, result, ["Identity Check"]) == [
        (None,)
    ]


def test_a_very_long_field_before_a_bad_row_keeps_line_numbers_right(tmp_path: Path, write) -> None:
    long_feedback = "x" * 200_000
    assignments = write(
        "assignments.csv",
        "Assignment ID,Name,Agent,Coaching Type,Coaching Areas,Assigned Date,Status,Feedback\n"
        f"A-1,One,Priya Nair,Individual Agent,Empathy,2026-08-01,In Progress,{long_feedback}\n"
        "A-2,Two,Priya Nair,Individual Agent,Empathy,2026-08-01,Bogus,short\n",
    )
    problems = fails(tmp_path / "s.duckdb", [assignments]).problems
    assert [(p.line, p.column, p.value) for p in problems if p.column == "Status"] == [(3, "Status", "Bogus")]


@pytest.mark.parametrize("value", ["10000-01-01T00:00:00Z", "1066-10-14T09:00:00Z", "infinity"])
def test_timestamps_outside_plausible_years_are_problems(tmp_path: Path, templates: Path, value: str) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        "ConversationID,Metric,Round,Actor,Action,Comment,Timestamp,Audit Score\n"
        f"c-0002,,0,QA,Audit Submitted,,{value},55\n"
    )
    problems = fails(tmp_path / "s.duckdb", [templates / "ie-report.csv", events]).problems
    assert [(p.line, p.column) for p in problems] == [(2, "Timestamp")]
    assert "1900" in problems[0].expected


def test_data_after_a_json_array_is_a_problem_not_ignored(tmp_path: Path, write) -> None:
    rows = [{"Agent Name": "A", "Email": "a@example.com", "Role": "Agent"}]
    path = write("roster.json", json.dumps(rows) + "\n" + json.dumps([{"Agent Name": "B", "Role": "Boss"}]))
    problems = fails(tmp_path / "s.duckdb", [path]).problems
    assert problems[0].line == 2 and "nothing after the array" in problems[0].expected


def test_file_names_with_pattern_characters_are_read_as_they_are(tmp_path: Path, write) -> None:
    write("roster1.csv", csv_text(ROSTER_HEADER, "Wrong File,wrong@example.com,,,Agent,"))
    path = write("roster[1].csv", csv_text(ROSTER_HEADER, "Right File,right@example.com,,,Agent,"))
    db = tmp_path / "s.duckdb"
    import_files(db, [path])
    assert query(db, "SELECT name FROM people") == [("Right File",)]


def test_an_api_metric_name_must_be_text(tmp_path: Path, write) -> None:
    page = {
        "data": [
            {
                "conversationId": "c-1",
                "agents": [{"agentId": "a1", "agentName": "Priya Nair"}],
                "koreEvaluationScore": 50,
                "evaluatedAt": "2026-07-27T08:00:00Z",
                "metrics": [{"metricId": "m1", "metricName": 7, "qualification": "YES"}],
            }
        ],
        "hasMore": False,
    }
    problems = fails(tmp_path / "s.duckdb", [write("page.json", json.dumps(page))]).problems
    where = (problems[0].line, problems[0].line_unit, problems[0].column)
    assert where == (1, "record", "data[0].metrics[0].metricName")
    assert problems[0].value == "7" and "metric name" in problems[0].expected


def test_an_empty_api_page_imports_nothing_without_complaint(tmp_path: Path, write) -> None:
    page = write("page.json", json.dumps({"data": [], "totalResults": 0, "totalPages": 0, "hasMore": False}))
    summary = import_files(tmp_path / "s.duckdb", [page])
    assert summary.kinds["evaluations"].rows == 0


def test_whole_numbers_written_as_decimals_are_whole_numbers(tmp_path: Path, templates: Path) -> None:
    events = tmp_path / "events.json"
    events.write_text(json.dumps([{"ConversationID": "c-0002", "Round": 0.0, "Actor": "QA", "Action": "Audit Submitted",
                                   "Timestamp": "2026-07-29T10:00:00Z", "Audit Score": 55}]))
    db = tmp_path / "s.duckdb"
    import_files(db, [templates / "ie-report.csv", events])
    assert query(db, "SELECT round FROM review_events") == [(0,)]
    events.write_text(events.read_text().replace("0.0", "0.5"))
    assert fails(db, [events]).problems[0].column == "Round"


def test_values_are_trimmed_of_tabs_and_no_break_spaces(tmp_path: Path, write) -> None:
    roster = write("roster.csv", "Agent Name,Email,Role\nPriya Nair\t,priya@example.com\t,\u00a0Agent\n")
    db = tmp_path / "s.duckdb"
    import_files(db, [roster])
    assert query(db, "SELECT name, email, role FROM people") == [("Priya Nair", "priya@example.com", "Agent")]


def test_lowering_the_maximum_of_dispute_rounds_says_why_stored_events_no_longer_fit(
    base: Path, templates: Path
) -> None:
    failure = fails(base, [templates / "roster.csv"], ImportSettings(max_dispute_rounds=1))
    problems = failure.problems
    assert problems and all(p.file == "the store" for p in problems)
    assert "maximum of dispute rounds is now 1 (it was 3)" in problems[0].expected

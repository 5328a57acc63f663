"""Importing exports: what lands in the store, the formats read, and what bad input reports.

Every import writes a store in a temporary folder. Bad input must raise ImportFailed naming the file,
the line, the column as the file writes it, the bad value and what was expected, and leave the store
exactly as it was (or not there at all when there was none).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from coaching import store
from coaching.importer import ImportFailed, ImportSummary, Problem, formats, import_files
from coaching.settings import ImportSettings
from coaching.sql import scalar

from exports import drop_column, fails, only_problem, queries, query, rows_of, set_cell, to_csv

# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------
TEMPLATE_KINDS = {
    "roster.csv": "roster",
    "ie-report.csv": "evaluations",
    "assignments.csv": "assignments",
    "coaching-interactions.csv": "coaching_interactions",
    "best-responses.csv": "best_responses",
    "review-events.csv": "review_events",
}
LIST_COLUMNS = {"Queues", "Agents", "Coaching Areas", "Permissions"}
#: Columns written typed in Parquet (and as JSON numbers) when every value of the template parses.
TYPED_COLUMNS = {
    "Round": pa.int64(),
    "Audit Score": pa.float64(),
    "Assigned Date": pa.date32(),
    "Follow-Up Date": pa.date32(),
    "Date": pa.date32(),
    "Timestamp": pa.timestamp("ms", tz="UTC"),
    "Start Time": pa.timestamp("ms", tz="UTC"),
}
METRIC_RESULTS = {"1": "Adhered", "0": "Not Adhered", "NA": "Not Applicable", "'-'": None}


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's rows, sorted."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in store.DATA_TABLES}
    finally:
        con.close()


def counts(summary: ImportSummary) -> dict[str, tuple[int, int, int, int]]:
    return {k: (v.rows, v.new, v.updated, v.unchanged) for k, v in summary.kinds.items()}


@pytest.fixture(scope="module")
def template_store(tmp_path_factory: pytest.TempPathFactory, templates: Path) -> tuple[Path, ImportSummary]:
    """A store holding the templates folder (read only: copy it before importing into it)."""
    db = tmp_path_factory.mktemp("templates") / "store.duckdb"
    return db, import_files(db, [templates])


@pytest.fixture(scope="module")
def kore_store(tmp_path_factory: pytest.TempPathFactory, kore_report: Path) -> tuple[Path, ImportSummary]:
    """A store holding only Kore's sample report (read only)."""
    db = tmp_path_factory.mktemp("kore") / "store.duckdb"
    return db, import_files(db, [kore_report])


@pytest.fixture
def loaded(tmp_path: Path, template_store: tuple[Path, ImportSummary]) -> Path:
    """This test's own copy of the templates store."""
    db = tmp_path / "loaded.duckdb"
    shutil.copyfile(template_store[0], db)
    return db


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Where this test's store goes; nothing there yet."""
    return tmp_path / "store.duckdb"


# ------------------------------------------------------------------------------------------------
# 1. Kore's sample Interaction Evaluation report
# ------------------------------------------------------------------------------------------------
def test_kore_sample_evaluations(kore_store, kore_report: Path) -> None:
    db, summary = kore_store
    assert counts(summary) == {"evaluations": (3, 3, 0, 0)}
    ids = [r[0] for r in rows_of(kore_report.read_text(encoding="utf-8"))[1:]]
    got = {
        r[0]: r[1:]
        for r in query(
            db,
            "SELECT conversation_id, kore_score, sentiment_score, scored_agent, agents, queues, last_queue, "
            "evaluation_form, audit_score, channel, start_time, is_passed, source FROM evaluations",
        )
    }
    assert sorted(got) == sorted(ids)
    assert [got[i][0] for i in ids] == [-36.0, -12.0, 2.0]
    assert [got[i][1] for i in ids] == [5.95, 2.0, 5.7]
    assert [got[i][2] for i in ids] == ["John Doe", "Jane Doe", "John Doe Agent"]
    assert got[ids[0]][3] == ["John Doe", "Jane Doe"]
    for i in ids:
        _, _, _, _, queues, last_queue, form, audit, channel, _start, passed, source = got[i]
        assert queues == ["Billing queue"] and last_queue == "Billing queue"
        assert form == "Valid Voice form"
        assert audit is None  # N/A
        assert channel == "Voice" and passed is False
        assert source == "Interaction Evaluation report"
    # ISO-8601 UTC with milliseconds.
    assert str(got[ids[0]][9]) == "2026-07-27 08:23:44.639000"


def test_kore_sample_metrics_match_the_report_cell_by_cell(kore_store, kore_report: Path) -> None:
    db, _ = kore_store
    header, *data = rows_of(kore_report.read_text(encoding="utf-8"))
    expected = set()
    for position, metric in enumerate(
        h[: -len(" - Is Fatal Metric")] for h in header if h.endswith(" - Is Fatal Metric")
    ):
        manual = metric + " - Manual Evaluation Metric" in header
        result_column = header.index(metric + " - Manual Evaluation Metric" if manual else metric)
        for row in data:
            expected.add(
                (
                    row[0],
                    metric,
                    position,
                    METRIC_RESULTS[row[result_column]],
                    row[header.index(metric + " - Is Fatal Metric")] == "1",
                    float(row[header.index(metric + " - Adherence Weight")]),
                    float(row[header.index(metric + " - Violation")]),
                    manual,
                )
            )
    got = query(db, "SELECT * FROM evaluation_metrics")
    assert len(got) == len(expected) == 3 * 16
    assert set(got) == expected
    for row in got:
        assert isinstance(row[5], float) and isinstance(row[6], float)


def test_kore_sample_metric_details(kore_store) -> None:
    db, _ = kore_store
    per_evaluation, dashed, manual, results, first = queries(
        db,
        "SELECT count(*) FROM evaluation_metrics GROUP BY conversation_id",
        "SELECT DISTINCT is_manual, adherence_weight, violation_weight FROM evaluation_metrics "
        "WHERE metric = 'COMMON AU - GEN & DET'",
        "SELECT DISTINCT is_manual, result FROM evaluation_metrics WHERE metric = 'Manual Evaluation UK1'",
        "SELECT DISTINCT result FROM evaluation_metrics",
        "SELECT metric, result FROM evaluation_metrics WHERE conversation_id LIKE 'c-019811b%' "
        "AND metric IN ('Agent Blaming customer', 'COMMON CU - GEN Both', 'COMMON Greeting Complaince Rate')",
    )
    assert per_evaluation == [(16,)] * 3
    # A metric whose name contains " - " is one metric, not a suffix.
    assert dashed == [(False, 7.0, 8.0)]
    # The manual metric: its '-' means not evaluated.
    assert manual == [(True, None)]
    assert {r[0] for r in results} == {"Adhered", "Not Adhered", "Not Applicable", None}
    assert dict(first) == {
        "Agent Blaming customer": "Not Adhered",  # 0
        "COMMON CU - GEN Both": "Not Applicable",  # NA
        "COMMON Greeting Complaince Rate": "Adhered",  # 1
    }


def test_kore_sample_adds_unrostered_agents_with_a_warning(kore_store) -> None:
    db, summary = kore_store
    assert len(summary.warnings) == 1
    warning = summary.warnings[0]
    assert "not on the roster" in warning and "added" in warning
    for name in ("John Doe", "Jane Doe", "John Doe Agent"):
        assert name in warning
    assert sorted(query(db, "SELECT * FROM people")) == [
        (f"name:{name}", name, None, None, None, None, "Agent", [], False)
        for name in ("Jane Doe", "John Doe", "John Doe Agent")
    ]


# ------------------------------------------------------------------------------------------------
# 2. The templates folder
# ------------------------------------------------------------------------------------------------
def test_templates_folder_imports_whole(template_store, templates: Path) -> None:
    db, summary = template_store
    assert sorted(summary.files) == sorted(str(p) for p in templates.glob("*.csv"))
    assert counts(summary) == {
        "roster": (5, 5, 0, 0),
        "evaluations": (3, 3, 0, 0),
        "assignments": (3, 3, 0, 0),
        "coaching_interactions": (2, 2, 0, 0),
        "best_responses": (1, 1, 0, 0),
        "review_events": (6, 6, 0, 0),
    }
    assert summary.warnings == []
    reviews, metrics, rostered, areas = queries(
        db,
        "SELECT conversation_id, review_status, dispute_rounds, final_audit_score, audit_score_history, "
        "disputed_metrics FROM evaluation_reviews",
        "SELECT count(*) FROM evaluation_metrics",
        "SELECT count(*) FROM people WHERE on_roster",
        "SELECT coaching_areas FROM assignments WHERE assignment_id = 'A-100'",
    )
    assert reviews == [("c-0002", "Resolved", 1, 70.0, [55.0, 70.0], ["Empathy - Tone"])]
    assert metrics == [(9,)]
    assert rostered == [(5,)]
    assert areas == [(["Empathy", "Compliance", "Product Knowledge"],)]


# ------------------------------------------------------------------------------------------------
# 3. JSON, NDJSON, Parquet and Kore's Auto QA API pages
# ------------------------------------------------------------------------------------------------
def _template_records(path: Path) -> list[dict[str, Any]]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    records = []
    for record in frame.to_dict("records"):
        records.append(
            {
                k: None if v == "" else [x.strip() for x in v.split(",")] if k in LIST_COLUMNS else v
                for k, v in record.items()
            }
        )
    return records


def _line_of_fifth_record(path: Path) -> int:
    """In an indented JSON array of records, the line the fifth record's "{" is on."""
    return [n for n, text in enumerate(path.read_text().splitlines(), 1) if text == "  {"][4]


def _typed_columns(records: list[dict[str, Any]]) -> dict[str, pa.Array]:
    """Each column as an Arrow array: lists as lists, typed columns typed when every value parses."""
    columns = {}
    for name in records[0]:
        values = [r[name] for r in records]
        if name in LIST_COLUMNS:
            columns[name] = pa.array(values, pa.list_(pa.string()))
            continue
        columns[name] = pa.array(values, pa.string())
        if name in TYPED_COLUMNS:
            cleaned = [None if v in ("N/A", "NA") else v for v in values]
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                columns[name] = pa.array(cleaned, pa.string()).cast(TYPED_COLUMNS[name])
    return columns


def _write_records(kind: str, records: list[dict[str, Any]], path: Path) -> None:
    columns = _typed_columns(records)
    if kind == "parquet":
        pq.write_table(pa.table(columns), path)
        return
    # JSON: numbers as numbers, lists as arrays, the rest as text.
    numbers = [n for n, a in columns.items() if pa.types.is_integer(a.type) or pa.types.is_floating(a.type)]
    records = [
        {k: columns[k][i].as_py() if k in numbers else v for k, v in r.items()} for i, r in enumerate(records)
    ]
    if kind == "json":
        path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.mark.parametrize("kind", ["json", "ndjson", "parquet"])
def test_every_format_in_other_file_types_gives_the_same_store(
    kind: str, tmp_path: Path, templates: Path, template_store
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for path in sorted(templates.glob("*.csv")):
        _write_records(kind, _template_records(path), folder / f"{path.stem}.{kind}")
    if kind == "parquet":  # the typed columns did arrive typed
        types = pq.read_schema(folder / "review-events.parquet")
        assert (types.field("Round").type, types.field("Timestamp").type) == (
            pa.int64(),
            TYPED_COLUMNS["Timestamp"],
        )
        assert pq.read_schema(folder / "assignments.parquet").field("Coaching Areas").type == pa.list_(
            pa.string()
        )
    db = tmp_path / "store.duckdb"
    summary = import_files(db, [folder])
    assert counts(summary) == counts(template_store[1])
    assert snapshot(db) == snapshot(template_store[0])


@pytest.mark.parametrize(("kind", "unit"), [("json", "line"), ("ndjson", "line"), ("parquet", "row")])
def test_a_bad_value_in_other_file_types_names_its_line_or_row(
    kind: str, unit: str, db: Path, tmp_path: Path, templates: Path
) -> None:
    records = _template_records(templates / "roster.csv")
    records[4]["Role"] = "Tester"  # the fifth record
    path = tmp_path / f"people.{kind}"
    _write_records(kind, records, path)
    line = _line_of_fifth_record(path) if kind == "json" else 5
    problem = only_problem(fails(db, [path]))
    assert problem == Problem(str(path), line, "Role", "Tester", "one of Agent, Supervisor, QA, Admin", unit)


def _metric(
    name: str, qualification: str, fatal: bool = False, weight: float = 10, negative: float = 5
) -> dict:
    return {
        "metricId": "m-" + name.lower().replace(" ", "-"),
        "metricName": name,
        "metricWeight": weight,
        "metricNegativeWeight": negative,
        "qualification": qualification,
        "isFatalError": fatal,
    }


def _api_page() -> dict[str, Any]:
    return {
        "data": [
            {
                "conversationId": "c-api-1",
                "queues": [{"queueId": "qu-1", "queueName": "Billing queue"}],
                "agents": [
                    {"agentId": "a-1", "agentName": "Priya Nair"},
                    {"agentId": "a-2", "agentName": "Tom Becker"},
                ],
                "koreEvaluationScore": -36,
                "AuditScore": None,
                "evaluatedAt": "2026-07-27T08:23:44.639Z",
                "evaluation_status": "fail",
                "duration_status": "Evaluated",
                "metrics": [
                    _metric("Greeting", "YES"),
                    _metric("Empathy - Tone", "NO", fatal=True, weight=20, negative=15),
                    _metric("Hold", "NA"),
                ],
            },
            {
                "conversationId": "c-api-2",
                "queues": [
                    {"queueId": "qu-1", "queueName": "Billing queue"},
                    {"queueId": "qu-2", "queueName": "Retention queue"},
                ],
                "agents": [{"agentId": "a-2", "agentName": "Tom Becker"}],
                "koreEvaluationScore": 64.5,
                "AuditScore": 55,
                "evaluatedAt": "2026-07-28T14:02:10.000Z",
                "evaluation_status": "pass",
                "duration_status": "Evaluated",
                "metrics": [
                    _metric("Greeting", "YES"),
                    _metric("Empathy - Tone", "YES", weight=20, negative=15),
                ],
            },
        ],
        "totalResults": 2,
        "totalPages": 1,
        "hasMore": False,
    }


def test_kore_auto_qa_api_page(db: Path, write) -> None:
    page = write("scorereporting-page-1.json", json.dumps(_api_page(), indent=2))
    summary = import_files(db, [page])
    assert counts(summary) == {"evaluations": (2, 2, 0, 0)}
    evaluations, metrics, people = queries(
        db,
        "SELECT conversation_id, queues, last_queue, agents, scored_agent, start_time::VARCHAR, kore_score, "
        "audit_score, is_passed, duration_status, evaluation_form, source FROM evaluations ORDER BY 1",
        "SELECT * FROM evaluation_metrics ORDER BY conversation_id, metric",
        "SELECT name, on_roster, person_id FROM people ORDER BY name",
    )
    assert evaluations == [
        ("c-api-1", ["Billing queue"], "Billing queue", ["Priya Nair", "Tom Becker"], "Priya Nair",
         "2026-07-27 08:23:44.639", -36.0, None, False, "Evaluated", None, "Auto QA API"),
        ("c-api-2", ["Billing queue", "Retention queue"], "Retention queue", ["Tom Becker"], "Tom Becker",
         "2026-07-28 14:02:10", 64.5, 55.0, True, "Evaluated", None, "Auto QA API"),
    ]  # fmt: skip
    assert metrics == [
        ("c-api-1", "Empathy - Tone", 1, "Not Adhered", True, 20.0, 15.0, False),
        ("c-api-1", "Greeting", 0, "Adhered", False, 10.0, 5.0, False),
        ("c-api-1", "Hold", 2, "Not Applicable", False, 10.0, 5.0, False),
        ("c-api-2", "Empathy - Tone", 1, "Adhered", False, 20.0, 15.0, False),
        ("c-api-2", "Greeting", 0, "Adhered", False, 10.0, 5.0, False),
    ]
    # Known by Kore's Agent ID (the scored agent's), which ties them to the roster's Agent ID later.
    assert people == [
        ("Priya Nair", False, "agent-id:a-1"),
        ("Tom Becker", False, "agent-id:a-2"),
    ]


@pytest.mark.parametrize(
    ("change", "column", "value", "expected"),
    [
        (
            lambda r: r.update(koreEvaluationScore=150),
            "koreEvaluationScore",
            "150",
            "a number from -100 to 100",
        ),
        (
            lambda r: r["metrics"][1].update(qualification="MAYBE"),
            "metrics[Empathy - Tone].qualification",
            "MAYBE",
            formats.METRIC_RESULT_EXPECTED,
        ),
    ],
    ids=["score", "qualification"],
)
def test_a_bad_value_in_an_api_page_names_its_record(
    change, column, value, expected, db: Path, write
) -> None:
    page = _api_page()
    change(page["data"][1])
    path = write("page.json", json.dumps(page, indent=2))
    problem = only_problem(fails(db, [path]))
    assert problem == Problem(str(path), 2, column, value, expected, "record")


# ------------------------------------------------------------------------------------------------
# 4. Header tolerance
# ------------------------------------------------------------------------------------------------
def test_bom_crlf_and_other_header_spellings_give_the_same_store(
    tmp_path: Path, write, templates: Path, template_store
) -> None:
    def variant(name: str, renames: dict[str, str]) -> str:
        header, rest = (templates / name).read_text(encoding="utf-8").split("\n", 1)
        for old, new in renames.items():
            header = header.replace(old, new)
        return "\ufeff" + (header + "\n" + rest).replace("\n", "\r\n")

    renames = {
        "assignments.csv": {
            "Assignment ID": "assignment id",
            "Follow-Up Date": "follow_up_date",
            "Coaching Type": "COACHING TYPE",
            "Assigned By": "AssignedBy",
        },
        "coaching-interactions.csv": {"Assignment ID": "ASSIGNMENTID", "ConversationID": "conversation_id"},
        "roster.csv": {"Agent Name": "  agent-name ", "Team Lead": "team_lead"},
        "review-events.csv": {"Audit Score": "audit score"},
        "ie-report.csv": {"Kore Evaluation Score": "KORE EVALUATION SCORE"},
    }
    files = [write(f"variant-{name}", variant(name, changes)) for name, changes in renames.items()]
    files.append(templates / "best-responses.csv")
    db = tmp_path / "store.duckdb"
    summary = import_files(db, files)
    assert counts(summary) == counts(template_store[1])
    assert snapshot(db) == snapshot(template_store[0])


def test_a_problem_names_the_column_as_the_header_writes_it_despite_bom_and_crlf(
    db: Path, write, templates: Path
) -> None:
    text = set_cell((templates / "roster.csv").read_text(encoding="utf-8"), 4, "Role", "Tester")
    text = "\ufeff" + text.replace("Role", "ROLE", 1).replace("\n", "\r\n")
    path = write("roster.csv", text)
    problem = only_problem(fails(db, [path]))
    assert problem == Problem(str(path), 5, "ROLE", "Tester", "one of Agent, Supervisor, QA, Admin")


def test_files_are_recognised_by_header_not_by_name(db: Path, write, templates: Path) -> None:
    people = write("people.txt", (templates / "roster.csv").read_text(encoding="utf-8"))
    # NDJSON content under a misleading name and extension.
    records = _template_records(templates / "ie-report.csv")
    evaluations = write("roster.csv", "".join(json.dumps(r) + "\n" for r in records))
    summary = import_files(db, [people, evaluations])
    assert counts(summary) == {"roster": (5, 5, 0, 0), "evaluations": (3, 3, 0, 0)}
    assert query(db, "SELECT count(*) FROM people WHERE on_roster") == [(5,)]


# ------------------------------------------------------------------------------------------------
# 5. Bad input
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "column"),
    [
        ("roster.csv", "Role"),
        ("roster.csv", "Email"),
        ("assignments.csv", "Assigned Date"),
        ("coaching-interactions.csv", "Coaching Area"),
        ("best-responses.csv", "Note"),
        ("review-events.csv", "Action"),
        ("ie-report.csv", "Evaluation Form"),
        ("ie-report.csv", "Greeting - Violation"),
        ("ie-report.csv", "Start Time"),
        ("ie-report.csv", "Kore Evaluation Score"),
        ("kore", "Scored Agent"),
    ],
)
def test_a_missing_required_column(source: str, column: str, db: Path, write, templates, kore_report) -> None:
    original = kore_report if source == "kore" else templates / source
    path = write(f"copy-of-{original.name}", drop_column(original.read_text(encoding="utf-8"), column))
    problem = only_problem(fails(db, [path]))
    assert problem.file == str(path)
    assert problem.line == 1
    assert problem.value is None
    if column.endswith(" - Violation"):
        # A metric's four columns: the problem points at the metric whose column is missing.
        assert problem.column == "Greeting - Is Fatal Metric"
        assert problem.expected == "the four columns of metric 'Greeting'; missing: Greeting - Violation"
        return
    assert repr(column) in problem.expected
    if source == "best-responses.csv":
        # Assignment ID and ConversationID alone could be either format: both are named.
        assert "Best response examples" in problem.expected and "Coaching interactions" in problem.expected
    else:
        assert problem.column == column
        assert "required column" in problem.expected


# case: (file, data row, column, new value, needs the templates in the store, what the problem expects)
DATE = "a date as YYYY-MM-DD"
TIME = "an ISO 8601 date and time"
SCORE = "a number from -100 to 100"
SENTIMENT = "a number from 1 to 10"
WEIGHT = "a number from 0 to 1000"
ROUND = "a whole number from 0 to 99"
KNOWN_ASSIGNMENT = "the Assignment ID of a coaching assignment in this import or the store"
KNOWN_CONVERSATION = "the ConversationID of an evaluated interaction in this import or the store"
BAD_VALUES = {
    # unparseable dates and times
    "date out of range": ("assignments.csv", 2, "Assigned Date", "2026-13-01", True, DATE),
    "date in another order": ("assignments.csv", 1, "Follow-Up Date", "13/08/2026", True, DATE),
    "timestamp word": ("review-events.csv", 3, "Timestamp", "yesterday", True, TIME),
    "start time": ("ie-report.csv", 2, "Start Time", "27.07.2026 08:16", False, TIME),
    # unparseable numbers
    "sentiment word": ("ie-report.csv", 1, "Sentiment Score", "five", False, SENTIMENT),
    "metric weight word": (
        "kore", 3, "COMMON AU - GEN & DET - Adherence Weight", "ten", False, "a number from 0 to 1000"
    ),
    "audit score word": ("review-events.csv", 1, "Audit Score", "fifty", True, SCORE),
    "round word": ("review-events.csv", 2, "Round", "one", True, "a whole number from 0 to 99"),
    "fatal flag word": ("ie-report.csv", 2, "Greeting - Is Fatal Metric", "maybe", False, "1 or 0"),
    # scores outside their scales
    "kore below": ("kore", 1, "Kore Evaluation Score", "'-136'", False, SCORE),
    "kore above": ("ie-report.csv", 3, "Kore Evaluation Score", "100.5", False, SCORE),
    "sentiment below": ("ie-report.csv", 2, "Sentiment Score", "0.5", False, SENTIMENT),
    "sentiment above": ("ie-report.csv", 2, "Sentiment Score", "10.01", False, SENTIMENT),
    "audit score above": ("ie-report.csv", 2, "Audit Score", "155", False, SCORE),
    # unknown values of a fixed set
    "role": ("roster.csv", 4, "Role", "Tester", False, "one of Agent, Supervisor, QA, Admin"),
    "status": ("assignments.csv", 1, "Status", "Ongoing", True, "one of Yet to Start, In Progress"),
    "action": ("review-events.csv", 4, "Action", "Dispute Granted", True, "one of Audit Submitted, Accepted"),
    "actor": ("review-events.csv", 2, "Actor", "Customer", True, "one of Agent, Supervisor, QA, System"),
    "permission": (
        "roster.csv", 1, "Permissions", "Agent Dashboard, Admin Tools", False, "a list of Agent Dashboard"
    ),
    "metric result": ("ie-report.csv", 2, "Empathy - Tone", "maybe", False, formats.METRIC_RESULT_EXPECTED),
    # references
    "unknown assignment": ("coaching-interactions.csv", 2, "Assignment ID", "A-999", True, KNOWN_ASSIGNMENT),
    "unknown assignment of a best response": (
        "best-responses.csv", 1, "Assignment ID", "A-999", True, KNOWN_ASSIGNMENT
    ),
    "unknown conversation": (
        "coaching-interactions.csv", 1, "ConversationID", "c-9999", True, KNOWN_CONVERSATION
    ),
    "unknown conversation of a review event": (
        "review-events.csv", 1, "ConversationID", "c-9999", True, KNOWN_CONVERSATION
    ),
    "unknown agent": (
        "assignments.csv", 2, "Agent", "Nobody Known", True, "an agent on the roster or in the evaluations"
    ),
    "unknown metric": (
        "review-events.csv", 2, "Metric", "Telepathy", True, "the name of one of this evaluation's metrics"
    ),
    # a required value left empty
    "empty required value": ("roster.csv", 2, "Email", "", False, "a value (the column is required)"),
    # only plain decimal numbers are numbers (DuckDB's cast reads 1_0 as 10 and +-5 as -5), and dates start
    # with a digit (it reads "epoch" as 1970)
    "kore score 1_0": ("ie-report.csv", 2, "Kore Evaluation Score", "1_0", False, SCORE),
    "quoted kore score '1_0'": ("ie-report.csv", 2, "Kore Evaluation Score", "'1_0'", False, SCORE),
    "padded kore score": ("ie-report.csv", 2, "Kore Evaluation Score", " 1_0 ", False, SCORE),
    "audit score 5_5": ("ie-report.csv", 2, "Audit Score", "5_5", False, SCORE),
    "sentiment 1_0": ("ie-report.csv", 1, "Sentiment Score", "1_0", False, SENTIMENT),
    "kore score +-5": ("ie-report.csv", 1, "Kore Evaluation Score", "+-5", False, SCORE),
    "padded audit score +-5": ("ie-report.csv", 2, "Audit Score", " +-5", False, SCORE),
    "adherence weight 1_0": ("ie-report.csv", 1, "Greeting - Adherence Weight", "1_0", False, WEIGHT),
    "violation 1_000": ("ie-report.csv", 1, "Greeting - Violation", "1_000", False, WEIGHT),
    "round 1_0": ("review-events.csv", 2, "Round", "1_0", True, ROUND),
    "event audit score 5_5": ("review-events.csv", 1, "Audit Score", "5_5", True, SCORE),
    "assigned date epoch": ("assignments.csv", 1, "Assigned Date", "epoch", True, DATE),
    "follow-up date epoch": ("assignments.csv", 1, "Follow-Up Date", "Epoch", True, DATE),
    "timestamp epoch": ("review-events.csv", 2, "Timestamp", "epoch", True, TIME),
    "start time epoch": ("ie-report.csv", 1, "Start Time", "epoch", False, TIME),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_bad_value(case: str, tmp_path: Path, write, templates, kore_report, template_store) -> None:
    source, row, column, value, needs_store, expected = BAD_VALUES[case]
    original = kore_report if source == "kore" else templates / source
    path = write(f"bad-{original.name}", set_cell(original.read_text(encoding="utf-8"), row, column, value))
    db = tmp_path / "store.duckdb"
    if needs_store:
        shutil.copyfile(template_store[0], db)
    problem = only_problem(fails(db, [path]))
    assert (problem.file, problem.line, problem.column) == (str(path), row + 1, column)
    assert problem.value == (value or None)
    assert problem.expected.startswith(expected)


def test_the_store_is_unchanged_by_a_failed_import_into_it(loaded: Path, write, templates: Path) -> None:
    before = snapshot(loaded)
    path = write(
        "roster.csv", set_cell((templates / "roster.csv").read_text(encoding="utf-8"), 1, "Role", "x")
    )
    fails(loaded, [path])  # compares the file's bytes
    assert snapshot(loaded) == before


# also_write: what a caller writes into the import's own generation lands with it, or not at all.
def test_also_write_lands_in_the_same_generation_as_the_import(db: Path, templates: Path) -> None:
    written: list[int] = []

    def note(con: duckdb.DuckDBPyConnection) -> None:
        written.append(scalar(con, "SELECT count(*) FROM evaluations"))
        assert scalar(con, "SELECT count(*) FROM imports") == 1  # the import's own record is written
        con.execute("CREATE TABLE caller_notes (note VARCHAR)")
        con.execute("INSERT INTO caller_notes VALUES ('landed')")

    import_files(db, [templates], also_write=note)
    with contextlib.closing(duckdb.connect(str(db), read_only=True)) as con:
        assert con.execute("SELECT note FROM caller_notes").fetchall() == [("landed",)]
        assert written == [scalar(con, "SELECT count(*) FROM evaluations")] and written[0] > 0


def test_also_write_does_not_run_when_the_import_fails(loaded: Path, write, templates: Path) -> None:
    before = snapshot(loaded)
    path = write("roster.csv", set_cell((templates / "roster.csv").read_text(encoding="utf-8"), 1, "Role", "x"))
    called: list[bool] = []
    with pytest.raises(ImportFailed):
        import_files(loaded, [path], also_write=lambda con: called.append(True))
    assert called == [] and snapshot(loaded) == before


def test_an_exception_in_also_write_leaves_the_store_as_it_was(loaded: Path, tmp_path: Path,
                                                              kore_report: Path) -> None:
    before = loaded.read_bytes()

    def fail(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE TABLE caller_notes (note VARCHAR)")
        raise OSError("the disk filled up")

    with pytest.raises(OSError, match="disk filled up"):
        import_files(loaded, [kore_report], also_write=fail)
    assert loaded.read_bytes() == before
    assert not loaded.with_name(loaded.name + ".next").exists()
    fresh = tmp_path / "fresh.duckdb"
    with pytest.raises(OSError):
        import_files(fresh, [kore_report], also_write=fail)
    assert not fresh.exists()


@pytest.mark.parametrize("where", ["same file", "another file"])
def test_a_duplicate_key(where: str, db: Path, write, templates: Path) -> None:
    """A person is their email: the roster's key. (A shared name is no duplicate: tests/test_people.py.)"""
    roster = templates / "roster.csv"
    if where == "same file":
        first = path = write(
            "roster.csv", roster.read_text(encoding="utf-8") + "Q. Lee,quinn.lee@example.com,,,QA,\n"
        )
        paths, line = [path], 7
    else:
        first, path = (
            roster,
            write("more-people.csv", "Agent Name,Email,Role\nQ. Lee,quinn.lee@example.com,QA\n"),
        )
        paths, line = [roster, path], 2
    problem = only_problem(fails(db, paths))
    assert (problem.file, problem.line, problem.column, problem.value) == (
        str(path),
        line,
        "Email",
        "quinn.lee@example.com",
    )
    assert problem.expected == f"Email not already on line 5 of {first}"


def test_a_duplicate_email_within_a_file(db: Path, write, templates: Path) -> None:
    path = write(
        "roster.csv",
        (templates / "roster.csv").read_text(encoding="utf-8") + "Tom B,TOM.BECKER@example.com,,,Agent,\n",
    )
    problem = only_problem(fails(db, [path]))
    assert (problem.line, problem.column, problem.value) == (7, "Email", "tom.becker@example.com")
    assert problem.expected == f"Email not already on line 3 of {path}"


def test_a_duplicate_evaluation_across_two_reports(db: Path, write, templates: Path) -> None:
    report = templates / "ie-report.csv"
    header, _, second, *_ = report.read_text(encoding="utf-8").splitlines()
    again = write("again.csv", header + "\n" + second + "\n")
    problem = only_problem(fails(db, [report, again]))
    assert (problem.file, problem.line, problem.column, problem.value) == (
        str(again),
        2,
        "ConversationID",
        "c-0002",
    )
    assert problem.expected == f"ConversationID not already on line 3 of {report}"


@pytest.mark.parametrize(
    ("content", "line", "value", "expected"),
    [
        (
            "Customer,Order,Amount\nAda,17,3.50\n",
            1,
            "Customer, Order, Amount",
            "the header of a known export",
        ),
        ('[{"customer": "Ada", "order": 17}]', None, "customer, order", "the header of a known export"),
        ("", 1, None, "a header row naming the columns"),
        (b"\xff\xfe\x00\x01binary\x00", 1, None, "UTF-8 text"),
    ],
    ids=["csv", "json", "empty", "binary"],
)
def test_a_file_of_no_known_format(
    content, line, value, expected, write, tmp_path: Path, loaded: Path
) -> None:
    path = write("export.csv", content)
    good = write("roster.csv", "Agent Name,Email,Role\nNew Person,new@example.com,Agent\n")
    problem = only_problem(fails(loaded, [good, path]))
    assert (problem.file, problem.line, problem.column, problem.value) == (str(path), line, None, value)
    assert problem.expected.startswith(expected)


@pytest.mark.parametrize(
    ("row", "column", "found"),
    [
        ("Quinn Lee,quinn.lee@example.com,,,QA,,extra", None, 7),
        ("Quinn Lee,quinn.lee@example.com,QA", "Team Lead", 3),
    ],
    ids=["too many", "too few"],
)
def test_a_row_with_the_wrong_number_of_values(row, column, found, db: Path, write, templates: Path) -> None:
    lines = (templates / "roster.csv").read_text(encoding="utf-8").splitlines()
    lines[4] = row
    path = write("roster.csv", "\n".join(lines) + "\n")
    problem = only_problem(fails(db, [path]))
    assert problem == Problem(
        str(path), 5, column, row, f"6 comma-separated values, as many as the header has, found {found}"
    )


def test_lines_count_physical_lines_after_a_quoted_line_break(db: Path, write, templates: Path) -> None:
    rows = rows_of((templates / "roster.csv").read_text(encoding="utf-8"))
    rows[1][rows[0].index("Team")] = "Billing\nEast"  # line 2 and 3
    rows[4][rows[0].index("Role")] = "Tester"  # Quinn Lee: record 5, line 6
    text = to_csv(rows)
    assert text.splitlines()[5].startswith("Quinn Lee,")
    path = write("roster.csv", text)
    problem = only_problem(fails(db, [path]))
    assert (problem.line, problem.column, problem.value) == (6, "Role", "Tester")


def test_rejected_rows_count_physical_lines_too(db: Path, write, templates: Path) -> None:
    lines = (templates / "roster.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("Billing East", '"Billing\r\nEast"', 1)  # Priya Nair: lines 2 and 3
    lines[2] = "Tom Becker,tom.becker@example.com,Agent"  # line 4: too few values
    lines[4] = lines[4].replace(",QA,", ",Tester,")  # line 6
    path = write("roster.csv", "\r\n".join(lines) + "\r\n")
    failure = fails(db, [path])
    assert failure.total == 2
    assert [(p.line, p.column, p.value) for p in failure.problems] == [
        (4, "Team Lead", "Tom Becker,tom.becker@example.com,Agent"),
        (6, "Role", "Tester"),
    ]


def test_review_events_the_state_machine_rejects_a_dispute_before_the_audit(
    loaded: Path, write, templates: Path
) -> None:
    header, _, dispute, *_ = (templates / "review-events.csv").read_text(encoding="utf-8").splitlines()
    # c-0001 has no audit yet (the templates' review log is c-0002's).
    path = write(
        "review.csv", header + "\n" + dispute.replace("c-0002,Empathy - Tone", "c-0001,Greeting") + "\n"
    )
    problem = only_problem(fails(loaded, [path]))
    assert (problem.file, problem.line, problem.column, problem.value) == (str(path), 2, "Action", "Disputed")
    assert "Audit Submitted first" in problem.expected


def test_review_events_the_state_machine_rejects_a_round_past_the_maximum(db: Path, templates: Path) -> None:
    events = templates / "review-events.csv"
    failure = fails(db, [templates / "ie-report.csv", events], ImportSettings(max_dispute_rounds=1))
    problem = only_problem(failure)
    assert (problem.file, problem.line, problem.column, problem.value) == (str(events), 7, "Round", "2")
    assert problem.expected.startswith("at most 1, the maximum of dispute rounds")


def test_problems_are_capped_and_all_are_counted(db: Path, write, templates: Path) -> None:
    roster = (templates / "roster.csv").read_text(encoding="utf-8")
    first = write("first.csv", roster + "".join(f"A{i},a{i}@example.com,,,Boss,\n" for i in range(3)))
    second = write(
        "second.csv", "Agent Name,Email,Role\n" + "".join(f"B{i},b{i}@example.com,Chief\n" for i in range(27))
    )
    failure = fails(db, [first, second], ImportSettings(max_problems=5))
    assert failure.total == 30
    assert [(p.file, p.line, p.value) for p in failure.problems] == [
        (str(first), 7, "Boss"),
        (str(first), 8, "Boss"),
        (str(first), 9, "Boss"),
        (str(second), 2, "Chief"),
        (str(second), 3, "Chief"),
    ]
    assert "… and 25 more problem(s)." in failure.report()


# ------------------------------------------------------------------------------------------------
# 6. Importing again
# ------------------------------------------------------------------------------------------------
def test_importing_the_same_files_again_changes_nothing(
    tmp_path: Path, templates: Path, kore_report: Path
) -> None:
    db = tmp_path / "store.duckdb"
    first = import_files(db, [templates, kore_report])
    before = snapshot(db)
    second = import_files(db, [templates, kore_report])
    assert snapshot(db) == before
    assert {k: (v.new, v.updated) for k, v in second.kinds.items()} == {k: (0, 0) for k in first.kinds}
    assert {k: v.unchanged for k, v in second.kinds.items()} == {k: v.rows for k, v in first.kinds.items()}
    assert second.warnings == []  # the unrostered agents were added the first time
    assert query(db, "SELECT count(*) FROM imports") == [(2,)]


@pytest.mark.parametrize(
    ("source", "row", "column", "value", "check"),
    [
        ("roster.csv", 2, "Team", "Billing West", "SELECT team FROM people WHERE name = 'Tom Becker'"),
        ("ie-report.csv", 2, "Sentiment Score", "7.6",
         "SELECT sentiment_score::VARCHAR FROM evaluations WHERE conversation_id = 'c-0002'"),
        # Only a metric's result changes: the evaluation is still updated.
        ("ie-report.csv", 2, "Greeting", "0",
         "SELECT result FROM evaluation_metrics WHERE conversation_id = 'c-0002' AND metric = 'Greeting'"),
        ("assignments.csv", 3, "Status", "In Progress",
         "SELECT status FROM assignments WHERE assignment_id = 'A-200' AND agent = 'Tom Becker'"),
        ("review-events.csv", 4, "Comment", "Agreed.",
         "SELECT comment FROM review_events WHERE action = 'Dispute Accepted'"),
    ],
    ids=["roster", "evaluation", "metric", "assignment", "review event"],
)  # fmt: skip
def test_changing_one_value_reports_one_update(
    source, row, column, value, check, loaded: Path, write, templates: Path
) -> None:
    path = write(source, set_cell((templates / source).read_text(encoding="utf-8"), row, column, value))
    summary = import_files(loaded, [path])
    kind = TEMPLATE_KINDS[source]
    rows = summary.kinds[kind].rows
    assert counts(summary) == {kind: (rows, 0, 1, rows - 1)}
    expected = {"Greeting": "Not Adhered"}.get(column, value)
    assert query(loaded, check) == [(expected,)]


# ------------------------------------------------------------------------------------------------
# 7. All files of a run, or none
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("existing", [False, True], ids=["new store", "existing store"])
def test_a_bad_file_keeps_out_the_good_files_of_the_same_run(
    existing: bool, tmp_path: Path, write, templates: Path, kore_store
) -> None:
    db = tmp_path / "store.duckdb"
    if existing:
        shutil.copyfile(kore_store[0], db)
    before = snapshot(db) if existing else None
    bad = write("assignments.csv", set_cell((templates / "assignments.csv").read_text(encoding="utf-8"),
                                            1, "Assigned Date", "someday"))  # fmt: skip
    failure = fails(db, [templates / "roster.csv", templates / "ie-report.csv", bad])
    assert [(p.file, p.line, p.column) for p in failure.problems] == [(str(bad), 2, "Assigned Date")]
    if existing:
        after = snapshot(db)
        assert after == before
        assert all(person[0] not in {"Priya Nair", "Tom Becker"} for person in after["people"])

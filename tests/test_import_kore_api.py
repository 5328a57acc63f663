"""Kore's Quality AI API pages (docs/kore-api.md): every published sample imports with its documented
values; pages of both endpoints, bare and in the request wrapper; an Auto QA and a Raw Data record of one
conversation merge; the conversation time and the agent's person are found as documented; problems name
the file, the record and the key path; re-importing updates, and the same pages twice change nothing."""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coaching import access
from coaching.audit import evaluation_detail
from coaching.importer import Problem, import_files, kore_api
from coaching.overview import store_overview

from exports import IE_HEADER, csv_text, fails, only_problem, query

FIXTURES = Path(__file__).parent / "fixtures" / "kore_api"
ROOT = Path(__file__).resolve().parent.parent
WINDOW = {"startDate": "2026-03-23T00:00:00Z", "endDate": "2026-03-24T00:00:00Z", "offset": 0, "limit": 100}


def sample(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def wrapped(body: dict[str, Any], endpoint: str, **request: Any) -> str:
    return json.dumps({"request": {"endpoint": endpoint, **WINDOW, **request}, "response": body})


EVALUATION = (
    "SELECT conversation_id, scored_agent, agent_id, agent_email, strftime(start_time, '%Y-%m-%dT%H:%M:%S'), "
    "kore_score, is_fatal, is_passed, audit_score, contact_direction, language, duration_status, queues, "
    "sentiment_score, source FROM evaluations WHERE conversation_id = ?"
)
METRICS = (
    "SELECT metric, result, is_fatal_metric, adherence_weight, violation_weight, is_manual "
    "FROM evaluation_metrics WHERE conversation_id = ? ORDER BY position"
)


# ------------------------------------------------------------------------------------------------
# The published samples
# ------------------------------------------------------------------------------------------------
def test_the_latest_auto_qa_sample_imports_with_its_values(tmp_path: Path, write) -> None:
    page = write("page.json", wrapped(sample("auto-qa-reporting-0629c9b0-sample1.json"), "scorereporting"))
    db = tmp_path / "s.duckdb"
    summary = import_files(db, [page])
    cid = "c-0179c0cc********60dbed"
    assert query(db, EVALUATION, [cid]) == [
        (cid, "satya admin", "a-647043a-dac********6b688", None, "2026-03-23T00:00:00", 0.0, True, None, None,
         "inbound", "English", "evaluated", ["Inbound Q"], None, "Auto QA API")
    ]
    metrics = query(db, METRICS, [cid])
    assert len(metrics) == 10
    assert metrics[0] == ("AU", "Not Applicable", False, 5.0, 11.0, False)
    assert metrics[2] == ("Booking playbook", "Adhered", False, 7.0, 0.0, False)
    assert metrics[5] == ("End_Gen ai", "Not Adhered", True, 20.0, 31.0, False)
    assert metrics[3][0] == "By Transfer - (Time + Gen ai)"
    assert "1 unknown API field(s) ignored: custom_fields" in summary.warnings
    assert any("dated by the start of their page's request window" in w for w in summary.warnings)


def test_the_six_record_auto_qa_sample_imports_with_its_values(tmp_path: Path, write) -> None:
    page = write("page.json", wrapped(sample("auto-qa-reporting-c8d38ad4-sample1.json"), "scorereporting"))
    db = tmp_path / "s.duckdb"
    assert import_files(db, [page]).kinds["evaluations"].rows == 6
    scores = query(db, "SELECT conversation_id, kore_score, language, scored_agent, len(metrics) FROM evaluations "
                       "ORDER BY kore_score NULLS FIRST, conversation_id")
    assert scores == [
        ("c-4e25b3e-06b1-4537-88de-d44ae292xxxx", None, "English", "John Doe", 0),  # empty Metrics, no score
        ("c-5008281-1139-4490-9423-ed7c3437xxxx", None, "Dutch", "John Doe", 3),  # null score
        ("c-bc03069-37da-4a48-b599-e1eaaa47xxxx", 47.0, "English", "John Doe", 8),
        ("c-6469ecb-6a00-4c4d-a0b4-196e8362xxxx", 50.0, "English", "Matthew Agent", 8),
        ("c-3d97d6e-509c-4746-8e5d-85298b38xxxx", 80.0, "English", "John Doe", 8),
        ("c-9a00d98-7ee8-4b39-82a5-e94ae142xxxx", 80.0, "English", "John SVC", 8),
    ]
    assert query(db, METRICS, ["c-bc03069-37da-4a48-b599-e1eaaa47xxxx"])[:2] == [
        ("AU - Agent response back with information", "Not Adhered", False, 15.0, 0.0, False),
        ("CU - Customer issue followup by agent", "Not Applicable", False, 15.0, 0.0, False),
    ]
    # Four people named John Doe: four Agent IDs, four people.
    assert query(db, "SELECT count(*) FROM people WHERE name = 'John Doe'") == [(4,)]


def test_the_duration_threshold_sample_keeps_below_threshold_and_manual_metrics(tmp_path: Path, write) -> None:
    page = write("page.json", wrapped(sample("auto-qa-reporting-65714935444-sample1.json"), "scorereporting"))
    db = tmp_path / "s.duckdb"
    import_files(db, [page])
    below = "c-8d43539-ae1e-473a-ad97-6bd2add4xxxx"
    assert query(db, EVALUATION, [below])[0][5:12] == (None, False, None, None, None, "English", "below_threshold")
    assert query(db, METRICS, [below]) == [
        ("UK Greeting Compliance Rate GEN", None, False, 28.0, 27.0, False),
        ("UK Proper Sign-off GenAI", None, False, 27.0, 26.0, False),
    ]
    first = "c-0bba1c4-6d27-49d9-8557-9b0e8774xxxx"
    assert query(db, METRICS, [first])[1] == ("Manual Evaluation - UK", None, False, 0.0, 0.0, True)
    fatal = "c-a19b658-da43-465c-9606-1abb5786xxxx"
    assert query(db, EVALUATION, [fatal])[0][1:2] + query(db, EVALUATION, [fatal])[0][5:7] == ("Lily Agent", 0.0, True)


def test_the_duration_threshold_sample_as_printed_is_not_json(tmp_path: Path, write) -> None:
    """Kore prints this sample with "totalPages": 1 twice, the first without its comma (see the README)."""
    text = (FIXTURES / "auto-qa-reporting-65714935444-sample1.as-printed.txt").read_text(encoding="utf-8")
    problem = only_problem(fails(tmp_path / "s.duckdb", [write("page.json", text)]))
    assert problem.line == 158 and problem.expected.startswith("valid JSON")


def test_the_oldest_auto_qa_sample_names_metrics_by_their_id(tmp_path: Path, write) -> None:
    page = write("page.json", wrapped(sample("auto-qa-reporting-65736489383-sample1.json"), "scorereporting"))
    db = tmp_path / "s.duckdb"
    import_files(db, [page])
    metrics = query(db, METRICS, ["c-15ae6dc-7644-4bba-9ac9-d2092e51xxxx"])
    assert metrics[0] == ("em-aac5e0fe-22e3-590b-840a-ee190342xxxx", "Adhered", None, None, None, False)
    assert metrics[5] == ("Pre-Authorization query - Cigna", "Not Adhered", None, 10.0, None, False)
    assert query(db, "SELECT kore_score FROM evaluations ORDER BY kore_score") == [(30.0,), (75.0,), (80.0,)]


@pytest.mark.parametrize("wrap", [False, True], ids=["bare", "wrapped"])
def test_the_raw_data_samples_import_with_their_values(tmp_path: Path, write, wrap: bool) -> None:
    pages = []
    for name in ("raw-data-c8d38ad4-sample1.json", "raw-data-66378595596-sample1.json"):
        body = sample(name)
        pages.append(write(name, wrapped(body, "rawdata") if wrap else json.dumps(body)))
    db = tmp_path / "s.duckdb"
    summary = import_files(db, pages)
    assert summary.kinds["evaluations"].rows == 3
    peter = "c-8797b6f6-960e-5efb-8352-6a6b27d7xxxx"
    assert query(db, EVALUATION, [peter]) == [
        (peter, "Peter Parker", "a-3114fe85-b7e2-5c44-9a6c-780d8ebdxxxx", "peter.parker@yopmail.com",
         "2025-11-10T10:32:34", -12.0, False, False, None, None, "English", None, ["sep25connectors"], None,
         "Raw Data API")
    ]
    grace = query(db, EVALUATION, ["c-bcb3610-0024-48da-81d4-d6521122xxxx"])[0]
    assert grace[1] == "Grace Agent Agent" and grace[4:8] == ("2025-06-12T05:35:16", 68.0, False, True)
    assert grace[13] == 7.18
    srv = query(db, METRICS, ["c-bcb3610-0024-48da-81d4-d6521122xxxx"])[2]
    assert srv == ("SRV", "Not Adhered", False, 19.0, 13.0, False)
    # The first record has no Metrics: an evaluation without metrics.
    assert query(db, "SELECT kore_score, len(metrics) FROM evaluations WHERE conversation_id LIKE 'c-dummy%'") == [
        (100.0, 0)
    ]
    assert any(re.match(r"\d+ unknown API field\(s\) ignored: src, speechSpeed", w) for w in summary.warnings)


def test_the_latest_raw_data_sample_imports_with_its_audit_direction_and_emails(tmp_path: Path, write) -> None:
    """docs-v2 0629c9b0's Raw Data sample (about 56,000 characters): Audit Status/Date/Auditor Name, contactDirection,
    Agent Email, Auditor Response on every metric, Evaluation Form Name, custom_fields and long justifications."""
    page = write("page.json", wrapped(sample("raw-data-0629c9b0-sample1.json"), "rawdata"))
    db = tmp_path / "s.duckdb"
    summary = import_files(db, [page])
    assert summary.kinds["evaluations"].rows == 2
    first, second = "c-de2dd02c********30590459421", "c-775ad2c********f74d18c"
    assert query(db, EVALUATION, [first]) == [
        (first, "satya admin", "a-6470432c********688", "john.doe@example.com", "2026-05-02T13:01:34", 35.0, False,
         False, None, "inbound", "English", "evaluated", ["Expressq11"], 1.78, "Raw Data API")
    ]
    assert query(db, EVALUATION, [second])[0][5:14] == (19.0, False, False, None, "inbound", "English", "evaluated",
                                                         ["Expressq11"], 1.86)
    # Unassigned: no audit score, date or auditor.
    assert query(db, "SELECT DISTINCT audit_score, audited_at, auditor, evaluation_form FROM evaluations") == [
        (None, None, None, "Dyn Batching EV")]
    metrics = query(db, METRICS, [first])
    assert len(metrics) == 20
    assert metrics[0] == ("Dyn batching -1", "Not Applicable", False, 10.0, 0.0, False)
    assert metrics[9] == ("Agent Rude", "Adhered", False, 3.0, 10.0, False)
    assert metrics[19] == ("TEST agent", "Not Adhered", False, 0.0, 0.0, False)
    assert [m[:2] for m in query(db, METRICS, [second])][17:] == [
        ("ByValue1 + PPS", "Adhered"), ("New StaticValue + nested resp", "Not Applicable"),
        ("TEST agent", "Not Applicable")]
    # One person: the email ties both conversations (two masked Agent IDs) to john.doe@example.com.
    assert query(db, "SELECT count(DISTINCT person_id) FROM evaluations") == [(1,)]
    assert any(re.match(r"\d+ unknown API field\(s\) ignored: src, customConversationId", w) for w in summary.warnings)


def test_the_below_threshold_raw_data_sample_reads_na_as_no_score(tmp_path: Path, write) -> None:
    """ashishgupta-org/experimental-docs-v2 ef4c2ae9: "Kore Evaluation Score": "NA" (documented: "NA if not
    evaluated"), "Sentiment Score": null, duration_status, Agent Email and Evaluation Form Name."""
    page = write("page.json", wrapped(sample("raw-data-ef4c2ae9-sample1.json"), "rawdata"))
    db = tmp_path / "s.duckdb"
    assert import_files(db, [page]).kinds["evaluations"].rows == 2
    below, evaluated = "c-e37aca9-0177-40be-8c2d-bc2789d6xxxx", "c-d7bda7b-25be-4e01-975b-04e7aad1xxxx"
    assert query(db, EVALUATION, [below]) == [
        (below, "John Doe", "a-a25ad66-638d-46c0-b4db-7e5a7360xxxx", "johndoe@yopmail.com", "2026-03-23T10:18:43",
         None, False, False, None, None, "English", "below_threshold", ["Default Queue - Q1"], None, "Raw Data API")
    ]
    assert query(db, EVALUATION, [evaluated])[0][4:14] == ("2026-03-23T10:22:11", 77.0, False, True, None, None,
                                                            "English", "evaluated", ["Default Queue - Q1"], 6.52)
    assert query(db, METRICS, [below]) == [("UK Greeting Compliance Rate GEN", None, False, 28.0, 27.0, False)]
    assert query(db, METRICS, [evaluated]) == [("UK Greeting Compliance Rate GEN", "Adhered", False, 28.0, 27.0, False)]
    assert query(db, "SELECT DISTINCT evaluation_form FROM evaluations") == [("Chat Form - COMMON",)]


def test_the_ten_record_raw_data_sample_imports_with_its_values(tmp_path: Path, write) -> None:
    """The earlier docs' Raw Data page (stored copy 15087728519): ten records, some with metrics, some without."""
    page = write("page.json", wrapped(sample("raw-data-15087728519-sample1.json"), "rawdata"))
    db = tmp_path / "s.duckdb"
    assert import_files(db, [page]).kinds["evaluations"].rows == 10
    assert query(db, "SELECT kore_score, count(*), sum(len(metrics)) FROM evaluations GROUP BY ALL ORDER BY 1") == [
        (68.0, 4, 9), (100.0, 6, 6)]
    record5 = "c-6d3aeb8-a3c5-470e-8e66-0273cb42xxxx"
    assert query(db, EVALUATION, [record5])[0][1:8] == ("Grace Agent Agent", "a-143ba59-7c2b-4043-91ee-23ed2540xxxx",
                                                        None, "2025-06-12T05:28:23", 100.0, False, True)
    assert query(db, METRICS, [record5])[2] == ("Greeting Compliance Rate", "Adhered", False, 11.0, 23.0, False)
    assert query(db, METRICS, [record5])[5] == ("Static Price", "Adhered", False, 0.0, 0.0, False)
    grace = query(db, METRICS, ["c-bcb3610-0024-48da-81d4-d6521122xxxx"])
    assert len(grace) == 9 and ("SRV", "Not Adhered", False, 19.0, 13.0, False) in grace


@pytest.mark.parametrize("name", ["raw-data-66062388157-sample1.json", "raw-data-66031937753-sample1.json"])
def test_the_2024_raw_data_samples_import_with_their_emails_and_unnamed_metrics(tmp_path: Path, write,
                                                                                name: str) -> None:
    """The earliest Raw Data pages (2024): metrics with a name and a weight but often no Metric ID, no fatal flag
    and no negative weight; Agent Email; tabs in the printed JSON. 66031937753 prints both records with the
    placeholder id "c-<conversation_id>": one conversation, the later record used, with a warning."""
    page = write("page.json", wrapped(sample(name), "rawdata"))
    db = tmp_path / "s.duckdb"
    summary = import_files(db, [page])
    last = "c-508069e-a7c0-42ce-86ec-66585995xxxx" if "66062388157" in name else "c-<conversation_id>"
    assert query(db, EVALUATION, [last])[0][3:14] == (
        "demo@mailinator.com", "2024-07-19T13:30:20", 40.0, None, False, None, None, None, None,
        ["Technical Support"], 7.0)
    assert sorted(query(db, METRICS, [last])) == sorted([
        ("Customer Verification", "Not Applicable", None, 25.0, None, False),
        ("Customer Price", "Not Applicable", None, 30.0, None, False),
        ("Recommend/explain other options", "Not Adhered", None, 30.0, None, False),
        ("Policy", "Not Adhered", None, 15.0, None, False),
        ("Cross talk check", "Adhered", None, 30.0, None, False),
    ])
    if "66062388157" in name:
        assert summary.kinds["evaluations"].rows == 2
        first = "c-89da2cc-512d-4e26-9404-18481299xxxx"
        assert query(db, EVALUATION, [first])[0][1:6] == (
            "Demo", "a-5cd64b6-6634-4797-830d-e22c0474xxxxx", "demo@mailinator.com", "2024-07-18T11:31:14", 40.0)
        assert {m[:3] for m in query(db, METRICS, [first])} >= {("playbook", "Not Applicable", None),
                                                                ("QQQQQq", "Adhered", None)}
    else:
        assert summary.kinds["evaluations"].rows == 1
        assert any("the later page's record was used: c-<conversation_id>" in w for w in summary.warnings)


def test_the_template_auto_qa_sample_is_refused_for_its_repeated_metric_ids(tmp_path: Path, write) -> None:
    """Stored copy 66328831060 prints a template, not a response: every id is "{{conversationId}}" or
    "{{metricId}}". Kore documents a Metric ID as the metric's unique identifier, so a record naming seven
    metrics by one id is a problem, each named with its key path."""
    page = write("page.json", wrapped(sample("auto-qa-reporting-66328831060-sample1.json"), "scorereporting"))
    failure = fails(tmp_path / "s.duckdb", [page])
    problems = failure.problems
    assert failure.total == 13 and all(p.expected == "each metric once in a record" for p in problems)
    assert (problems[0].line, problems[0].column, problems[0].value) == (
        1, 'response.results[0].Metrics[1]."Metric Name"', "{{metricId}}")


def test_the_parameter_tables_spellings_of_the_time_and_form_read(tmp_path: Path, write) -> None:
    """conversationStartTime (the 0629c9b0 Raw Data parameter table) and Evaluation Form Name (its samples)."""
    record = raw_record()
    record["conversationStartTime"] = record.pop("Conversation Start Time")
    record["Evaluation Form Name"] = "Voice Form"
    db = tmp_path / "s.duckdb"
    import_files(db, [write("p.json", wrapped(page(record), "rawdata"))])
    assert query(db, "SELECT strftime(start_time, '%Y-%m-%d %H:%M'), evaluation_form FROM evaluations") == [
        ("2026-03-20 09:15", "Voice Form")]


def test_a_bare_auto_qa_page_without_a_time_is_a_problem_naming_the_record(tmp_path: Path, write) -> None:
    page = write("page.json", json.dumps(sample("auto-qa-reporting-0629c9b0-sample1.json")))
    problem = only_problem(fails(tmp_path / "s.duckdb", [page]))
    assert (problem.file, problem.line, problem.line_unit, problem.column, problem.value) == (
        str(page), 1, "record", "results[0]", "c-0179c0cc********60dbed")
    assert problem.expected == kore_api.TIME_EXPECTED


# ------------------------------------------------------------------------------------------------
# Merging, time and identity
# ------------------------------------------------------------------------------------------------
def auto_record(cid: str = "c-1", **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "conversationId": cid,
        "Queues": [{"Queue ID": "qu-1", "Queue Name": "Billing"}],
        "Agents": [{"Agent ID": "a-1", "Agent Name": "P. Nair"}],
        "koreEvalutionScore": 64,
        "fatalErrorCount": 0,
        "Language": "English",
        "duration_status": "evaluated",
        "Metrics": [{"Metric ID": "em-1", "Metric Name": "Greeting", "Metric Weight": 10,
                     "Metric Negative Weight": 5, "Qualification": "YES", "isFatalError": False,
                     "Auditor Response": None}],
        "contactDirection": "outbound",
        "AuditStatus": "Unassigned",
        "AuditDate": None,
        "AuditorName": None,
    }
    record.update(changes)
    return record


def raw_record(cid: str = "c-1", **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "Conversation ID": cid,
        "Conversation Start Time": "2026-03-20T09:15:00.000Z",
        "Language": "English",
        "Sentiment Score": 6.5,
        "Queues": [{"Queue ID": "qu-1", "Queue Name": "Billing"}],
        "Agents": [{"agentId": "a-1", "Agent Name": "Priya", "Agent Email": "Priya.Nair@example.com"}],
        "Kore Evaluation Score": 60,
        "Fatal Errors": 0,
        "Audit Status": "Unassigned",
        "duration_status": "evaluated",
    }
    record.update(changes)
    return record


def page(*records: dict[str, Any]) -> dict[str, Any]:
    return {"results": list(records), "totalResults": len(records), "totalPages": 1, "hasMore": False}


def test_an_auto_qa_and_a_raw_data_record_of_one_conversation_are_one_evaluation(tmp_path: Path, write) -> None:
    roster = write("roster.csv", "Agent Name,Email,Role\nPriya Nair,priya.nair@example.com,Agent\n"
                                 "Priya Nair,priya.n2@example.com,Agent\n")
    auto = write("auto.json", wrapped(page(auto_record()), "scorereporting"))
    raw = write("raw.json", json.dumps(page(raw_record())))
    db = tmp_path / "s.duckdb"
    summary = import_files(db, [roster, auto, raw])
    assert summary.kinds["evaluations"].rows == 1
    # Time and email from Raw Data; scores, direction from Auto QA; the person by the email, though
    # Kore's display names ("P. Nair", "Priya") are neither roster name, and two people share that name.
    assert query(db, EVALUATION + " ", ["c-1"]) == [
        ("c-1", "P. Nair", "a-1", "priya.nair@example.com", "2026-03-20T09:15:00", 64.0, False, None, None,
         "outbound", "English", "evaluated", ["Billing"], 6.5,
         "Auto QA and Raw Data APIs")
    ]
    assert query(db, "SELECT person_id FROM evaluations") == query(
        db, "SELECT person_id FROM people WHERE email = 'priya.nair@example.com'")
    assert not any("window" in w for w in summary.warnings)


def test_a_stored_time_is_kept_when_a_later_window_reads_the_evaluation_again(tmp_path: Path, write) -> None:
    db = tmp_path / "s.duckdb"
    import_files(db, [write("raw.json", wrapped(page(raw_record()), "rawdata"))])
    later = write("auto.json", wrapped(page(auto_record()), "scorereporting", endDate="2026-04-01T00:00:00Z"))
    import_files(db, [later])
    assert query(db, "SELECT strftime(start_time, '%Y-%m-%dT%H:%M:%S'), agent_email, sentiment_score, kore_score "
                     "FROM evaluations") == [("2026-03-20T09:15:00", "priya.nair@example.com", 6.5, 64.0)]
    # An evaluation first dated by its window keeps that date when a later, wider window reads it again ...
    window = write("w.json", wrapped(page(auto_record("c-2")), "scorereporting"))
    import_files(db, [window])
    again = write("w2.json", wrapped(page(auto_record("c-2")), "scorereporting", startDate="2026-03-09T00:00:00Z",
                                     endDate="2026-04-07T00:00:00Z"))
    summary = import_files(db, [again])
    assert summary.kinds["evaluations"].unchanged == 1
    assert query(db, "SELECT strftime(start_time, '%Y-%m-%d') FROM evaluations WHERE conversation_id = 'c-2'") == [
        ("2026-03-23",)]
    # ... until a Raw Data record gives its own time.
    import_files(db, [write("r2.json", json.dumps(page(raw_record("c-2", **{
        "Conversation Start Time": "2026-03-23T17:00:00Z"}))))])
    assert query(db, "SELECT strftime(start_time, '%Y-%m-%d %H') FROM evaluations WHERE conversation_id = 'c-2'") == [
        ("2026-03-23 17",)]


def test_an_agent_id_learnt_from_a_raw_data_record_keeps_the_person_when_auto_qa_comes_later(
    tmp_path: Path, write
) -> None:
    """A roster without Agent IDs: the Raw Data record ties Agent ID a-1 to an email; the Auto QA record of
    the same conversation (and of another one), in a later run, gives only the Agent ID: both evaluations are
    the email's, no placeholder person is made, and the agent sees them."""
    db = tmp_path / "s.duckdb"
    roster = write("roster.csv", "Agent Name,Email,Role\nPriya Nair,priya.nair@example.com,Agent\n")
    import_files(db, [roster, write("raw.json", wrapped(page(raw_record()), "rawdata"))])
    assert query(db, "SELECT person_id FROM evaluations") == [("priya.nair@example.com",)]
    import_files(db, [write("auto.json", wrapped(page(auto_record(), auto_record("c-2")), "scorereporting"))])
    assert query(db, "SELECT conversation_id, person_id, agent_id FROM evaluations ORDER BY 1") == [
        ("c-1", "priya.nair@example.com", "a-1"), ("c-2", "priya.nair@example.com", "a-1")]
    assert query(db, "SELECT count(*) FROM people WHERE person_id LIKE 'agent-id:%'") == [(0,)]
    con = duckdb.connect(str(db), read_only=True)
    try:
        viewer = access.identify(con, "priya.nair@example.com")
        assert store_overview(con, viewer).evaluations == 2
        assert evaluation_detail(con, viewer, "c-2") is not None
    finally:
        con.close()


def test_an_agent_id_placeholder_joins_the_person_a_later_raw_data_record_names(tmp_path: Path, write) -> None:
    """The other order: Auto QA records first (a person known by Agent ID only), the Raw Data record of one
    of the conversations later: the placeholder's evaluations join the email's person."""
    db = tmp_path / "s.duckdb"
    roster = write("roster.csv", "Agent Name,Email,Role\nPriya Nair,priya.nair@example.com,Agent\n")
    import_files(db, [roster, write("auto.json", wrapped(page(auto_record(), auto_record("c-2")), "scorereporting"))])
    assert query(db, "SELECT DISTINCT person_id FROM evaluations") == [("agent-id:a-1",)]
    import_files(db, [write("raw.json", wrapped(page(raw_record()), "rawdata"))])
    assert query(db, "SELECT conversation_id, person_id FROM evaluations ORDER BY 1") == [
        ("c-1", "priya.nair@example.com"), ("c-2", "priya.nair@example.com")]
    assert query(db, "SELECT count(*) FROM people WHERE person_id LIKE 'agent-id:%'") == [(0,)]


def _sees(db: Path, email: str) -> set[str]:
    """The conversations the agent signed in as ``email`` is shown (coaching's scoped queries)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        viewer = access.identify(con, email)
        ids = [cid for (cid,) in con.execute("SELECT conversation_id FROM evaluations").fetchall()]
        seen = {cid for cid in ids if evaluation_detail(con, viewer, cid) is not None}
        assert store_overview(con, viewer).evaluations == len(seen)
        return seen
    finally:
        con.close()


ANN = "Agent Name,Email,Role\nAnn Lee,ann.lee@example.com,Agent\nAnn Smith,ann.smith@example.com,Agent\n"


def _ann(cid: str, email: str | None, when: str) -> dict[str, Any]:
    """Ann's Raw Data record (Kore's Agent ID a-7) with her email of the time, or her Auto QA record."""
    if email is None:
        return auto_record(cid, Agents=[{"Agent ID": "a-7", "Agent Name": "Ann"}], evaluatedAt=when)
    return raw_record(cid, Agents=[{"agentId": "a-7", "Agent Name": "Ann", "Agent Email": email}],
                      **{"Conversation Start Time": when})


def test_an_agent_whose_email_changed_keeps_her_agent_id_and_each_row_its_emails_person(
    tmp_path: Path, write
) -> None:
    """Ann's email changes from ann.lee@ to ann.smith@, Kore's Agent ID a-7 stays. The stored rows give
    (a-7, ann.lee@), the new Raw Data rows (a-7, ann.smith@): a row that gives an email is that email's
    person, and the import goes through (the daily sync would otherwise fail every window). A record with
    the Agent ID alone is the run's holder's; in a later run, with no holder named by the roster or the run,
    the latest stored row's (docs/kore-api.md)."""
    db = tmp_path / "s.duckdb"
    roster = write("roster.csv", ANN)
    import_files(db, [roster, write("r1.json", wrapped(page(_ann("c-1", "ann.lee@example.com",
                                                                  "2026-03-20T09:00:00Z")), "rawdata"))])
    import_files(db, [write("r2.json", wrapped(page(_ann("c-2", "ann.smith@example.com", "2026-04-02T09:00:00Z")),
                                               "rawdata")),
                      write("a2.json", wrapped(page(_ann("c-3", None, "2026-04-02T10:00:00Z")), "scorereporting"))])
    # The store now holds both pairs; an Auto QA record of a-7 alone goes to the latest stored row's email.
    # The Auto QA record of c-1 keeps the Raw Data record's email, and so its person.
    summary = import_files(db, [write("a3.json", wrapped(page(_ann("c-4", None, "2026-04-03T10:00:00Z"),
                                                              _ann("c-1", None, "2026-03-20T09:05:00Z")),
                                                         "scorereporting"))])
    assert query(db, "SELECT conversation_id, agent_email, person_id FROM evaluations ORDER BY 1") == [
        ("c-1", "ann.lee@example.com", "ann.lee@example.com"),
        ("c-2", "ann.smith@example.com", "ann.smith@example.com"),
        ("c-3", None, "ann.smith@example.com"),
        ("c-4", None, "ann.smith@example.com"),
    ]
    assert any("a-7 (ann.lee@example.com, ann.smith@example.com) → ann.smith@example.com" in w
               for w in summary.warnings)
    assert query(db, "SELECT count(*) FROM people WHERE person_id LIKE 'agent-id:%'") == [(0,)]
    assert _sees(db, "ann.lee@example.com") == {"c-1"}
    assert _sees(db, "ann.smith@example.com") == {"c-2", "c-3", "c-4"}


def test_a_store_already_holding_two_emails_for_an_agent_id_imports_a_record_of_it(tmp_path: Path, write) -> None:
    """Stores that hold an Agent ID with two emails (rows of a report that gave both) still import a record
    that gives the Agent ID alone: the latest stored row's email has it, whichever email sorts first."""
    db = tmp_path / "s.duckdb"
    import_files(db, [write("roster.csv", ANN),
                      write("r.json", wrapped(page(_ann("c-1", "ann.smith@example.com", "2026-03-20T09:00:00Z"),
                                                   _ann("c-2", "ann.lee@example.com", "2026-03-21T09:00:00Z")),
                                              "rawdata"))])
    import_files(db, [write("a.json", wrapped(page(_ann("c-3", None, "2026-03-22T10:00:00Z")), "scorereporting"))])
    assert query(db, "SELECT person_id FROM evaluations WHERE conversation_id = 'c-3'") == [("ann.lee@example.com",)]


def test_an_auto_qa_record_after_a_raw_data_record_without_an_agent_id_keeps_the_emails_person(
    tmp_path: Path, write
) -> None:
    """The Raw Data record gives the agent's email but no agentId; the Auto QA record of the conversation, a run
    later, gives Agent ID a-1 alone. The evaluation keeps the Raw Data record's email (an Auto QA record does
    not clear it), and so its person: the agent still sees it."""
    db = tmp_path / "s.duckdb"
    roster = write("roster.csv", "Agent Name,Email,Role\nPriya Nair,priya.nair@example.com,Agent\n")
    raw = raw_record(Agents=[{"Agent Name": "Priya", "Agent Email": "priya.nair@example.com"}])
    import_files(db, [roster, write("r.json", wrapped(page(raw), "rawdata"))])
    import_files(db, [write("a.json", wrapped(page(auto_record()), "scorereporting"))])
    assert query(db, "SELECT agent_email, agent_id, person_id FROM evaluations") == [
        ("priya.nair@example.com", "a-1", "priya.nair@example.com")]
    assert _sees(db, "priya.nair@example.com") == {"c-1"}
    assert query(db, "SELECT count(*) FROM people WHERE person_id LIKE 'agent-id:%'") == [(0,)]


def test_a_stored_pair_whose_conversation_the_run_gives_another_email_holds_no_agent_id(
    tmp_path: Path, write
) -> None:
    """agent_id_holders' correction: the store says c-1 was Ann's (a-7 with her email); this run's Raw Data
    record of c-1 says it was Bob's (a-8, his email). That stored pair is no evidence of who a-7 is, so an
    Auto QA record of a-7 alone in the same run is someone known only by the Agent ID, not Ann; a stored
    pair the run does not correct (c-3, a run later) still says a-7 is Ann."""
    db = tmp_path / "s.duckdb"
    roster = write("roster.csv", ANN + "Bob Brown,bob@example.com,Agent\n")
    import_files(db, [roster, write("r.json", wrapped(page(_ann("c-1", "ann.lee@example.com", "2026-03-20T09:00:00Z")),
                                                    "rawdata"))])
    bob = raw_record("c-1", Agents=[{"agentId": "a-8", "Agent Name": "Bob", "Agent Email": "bob@example.com"}])
    import_files(db, [write("r2.json", wrapped(page(bob), "rawdata")),
                      write("a2.json", wrapped(page(_ann("c-2", None, "2026-03-21T09:00:00Z")), "scorereporting"))])
    assert query(db, "SELECT conversation_id, agent_id, person_id FROM evaluations ORDER BY 1") == [
        ("c-1", "a-8", "bob@example.com"), ("c-2", "a-7", "agent-id:a-7")]
    # Ann's own Raw Data record gives the pair again: the placeholder joins her, with c-2.
    import_files(db, [write("r3.json", wrapped(page(_ann("c-3", "ann.lee@example.com", "2026-03-22T09:00:00Z")),
                                               "rawdata"))])
    assert query(db, "SELECT conversation_id, person_id FROM evaluations ORDER BY 1") == [
        ("c-1", "bob@example.com"), ("c-2", "ann.lee@example.com"), ("c-3", "ann.lee@example.com")]


def test_a_record_without_a_time_of_its_own_is_dated_by_the_start_of_its_one_day_window(
    tmp_path: Path, write
) -> None:
    """A sync's window is one day, [startDate, endDate): its endDate is the next day's midnight, outside it.
    The start is inside the window, on the day the window is."""
    db = tmp_path / "s.duckdb"
    day = {"startDate": "2026-06-30T00:00:00.000Z", "endDate": "2026-07-01T00:00:00.000Z"}
    summary = import_files(db, [write("auto.json", wrapped(page(auto_record()), "scorereporting", **day))])
    assert query(db, "SELECT strftime(start_time, '%Y-%m-%dT%H:%M:%S.%g') FROM evaluations") == [
        ("2026-06-30T00:00:00.000",)]
    assert "1 evaluation(s) have no conversation time of their own (no Raw Data record): dated by the start of " \
           "their page's request window" in summary.warnings


@pytest.mark.parametrize("first", ["scorereporting", "rawdata"])
def test_the_source_names_the_apis_whose_records_made_the_evaluation(tmp_path: Path, write, first: str) -> None:
    """Auto QA API, Raw Data API, or both: in one run or in two, in either order; the same page again keeps it."""
    db = tmp_path / "s.duckdb"
    pages = {"scorereporting": write("a.json", wrapped(page(auto_record()), "scorereporting")),
             "rawdata": write("r.json", wrapped(page(raw_record()), "rawdata"))}
    second = "rawdata" if first == "scorereporting" else "scorereporting"
    import_files(db, [pages[first]])
    alone = {"scorereporting": "Auto QA API", "rawdata": "Raw Data API"}[first]
    assert query(db, "SELECT source FROM evaluations") == [(alone,)]
    import_files(db, [pages[first]])
    assert query(db, "SELECT source FROM evaluations") == [(alone,)]
    import_files(db, [pages[second]])
    assert query(db, "SELECT source FROM evaluations") == [("Auto QA and Raw Data APIs",)]
    import_files(db, [pages[first]])
    assert query(db, "SELECT source FROM evaluations") == [("Auto QA and Raw Data APIs",)]


def test_evaluated_at_dates_a_bare_auto_qa_record(tmp_path: Path, write) -> None:
    db = tmp_path / "s.duckdb"
    import_files(db, [write("p.json", json.dumps(page(auto_record(evaluatedAt="2026-03-22T10:00:00Z"))))])
    assert query(db, "SELECT strftime(start_time, '%Y-%m-%d %H') FROM evaluations") == [("2026-03-22 10",)]


def _both_apis() -> tuple[dict[str, Any], dict[str, Any]]:
    """An Auto QA and a Raw Data record of one conversation that disagree on every field both give, and each
    missing something the other has."""
    auto = auto_record(AuditScore=None, Language="English")
    raw = raw_record(**{
        "Kore Evaluation Score": 60, "Language": "en-GB", "duration_status": "below_threshold",
        "Queues": [{"Queue ID": "qu-2", "Queue Name": "Billing East"}],
        "Audit Score": 55, "Audit Date": "2026-03-25T10:00:00Z", "Auditor Name": "Sam Ortiz",
        "Evaluation Form Name": "Voice Form", "Channel": "voice",
        "Metrics": [{"Metric Name": "Greeting", "Qualification": "NO", "Metric Weight": 10},
                    {"Metric Name": "Hold", "Qualification": "YES", "Metric Weight": 5}],
    })
    return auto, raw


EVERYTHING = (
    "SELECT * EXCLUDE (metric_layout, metrics, metrics_digest) FROM evaluations ORDER BY conversation_id"
)
#: The evaluation :func:`_both_apis` gives, column by column (``EVERYTHING``): Raw Data's word where the rule
#: says so (time, channel, sentiment, queues, agents, email), Auto QA's for the rest (the scored agent and
#: its Agent ID, score, language, duration status, direction, metrics), and either's where the other has none
#: (the Auto QA record's null audit is the Raw Data record's; the form only Raw Data gives).
BOTH_APIS_ROW: dict[str, Any] = {
    "conversation_id": "c-1", "channel": "voice", "queues": ["Billing East"], "last_queue": "Billing East",
    "language": "English", "agents": ["Priya"], "scored_agent": "P. Nair", "agent_email": "priya.nair@example.com",
    "agent_id": "a-1", "person_id": "priya.nair@example.com", "start_time": datetime(2026, 3, 20, 9, 15),
    "sentiment_score": 6.5, "topics": None, "intent": None, "escalation": None, "kore_score": 64.0,
    "is_passed": None, "is_fatal": False, "audit_score": 55.0, "audited_at": datetime(2026, 3, 25, 10, 0),
    "auditor": "Sam Ortiz", "contact_direction": "outbound", "duration_status": "evaluated",
    "evaluation_form": "Voice Form", "source": "Auto QA and Raw Data APIs", "scored_metrics": ["Greeting"],
    "not_adhered_metrics": [],
}


@pytest.mark.parametrize("order", ["one run", "Auto QA first", "Raw Data first"])
def test_the_two_apis_records_give_the_same_evaluation_in_one_run_or_two_in_either_order(
    tmp_path: Path, write, order: str
) -> None:
    """Raw Data's value for what the conversation was (time, channel, sentiment, queues, agents, email), Auto
    QA's for the rest (scores, language, duration status, metrics); either fills what the other has none of
    (the audit, the form). A later run's record of one API does not overwrite the other's fields."""
    auto, raw = _both_apis()
    a = write("a.json", wrapped(page(auto), "scorereporting"))
    r = write("r.json", wrapped(page(raw), "rawdata"))
    db = tmp_path / "s.duckdb"
    runs = {"one run": [[a, r]], "Auto QA first": [[a], [r]], "Raw Data first": [[r], [a]]}[order]
    for files in runs:
        import_files(db, files)
    assert query(db, EVALUATION, ["c-1"]) == [
        ("c-1", "P. Nair", "a-1", "priya.nair@example.com", "2026-03-20T09:15:00", 64.0, False, None, 55.0,
         "outbound", "English", "evaluated", ["Billing East"], 6.5, "Auto QA and Raw Data APIs")
    ]
    assert query(db, "SELECT agents, channel, evaluation_form, auditor, strftime(audited_at, '%Y-%m-%d') "
                     "FROM evaluations") == [(["Priya"], "voice", "Voice Form", "Sam Ortiz", "2026-03-25")]
    assert query(db, METRICS, ["c-1"]) == [("Greeting", "Adhered", False, 10.0, 5.0, False)]
    # Every column, stated from the two records (not from another import of them), whichever way they came.
    assert query(db, EVERYTHING) == [tuple(BOTH_APIS_ROW.values())]
    # The metrics digest is the Auto QA record's metrics', as its page alone gives them.
    alone = tmp_path / "auto-alone.duckdb"
    import_files(alone, [a])
    assert query(db, "SELECT metrics_digest FROM evaluations") == query(alone, "SELECT metrics_digest FROM evaluations")
    # Reading both pages again changes nothing.
    for files in ([a], [r], [a, r]):
        summary = import_files(db, files)
        assert (summary.kinds["evaluations"].unchanged, summary.kinds["evaluations"].updated) == (1, 0), files
    assert query(db, EVERYTHING) == [tuple(BOTH_APIS_ROW.values())]


def test_an_evaluation_from_the_report_counts_as_both_apis_and_keeps_its_source(tmp_path: Path, write) -> None:
    """An evaluation the Interaction Evaluation report gave has every field of both APIs: a later Auto QA record
    gives what is its word (score, language, direction) and only fills the rest (the report's queues stay); a
    Raw Data record gives what is its (time, sentiment, queues, email) and keeps the Auto QA score over its
    "NA". The source stays the report."""
    db = tmp_path / "s.duckdb"
    row = ("c-1,Voice,Billing queue,Billing queue,en,Priya Nair,Priya Nair,2026-03-20T09:00:00Z,6,topic,0,70,1,0,"
           "80,inbound,Evaluated,Billing Voice form,Intent,1,0,10,10")
    roster = write("roster.csv", "Agent Name,Email,Role\nPriya Nair,priya.nair@example.com,Agent\n")
    import_files(db, [roster, write("ie.csv", csv_text(IE_HEADER, row))])
    report = "Interaction Evaluation report"
    import_files(db, [write("a.json", wrapped(page(auto_record()), "scorereporting"))])
    assert query(db, EVALUATION, ["c-1"]) == [
        ("c-1", "P. Nair", "a-1", None, "2026-03-20T09:00:00", 64.0, False, True, 80.0, "outbound", "English",
         "evaluated", ["Billing queue"], 6.0, report)]
    import_files(db, [write("r.json", wrapped(page(raw_record(**{"Kore Evaluation Score": "NA",
                                                                 "Sentiment Score": 3})), "rawdata"))])
    assert query(db, EVALUATION, ["c-1"]) == [
        ("c-1", "P. Nair", "a-1", "priya.nair@example.com", "2026-03-20T09:15:00", 64.0, False, True, 80.0,
         "outbound", "English", "evaluated", ["Billing"], 3.0, report)]
    assert query(db, "SELECT person_id FROM evaluations") == [("priya.nair@example.com",)]


def test_a_change_of_source_alone_counts_as_an_update(tmp_path: Path, write) -> None:
    """A Raw Data record that gives nothing the Auto QA record had not given still makes the evaluation both
    APIs': the summary counts it updated; the same page again changes nothing."""
    db = tmp_path / "s.duckdb"
    import_files(db, [write("a.json", wrapped(page(auto_record()), "scorereporting"))])
    before = query(db, "SELECT * EXCLUDE (source) FROM evaluations")
    raw = {"Conversation ID": "c-1", "Conversation Start Time": WINDOW["startDate"],
           "Queues": [{"Queue ID": "qu-1", "Queue Name": "Billing"}],
           "Agents": [{"agentId": "a-1", "Agent Name": "P. Nair"}]}
    r = write("r.json", wrapped(page(raw), "rawdata"))
    summary = import_files(db, [r])
    assert (summary.kinds["evaluations"].updated, summary.kinds["evaluations"].unchanged) == (1, 0)
    assert query(db, "SELECT * EXCLUDE (source) FROM evaluations") == before
    assert query(db, "SELECT source FROM evaluations") == [("Auto QA and Raw Data APIs",)]
    summary = import_files(db, [r])
    assert (summary.kinds["evaluations"].updated, summary.kinds["evaluations"].unchanged) == (0, 1)


def test_a_raw_data_na_score_in_a_later_run_keeps_the_auto_qa_score(tmp_path: Path, write) -> None:
    db = tmp_path / "s.duckdb"
    import_files(db, [write("a.json", wrapped(page(auto_record()), "scorereporting"))])
    summary = import_files(db, [write("r.json", wrapped(page(raw_record(**{"Kore Evaluation Score": "NA"})),
                                                        "rawdata"))])
    assert summary.kinds["evaluations"].updated == 1  # the time, sentiment and email are Raw Data's
    assert query(db, "SELECT kore_score, agent_email, strftime(start_time, '%Y-%m-%d') FROM evaluations") == [
        (64.0, "priya.nair@example.com", "2026-03-20")]
    # A Raw Data record alone is its evaluation's only word: a later one of its own updates it.
    import_files(db, [write("r2.json", wrapped(page(raw_record("c-2")), "rawdata"))])
    import_files(db, [write("r3.json", wrapped(page(raw_record("c-2", **{"Kore Evaluation Score": 72})),
                                               "rawdata"))])
    assert query(db, "SELECT kore_score FROM evaluations WHERE conversation_id = 'c-2'") == [(72.0,)]


@pytest.mark.parametrize("later", ["rawdata", "scorereporting"])
def test_a_record_without_metrics_keeps_the_stored_metrics(tmp_path: Path, write, later: str) -> None:
    db = tmp_path / "s.duckdb"
    import_files(db, [write("a.json", wrapped(page(auto_record()), "scorereporting"))])
    before = query(db, "SELECT metrics_digest, scored_metrics, not_adhered_metrics FROM evaluations")
    before_metrics = query(db, METRICS, ["c-1"])
    record = raw_record() if later == "rawdata" else auto_record(koreEvalutionScore=70)
    record.pop("Metrics", None)
    summary = import_files(db, [write("l.json", wrapped(page(record), later))])
    assert summary.kinds["evaluations"].updated == 1
    assert query(db, METRICS, ["c-1"]) == [("Greeting", "Adhered", False, 10.0, 5.0, False)]
    assert query(db, "SELECT metrics_digest, scored_metrics, not_adhered_metrics FROM evaluations") == before
    # An empty Metrics list is a record's word that there are none (but not over the other API's metrics).
    import_files(db, [write("e.json", wrapped(page(auto_record(Metrics=[])), "scorereporting"))])
    assert query(db, METRICS, ["c-1"]) == ([] if later == "scorereporting" else before_metrics)


REVIEW_EVENTS = (
    "ConversationID,Metric,Round,Actor,Action,Comment,Timestamp,Audit Score\n"
    "c-1,,0,QA,Audit Submitted,,2026-03-26T10:00:00Z,55\n"
    "c-1,Greeting,1,Agent,Disputed,I greeted them.,2026-03-26T12:00:00Z,\n"
)


def test_a_review_event_may_name_a_metric_a_record_without_metrics_keeps(tmp_path: Path, write) -> None:
    """The run's review events are checked against the metrics each evaluation has after the run."""
    db = tmp_path / "s.duckdb"
    import_files(db, [write("a.json", wrapped(page(auto_record()), "scorereporting"))])
    record = raw_record()
    events = write("review-events.csv", REVIEW_EVENTS)
    import_files(db, [write("r.json", wrapped(page(record), "rawdata")), events])
    assert query(db, "SELECT count(*) FROM review_events WHERE conversation_id = 'c-1'") == [(2,)]


def test_without_review_events_the_store_is_not_read_for_the_events_metrics(tmp_path: Path, write) -> None:
    """The evaluations whose metrics the run's review events check are a view when no event names one: an
    import without review events (a 2-million-row report into a 2-million-evaluation store) builds nothing
    from the stored evaluations for them, Kore API pages or not."""
    db = tmp_path / "s.duckdb"
    import_files(db, [write("a.json", wrapped(page(auto_record()), "scorereporting"))])
    kinds: list[tuple[str, str]] = []

    def look(con: duckdb.DuckDBPyConnection) -> None:
        kinds.extend(con.execute(
            "SELECT 'table', table_name FROM duckdb_tables() WHERE temporary AND table_name = 'event_evaluations' "
            "UNION ALL SELECT 'view', view_name FROM duckdb_views() WHERE temporary "
            "AND view_name = 'event_evaluations'").fetchall())

    import_files(db, [write("r.json", wrapped(page(raw_record()), "rawdata"))], also_write=look)
    import_files(db, [write("a2.json", wrapped(page(auto_record()), "scorereporting"))], also_write=look)
    assert kinds == [("view", "event_evaluations")] * 2


def test_an_audit_added_later_updates_the_evaluation_and_the_same_pages_twice_change_nothing(
    tmp_path: Path, write
) -> None:
    db = tmp_path / "s.duckdb"
    first = [write("a.json", wrapped(page(auto_record()), "scorereporting")),
             write("r.json", wrapped(page(raw_record()), "rawdata"))]
    import_files(db, first)
    before = query(db, "SELECT * EXCLUDE (metrics) FROM evaluations")
    again = import_files(db, first)
    assert (again.kinds["evaluations"].unchanged, again.kinds["evaluations"].updated) == (1, 0)
    assert query(db, "SELECT * EXCLUDE (metrics) FROM evaluations") == before
    audited = auto_record(AuditStatus="Audited", AuditScore=55, AuditDate="2026-03-25T10:00:00Z",
                          AuditorName="Sam Ortiz")
    summary = import_files(db, [write("a2.json", wrapped(page(audited), "scorereporting"))])
    assert summary.kinds["evaluations"].updated == 1
    assert query(db, "SELECT audit_score, strftime(audited_at, '%Y-%m-%d'), auditor, agent_email FROM evaluations") == [
        (55.0, "2026-03-25", "Sam Ortiz", "priya.nair@example.com")]


def test_a_conversation_on_two_pages_of_one_api_takes_the_later_record(tmp_path: Path, write) -> None:
    db = tmp_path / "s.duckdb"
    summary = import_files(db, [write("1.json", wrapped(page(auto_record()), "scorereporting")),
                                write("2.json", wrapped(page(auto_record(koreEvalutionScore=70)), "scorereporting"))])
    assert query(db, "SELECT kore_score FROM evaluations") == [(70.0,)]
    assert any("the later page's record was used: c-1" in w for w in summary.warnings)


def test_an_auditor_response_is_the_result_of_a_metric_kore_did_not_evaluate(tmp_path: Path, write) -> None:
    metrics = [
        {"Metric Name": "Greeting", "Qualification": "YES", "Auditor Response": "NO"},
        {"Metric Name": "Empathy - Manual Evaluation Metric", "Qualification": "-", "Auditor Response": "YES"},
    ]
    db = tmp_path / "s.duckdb"
    import_files(db, [write("p.json", wrapped(page(auto_record(Metrics=metrics)), "scorereporting"))])
    assert query(db, "SELECT metric, result, is_manual FROM evaluation_metrics ORDER BY position") == [
        ("Greeting", "Adhered", False), ("Empathy", "Adhered", True)]


# ------------------------------------------------------------------------------------------------
# Problems
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "column", "value", "expected"),
    [
        (lambda r: r["Agents"][0].pop("Agent Name") and r["Agents"][0].pop("Agent ID"),
         'response.results[1].Agents[0]."Agent Name"', None, "the scored agent's name or Agent ID"),
        (lambda r: r.update(Agents=[]), "response.results[1].Agents", "[]",
         'the agents, the scored agent first (an object with "Agent ID" and "Agent Name")'),
        (lambda r: r.pop("conversationId"), "response.results[1].conversationId", None,
         "the conversation's id (text): every record needs one"),
        (lambda r: r.update(koreEvalutionScore=[64]), "response.results[1].koreEvalutionScore", "[64]", "a number"),
        (lambda r: r.update(fatalErrorCount="none"), "response.results[1].fatalErrorCount", "none",
         "the number of fatal errors (a whole number, 0 or more)"),
        (lambda r: r.update(Metrics={"Greeting": "YES"}), "response.results[1].Metrics", '{"Greeting": "YES"}',
         "a list of metrics"),
        (lambda r: r["Metrics"][0].update(Qualification={"x": 1}),
         'response.results[1].Metrics[0].Qualification', '{"x": 1}', "YES, NO or NA"),
        (lambda r: r.update(AuditDate=20260325), "response.results[1].AuditDate", "20260325",
         "an ISO 8601 date and time (text)"),
        (lambda r: r.update(audit_date="2026-03-25", AuditDate="2026-03-26"), "response.results[1].audit_date",
         "2026-03-25", "one value for 'AuditDate' and 'audit_date' (two spellings of one field)"),
    ],
    ids=["agent", "no-agents", "conversation", "score-type", "fatal", "metrics", "qualification", "date", "twice"],
)
def test_a_bad_record_is_a_problem_with_its_number_and_key_path(change, column, value, expected, tmp_path: Path,
                                                                 write) -> None:
    bad = auto_record("c-2")
    change(bad)
    path = write("p.json", wrapped(page(auto_record(), bad), "scorereporting"))
    assert only_problem(fails(tmp_path / "s.duckdb", [path])) == Problem(str(path), 2, column, value, expected,
                                                                        "record")


def test_a_value_out_of_range_names_the_record_and_the_key_as_spelled(tmp_path: Path, write) -> None:
    path = write("p.json", wrapped(page(auto_record(koreEvalutionScore=150)), "scorereporting"))
    assert only_problem(fails(tmp_path / "s.duckdb", [path])) == Problem(
        str(path), 1, "koreEvalutionScore", "150", "a number from -100 to 100", "record")


def test_a_wrapper_with_an_unknown_endpoint_is_a_problem(tmp_path: Path, write) -> None:
    path = write("p.json", wrapped(page(auto_record()), "agents"))
    problem = only_problem(fails(tmp_path / "s.duckdb", [path]))
    assert (problem.column, problem.value, problem.expected) == ("request.endpoint", "agents",
                                                                  "scorereporting or rawdata")


def test_an_empty_wrapped_page_imports_nothing(tmp_path: Path, write) -> None:
    path = write("p.json", wrapped(page(), "rawdata"))
    assert import_files(tmp_path / "s.duckdb", [path]).kinds["evaluations"].rows == 0


# ------------------------------------------------------------------------------------------------
# Every spelling, any subset of optional fields
# ------------------------------------------------------------------------------------------------
OPTIONAL = ("Queues", "fatalErrorCount", "Language", "duration_status", "contactDirection", "AuditStatus",
            "AuditDate", "AuditorName")


def _respell(record: dict[str, Any], choice: st.DataObject) -> dict[str, Any]:
    """The record with each key written in another of Kore's spellings (or another case and spacing)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = kore_api._LOOKUP["record"][kore_api.normalise(key)]
        spelling = choice.draw(st.sampled_from(kore_api.SPELLINGS["record"][name]))
        spelling = choice.draw(st.sampled_from([spelling, spelling.lower(), spelling.upper().replace(" ", "_")]))
        if isinstance(value, list) and name in ("agents", "queues", "metrics"):
            level = {"agents": "agent", "queues": "queue", "metrics": "metric"}[name]
            value = [{choice.draw(st.sampled_from(kore_api.SPELLINGS[level][kore_api._LOOKUP[level][
                kore_api.normalise(k)]])): v for k, v in item.items()} for item in value]
        out[spelling] = value
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), dropped=st.sets(st.sampled_from(OPTIONAL)))
def test_any_spelling_and_any_optional_fields_give_the_same_evaluation(tmp_path_factory, data, dropped) -> None:
    folder = tmp_path_factory.mktemp("spell")
    record = {k: v for k, v in auto_record().items() if k not in dropped}
    plain, respelled = folder / "plain.json", folder / "respelled.json"
    plain.write_text(wrapped(page(record), "scorereporting"))
    respelled.write_text(wrapped(page(_respell(copy.deepcopy(record), data)), "scorereporting"))
    sql = "SELECT * EXCLUDE (metric_layout) FROM evaluations"
    one, two = folder / "1.duckdb", folder / "2.duckdb"
    import_files(one, [plain])
    import_files(two, [respelled])
    assert query(one, sql) == query(two, sql)
    assert query(one, METRICS, ["c-1"]) == query(two, METRICS, ["c-1"])


# ------------------------------------------------------------------------------------------------
# The docs
# ------------------------------------------------------------------------------------------------
def test_the_docs_spelling_tables_are_the_modules() -> None:
    text = (ROOT / "docs" / "kore-api.md").read_text(encoding="utf-8")
    documented = {
        name: tuple(re.findall(r"`([^`]+)`", spellings))
        for name, spellings in re.findall(r"^\| ([a-z_]+) \| (`.*`) \|$", text, flags=re.M)
    }
    expected = {name: spellings for fields in kore_api.SPELLINGS.values() for name, spellings in fields.items()}
    assert documented == expected


def test_every_saved_sample_is_named_in_the_fixtures_readme() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for path in FIXTURES.iterdir():
        if path.name != "README.md":
            assert f"`{path.name}`" in readme, path.name

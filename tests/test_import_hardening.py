"""Imports that a hostile user or an operator's bad day could make hurt (issue 13).

Numbers are plain decimal numbers only, dates only dates; a file far too wide is refused before any
heavy work; line endings may be mixed as spreadsheets mix them; a disk that fills while the store is
copied leaves nothing behind and names the live store.
"""

from __future__ import annotations

import csv
import errno
import gc
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from coaching import cli, store
from coaching.importer import formats, import_files, sources
from coaching.store import StoreError

from exports import IE_COLUMNS, fails, only_problem, query


# ------------------------------------------------------------------------------------------------
# Mixed line endings are read as a spreadsheet reads them
# ------------------------------------------------------------------------------------------------
def _mixed(text: str, crlf_lines: set[int]) -> bytes:
    """``text`` (LF line endings) with the line endings of the given lines (1-based) made CRLF."""
    lines = text.split("\n")
    return b"".join(
        (line + ("\r\n" if number in crlf_lines else "\n")).encode()
        for number, line in enumerate(lines[:-1], start=1)
    ) + lines[-1].encode()


def test_a_report_with_mixed_line_endings_imports(tmp_path: Path, write, templates: Path) -> None:
    text = (templates / "ie-report.csv").read_text(encoding="utf-8")
    expected = tmp_path / "expected.duckdb"
    import_files(expected, [templates / "ie-report.csv"])
    for crlf in ({1}, {2}, {1, 3}, {2, 4}):
        db = tmp_path / f"mixed-{len(crlf)}-{min(crlf)}.duckdb"
        path = write(f"mixed-{min(crlf)}-{len(crlf)}/ie-report.csv", _mixed(text, crlf))
        summary = import_files(db, [path])
        assert summary.kinds["evaluations"].rows == 3
        for table in ("evaluations", "evaluation_metrics"):
            sql = f"SELECT * FROM {table} ORDER BY ALL"
            assert query(db, sql) == query(expected, sql), (crlf, table)


def test_a_quoted_value_before_the_other_line_ending(tmp_path: Path, write) -> None:
    roster = 'Agent Name,Email,Role\nAda Byron,ada@example.com,"Agent"\r\nBo Chen,bo@example.com,"QA"\n'
    db = tmp_path / "store.duckdb"
    import_files(db, [write("roster.csv", roster)])
    people = query(db, "SELECT name, role FROM people ORDER BY name")
    assert people == [("Ada Byron", "Agent"), ("Bo Chen", "QA")]


def test_line_breaks_inside_values_survive_mixed_line_endings(
    tmp_path: Path, write, template_store: Path
) -> None:
    db = tmp_path / "store.duckdb"
    shutil.copyfile(template_store, db)
    notes = (
        "Assignment ID,ConversationID,Note\r\n"
        'A-100,c-0001,"First line\nsecond line"\n'
        'A-100,c-0003,"Written on Windows\r\nin two lines"\r\n'
    )
    import_files(db, [write("best-responses.csv", notes.encode())])
    stored = dict(query(db, "SELECT conversation_id, note FROM best_responses"))
    assert stored["c-0001"] == "First line\nsecond line"
    assert stored["c-0003"] == "Written on Windows\nin two lines"  # a line break, as the other one


def test_a_bad_value_in_a_file_with_mixed_line_endings_names_its_line(
    write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roster = (
        "Agent Name,Email,Role\r\nAda Byron,ada@example.com,Agent\n"
        'Bo Chen,bo@example.com,"Agent"\r\nCy Diaz,cy@example.com,Boss\nDi Eze,di@example.com,QA\r\n'
    )
    path = write("roster.csv", roster.encode())
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    problem = only_problem(fails(path.with_name("store.duckdb"), [path]))
    assert (problem.file, problem.line, problem.column, problem.value) == (str(path), 4, "Role", "Boss")
    gc.collect()  # the failure's traceback held the run (pytest keeps it in a cycle)
    assert not list(temporary.iterdir())  # the copy with one line ending went with the run


def test_a_row_with_too_many_values_is_still_a_problem_with_mixed_line_endings(write) -> None:
    roster = (
        "Agent Name,Email,Role\r\nAda Byron,ada@example.com,Agent\nBo Chen,bo@example.com,Agent,extra\r\n"
    )
    path = write("roster.csv", roster.encode())
    problem = only_problem(fails(path.with_name("store.duckdb"), [path]))
    assert (problem.file, problem.line) == (str(path), 3)
    assert problem.expected.startswith("3 comma-separated values")


# ------------------------------------------------------------------------------------------------
# A file far too wide is refused before any heavy work
# ------------------------------------------------------------------------------------------------
REPORT_COLUMNS = IE_COLUMNS.split(",")
REPORT_ROW = (
    "c-1,Voice,Billing,Billing,en,Ada Byron,Ada Byron,2026-07-27T08:23:44Z,5,refund,0,50,1,0,,inbound,"
    "Evaluated,Voice form,Refund"
).split(",")


def wide_report(metrics: int, manual: bool = False) -> str:
    header, row = list(REPORT_COLUMNS), list(REPORT_ROW)
    for i in range(metrics):
        name = f"Metric {i} - Part"
        header += [name + (formats.MANUAL_SUFFIX if manual else ""), name + formats.FATAL_SUFFIX,
                   name + formats.WEIGHT_SUFFIX, name + formats.VIOLATION_SUFFIX]
        row += ["1", "0", "10", "10"]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, row])
    return out.getvalue()


def test_a_report_with_too_many_metrics_is_refused_with_the_limit(write) -> None:
    too_many = formats.MAX_METRICS + 1
    path = write("ie-report.csv", wide_report(too_many, manual=True))
    problem = only_problem(fails(path.with_name("store.duckdb"), [path]))
    assert (problem.file, problem.line) == (str(path), 1)
    assert problem.expected == (
        f"at most {formats.MAX_METRICS:,} evaluation metrics in one file (found {too_many:,}); "
        "export fewer evaluation forms per file"
    )
    limit = f"{path}, line 1: expected at most {formats.MAX_METRICS:,} evaluation metrics"
    assert str(problem).startswith(limit)


def test_a_report_far_too_wide_is_refused_in_metrics(write) -> None:
    path = write("ie-report.csv", wide_report(2_000))
    problem = only_problem(fails(path.with_name("store.duckdb"), [path]))
    assert (problem.file, problem.line) == (str(path), 1)
    assert problem.expected == formats.too_many_metrics(2_000)


def test_a_file_with_too_many_columns_is_refused_with_the_limit(write, templates: Path) -> None:
    header, *rows = (templates / "roster.csv").read_text(encoding="utf-8").splitlines()
    extra = sources.MAX_COLUMNS + 1 - len(header.split(","))
    wide = [header + "".join(f",Note {i}" for i in range(extra))] + [r + "," * extra for r in rows]
    path = write("roster.csv", "\n".join(wide) + "\n")
    problem = only_problem(fails(path.with_name("store.duckdb"), [path]))
    assert (problem.file, problem.line) == (str(path), 1)
    assert problem.expected == (
        f"at most {sources.MAX_COLUMNS:,} columns in one file (found {sources.MAX_COLUMNS + 1:,})"
    )


def test_an_api_page_with_too_many_metrics_is_refused_with_the_limit(write) -> None:
    too_many = formats.MAX_METRICS + 1
    record = {
        "conversationId": "c-1",
        "agents": [{"agentId": "a1", "agentName": "Ada Byron"}],
        "koreEvaluationScore": 50,
        "evaluatedAt": "2026-07-27T08:23:44Z",
        "metrics": [{"metricName": f"Metric {i}", "qualification": "YES", "metricWeight": 10,
                     "metricNegativeWeight": 10, "isFatalError": False} for i in range(too_many)],
    }
    path = write("page.json", json.dumps({"data": [record], "totalResults": 1, "hasMore": False}))
    problem = only_problem(fails(path.with_name("store.duckdb"), [path]))
    assert problem.file == str(path)
    assert problem.expected.startswith(f"at most {formats.MAX_METRICS:,} evaluation metrics in one file")


def test_the_widest_report_allowed_is_matched_metric_by_metric() -> None:
    header = wide_report(formats.MAX_METRICS, manual=True).splitlines()[0].split(",")
    match = formats.recognise(header)
    assert len(match.metrics) == formats.MAX_METRICS
    last = match.metrics[-1]
    assert last.metric == f"Metric {formats.MAX_METRICS - 1} - Part" and last.is_manual
    columns = (last.result, last.fatal, last.weight, last.violation)
    assert columns == tuple(range(len(header) - 4, len(header)))


# ------------------------------------------------------------------------------------------------
# A disk that fills while the live store is copied
# ------------------------------------------------------------------------------------------------
def _copy_that_fills_the_disk(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    with open(source, "rb") as reading, open(target, "wb") as writing:
        writing.write(reading.read(4096))
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))


def test_a_disk_that_fills_while_copying_the_store_leaves_no_partial_copy(
    template_store: Path, tmp_path: Path, templates: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "store.duckdb"
    shutil.copyfile(template_store, db)
    before = db.read_bytes()
    monkeypatch.setattr(store.shutil, "copyfile", _copy_that_fills_the_disk)
    with pytest.raises(StoreError) as caught:
        import_files(db, [templates / "roster.csv"])
    message = str(caught.value)
    assert str(db) in message and ".next" not in message
    assert os.strerror(errno.ENOSPC) in message
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.duckdb", "store.duckdb.lock"]


def test_the_command_line_says_which_store_could_not_be_copied(
    template_store: Path, tmp_path: Path, templates: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    db = tmp_path / "store.duckdb"
    shutil.copyfile(template_store, db)
    monkeypatch.setattr(store.shutil, "copyfile", _copy_that_fills_the_disk)
    assert cli.main(["import", "--db", str(db), "--quiet", str(templates / "roster.csv")]) == 1
    err = capsys.readouterr().err
    assert str(db) in err and ".next" not in err and "Traceback" not in err
    assert not db.with_name(db.name + ".next").exists()


def test_a_disk_that_fills_while_copying_a_file_with_mixed_line_endings_leaves_no_copy(
    write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roster = b"Agent Name,Email,Role\r\nAda Byron,ada@example.com,Agent\nBo Chen,bo@example.com,QA\r\n"
    path = write("roster.csv", roster)
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))

    def full(*args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fdopen", full)
    with pytest.raises(OSError):
        import_files(tmp_path / "store.duckdb", [path])
    assert not list(temporary.iterdir())

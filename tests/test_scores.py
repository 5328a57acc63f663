"""The score rules of coaching/scores.py, as SQL over a few evaluations and as a page shows a score."""

from __future__ import annotations

import math

import duckdb
import pytest

from coaching import scores

EVALUATIONS = [
    # (kore_score, duration_status, audit_score, final_audit_score)
    (40.0, "Evaluated", 39.0, None),
    (39.0, None, 10.0, 40.0),
    (None, "Below Threshold", None, None),
    (None, "  below threshold ", None, None),
    (None, "Not below threshold", None, None),
    (None, None, None, None),
]


@pytest.fixture
def results() -> list[tuple[str, str, object]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE e (n INTEGER, kore_score DOUBLE, duration_status VARCHAR, audit_score DOUBLE)")
    con.execute("CREATE TABLE r (n INTEGER, final_audit_score DOUBLE)")
    for n, (kore, duration, audit, final) in enumerate(EVALUATIONS):
        con.execute("INSERT INTO e VALUES (?, ?, ?, ?)", [n, kore, duration, audit])
        con.execute("INSERT INTO r VALUES (?, ?)", [n, final])
    return con.execute(
        f"SELECT {scores.KORE_RESULT_SQL}, {scores.audit_result_sql()}, {scores.AUDIT_SQL} "
        "FROM e LEFT JOIN r USING (n) ORDER BY n",
        scores.pass_score(40),
    ).fetchall()


def test_a_score_at_the_pass_score_passes_and_one_below_fails(results: list) -> None:
    assert results[0][:2] == (scores.PASS, scores.FAIL)


def test_the_current_audit_score_is_the_re_evaluated_one(results: list) -> None:
    assert results[1] == (scores.FAIL, scores.PASS, 40.0)
    assert results[0][2] == 39.0


def test_below_threshold_is_a_duration_status_that_starts_with_below(results: list) -> None:
    kore = [row[0] for row in results]
    assert kore[2:] == [scores.BELOW_THRESHOLD, scores.BELOW_THRESHOLD, scores.NOT_EVALUATED, scores.NOT_EVALUATED]
    assert {row[1] for row in results[2:]} == {scores.NOT_AUDITED}


@pytest.mark.parametrize(
    ("score", "result", "shown"),
    [
        (54.4, "Pass", "54 (Pass)"),
        (None, "Not audited", "— (Not audited)"),
        (math.nan, "Below threshold", "— (Below threshold)"),
    ],
)
def test_a_page_shows_a_score_with_its_result(score: float | None, result: str, shown: str) -> None:
    assert scores.with_result(score, result) == shown

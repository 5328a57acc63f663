"""Demo data: deterministic, importable, and covering everything the dashboard shows."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest

from coaching import demo, review_machine

from exports import build_demo_store

END = date(2026, 11, 1)
SPEC = demo.DemoSpec(agents=40, days=120, seed=3, end=END)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    db = build_demo_store(tmp_path_factory.mktemp("demo"), SPEC)
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_same_seed_and_end_give_the_same_files(tmp_path: Path) -> None:
    spec = demo.DemoSpec(agents=12, days=30, seed=11, end=END)
    demo.generate(spec, tmp_path / "a")
    demo.generate(spec, tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    demo.generate(demo.DemoSpec(agents=12, days=30, seed=12, end=END), tmp_path / "c")
    assert _digest(tmp_path / "a")["ie-report.csv"] != _digest(tmp_path / "c")["ie-report.csv"]


def test_every_review_status_and_every_round_count_appear(demo_store) -> None:
    found = set(demo_store.execute("SELECT DISTINCT review_status FROM evaluation_reviews").fetchall())
    assert {s for (s,) in found} == set(review_machine.REVIEW_STATUSES)
    rounds = {r for (r,) in demo_store.execute("SELECT DISTINCT dispute_rounds FROM evaluation_reviews").fetchall()}
    assert rounds == {0, 1, 2, 3}
    closed_rounds = demo_store.execute(
        "SELECT DISTINCT dispute_rounds FROM evaluation_reviews WHERE review_status = 'Closed'"
    ).fetchall()
    assert closed_rounds == [(3,)]


def test_scores_are_on_their_scales_and_kore_and_audit_disagree(demo_store) -> None:
    low, high, s_low, s_high, below, corr, gap = demo_store.execute(
        "SELECT min(kore_score), max(kore_score), min(sentiment_score), max(sentiment_score), "
        "count(*) FILTER (WHERE kore_score IS NULL), corr(kore_score, audit_score), "
        "avg(abs(kore_score - audit_score)) FROM evaluations"
    ).fetchone()
    assert -100 <= low < 0 < high <= 100
    assert s_low >= 1 and s_high <= 10
    assert below > 0  # interactions below the duration threshold have no Kore score
    assert 0.5 < corr < 0.98 and gap > 5
    fatal_scores = demo_store.execute("SELECT DISTINCT kore_score FROM evaluations WHERE is_fatal").fetchall()
    assert fatal_scores == [(0.0,)]


def test_forms_have_different_metric_sets_and_a_manual_metric(demo_store) -> None:
    per_form = dict(
        demo_store.execute(
            "SELECT evaluation_form, list(DISTINCT metric ORDER BY metric) FROM evaluations "
            "JOIN evaluation_metrics USING (conversation_id) GROUP BY 1"
        ).fetchall()
    )
    assert set(per_form) == set(demo.FORMS)
    assert per_form["Voice Quality Form"] != per_form["Chat Quality Form"]
    assert demo_store.execute(
        "SELECT count(*) FROM evaluation_metrics WHERE is_manual AND metric = ?", [demo.MANUAL_METRIC]
    ).fetchone()[0]


def test_coaching_assignments_cover_what_the_pages_show(demo_store) -> None:
    types = dict(demo_store.execute("SELECT coaching_type, count(*) FROM assignments GROUP BY 1").fetchall())
    assert types["Individual Agent"] > 0 and types["Group Agents"] > 0
    sizes = {s for (s,) in demo_store.execute("SELECT DISTINCT len(coaching_areas) FROM assignments").fetchall()}
    assert min(sizes) == 1 and max(sizes) == 7
    statuses = {s for (s,) in demo_store.execute("SELECT DISTINCT status FROM assignments").fetchall()}
    assert statuses == {"Yet to Start", "In Progress", "Completed"}
    overdue = demo_store.execute(
        "SELECT count(*) FROM assignments WHERE status <> 'Completed' AND follow_up_date < ?", [END]
    ).fetchone()[0]
    assert overdue > 0
    without_best = demo_store.execute(
        "SELECT count(DISTINCT assignment_id) FROM assignments WHERE assignment_id NOT IN "
        "(SELECT assignment_id FROM best_responses)"
    ).fetchone()[0]
    assert without_best > 0
    assert demo_store.execute("SELECT count(*) FROM coaching_interactions").fetchone()[0] > 0


def test_there_is_a_demo_account_for_every_role(demo_store) -> None:
    accounts = dict(
        demo_store.execute(
            "SELECT email, role FROM people WHERE email IN (SELECT unnest(?))", [list(demo.DEMO_ACCOUNTS)]
        ).fetchall()
    )
    assert accounts == demo.DEMO_ACCOUNTS
    permissions = demo_store.execute(
        "SELECT permissions FROM people WHERE email = 'no-coaching@example.com'"
    ).fetchone()[0]
    assert permissions == ["Agent Dashboard"]
    lead_team = demo_store.execute(
        "SELECT count(*) FROM people WHERE team_lead_email = 'lead@example.com' AND role = 'Agent'"
    ).fetchone()[0]
    assert lead_team >= 5


def test_the_demo_agent_has_group_and_individual_coaching_and_unsafe_feedback(demo_store) -> None:
    name = demo_store.execute("SELECT name FROM people WHERE email = 'agent@example.com'").fetchone()[0]
    rows = demo_store.execute(
        "SELECT coaching_type, len(coaching_areas), feedback FROM assignments WHERE agent = ?", [name]
    ).fetchall()
    assert {r[0] for r in rows} == {"Individual Agent", "Group Agents"}
    assert max(r[1] for r in rows) == 7
    assert demo.UNSAFE_FEEDBACK in {r[2] for r in rows}


def test_a_disputed_metric_is_one_the_audit_marked_not_adhered_and_its_comment_is_about_it(demo_store) -> None:
    named = demo_store.execute(
        """SELECT v.action, v.metric, v.comment, list_contains(e.not_adhered_metrics, v.metric)
           FROM review_events v JOIN evaluations e USING (conversation_id) WHERE v.metric IS NOT NULL"""
    ).fetchall()
    disputes = [(metric, comment) for action, metric, comment, _ in named if action == review_machine.DISPUTED]
    assert len(disputes) > 20
    # Every metric an agent answers (disputes, accepts) or a reviewer answers was marked not adhered.
    assert [row for row in named if not row[3]] == []
    # A dispute's comment is the agent's word on its metric (again in a later round).
    assert {comment.removesuffix(demo.DISPUTED_AGAIN) for _, comment in disputes} <= set(demo.DISPUTE_COMMENTS.values())
    assert all(comment.startswith(demo.DISPUTE_COMMENTS[metric]) for metric, comment in disputes)
    assert len({metric for metric, _ in disputes}) > 5  # not one metric over and over
    again = demo_store.execute(
        "SELECT count(*) FROM review_events WHERE action = ? AND round > 1 AND ends_with(comment, ?)",
        [review_machine.DISPUTED, demo.DISPUTED_AGAIN]).fetchone()[0]
    assert again > 0

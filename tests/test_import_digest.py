"""The evaluations' metrics digest: what it is, so stores written before stay comparable.

An evaluation's ``metrics_digest`` is the hash of its metrics (name, result, fatal, weights, manual)
sorted by name. Importing the same report again compares digests to tell unchanged evaluations
from changed ones, so the digest must not depend on the file's column order, and must stay what
older versions stored (or every evaluation of an existing store would count as updated once).
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb

from coaching.importer import import_files

from exports import query, rows_of, to_csv

#: The digest as older versions defined it, computed from the stored metric rows.
STORED_DIGEST = """
SELECT e.conversation_id FROM evaluations e LEFT JOIN (
    SELECT conversation_id, hash(list_sort(list({'metric': metric, 'result': result, 'fatal': is_fatal_metric,
        'weight': adherence_weight, 'violation': violation_weight, 'manual': is_manual}))) AS digest
    FROM evaluation_metrics GROUP BY conversation_id) m USING (conversation_id)
WHERE e.metrics_digest IS DISTINCT FROM coalesce(m.digest, hash([]))
"""


def _reordered(report: Path) -> str:
    """The same report with its columns, metric quadruples included, in another order."""
    rows = rows_of(report.read_text(encoding="utf-8"))
    order = list(range(len(rows[0])))
    random.Random(7).shuffle(order)
    return to_csv([[row[i] for i in order] for row in rows])


def test_the_digest_is_the_hash_of_the_sorted_metrics(tmp_path: Path, templates: Path, kore_report: Path) -> None:
    db = tmp_path / "store.duckdb"
    import_files(db, [templates, kore_report])
    assert query(db, STORED_DIGEST) == []


def test_the_same_report_in_another_column_order_is_unchanged(
    tmp_path: Path, write, templates: Path, kore_report: Path
) -> None:
    db = tmp_path / "store.duckdb"
    import_files(db, [templates, kore_report])
    for report in (templates / "ie-report.csv", kore_report):
        shuffled = write(f"shuffled-{report.parent.name}.csv", _reordered(report))
        summary = import_files(db, [shuffled])
        evaluations = summary.kinds["evaluations"]
        assert (evaluations.new, evaluations.updated) == (0, 0)
        assert evaluations.unchanged == evaluations.rows > 0
    assert query(db, STORED_DIGEST) == []


#: Evaluations whose lists of scored and not-adhered metrics differ from their stored metric rows.
LISTS_AGREE = """
SELECT e.conversation_id FROM evaluations e LEFT JOIN (
    SELECT conversation_id,
           list_sort(list(metric) FILTER (WHERE result IS NOT NULL)) AS scored,
           list_sort(list(metric) FILTER (WHERE result = 'Not Adhered')) AS not_adhered
    FROM evaluation_metrics GROUP BY conversation_id) m USING (conversation_id)
WHERE e.scored_metrics IS DISTINCT FROM coalesce(m.scored, [])
   OR e.not_adhered_metrics IS DISTINCT FROM coalesce(m.not_adhered, [])
"""


def test_the_metric_lists_are_the_stored_metric_rows(
    tmp_path: Path, write, templates: Path, kore_report: Path
) -> None:
    """Per-metric trends count an evaluation's metric lists; they must say what its metric rows say, in
    any column order, and after a re-import that changes a result."""
    db = tmp_path / "store.duckdb"
    import_files(db, [templates, kore_report])
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM evaluations WHERE len(scored_metrics) > 0").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM evaluations WHERE len(not_adhered_metrics) > 0").fetchone()[0] > 0
        assert con.execute(LISTS_AGREE).fetchall() == []
    # Greeting flipped on every row (1 ↔ 0), in another column order: the lists follow.
    rows = rows_of(_reordered(templates / "ie-report.csv"))
    greeting = rows[0].index("Greeting")
    for row in rows[1:]:
        row[greeting] = {"1": "0", "0": "1"}.get(row[greeting], row[greeting])
    summary = import_files(db, [write("changed.csv", to_csv(rows))])
    assert summary.kinds["evaluations"].updated >= 2
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(LISTS_AGREE).fetchall() == []
        flipped = con.execute("SELECT count(*) FROM evaluations WHERE list_contains(not_adhered_metrics, "
                              "'Greeting')").fetchone()[0]
        assert flipped >= 2

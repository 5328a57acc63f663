"""The documentation cannot drift from the code: the schema and the formats are checked against it."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from coaching import store
from coaching.importer import formats

ROOT = Path(__file__).resolve().parent.parent


def _documented_tables() -> dict[str, set[str]]:
    text = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    tables: dict[str, set[str]] = {}
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        name = section.splitlines()[0].strip()
        rows = re.findall(r"^\| ([a-z_]+) \| [A-Z]", section, flags=re.M)
        if name != "Bookkeeping":
            tables[name] = set(rows)
    return tables


def test_docs_schema_matches_the_store(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with store.next_generation(db):
        pass
    con = duckdb.connect(str(db), read_only=True)
    actual: dict[str, set[str]] = {}
    for table, column in con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall():
        actual.setdefault(table, set()).add(column)
    con.close()
    documented = _documented_tables()
    assert set(documented) == set(store.DATA_TABLES)
    for table in store.DATA_TABLES:
        assert documented[table] == actual[table], table


def test_readme_documents_every_format_and_its_columns() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for fmt in formats.ALL_FORMATS:
        assert fmt.title in readme, fmt.title
        for column in fmt.columns:
            if fmt is formats.EVALUATIONS and column.field in ("audited_at", "auditor"):
                continue  # filled from API pages only
            assert column.header in readme, f"{fmt.title}: {column.header}"


def test_every_template_is_a_valid_example_of_its_format() -> None:
    templates = sorted((ROOT / "data" / "templates").glob("*.csv"))
    kinds = set()
    for template in templates:
        header = template.read_text(encoding="utf-8").splitlines()[0].split(",")
        kinds.add(formats.recognise(header).format.kind)
    assert kinds == {f.kind for f in formats.ALL_FORMATS}

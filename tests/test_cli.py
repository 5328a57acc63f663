"""The `coaching` command as people use it: exit codes, summaries and problems, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from coaching import cli, credentials, demo, store
from coaching.importer import import_files

from exports import query

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "data" / "templates"


def coaching(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coaching.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )


def test_import_prints_a_summary_per_kind(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    result = coaching("import", "--db", str(db), str(TEMPLATES))
    assert result.returncode == 0, result.stderr
    for title in ("Roster", "Evaluations", "Coaching assignments", "Review events"):
        assert title in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_bad_input_exits_non_zero_with_file_line_column_value_and_expectation(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    bad = tmp_path / "roster.csv"
    bad.write_text("Agent Name,Email,Role\nAda,ada@example.com,Agent\nBo,bo@example.com,Boss\n")
    result = coaching("import", "--db", str(db), str(bad))
    assert result.returncode == 1
    assert f"{bad}, line 3, column 'Role': 'Boss': expected one of Agent, Supervisor, QA, Admin" in result.stderr
    assert "Traceback" not in result.stderr
    assert not db.exists()


def test_problems_beyond_the_limit_are_counted(tmp_path: Path) -> None:
    bad = tmp_path / "roster.csv"
    bad.write_text("Agent Name,Email,Role\n" + "".join(f"A{i},a{i}@example.com,Boss\n" for i in range(30)))
    result = coaching("import", "--db", str(tmp_path / "s.duckdb"), "--max-problems", "5", str(bad))
    assert result.returncode == 1
    assert "30 problem(s)" in result.stderr
    assert "and 25 more problem(s)" in result.stderr


def test_the_store_comes_from_the_environment_when_no_flag_is_given(tmp_path: Path) -> None:
    db = tmp_path / "from-env.duckdb"
    env = {"COACHING_DB": str(db), "PATH": "/usr/bin:/bin"}
    result = coaching("import", str(TEMPLATES / "roster.csv"), env=env)
    assert result.returncode == 0, result.stderr
    assert db.exists()


def test_a_wrong_setting_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    env = {"COACHING_DB": str(tmp_path / "s.duckdb"), "COACHING_MAX_DISPUTE_ROUNDS": "many", "PATH": "/usr/bin"}
    result = coaching("import", str(TEMPLATES), env=env)
    assert result.returncode == 1
    assert "COACHING_MAX_DISPUTE_ROUNDS" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_of_a_missing_store_explains_how_to_load_one(tmp_path: Path, capsys) -> None:
    code = cli.main(["status", "--db", str(tmp_path / "none.duckdb")])
    assert code == 1
    assert "coaching demo" in capsys.readouterr().err


def test_demo_writes_exports_imports_them_and_skips_a_loaded_store(tmp_path: Path, capsys) -> None:
    db, out = tmp_path / "demo.duckdb", tmp_path / "exports"
    args = ["demo", "--db", str(db), "--out", str(out), "--agents", "12", "--days", "30", "--end", "2026-11-01"]
    assert cli.main([*args, "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "assignments.csv",
        "best-responses.csv",
        "coaching-interactions.csv",
        "ie-report.csv",
        "review-events.csv",
        "roster.csv",
    ]
    store.close_all()
    evaluations = query(db, "SELECT count(*) FROM evaluations")[0][0]
    assert evaluations > 0
    before = db.read_bytes()
    assert cli.main([*args, "--if-empty", "--quiet"]) == 0
    assert "already has evaluations" in capsys.readouterr().out
    store.close_all()
    assert db.read_bytes() == before


def test_a_missing_path_is_reported_together_with_the_other_files_problems(tmp_path: Path) -> None:
    bad = tmp_path / "roster.csv"
    bad.write_text("Agent Name,Email,Role\nBo,bo@example.com,Boss\n")
    result = coaching("import", "--db", str(tmp_path / "s.duckdb"), str(bad), str(tmp_path / "absent"))
    assert result.returncode == 1
    assert "2 problem(s)" in result.stderr
    assert "absent: expected a file or folder that exists" in result.stderr
    assert "'Boss'" in result.stderr


SECRET = "hunter2-correct-horse"


def test_a_password_typed_as_an_extra_argument_is_never_echoed(tmp_path: Path) -> None:
    for extra in ([SECRET], [f"--password={SECRET}"], ["--password", SECRET]):
        result = coaching("users", "set-password", "--db", str(tmp_path / "s.duckdb"), "ada@example.com", *extra)
        assert SECRET not in result.stdout + result.stderr
        assert result.returncode == 2, result
        assert "usage: coaching users set-password" in result.stderr
        assert "read from the first line of standard input" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_password_typed_instead_of_the_email_is_never_echoed(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    assert coaching("import", "--db", str(db), str(TEMPLATES / "roster.csv")).returncode == 0
    result = subprocess.run(
        [sys.executable, "-m", "coaching.cli", "users", "set-password", "--db", str(db), SECRET],
        capture_output=True, text=True, cwd=ROOT, input="a-new-password-1\n",
    )
    assert SECRET not in result.stdout + result.stderr
    assert result.returncode == 2, result
    assert "EMAIL is not an email address" in result.stderr


def test_other_commands_still_name_the_arguments_they_do_not_know(tmp_path: Path) -> None:
    result = coaching("import", "--db", str(tmp_path / "s.duckdb"), "--bogus", str(TEMPLATES))
    assert result.returncode == 2
    assert "unrecognized arguments: --bogus" in result.stderr


# -- coaching demo never plants its known passwords in a store it did not create ---------------------
DEMO_ARGS = ("--agents", "12", "--days", "30", "--end", "2026-11-01", "--quiet")


def _rows(db: Path, sql: str) -> list[tuple]:
    store.close_all()
    return query(db, sql)


def test_the_demo_refuses_a_store_it_did_not_create(tmp_path: Path, cheap_hasher, capsys) -> None:
    db, out = tmp_path / "production.duckdb", tmp_path / "exports"
    import_files(db, [TEMPLATES])
    store.close_all()
    before = db.read_bytes()
    assert cli.main(["demo", "--db", str(db), "--out", str(out), *DEMO_ARGS]) == 1
    err = capsys.readouterr().err
    assert str(db) in err and "not created by `coaching demo`" in err and "--into-existing-store" in err
    store.close_all()
    assert db.read_bytes() == before
    assert not credentials.credentials_path(db).exists()  # no known password planted
    assert not out.exists()  # refused before any work


def test_if_empty_loads_nothing_into_a_store_the_demo_did_not_create(
    tmp_path: Path, cheap_hasher, capsys
) -> None:
    db = tmp_path / "production.duckdb"
    import_files(db, [TEMPLATES / "roster.csv"])  # not empty, but without evaluations
    store.close_all()
    before = db.read_bytes()
    args = ["demo", "--db", str(db), "--out", str(tmp_path / "exports"), "--if-empty", *DEMO_ARGS]
    assert cli.main(args) == 0
    assert "no demo data loaded" in capsys.readouterr().out
    store.close_all()
    assert db.read_bytes() == before
    assert not credentials.credentials_path(db).exists()


def test_the_demo_loads_again_into_the_store_it_created(tmp_path: Path, cheap_hasher) -> None:
    db, out = tmp_path / "demo.duckdb", tmp_path / "exports"
    args = ["demo", "--db", str(db), "--out", str(out), *DEMO_ARGS]
    assert cli.main(args) == 0
    assert _rows(db, "SELECT value FROM store_meta WHERE key = 'created_by'") == [("coaching demo",)]
    evaluations = _rows(db, "SELECT count(*) FROM evaluations")
    assert cli.main(args) == 0  # the same files again: the same store
    assert _rows(db, "SELECT count(*) FROM evaluations") == evaluations
    assert credentials.verify_password(db, "admin@example.com", demo.DEMO_PASSWORD)


def test_into_existing_store_loads_the_demo_and_says_what_it_planted(
    tmp_path: Path, cheap_hasher, capsys
) -> None:
    db = tmp_path / "other.duckdb"
    import_files(db, [TEMPLATES])
    store.close_all()
    args = ["demo", "--db", str(db), "--out", str(tmp_path / "exports"), "--into-existing-store", *DEMO_ARGS]
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert "coaching-demo" in err and "Admin" in err
    assert _rows(db, "SELECT count(*) FROM people WHERE email = 'admin@example.com'") == [(1,)]
    assert _rows(db, "SELECT value FROM store_meta WHERE key = 'created_by'") == []

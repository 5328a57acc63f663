"""The Import page with uploads that share a file name: all of them land, or the run is refused with
problems that tell them apart (issue 13: two `roster.csv` from different folders, one silently lost)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coaching import store

from app_pages import as_user, point_app_at
from exports import query

ADMIN = "ada.admin@example.com"  # the templates' Admin
PAGE = "pages/import_exports.py"
HEADER = "Agent Name,Email,Role\n"


@pytest.fixture
def db(template_store_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    point_app_at(template_store_copy, monkeypatch)
    return template_store_copy


def emails(db: Path) -> set[str]:
    store.close_all()
    return {e for (e,) in query(db, "SELECT email FROM people WHERE email IS NOT NULL")}


def upload(files: list[tuple[str, str]]) -> AppTest:
    at = as_user(ADMIN, PAGE)
    at.file_uploader[0].set_value([(name, text.encode(), "text/csv") for name, text in files])
    next(b for b in at.form_submit_button if b.label == "Import").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_two_uploads_with_the_same_name_both_land(db: Path) -> None:
    at = upload([("roster.csv", HEADER + "Ann One,ann.one@example.com,Agent\n"),
                 ("roster.csv", HEADER + "Ben Two,ben.two@example.com,QA\n")])
    assert not at.error, [e.value for e in at.error]
    [success] = [s.value for s in at.success]
    assert success.startswith("Imported 2 file(s)")
    assert {"ann.one@example.com", "ben.two@example.com"} <= emails(db)
    assert at.dataframe[0].value["Rows"].sum() == 2


def test_problems_tell_uploads_with_the_same_name_apart(db: Path) -> None:
    before = emails(db)
    at = upload([("roster.csv", HEADER + "Ann One,ann.one@example.com,Agent\n"),
                 ("other.csv", HEADER + "Cy Three,cy.three@example.com,Agent\n"),
                 ("roster.csv", HEADER + "Ben Two,ben.two@example.com,Wizard\n"
                                  "Ann Again,ann.one@example.com,QA\n")])
    assert not at.success
    [message] = [e.value for e in at.error]
    assert message.startswith("Nothing was imported: 2 problem(s) found.")
    problems = at.dataframe[0].value.to_dict("records")
    assert [(p["File"], p["Line"], p["Column"]) for p in problems] == [
        ("roster.csv (upload 3)", 2, "Role"),
        ("roster.csv (upload 3)", 3, "Email"),
    ]
    # The other row is named as the page names its file, never by the server's temporary folder.
    assert "roster.csv (upload 1)" in problems[1]["Expected"]
    assert not any("coaching-upload-" in str(value) for p in problems for value in p.values())
    assert emails(db) == before


def test_warnings_name_uploads_as_they_were_chosen(db: Path) -> None:
    at = upload([("roster.csv", "Agent Name,Email,Role,Desk\nAnn One,ann.one@example.com,Agent,4\n"),
                 ("roster.csv", HEADER + "Ben Two,ben.two@example.com,QA\n")])
    [warning] = [w.value for w in at.warning]
    assert "upload 1" in warning and "Desk" in warning
    assert "coaching-upload-" not in warning

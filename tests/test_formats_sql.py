"""The SQL macros that read every cell: their fast paths give what the full rule gives.

``kore_clean`` trims spaces, tabs, line breaks and no-break spaces, reads Kore's missing markers as
NULL and drops Kore's single quotes; the fast paths (nothing to trim, long text, no quote, no list
separator) must agree with it on every kind of text, short and non-ASCII included.
"""

from __future__ import annotations

import duckdb
import pytest

from coaching.importer import formats

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(formats.SQL_MACROS)
    return con


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        (None, None),
        ("", None),
        ("N/A", None),
        (" na ", None),
        ("NULL", None),
        ("None", None),
        ("'-'", None),
        (f"{NBSP}-\t", None),
        ("Chat", "Chat"),
        ("en", "en"),
        ("é", "é"),
        ("Ça va", "Ça va"),
        ("none of it", "none of it"),
        ("nulls", "nulls"),
        ("\u212a", "\u212a"),  # Kelvin sign: lowers to k, which no marker has
        (f"{NBSP}Billing queue{NBSP}", "Billing queue"),
        ("\tChat\r\n", "Chat"),
        ("'-36'", "-36"),
        (" 'quoted' ", "quoted"),
        ("'", "'"),
        ("''", ""),
        ("it's", "it's"),
        ("'a\nb'", "'a\nb'"),  # the quotes go only when the text is on one line
    ],
)
def test_kore_clean(con: duckdb.DuckDBPyConnection, text: str | None, clean: str | None) -> None:
    assert con.execute("SELECT kore_clean(?), kore_text(?)", [text, text]).fetchone() == (clean, clean)


@pytest.mark.parametrize(
    ("text", "items"),
    [
        (None, None),
        ("N/A", None),
        ("Billing queue", ["Billing queue"]),
        (" 'Billing queue' ", ["Billing queue"]),
        ("' '", []),
        (",", []),
        ("a, b", ["a", "b"]),
        ("a ;b| c ,", ["a", "b", "c"]),
        ("Priya Nair, Tom Becker", ["Priya Nair", "Tom Becker"]),
    ],
)
def test_kore_list(con: duckdb.DuckDBPyConnection, text: str | None, items: list[str] | None) -> None:
    assert con.execute("SELECT kore_list(?)", [text]).fetchone()[0] == items


@pytest.mark.parametrize(
    ("text", "number"),
    [("5", 5.0), (" 5 ", 5.0), ("'-36'", -36.0), (f"{NBSP}'7.5'", 7.5), ("N/A", None), ("'-'", None), ("", None),
     ("abc", None)],
)
def test_numbers(con: duckdb.DuckDBPyConnection, text: str, number: float | None) -> None:
    assert con.execute(f"SELECT {formats.Number().typed('$1')}", [text]).fetchone()[0] == number


@pytest.mark.parametrize("text", [None, "", "N/A", " na ", "'-'", "-", "null", "None", f"{NBSP}NA\t"])
def test_missing(con: duckdb.DuckDBPyConnection, text: str | None) -> None:
    assert con.execute(f"SELECT {formats.is_missing('$1')}", [text]).fetchone()[0] is True


@pytest.mark.parametrize("text", ["0", "Chat", "'x'", "nan", "n/a/b", "--"])
def test_not_missing(con: duckdb.DuckDBPyConnection, text: str) -> None:
    assert con.execute(f"SELECT {formats.is_missing('$1')}", [text]).fetchone()[0] is False


@pytest.mark.parametrize(
    ("text", "number"),
    [("5", 5.0), ("+5", 5.0), ("-5", -5.0), ("5.", 5.0), ("-.5", -0.5), ("007", 7.0), ("1e3", 1000.0),
     ("1E-05", 1e-05), ("2.5e+2", 250.0), (" 7 ", 7.0), ("'-36'", -36.0), ("\u00a0'7.5'\t", 7.5),
     ("1_0", None), ("1_000.5", None), ("'1_0'", None), ("+-5", None), (" +-5", None), ("-+5", None),
     ("0x10", None), ("1,5", None), ("five", None), ("N/A", None), ("", None)],
)  # fmt: skip
def test_the_number_reader_takes_plain_decimal_numbers_only(
    con: duckdb.DuckDBPyConnection, text: str, number: float | None
) -> None:
    assert con.execute(f"SELECT {formats.Number().typed('$1')}", [text]).fetchone()[0] == number
    whole = None if number is None or number != int(number) else int(number)
    assert con.execute(f"SELECT {formats.Integer().typed('$1')}", [text]).fetchone()[0] == whole


@pytest.mark.parametrize("text", ["epoch", "EPOCH", " epoch", "'epoch'", "infinity", "-infinity"])
def test_words_are_not_dates(con: duckdb.DuckDBPyConnection, text: str) -> None:
    assert con.execute(f"SELECT {formats.Date().typed('$1')}", [text]).fetchone()[0] is None
    assert con.execute(f"SELECT {formats.Timestamp().typed('$1')}", [text]).fetchone()[0] is None

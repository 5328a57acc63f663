"""CSV downloads: a text cell that a spreadsheet would run as a formula is written as text; numbers,
dates and booleans are written as they are."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from coaching.export import FORMULA_STARTS, csv_bytes, neutralise, neutralised


def read(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_starting_a_formula_is_quoted(start: str) -> None:
    assert start in FORMULA_STARTS
    assert neutralised(start + "HYPERLINK(x)") == "'" + start + "HYPERLINK(x)"


@pytest.mark.parametrize("value", ["Priya Nair", "", "'=already quoted", " =1+1", "a=b", "[=x]", "50%"])
def test_other_texts_are_left_alone(value: str) -> None:
    assert neutralised(value) == value


@pytest.mark.parametrize("value", [-12.5, -36, 0, True, None, np.nan, date(2026, 1, 2), ["=x"]])
def test_values_that_are_not_text_are_left_alone(value: object) -> None:
    assert neutralised(value) is value


def test_the_csv_quotes_hostile_text_cells_and_keeps_numbers() -> None:
    frame = pd.DataFrame({
        "agent": ['=HYPERLINK("https://evil.example/x","click")', "Priya Nair", "@SUM(A1)", "-36", None],
        "queue": pd.Series(["+1", "Billing", "\tx", "\rx", "=cmd|' /C calc'!A0"], dtype="string"),
        "change": [-12.5, 3.0, -0.25, float("nan"), 1e-9],
        "count": pd.array([-3, 0, 7, None, 1], dtype="Int64"),
        "flag": [True, False, True, False, True],
        "when": pd.to_datetime(["2026-11-01", "2026-11-02", None, "2026-11-04", "2026-11-05"]),
        "day": [date(2026, 11, 1)] * 5,
        "mixed": ["-x", -1.5, 2, "ok", None],
        "areas": [["=x", "y"], [], ["a"], ["b"], ["c"]],
        "marker": pd.Categorical(["-dip", "+spike", None, "-dip", "+spike"]),
    })
    rows = read(csv_bytes(frame))
    assert rows[0] == list(frame.columns)
    body = {name: [row[i] for row in rows[1:]] for i, name in enumerate(rows[0])}
    assert body["agent"] == ['\'=HYPERLINK("https://evil.example/x","click")', "Priya Nair", "'@SUM(A1)", "'-36",
                             ""]
    assert body["queue"] == ["'+1", "Billing", "'\tx", "'\rx", "'=cmd|' /C calc'!A0"]
    assert body["change"] == ["-12.5", "3.0", "-0.25", "", "1e-09"]  # numbers exactly as pandas writes them
    assert body["count"] == ["-3", "0", "7", "", "1"]
    assert body["flag"] == ["True", "False", "True", "False", "True"]
    assert body["when"] == ["2026-11-01", "2026-11-02", "", "2026-11-04", "2026-11-05"]
    assert body["day"] == ["2026-11-01"] * 5
    assert body["mixed"] == ["'-x", "-1.5", "2", "ok", ""]
    assert body["areas"][0].startswith("[")  # a list is written as one cell, which starts with "["
    assert body["marker"] == ["'-dip", "'+spike", "", "'-dip", "'+spike"]
    texts = [cell for name in ("agent", "queue", "marker") for cell in body[name]]
    assert not any(cell.startswith(FORMULA_STARTS) for cell in texts)


def test_numbers_and_dates_are_written_exactly_as_before() -> None:
    frame = pd.DataFrame({"kore": [-100.0, -12.5, 55.25], "n": [1, 2, 3],
                          "period": pd.to_datetime(["2026-09-01", "2026-09-08", "2026-09-15"]),
                          "at": [datetime(2026, 9, 1, 8, 30)] * 3})
    assert csv_bytes(frame) == frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def test_a_line_break_inside_a_text_cannot_start_a_row() -> None:
    frame = pd.DataFrame({"note": ["fine\r=cmd|' /C calc'!A0", "two\nlines\r\n@SUM(A1)"], "n": [1, 2]})
    rows = read(csv_bytes(frame))
    assert rows == [["note", "n"], ["fine\r=cmd|' /C calc'!A0", "1"], ["two\nlines\r\n@SUM(A1)", "2"]]
    assert b'"fine\r=cmd' in csv_bytes(frame)  # quoted: a spreadsheet keeps it in one cell


def test_column_names_are_neutralised_and_the_frame_is_not_changed() -> None:
    frame = pd.DataFrame({"=name": ["=x"], "score": [-1]})
    out = neutralise(frame)
    assert list(out.columns) == ["'=name", "score"] and out.iloc[0, 0] == "'=x"
    assert list(frame.columns) == ["=name", "score"] and frame.iloc[0, 0] == "=x"


def test_an_empty_frame_is_its_header() -> None:
    assert read(csv_bytes(pd.DataFrame(columns=["agent", "change"]))) == [["agent", "change"]]

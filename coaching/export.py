"""CSV downloads that a spreadsheet opens as data, never as formulas.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and some with a tab or carriage
return first) as a formula: an imported name such as ``=HYPERLINK(…)`` would become a link or a command
in whoever opens the download. As OWASP recommends for CSV injection, such a *text* cell is written with
a single quote in front, which the spreadsheet shows as text; numbers, dates and booleans are written as
they are, so a score of -12.5 stays -12.5. A number that arrives as text ("-36") is text, and is quoted.

Rows end in CRLF, as RFC 4180 has it: the CSV writer then quotes every cell holding a line break, a bare
carriage return too, so no text can start a row of its own (``"x\r=cmd|…"`` stays one cell).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: What a spreadsheet takes as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def starts_formula(value: Any) -> bool:
    """Whether a spreadsheet would take ``value`` (a cell of a CSV) for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralised(value: Any) -> Any:
    """``value`` as a spreadsheet should show it: a text beginning a formula gets a leading ``'``."""
    return "'" + value if starts_formula(value) else value


def _is_data(column: pd.Series) -> bool:
    """Whether a column holds only numbers, booleans or times, which a CSV writes as they are."""
    dtype = column.dtype
    return (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype))


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot start a formula."""
    out = frame.copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if _is_data(column):
            continue
        values = column.astype(object)
        if values.map(starts_formula).any():
            out.isetitem(position, values.map(neutralised).to_numpy(dtype=object))
    out.columns = [neutralised(name) for name in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV for a download (no index, CRLF line ends), safe to open in a spreadsheet."""
    return neutralise(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8")

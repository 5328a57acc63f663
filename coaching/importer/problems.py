"""What an import says about bad input: one problem per bad value, for people to read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One bad value: where it is (file, line, column), what it is, and what was expected."""

    file: str
    line: int | None
    column: str | None
    value: str | None
    expected: str
    line_unit: str = "line"  # Parquet files count rows, not lines

    def where(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(f"{self.line_unit} {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        got = "" if self.value is None else f"{_show(self.value)}: "
        return f"{self.where()}: {got}expected {self.expected}"

    def as_row(self) -> dict[str, object]:
        return {
            "File": self.file,
            "Line": self.line,
            "Column": self.column,
            "Value": self.value,
            "Expected": self.expected,
        }


def _show(value: str, limit: int = 80) -> str:
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(text)


class ImportFailed(Exception):
    """An import that wrote nothing, and why: the first problems in full and how many there were."""

    def __init__(self, problems: list[Problem], total: int) -> None:
        self.problems = problems
        self.total = total
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"Nothing was imported: {self.total} problem(s) found."]
        lines += [f"  {p}" for p in self.problems]
        rest = self.total - len(self.problems)
        if rest > 0:
            lines.append(f"  … and {rest} more problem(s).")
        return "\n".join(lines)

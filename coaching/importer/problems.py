"""What an import says about bad input: one problem per bad value, for people to read, and the run's list of them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sources make problems too; the run's problems only look its files up
    from coaching.importer.sources import Files


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


class Problems:
    """The problems one run has found: every one counted, the first ``limit`` kept in full.

    A problem in a row is kept by its file and ordinal until :meth:`resolve_pending` looks up the lines
    of many rows at once, reading each file at most once.
    """

    def __init__(self, files: Files, limit: int) -> None:
        self.files = files
        self.limit = limit
        self.kept: list[Problem] = []
        self.total = 0
        # (source index, ordinal, column, value, expected) found by checks across rows and files
        self.pending: list[tuple[int, int, str | None, Any, str]] = []
        self.pending_total = 0
        self._lines: dict[tuple[int, int], int | None] = {}

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.kept) < self.limit:
            self.kept.append(problem)

    def add_row(self, src: int, ordinal: int, column: str | None, value: Any, expected: str) -> None:
        """A problem in row ``ordinal`` of source ``src``; its line is looked up later."""
        self.pending_total += 1
        if len(self.pending) < self.limit:
            self.pending.append((src, ordinal, column, value, expected))

    def count_rows(self, more: int) -> None:
        """Problems in rows beyond the ones added: counted, not kept."""
        self.pending_total += more

    def cache_lines(self, pairs: Sequence[tuple[int, int]]) -> None:
        """Look up the lines of many rows at once: at most one pass over each file."""
        wanted: dict[int, set[int]] = defaultdict(set)
        for src, ordinal in pairs:
            if (src, ordinal) not in self._lines:
                wanted[src].add(ordinal)
        for src, ordinals in wanted.items():
            found = self.files[src].lines(sorted(ordinals))
            for ordinal in ordinals:
                self._lines[(src, ordinal)] = found.get(ordinal)

    def line_of(self, src: int, ordinal: int) -> int | None:
        self.cache_lines([(src, ordinal)])
        return self._lines[(src, ordinal)]

    def where(self, src: int, ordinal: int) -> str:
        """A row as a message names it: ``line 3 of roster.csv``."""
        source = self.files[src]
        line = self.line_of(src, ordinal)
        return f"{source.line_unit} {line} of {source.name}" if line else source.name

    def resolve_pending(self) -> None:
        """Turn row ordinals into line numbers, reading each file once, and add the problems."""
        self.cache_lines([(src, ordinal) for src, ordinal, *_ in self.pending])
        for src, ordinal, column, value, expected in sorted(self.pending, key=lambda p: (p[0], p[1])):
            source = self.files[src]
            self.add(
                Problem(
                    source.name,
                    self.line_of(src, ordinal),
                    column,
                    None if value is None else str(value),
                    expected,
                    source.line_unit,
                )
            )
        self.total += self.pending_total - len(self.pending)
        self.pending, self.pending_total = [], 0

    def fail_if_any(self) -> None:
        """Raise :class:`ImportFailed` when anything was found: the run writes nothing."""
        self.resolve_pending()
        if self.total:
            raise ImportFailed(self.kept, self.total)

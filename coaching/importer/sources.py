"""Reading export files: CSV, JSON, NDJSON, Parquet, and Kore's Quality AI API pages (read by kore_api).

A :class:`Source` is one file, recognised by its header, exposed to DuckDB as a relation of text
columns ``c0 … cN`` in the file's order, with a way back from a row's ordinal to its line number.
:class:`Files` are the sources of one run. Nothing here checks values; :mod:`coaching.importer.staging`
does that in SQL.
"""

from __future__ import annotations

import csv
import json
import mmap
import os
import re
import tempfile
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from coaching.importer import formats, kore_api
from coaching.importer.formats import HeaderError, HeaderMatch
from coaching.importer.problems import ImportFailed, Problem
from coaching.sql import sql_str

DATA_SUFFIXES = (".csv", ".json", ".ndjson", ".jsonl", ".parquet")
#: The longest CSV line read (DuckDB's max_line_size); Python's csv module must accept fields as long.
MAX_LINE_BYTES = 10_000_000
csv.field_size_limit(MAX_LINE_BYTES)
#: The most columns one file may have: an Interaction Evaluation report with the most metrics a file
#: may have (four columns each, formats.MAX_METRICS) and room to spare. A wider file is refused before
#: anything else is done with it: the import's SQL grows with the columns.
MAX_COLUMNS = 4 * formats.MAX_METRICS + 100


class SourceError(Exception):
    """A file that cannot be read as any export; carries the problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Source:
    """One export file, ready to be read in SQL."""

    index: int
    path: Path
    name: str  # how the file is named in messages
    header: list[str]  # the column names as the file writes them
    match: HeaderMatch
    relation: str  # an SQL relation with text columns c0 … cN
    line_unit: str = "line"
    problems: list[Problem] = field(default_factory=list)  # rows the reader itself rejected
    _lines: Callable[[Sequence[int]], dict[int, int]] | None = None
    _rejects: str | None = None
    #: The file the reader reads, when it is not ``path`` itself (a copy with its line endings made one).
    _read: Path | None = None

    @property
    def format(self) -> formats.Format:
        return self.match.format

    def label(self, column_index: int) -> str:
        return self.header[column_index]

    def lines(self, ordinals: Sequence[int]) -> dict[int, int]:
        """The line (or row) number of each ordinal (0-based row number among the rows read)."""
        if self._lines is None:
            return {o: o + 1 for o in ordinals}
        return self._lines(ordinals)

    def collect_rejects(self, con: duckdb.DuckDBPyConnection) -> None:
        """Rows the CSV reader could not split into the header's columns become problems."""
        if self._rejects is None:
            return
        # One problem per rejected row (the reader reports a row missing several values once per
        # missing column). Its ``line`` counts records, not lines, so a quoted line break earlier in
        # the file would shift it: count the line breaks before the row's first byte instead.
        rows = con.execute(
            f"SELECT line_byte_position, column_name, error_type, csv_line, error_message "
            f"FROM {self._rejects} "
            f"QUALIFY row_number() OVER (PARTITION BY line ORDER BY column_idx NULLS LAST) = 1 ORDER BY line"
        ).fetchall()
        lines = _lines_at(self._read or self.path, [r[0] for r in rows if r[0] is not None])
        for byte_position, column_name, error_type, csv_line, message in rows:
            line = lines.get(byte_position)
            column = None
            if column_name and column_name.startswith("c") and column_name[1:].isdigit():
                index = int(column_name[1:])
                column = self.header[index] if index < len(self.header) else None
            self.problems.append(
                Problem(
                    self.name,
                    line,
                    column,
                    (csv_line or "").strip("\r\n") or None,
                    _reject_expectation(error_type, message, len(self.header)),
                )
            )
        con.execute(f"DROP TABLE IF EXISTS {self._rejects}")
        self._rejects = None


def _lines_at(path: Path, positions: Sequence[int]) -> dict[int, int]:
    """The line each byte position is on, reading the file once in chunks."""
    found: dict[int, int] = {}
    line, offset = 1, 0
    with open(path, "rb") as handle:
        for position in sorted(set(positions)):
            while offset < position:
                chunk = handle.read(min(1 << 20, position - offset))
                if not chunk:
                    break
                line += chunk.count(b"\n")
                offset += len(chunk)
            found[position] = line
    return found


def _reject_expectation(error_type: str | None, message: str | None, width: int) -> str:
    kind = (error_type or "").upper()
    if kind in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        found = re.search(r"Found:\s*(\d+)", message or "")
        got = f", found {found.group(1)}" if found else ""
        return f"{width} comma-separated values, as many as the header has{got}"
    if kind in ("INVALID UNICODE", "INVALID ENCODING"):
        return "UTF-8 text"
    if kind == "UNQUOTED VALUE":
        return 'a value in double quotes, with inner quotes doubled ("")'
    return (message or kind or "a well-formed CSV row").splitlines()[0]


def expand(paths: Sequence[str | Path]) -> tuple[list[Path], list[Problem]]:
    """Files named, and the data files inside folders named (recursively, in name order)."""
    files: list[Path] = []
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in DATA_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), None, None, None, "a file or folder that exists"))
    unique: list[Path] = []
    seen: set[Path] = set()
    for f in files:
        resolved = f.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(f)
    return unique, problems


def files_to_import(paths: Sequence[str | Path]) -> tuple[list[Path], list[Problem]]:
    """The files ``paths`` name (:func:`expand`) and a problem for each path that names nothing;
    raises :class:`ImportFailed` when there is no file at all."""
    files, missing = expand(paths)
    if not files:
        problems = missing or [
            Problem(", ".join(str(p) for p in paths) or "(nothing)", None, None, None,
                    "at least one export file (.csv, .json, .ndjson, .parquet)")
        ]
        raise ImportFailed(problems, len(problems))
    return files, missing


@dataclass
class Files:
    """The files of one run: each one opened is a :class:`Source` whose index is its place here."""

    sources: list[Source] = field(default_factory=list)
    broken: set[int] = field(default_factory=set)  # sources the reader could not read at all
    unreadable: bool = False  # some file could not be opened: its rows are unknown

    def __getitem__(self, index: int) -> Source:
        return self.sources[index]

    def __iter__(self) -> Iterator[Source]:
        return iter(self.sources)

    def by_kind(self, kind: str) -> list[Source]:
        return [s for s in self.sources if s.format.kind == kind]

    def read(self, kind: str) -> list[Source]:
        """The sources of a kind that were read (not broken)."""
        return [s for s in self.by_kind(kind) if s.index not in self.broken]

    @property
    def complete(self) -> bool:
        """Every file was read: else every reference to the rows of one that was not would look wrong."""
        return not (self.unreadable or self.broken)


def open_files(
    con: duckdb.DuckDBPyConnection, paths: Sequence[Path], files: Files, report: Callable[[Problem], None]
) -> list[str]:
    """Open each path as the next of ``files``, reporting those that cannot be read; returns warnings
    naming the columns a file has that its format does not use. Kore's API pages are read together at
    the end (:mod:`coaching.importer.kore_api` merges a run's records of one conversation)."""
    warnings = []
    pages: list[kore_api.Page] = []
    for path in paths:
        try:
            source = open_source(con, path, len(files.sources))
        except SourceError as error:
            report(error.problem)
            files.unreadable = True
            continue
        if isinstance(source, kore_api.Page):
            pages.append(source)
            continue
        files.sources.append(source)
        if source.match.ignored:
            shown = ", ".join(repr(c) for c in source.match.ignored[:5])
            more = len(source.match.ignored) - 5
            warnings.append(
                f"{source.name}: ignored {len(source.match.ignored)} column(s) that the "
                f"{source.format.title} format does not use: {shown}"
                + (f" and {more} more" if more > 0 else "")
            )
    if pages:
        built = kore_api.build_sources(con, pages, len(files.sources), _api_source)
        for problem in built.problems:
            report(problem)
        if built.problems:
            files.unreadable = True
        files.sources.extend(built.sources)
        warnings += built.warnings
    return warnings


def _api_source(
    index: int, page: kore_api.Page, header: list[str], lines: list[int], match: HeaderMatch, relation: str
) -> Source:
    source = Source(index, page.path, page.name, header, match, relation, line_unit=page.line_unit)
    source._lines = lambda ordinals: {o: lines[o] for o in ordinals if o < len(lines)}
    return source


_links: tempfile.TemporaryDirectory[str] | None = None


def _literal_path(path: Path) -> Path:
    """A path DuckDB reads as this one file: it takes ``*``, ``?`` and ``[`` as patterns."""
    global _links
    if not any(ch in str(path) for ch in "*?[]{}"):
        return path
    if _links is None:
        _links = tempfile.TemporaryDirectory(prefix="coaching-import-")
    link = Path(_links.name) / f"{len(os.listdir(_links.name))}{path.suffix}"
    link.symlink_to(path.resolve())
    return link


def open_source(con: duckdb.DuckDBPyConnection, path: Path, index: int) -> Source | kore_api.Page:
    """Recognise one file and expose it to ``con`` (or, for an API page, read it); raises
    :class:`SourceError` when it cannot."""
    name = str(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError as error:
        raise SourceError(Problem(name, None, None, None, f"a readable file ({error.strerror})")) from None
    if head.startswith(b"PAR1"):
        return _parquet_source(con, path, index)
    text_head = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text_head.startswith(("[", "{")):
        return _json_source(con, path, index)
    return _csv_source(con, path, index)


def _header_problem(name: str, error: HeaderError, line: int | None = 1) -> SourceError:
    return SourceError(Problem(name, line, error.column, error.value, error.expected))


def _check_width(name: str, header: Sequence[str], line: int | None) -> None:
    """Refuse a file wider than :data:`MAX_COLUMNS`, in metrics when it is a report of too many."""
    if len(header) <= MAX_COLUMNS:
        return
    metrics = sum(h.strip().lower().endswith(formats.FATAL_SUFFIX.lower()) for h in header)
    expected = (
        formats.too_many_metrics(metrics) if metrics > formats.MAX_METRICS
        else f"at most {MAX_COLUMNS:,} columns in one file (found {len(header):,})"
    )
    raise SourceError(Problem(name, line, None, None, expected))


# ------------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------------
def _csv_source(con: duckdb.DuckDBPyConnection, path: Path, index: int) -> Source:
    name = str(path)
    try:
        # Bad bytes after the header are the CSV reader's to report, with their lines.
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            header = next(csv.reader(handle), None)
    except csv.Error as error:
        raise SourceError(Problem(name, 1, None, None, f"a CSV header row ({error})")) from None
    if header and any("\ufffd" in h for h in header):
        raise SourceError(Problem(name, 1, None, None, "UTF-8 text in the header row"))
    if not header or not any(h.strip() for h in header):
        raise SourceError(Problem(name, 1, None, None, "a header row naming the columns"))
    _check_width(name, header, 1)
    try:
        match = formats.recognise(header)
    except HeaderError as error:
        raise _header_problem(name, error) from None
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    rejects = f"csv_rejects_{index}"
    read = _one_line_ending(path)
    relation = (
        f"read_csv({sql_str(str(_literal_path(read or path)))}, header = true, auto_detect = false, "
        f"delim = ',', quote = '\"', escape = '\"', columns = {columns}, "
        f"store_rejects = true, rejects_table = '{rejects}', rejects_scan = 'csv_scans_{index}', "
        f"max_line_size = {MAX_LINE_BYTES})"
    )
    source = Source(index, path, name, list(header), match, relation, _rejects=rejects, _read=read)
    problems = source.problems  # not the source itself: no cycle keeps a copy's clean-up waiting
    source._lines = lambda ordinals: _csv_lines(read or path, ordinals, problems)
    if read is not None:
        weakref.finalize(source, read.unlink, missing_ok=True)
    return source


def _csv_lines(path: Path, ordinals: Sequence[int], rejected: Sequence[Problem]) -> dict[int, int]:
    """Map row ordinals to the line each row starts on, skipping rows the reader rejected.

    Only run when there is something to report, so it may read the file in Python.
    """
    wanted = set(ordinals)
    if not wanted:
        return {}
    skip = {p.line for p in rejected if p.line is not None}
    last = max(wanted)
    found: dict[int, int] = {}
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        start = reader.line_num + 1
        ordinal = 0
        for record in reader:
            line, start = start, reader.line_num + 1
            if not record or line in skip:
                continue
            if ordinal in wanted:
                found[ordinal] = line
            if ordinal >= last:
                break
            ordinal += 1
    return found


_CHUNK = 1 << 24


def _one_line_ending(path: Path) -> Path | None:
    """A copy of the file with every line ending made LF, when it ends lines in more than one way.

    DuckDB's CSV reader refuses a file whose lines end in both LF and CRLF (or CR), or splits its rows
    wrongly, where a spreadsheet reads it; such files come from editing or joining exports by hand.
    Each CRLF or CR becomes one LF, so line numbers stay the ones an editor shows (a line break inside
    a quoted value becomes LF too). None, and no copy, for the usual file.
    """
    if not _mixed_line_endings(path):
        return None
    descriptor, name = tempfile.mkstemp(prefix="coaching-import-", suffix=path.suffix)
    try:
        with open(path, "rb") as reading, os.fdopen(descriptor, "wb") as writing:
            carry = b""
            while chunk := reading.read(_CHUNK):
                chunk, carry = carry + chunk, b""
                if chunk.endswith(b"\r"):
                    chunk, carry = chunk[:-1], b"\r"  # its LF, if any, starts the next chunk
                writing.write(chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
            writing.write(carry.replace(b"\r", b"\n"))
    except BaseException:
        os.unlink(name)  # a full disk leaves no partial copy
        raise
    return Path(name)


def _mixed_line_endings(path: Path) -> bool:
    """Whether lines end in two or more of LF, CRLF and CR. A file without CR (the usual one) is
    found at memory speed; one with CR is counted through (about two seconds a GB)."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return False
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            if mapped.find(b"\r") < 0:
                return False
            lf = cr = pairs = 0
            for start in range(0, len(mapped), _CHUNK):
                chunk = mapped[start : start + _CHUNK]
                lf += chunk.count(b"\n")
                cr += chunk.count(b"\r")
                pairs += chunk.count(b"\r\n")
                if chunk.endswith(b"\r") and mapped[start + _CHUNK : start + _CHUNK + 1] == b"\n":
                    pairs += 1  # a CRLF across two chunks (its LF is counted with the next one)
                if (pairs > 0) + (lf > pairs) + (cr > pairs) > 1:
                    return True
            return False


# ------------------------------------------------------------------------------------------------
# JSON and NDJSON (Kore's API pages are handed to kore_api)
# ------------------------------------------------------------------------------------------------
def _json_records(name: str, text: str, path: Path) -> tuple[list[Any], list[int], str] | kore_api.Page:
    """The records of a JSON array or an NDJSON file, with the line each starts on; or an API page."""
    stripped = text.lstrip()
    decoder = json.JSONDecoder()
    if stripped.startswith("["):
        records, lines = _json_array(name, text, decoder)
        return kore_api.read_page(path, name, None, records, lines) or (records, lines, "line")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        if not error.msg.startswith("Extra data"):
            raise SourceError(Problem(name, error.lineno, None, None, f"valid JSON ({error.msg})")) from None
        records, lines = _ndjson(name, text)
        return kore_api.read_page(path, name, None, records, lines) or (records, lines, "line")
    if isinstance(document, dict):
        return kore_api.read_page(path, name, document) or ([document], [1], "line")
    raise SourceError(Problem(name, 1, None, None, "a JSON array of objects, NDJSON, or an API page"))


def _json_array(name: str, text: str, decoder: json.JSONDecoder) -> tuple[list[Any], list[int]]:
    records: list[Any] = []
    lines: list[int] = []
    position = text.index("[") + 1
    line = 1 + text.count("\n", 0, position)
    length = len(text)

    def skip(pos: int, line_no: int) -> tuple[int, int]:
        while pos < length and text[pos] in " \t\r\n":
            if text[pos] == "\n":
                line_no += 1
            pos += 1
        return pos, line_no

    position, line = skip(position, line)
    if position < length and text[position] == "]":
        return records, lines
    while True:
        try:
            record, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise SourceError(Problem(name, error.lineno, None, None, f"valid JSON ({error.msg})")) from None
        records.append(record)
        lines.append(line)
        line += text.count("\n", position, end)
        position, line = skip(end, line)
        if position < length and text[position] == ",":
            position, line = skip(position + 1, line)
            continue
        if position < length and text[position] == "]":
            rest, rest_line = skip(position + 1, line)
            if rest < length:
                raise SourceError(Problem(name, rest_line, None, text[rest : rest + 40], "nothing after the array"))
            return records, lines
        raise SourceError(Problem(name, line, None, None, "',' or ']' between the array's records"))


def _ndjson(name: str, text: str) -> tuple[list[Any], list[int]]:
    records: list[Any] = []
    lines: list[int] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            records.append(json.loads(raw))
        except json.JSONDecodeError as error:
            raise SourceError(
                Problem(name, number, None, raw[:80], f"one JSON object per line ({error.msg})")
            ) from None
        lines.append(number)
    return records, lines


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(t for t in (_as_text(v) for v in value) if t is not None)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _json_source(con: duckdb.DuckDBPyConnection, path: Path, index: int) -> Source | kore_api.Page:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(Problem(name, None, None, None, "UTF-8 text")) from None
    try:
        read = _json_records(name, text, path)
    except RecursionError:
        raise SourceError(Problem(name, None, None, None, "JSON nested less deeply")) from None
    if isinstance(read, kore_api.Page):
        return read
    records, lines, unit = read
    for record, line in zip(records, lines, strict=True):
        if not isinstance(record, dict):
            raise SourceError(Problem(name, line, None, _as_text(record), "a JSON object per record"))
    header = list(dict.fromkeys(key for record in records for key in record))  # in order of appearance
    if not header:
        raise SourceError(Problem(name, None, None, None, "records with the columns of a known export"))
    _check_width(name, header, None)
    try:
        match = formats.recognise(header)
    except HeaderError as error:
        raise _header_problem(name, error, None) from None
    rows = [[_as_text(r.get(k)) for k in header] for r in records]
    table = pa.table(
        {f"c{i}": pa.array([row[i] for row in rows], type=pa.string()) for i in range(len(header))}
    )
    view = f"json_source_{index}"
    con.register(view, table)
    source = Source(index, path, name, header, match, view, line_unit=unit)
    source._lines = lambda ordinals: {o: lines[o] for o in ordinals if o < len(lines)}
    return source


# ------------------------------------------------------------------------------------------------
# Parquet
# ------------------------------------------------------------------------------------------------
def _parquet_source(con: duckdb.DuckDBPyConnection, path: Path, index: int) -> Source:
    name = str(path)
    literal = sql_str(str(_literal_path(path)))
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal})").fetchall()
    except duckdb.Error as error:
        raise SourceError(Problem(name, None, None, None, f"a Parquet file ({_first_line(error)})")) from None
    header = [row[0] for row in described]
    _check_width(name, header, None)
    try:
        match = formats.recognise(header)
    except HeaderError as error:
        raise _header_problem(name, error, None) from None
    selects = []
    for i, (column, column_type, *_rest) in enumerate(described):
        quoted = '"' + column.replace('"', '""') + '"'
        if str(column_type).endswith("[]"):
            selects.append(f"array_to_string({quoted}, ', ') AS c{i}")
        else:
            selects.append(f"CAST({quoted} AS VARCHAR) AS c{i}")
    relation = f"(SELECT {', '.join(selects)} FROM read_parquet({literal}))"
    return Source(index, path, name, header, match, relation, line_unit="row")


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__

"""Importing exports into the store: all files of a run land together, or nothing does.

:func:`import_files` is the import's table of contents; each step is one module of this package:

* :mod:`~coaching.importer.sources`: finding and opening the files (CSV, JSON, NDJSON, Parquet, Kore's
  Auto QA API pages), each recognised by its header as one of the :mod:`~coaching.importer.formats`;
* :mod:`~coaching.importer.staging`: each file's rows read into a stage table, every cell checked in SQL;
* :mod:`~coaching.importer.references`: natural keys, and what each kind's rows refer to (a table of rules);
* :mod:`~coaching.importer.agents`: who each row's agent is (the rule is :mod:`coaching.people`'s);
* :mod:`~coaching.importer.writing`: upserts by natural key;
* :mod:`~coaching.importer.replay`: the review logs replayed through :mod:`coaching.review_machine`;
* :mod:`~coaching.importer.problems`, :mod:`~coaching.importer.progress`, :mod:`~coaching.importer.summary`:
  what is wrong, how far the import is, and what it did.

Everything is written into the next generation of the store (:func:`coaching.store.next_generation`),
swapped in only at the end. Any problem anywhere throws the new generation away and raises
:class:`ImportFailed`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from coaching import store
from coaching.importer import agents, formats, references, replay, sources, staging, writing
from coaching.importer.problems import ImportFailed, Problem, Problems
from coaching.importer.progress import Progress, ProgressCallback
from coaching.importer.summary import ImportSummary, KindSummary, record_import
from coaching.settings import ImportSettings

__all__ = ["ImportFailed", "ImportSummary", "KindSummary", "Problem", "ProgressCallback", "import_files"]


def import_files(
    db: Path,
    paths: Sequence[str | Path],
    settings: ImportSettings | None = None,
    progress: ProgressCallback | None = None,
    *,
    also_write: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> ImportSummary:
    """Import every export in ``paths`` (files or folders) into the store at ``db``, all or nothing.

    Raises :class:`ImportFailed` with every problem (up to ``settings.max_problems``, then a count)
    when any file, row or reference is bad; the store is then exactly as it was.

    ``also_write(con)``, when given, writes what must land with this import and only with it (the Kore
    sync's record of the window it imports). It runs last, only when the import found no problem, on the
    connection to the same next generation, before the swap: the import and what it writes become
    visible together or not at all. An exception from it throws the generation away like any import
    problem, and is raised as it came.
    """
    settings = settings or ImportSettings()
    started = time.perf_counter()
    found, missing = sources.files_to_import(paths)
    meter = Progress(progress)
    meter.report("Preparing", 0.0)
    with store.next_generation(Path(db)) as con:
        staging.prepare(con)
        files = sources.Files()
        problems = Problems(files, settings.max_problems)
        for problem in missing:  # reported with the files' own problems, so one run shows them all
            problems.add(problem)
        warnings = sources.open_files(con, found, files, problems.add)
        staging.stage_files(con, files, problems, meter, share=0.6)
        meter.report("Checking keys and references", 0.0)
        layouts = staging.stage_views(con, files)
        # The assignments' key names their agent's person, known once the roster is written.
        references.check_keys(con, problems, [f for f in formats.ALL_FORMATS if f is not formats.ASSIGNMENTS])
        kinds: dict[str, KindSummary] = {}
        if files.complete:
            references.check_references(con, problems)
            # Who each row's agent is needs the run's roster: it is written first (into the next
            # generation, thrown away if anything is wrong), so every problem is found in one run.
            agents.remember_people(con)
            kinds["roster"] = writing.write_roster(con, meter)
            warnings += agents.identify(con, problems)
        problems.fail_if_any()

        warnings += agents.add_unrostered_agents(con)
        kinds["evaluations"] = writing.write_evaluations(con, files, layouts, meter, share=0.25)
        agents.replace_individual_assignments(con)
        kinds |= writing.write_later_kinds(con, meter)
        replay.replay_reviews(con, problems, settings.max_dispute_rounds, meter)
        summary = record_import(con, found, files, kinds, warnings, started)
        if also_write is not None:
            also_write(con)
        meter.report("Saving", 0.0)
    meter.report("Done", 1.0)
    summary.seconds = time.perf_counter() - started
    return summary

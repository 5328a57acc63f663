"""The ``coaching`` command: import exports, sync from Kore's APIs, generate demo data, look at the store,
set passwords.

Every command takes ``--db FILE`` (else ``COACHING_DB``, else ``data/coaching.duckdb``). Problems are
printed for people, never as a traceback (set ``COACHING_DEBUG=1`` to see one); the exit status is
0 on success, 1 when the input or the store is at fault, 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import re
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType

import duckdb
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from coaching import credentials, demo, kore_sync, settings, store
from coaching.credentials import CredentialError
from coaching.importer import ImportFailed, ImportSummary, import_files
from coaching.kore_client import KoreError
from coaching.settings import ImportSettings, SettingError
from coaching.sql import scalar
from coaching.store import StoreError

DEFAULT_DEMO_OUT = settings.PROJECT_ROOT / "data" / "demo"

KIND_TITLES = {
    "roster": "Roster",
    "evaluations": "Evaluations",
    "assignments": "Coaching assignments",
    "coaching_interactions": "Coaching interactions",
    "best_responses": "Best response examples",
    "review_events": "Review events",
}


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


_UNITS = {"s": 1, "m": 60, "h": 3600, "": 1}


def _interval(text: str) -> float:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    seconds = float(found.group(1)) * _UNITS[found.group(2)] if found else 0.0
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an interval such as 30s, 15m or 1h")
    return seconds


#: What ``users set-password`` says about arguments it does not take: never what they are, since a
#: password typed on the command line is the likeliest of them (argparse would echo it).
PASSWORD_NOT_AN_ARGUMENT = (
    "the password is never an argument: it is asked twice at a terminal, else read from the first "
    "line of standard input (printf '%s\\n' \"$PASSWORD\" | coaching users set-password EMAIL)"
)


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The command line, and the ``users set-password`` parser (its errors never quote arguments)."""
    parser = argparse.ArgumentParser(
        prog="coaching", description="Coaching and quality dashboard: the store and its imports."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="FILE", help="the store (default: $COACHING_DB or data/coaching.duckdb)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    imp = commands.add_parser(
        "import", parents=[common], help="import export files and folders, all or nothing",
        description="Import Kore.ai evaluation reports and coaching exports. Nothing is written "
        "unless every file and row is valid.",
    )
    imp.add_argument("paths", nargs="+", metavar="PATH", help="export files, or folders of them")
    imp.add_argument("--max-dispute-rounds", type=int, metavar="N",
                     help="the maximum of dispute rounds (default: $COACHING_MAX_DISPUTE_ROUNDS or 3)")
    imp.add_argument("--max-problems", type=int, default=50, metavar="N",
                     help="problems to print in full before counting the rest (default: 50)")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")

    dem = commands.add_parser(
        "demo", parents=[common], help="generate realistic demo exports and import them",
    )
    dem.add_argument("--out", metavar="DIR", help=f"where to write the exports (default: {DEFAULT_DEMO_OUT})")
    dem.add_argument("--agents", type=_positive, default=demo.DemoSpec.agents, metavar="N")
    dem.add_argument("--days", type=_positive, default=demo.DemoSpec.days, metavar="D")
    dem.add_argument("--seed", type=int, default=demo.DemoSpec.seed, metavar="S")
    dem.add_argument("--end", type=date.fromisoformat, metavar="YYYY-MM-DD",
                     help="the last day of the data (default: today)")
    dem.add_argument("--if-empty", action="store_true",
                     help="do nothing when the store has evaluations or was not created by the demo")
    dem.add_argument("--into-existing-store", action="store_true",
                     help="also load into a store the demo did not create: adds its people and data AND "
                     f"GIVES ITS ACCOUNTS, AN ADMIN AMONG THEM, THE PUBLISHED PASSWORD {demo.DEMO_PASSWORD!r}; "
                     "never on a real store")
    dem.add_argument("--no-import", action="store_true", help="only write the exports")
    dem.add_argument("--quiet", action="store_true", help="no progress bar")

    commands.add_parser("status", parents=[common], help="what the store holds")

    sync = commands.add_parser("sync", help="pull data from an API into the store")
    sync_commands = sync.add_subparsers(dest="sync_command", required=True, metavar="SOURCE")
    kore = sync_commands.add_parser(
        "kore", parents=[common], help="Kore.ai Quality AI's Auto QA Reporting and Raw Data APIs",
        description="Read Kore's Auto QA Reporting and Raw Data APIs window by window and import each window "
        "all or nothing. Incremental: from the last sync less the trailing days (COACHING_KORE_TRAILING_DAYS), "
        "or a first backfill (COACHING_KORE_BACKFILL_DAYS); an interrupted run resumes. Credentials come from "
        "the environment (KORE_ACCOUNT_ID, KORE_ORG_ID, KORE_CLIENT_ID, KORE_CLIENT_SECRET, KORE_STREAM_ID, "
        "KORE_BASE_URL) or the [kore] table of .streamlit/secrets.toml, never from the command line. "
        "See docs/sync.md.",
    )
    kore.add_argument("--since", type=_moment, metavar="WHEN",
                      help="read from this UTC date or time (YYYY-MM-DD or ISO 8601), settled windows too")
    kore.add_argument("--until", type=_moment, metavar="WHEN", help="read up to this UTC date or time (default: now)")
    kore.add_argument("--dry-run", action="store_true",
                      help="fetch and check, import into a throwaway copy, say what would land; change nothing")
    kore.add_argument("--every", type=_interval, metavar="INTERVAL",
                      help="keep running: a sync every INTERVAL (30s, 15m, 1h) until Ctrl-C or SIGTERM")
    kore.add_argument("--wait", action="store_true",
                      help="when another sync of this store is running, wait for it instead of doing nothing")
    kore.add_argument("--verbose", action="store_true", help="log each request (never a credential)")
    kore.add_argument("--quiet", action="store_true", help="no progress bar")

    users = commands.add_parser("users", help="the dashboard's own sign-in accounts")
    user_commands = users.add_subparsers(dest="users_command", required=True, metavar="COMMAND")
    setpw = user_commands.add_parser(
        "set-password", parents=[common], help="set the password of someone on the roster",
        description="Set the sign-in password of someone on the roster. The password is asked twice "
        "when run in a terminal, else read from the first line of standard input; never give it "
        "on the command line.",
    )
    setpw.add_argument("email", metavar="EMAIL", help="the person's email, as on the roster")
    return parser, setpw


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser, set_password = _parser()
    args, unrecognised = parser.parse_known_args(argv)
    if getattr(args, "users_command", None) == "set-password":
        if unrecognised:
            set_password.error(f"it takes one EMAIL, and {len(unrecognised)} more argument(s) were given "
                               f"(not shown); {PASSWORD_NOT_AN_ARGUMENT}")
        if "@" not in args.email:
            set_password.error(f"EMAIL is not an email address (not shown); {PASSWORD_NOT_AN_ARGUMENT}")
    elif unrecognised:
        parser.error("unrecognized arguments: " + " ".join(unrecognised))
    return args


def _progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _run_import(db: Path, paths: Sequence[str | Path], options: ImportSettings, quiet: bool,
                out: Console, err: Console) -> ImportSummary:
    if quiet or not err.is_terminal:
        return import_files(db, paths, options)
    with _progress_bar(err) as bar:
        task = bar.add_task("Importing", total=1.0)

        def report(label: str, done: float) -> None:
            bar.update(task, description=label, completed=done)

        return import_files(db, paths, options, progress=report)


def _print_summary(summary: ImportSummary, db: Path, out: Console) -> None:
    table = Table(title=f"Imported {len(summary.files)} file(s) into {db} in {summary.seconds:.1f} s")
    for column in ("Kind", "Rows", "New", "Updated", "Unchanged"):
        table.add_column(column, justify="left" if column == "Kind" else "right")
    for kind, counts in summary.kinds.items():
        table.add_row(KIND_TITLES.get(kind, kind), f"{counts.rows:,}", f"{counts.new:,}",
                      f"{counts.updated:,}", f"{counts.unchanged:,}")
    out.print(table)
    for warning in summary.warnings:
        out.print(f"[yellow]Warning:[/yellow] {warning}", markup=True, highlight=False)


def _print_failure(failure: ImportFailed, err: Console) -> None:
    err.print(f"[bold red]Nothing was imported:[/bold red] {failure.total} problem(s) found.", highlight=False)
    for problem in failure.problems:
        err.print(f"  {problem}", markup=False, highlight=False)
    rest = failure.total - len(failure.problems)
    if rest > 0:
        err.print(f"  … and {rest} more problem(s).", markup=False, highlight=False)


def _status(db: Path, out: Console) -> int:
    reader = store.open_store(db)
    with reader.snapshot() as con:
        counts = store.table_counts(con)
        last = con.execute("SELECT imported_at, files FROM imports ORDER BY import_id DESC LIMIT 1").fetchone()
    table = Table(title=f"Store {db}")
    table.add_column("Table")
    table.add_column("Rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    out.print(table)
    if last:
        out.print(f"Last import: {last[0]:%Y-%m-%d %H:%M} UTC, {len(last[1])} file(s)")
    return 0


def _demo_store_state(db: Path) -> tuple[bool, bool]:
    """Whether the store was created by ``coaching demo`` (or is not there yet), and has evaluations."""
    if not db.exists():
        return True, False
    with store.open_store(db).snapshot() as con:
        evaluations = scalar(con, "SELECT count(*) FROM evaluations")
        return demo.created_store(con), bool(evaluations)


def _demo_refused(db: Path, args: argparse.Namespace, out: Console) -> int | None:
    """The exit status when the demo must not load into ``db``; None when it may.

    The demo's accounts get a published password: a store the demo did not create gets them only when
    asked for with ``--into-existing-store``, never by ``--if-empty`` (``dev.py run`` uses it).
    """
    ours, has_evaluations = _demo_store_state(db)
    if args.if_empty and has_evaluations:
        out.print(f"The store {db} already has evaluations; no demo data loaded.",
                  markup=False, highlight=False)
        return 0
    if ours or args.into_existing_store:
        return None
    if args.if_empty:
        out.print(f"The store {db} was not created by `coaching demo`; no demo data loaded.",
                  markup=False, highlight=False)
        return 0
    raise DemoRefused(
        f"the store {db} was not created by `coaching demo`. The demo would add its people and data to it "
        f"and give its accounts ({', '.join(demo.DEMO_ACCOUNTS)}) the published password "
        f"{demo.DEMO_PASSWORD!r}. Nothing was changed: give the demo a new --db, or add "
        "--into-existing-store if that store is only for trying things out."
    )


class DemoRefused(Exception):
    """``coaching demo`` will not load into this store; the message says why and what to do."""


def _read_new_password() -> str:
    """The new password: asked twice at a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        try:
            first = getpass.getpass("New password: ")
            again = getpass.getpass("Repeat it: ")
        except EOFError:
            raise CredentialError("no password given; nothing was changed") from None
        if again != first:
            raise CredentialError("the two passwords differ; nothing was changed")
        return first
    line = sys.stdin.readline()
    if not line:
        raise CredentialError("no password on standard input: expected it on the first line")
    return line.rstrip("\r\n")


def _set_password(db: Path, email: str, out: Console) -> int:
    password = _read_new_password()
    credentials.set_password(db, email, password)
    out.print(f"Password set for {email.strip().lower()} (in {credentials.credentials_path(db)}).",
              markup=False, highlight=False)
    return 0


def _set_demo_passwords(db: Path, out: Console) -> None:
    for email in demo.DEMO_ACCOUNTS:
        credentials.set_password(db, email, demo.DEMO_PASSWORD)
    out.print(f"Set the demo password of {len(demo.DEMO_ACCOUNTS)} demo accounts (see the README).")


class _Stop(KeyboardInterrupt):
    """SIGTERM, taken as Ctrl-C: the batch being imported is thrown away whole, the pages fetched are kept."""


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _logging(verbose: bool, err: Console) -> None:
    # Warnings (a retried request) always; each request with --verbose. No handler prints a header.
    handler = RichHandler(console=err, show_path=False, markup=False, rich_tracebacks=False)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler],
                        format="%(message)s", force=True)
    # The HTTP libraries' own records add nothing to ours at WARNING; at DEBUG they show no header values.
    for name in ("httpx2", "httpcore2", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)


def _sync_progress(err: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<46}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("requests"),
        TimeElapsedColumn(),
        TextColumn("left ≈"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def _print_sync(result: kore_sync.SyncResult, db: Path, out: Console, err: Console) -> None:
    run = result.run
    for warning in run.warnings:
        err.print(f"Note: {warning}.", markup=False, highlight=False)
    if result.dry_run:
        table = Table(title=f"Dry run: what would land in {db} (nothing was changed)")
        for column in ("Window (UTC)", "Auto QA records", "Raw Data records", "Would land"):
            table.add_column(column, justify="left" if column.startswith("W") else "right")
        for outcome in result.windows:
            if outcome.failure is not None:
                verdict = f"nothing: refused ({outcome.failure.total} problem(s))"
            elif outcome.unchanged:
                verdict = "nothing (unchanged)"
            elif outcome.summary is None:
                verdict = "nothing (no records)"
            else:
                evaluations = outcome.summary.get("evaluations", {})
                verdict = (f"{evaluations.get('new', 0):,} new, {evaluations.get('updated', 0):,} updated, "
                           f"{evaluations.get('unchanged', 0):,} unchanged evaluations")
            table.add_row(str(outcome.window), f"{outcome.records.get('scorereporting', 0):,}",
                          f"{outcome.records.get('rawdata', 0):,}", verdict)
        out.print(table)
    if not run.windows:
        out.print("Nothing to sync: every window up to then is settled.", highlight=False)
        return
    out.print(
        f"Synced {run.windows} window(s) from {run.since} to {run.until}: {run.records:,} record(s) read in "
        f"{run.requests:,} request(s); {run.windows_landed} window(s) imported, {run.windows_unchanged} unchanged.",
        markup=False, highlight=False,
    )
    for outcome in result.windows:
        if outcome.failure is not None:
            err.print(f"[bold red]The import refused the window {escape(str(outcome.window))}[/bold red]; the "
                      "next run reads it again.", highlight=False)
            _print_failure(outcome.failure, err)


def _sync_once(db: Path, args: argparse.Namespace, out: Console, err: Console) -> int:
    creds = settings.kore_credentials()
    options = settings.kore_sync_settings()
    importing = ImportSettings(max_dispute_rounds=settings.max_dispute_rounds())
    kwargs = {"since": args.since, "until": args.until, "dry_run": args.dry_run, "import_settings": importing,
              "wait_for_lock": args.wait}
    if args.quiet or not err.is_terminal:
        result = kore_sync.sync(db, creds, options, **kwargs)
    else:
        with _sync_progress(err) as bar:
            task = bar.add_task("Syncing from Kore", total=None)

            def report(step: kore_sync.SyncProgress) -> None:
                label = (f"window {min(step.windows_done + 1, step.windows_total)} of {step.windows_total}"
                         if step.window else "done")
                bar.update(task, description=f"Kore: {label}", completed=step.requests,
                           total=step.requests + step.requests_left)

            result = kore_sync.sync(db, creds, options, progress=report, **kwargs)
    _print_sync(result, db, out, err)
    return 1 if result.run.status == "failed" else 0


def _sync_error(error: Exception, err: Console) -> int:
    if isinstance(error, ImportFailed):
        _print_failure(error, err)
    else:
        err.print(f"[bold red]Error:[/bold red] {escape(str(error))}", highlight=False)
    return 1


def _sync(db: Path, args: argparse.Namespace, out: Console, err: Console) -> int:
    _logging(args.verbose, err)
    with _sigterm_as_interrupt():
        if args.every is None:
            try:
                return _sync_once(db, args, out, err)
            except kore_sync.SyncRunning as running:
                err.print(str(running), markup=False, highlight=False)
                return 0
        status = 0

        def once() -> None:
            nonlocal status
            try:
                status = _sync_once(db, args, out, err)
            except kore_sync.SyncRunning as running:
                err.print(f"{running}; trying again in {args.every:g} s", markup=False, highlight=False)
            except Exception as error:  # noqa: BLE001 - one run's surprise must not end a long-running sync
                # The next run still comes: Kore may be back by then, a setting fixed, the disk freed.
                if isinstance(error, KoreError | kore_sync.SyncError | ImportFailed | SettingError | StoreError
                              | OSError):
                    status = _sync_error(error, err)
                else:
                    if os.environ.get("COACHING_DEBUG"):
                        traceback.print_exc()
                    err.print(f"[bold red]Internal error:[/bold red] {escape(f'{type(error).__name__}: {error}')}; "
                              f"the next run still comes in {args.every:g} s (COACHING_DEBUG=1 shows the details)",
                              highlight=False)
                    status = 1
                kore_sync.record_failure(db, error)  # unless the run recorded it itself

        try:
            kore_sync.every(args.every, once, stop=lambda: False)
        except KeyboardInterrupt:
            err.print("Stopped. Every window landed before now is in the store; the next run resumes.",
                      highlight=False)
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    out = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    try:
        db = settings.db_path(args.db)
        if args.command == "import":
            options = ImportSettings(
                max_dispute_rounds=settings.max_dispute_rounds(args.max_dispute_rounds),
                max_problems=max(1, args.max_problems),
            )
            summary = _run_import(db, args.paths, options, args.quiet, out, err)
            _print_summary(summary, db, out)
            return 0
        if args.command == "demo":
            if not args.no_import and (refused := _demo_refused(db, args, out)) is not None:
                return refused
            folder = Path(args.out) if args.out else DEFAULT_DEMO_OUT
            spec = demo.DemoSpec(agents=args.agents, days=args.days, seed=args.seed, end=args.end)
            with err.status("Generating demo exports…") if err.is_terminal and not args.quiet else nullcontext():
                files = demo.generate(spec, folder)
            out.print(
                f"Wrote demo exports to {files.folder}: {files.agents:,} agents, "
                f"{files.interactions:,} interactions, {files.assignments:,} coaching assignments, "
                f"{files.review_events:,} review events."
            )
            if args.no_import:
                return 0
            options = ImportSettings(max_dispute_rounds=settings.max_dispute_rounds())
            if not db.exists():
                demo.create_store(db)
            summary = _run_import(db, [folder], options, args.quiet, out, err)
            _print_summary(summary, db, out)
            _set_demo_passwords(db, out)
            if args.into_existing_store and not _demo_store_state(db)[0]:
                err.print(
                    f"[bold red]Warning:[/bold red] {escape(str(db))} was not created by `coaching demo`: its "
                    f"demo accounts, an Admin among them, now have the published password "
                    f"{escape(repr(demo.DEMO_PASSWORD))}. Never do this to a real store.",
                    highlight=False,
                )
            return 0
        if args.command == "users":
            return _set_password(db, args.email, out)
        if args.command == "sync":
            return _sync(db, args, out, err)
        return _status(db, out)
    except ImportFailed as failure:
        _print_failure(failure, err)
        return 1
    except CredentialError as error:
        # The message may quote an email as typed: print it as it is, never as markup.
        err.print(f"[bold red]Error:[/bold red] {escape(str(error))}", highlight=False)
        return 1
    except (StoreError, SettingError, DemoRefused, KoreError, kore_sync.SyncError) as error:
        err.print(f"[bold red]Error:[/bold red] {escape(str(error))}", highlight=False)
        return 1
    except duckdb.Error as error:
        err.print(f"[bold red]Store error:[/bold red] {str(error).splitlines()[0]}", highlight=False)
        return 1
    except OSError as error:
        err.print(f"[bold red]Error:[/bold red] {error.strerror or error}: {error.filename or ''}", highlight=False)
        return 1
    except KeyboardInterrupt:
        if args.command == "sync":
            err.print("Interrupted. Every window landed before now is in the store; the next run resumes.")
        else:
            err.print("Interrupted; the store is unchanged.")
        return 130
    except Exception as error:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("COACHING_DEBUG"):
            traceback.print_exc()
        err.print(
            f"[bold red]Internal error:[/bold red] {type(error).__name__}: {error}. The store is unchanged. "
            "Set COACHING_DEBUG=1 to see the details.",
            highlight=False,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())

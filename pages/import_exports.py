"""Import (admins): load exports from the browser through the same import as `coaching import`."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from coaching import kore_sync, settings
from coaching.access import Capability
from coaching.importer import ImportFailed, import_files
from coaching.settings import ImportSettings
from coaching.store import StoreError
from ui import session
from ui.text import escape_markdown


def upload_labels(names: list[str]) -> list[str]:
    """How the page names each upload: its file name, with its place in the list when another
    upload has the same name (two `roster.csv` from different folders are two files)."""
    bare = [Path(name).name for name in names]
    return [f"{name} (upload {i})" if bare.count(name) > 1 else name for i, name in enumerate(bare, start=1)]


def named_as_uploaded(text: str, labels: dict[str, str]) -> str:
    """``text`` with the uploads' paths on the server replaced by how the page names them."""
    for path in sorted(labels, key=len, reverse=True):
        text = text.replace(path, labels[path])
    return text


def show_last_sync(run: kore_sync.SyncRun | None, problem: str | None = None) -> None:
    """The last `coaching sync kore`: when, how many records, any error, the windows the import refused."""
    st.subheader("Sync from Kore's APIs")
    if problem is not None:  # the next sync stops on it: say so, plainly
        st.warning(escape_markdown(problem))
    if run is None:
        st.caption("This store has not been synced from Kore's APIs: `coaching sync kore` (see docs/sync.md).")
        return
    when = run.finished or run.started
    what = (f"{run.records:,} record(s) read in {run.windows} window(s), {run.windows_landed} imported, "
            f"{run.windows_unchanged} unchanged")
    if run.stopped_unexpectedly:
        st.error(f"The sync started {run.started:%d %b %Y %H:%M} UTC (process {run.pid or '?'}) stopped "
                 f"unexpectedly, before it finished ({what} by then). The next sync resumes it.")
    elif run.status == "running":
        st.info(f"A sync started {when:%d %b %Y %H:%M} UTC (process {run.pid or '?'}) and is running.")
    elif run.status == "ok":
        st.success(f"Last sync {when:%d %b %Y %H:%M} UTC: {what}.")
    else:
        # The error names settings and windows, never a credential; shown as plain text.
        st.error(f"Last sync {when:%d %b %Y %H:%M} UTC {run.status}: {escape_markdown(run.error or '')} ({what}).")
    for failed in run.failed_windows:
        start, end = kore_sync.failed_window_times(failed)
        st.warning(f"The import refused the window {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} UTC "
                   f"({failed.get('total', '?')} problem(s)); the next sync reads it again. Its pages are kept "
                   f"in {escape_markdown(str(failed.get('kept', '')))}.")
        problems = [p for p in failed.get("problems", []) if isinstance(p, str)]
        if problems:
            st.code("\n".join(problems), language=None)
    for warning in run.warnings:
        st.caption(escape_markdown(warning))


session.viewer(Capability.IMPORT)  # admins only, even when Streamlit runs this page on its own
st.title("Import exports")
show_last_sync(kore_sync.last_sync(session.store().path), kore_sync.state_problem(session.store().path))
st.caption(
    "Kore.ai Interaction Evaluation reports, Auto QA Reporting and Raw Data API pages, rosters, coaching "
    "assignments, coaching interactions, best responses and review events (CSV, JSON, NDJSON or Parquet). A file "
    "is recognised by its header. Everything lands together or nothing does."
)

with st.form("import", clear_on_submit=False):
    uploads = st.file_uploader(
        "Export files", type=["csv", "json", "ndjson", "jsonl", "parquet"], accept_multiple_files=True
    )
    submitted = st.form_submit_button("Import", type="primary")

if submitted:
    if not uploads:
        st.warning("Choose at least one export file.")
        st.stop()
    bar = st.progress(0.0, text="Starting")
    with tempfile.TemporaryDirectory(prefix="coaching-upload-") as folder:
        paths = []
        labels: dict[str, str] = {}  # an upload's path on the server -> how the page names it
        for number, (upload, label) in enumerate(zip(uploads, upload_labels([u.name for u in uploads]),
                                                     strict=True), start=1):
            # A folder per upload: uploads that share a name are all imported, none overwritten.
            path = Path(folder) / str(number) / Path(upload.name).name
            path.parent.mkdir()
            path.write_bytes(upload.getvalue())
            paths.append(path)
            labels[str(path)] = label
        try:
            summary = import_files(
                session.store().path,
                paths,
                ImportSettings(max_dispute_rounds=settings.max_dispute_rounds()),
                progress=lambda label, done: bar.progress(min(1.0, done), text=label),
            )
        except ImportFailed as failure:
            bar.empty()
            st.error(f"Nothing was imported: {failure.total:,} problem(s) found.")
            problems = pd.DataFrame([p.as_row() for p in failure.problems])
            problems["File"] = [labels.get(f, Path(f).name) for f in problems["File"]]
            problems["Expected"] = [named_as_uploaded(e, labels) for e in problems["Expected"]]
            st.dataframe(problems, hide_index=True)
            if failure.total > len(failure.problems):
                st.caption(f"… and {failure.total - len(failure.problems):,} more.")
            st.stop()
        except (settings.SettingError, StoreError) as error:  # a bad setting, a full disk: nothing changed
            bar.empty()
            st.error(escape_markdown(str(error)))
            st.stop()
    bar.progress(1.0, text="Done")
    st.success(f"Imported {len(paths)} file(s) in {summary.seconds:.1f} s.")
    st.dataframe(
        pd.DataFrame(
            [{"Kind": kind.replace("_", " ").capitalize(), "Rows": k.rows, "New": k.new, "Updated": k.updated,
              "Unchanged": k.unchanged} for kind, k in summary.kinds.items()]
        ),
        hide_index=True,
    )
    for warning in summary.warnings:
        # It quotes the files: names, columns, agents.
        st.warning(escape_markdown(named_as_uploaded(warning, labels)))

"""Import (admins): load exports from the browser through the same import as `coaching import`."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from coaching import settings
from coaching.access import Capability
from coaching.importer import import_files
from coaching.problems import ImportFailed
from coaching.settings import ImportSettings
from ui import session
from ui.text import escape_markdown

session.viewer(Capability.IMPORT)  # admins only, even when Streamlit runs this page on its own
st.title("Import exports")
st.caption(
    "Kore.ai Interaction Evaluation reports and Auto QA API pages, rosters, coaching assignments, coaching "
    "interactions, best responses and review events (CSV, JSON, NDJSON or Parquet). A file is recognised by "
    "its header. Everything lands together or nothing does."
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
        for upload in uploads:
            path = Path(folder) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            paths.append(path)
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
            problems["File"] = [Path(f).name for f in problems["File"]]
            st.dataframe(problems, hide_index=True)
            if failure.total > len(failure.problems):
                st.caption(f"… and {failure.total - len(failure.problems):,} more.")
            st.stop()
        except settings.SettingError as error:
            bar.empty()
            st.error(str(error))
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
        st.warning(escape_markdown(warning))  # it quotes the files: names, columns, agents

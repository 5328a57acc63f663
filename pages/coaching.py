"""Coaching Assignments: the viewer's coaching sessions, and one session's detail by its URL.

`?assignment=ID` opens a session (leads add `&agent=PERSON` for one member of a group: who they are,
an email, never a name). Without a session, `?agent=PERSON` opens a lead's list narrowed to that agent
(the Team page links here so). Agents read here; nothing on this page changes coaching content, scores
or reviews.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from coaching import settings
from coaching.access import AGENT, Capability
from coaching.assignments import (
    LIST_ORDERS,
    OVERDUE,
    AssignmentFilters,
    assignment_detail,
    assignment_page,
    best_response_examples,
    list_choices,
    marked_interactions,
    session_status,
    status_marker,
)
from coaching.scores import with_result
from ui import clock, navigation, session, state
from ui.cache import scoped
from ui.text import escape_markdown, status_markdown

viewer = session.viewer(Capability.COACHING)
store = session.store()
options = settings.review_settings()
today = clock.today()


def audit_link(column, conversation_id: str, assignment_id: str, agent: str) -> None:
    """The interaction's audit (a real link), remembering the session to come back to."""
    navigation.audit_link(column, conversation_id, assignment=assignment_id, agent=agent)


def badge(column, label: str, colour: str, help: str | None = None) -> None:
    """A tag showing ``label`` as text (``st.badge`` escapes only brackets itself)."""
    column.badge(escape_markdown(label).replace("\\[", "[").replace("\\]", "]"), color=colour, help=help)


def show_status(column, label: str) -> None:
    """A session's status, as a state in colour after an icon: not a tag, which reads like a button."""
    marker = status_marker(label)
    column.markdown(status_markdown(label, marker.colour, marker.icon))


def statuses_help(labels: list[str]) -> str:
    """What each status of a list means (the Status heading's hover text)."""
    return "  \n".join(f"{escape_markdown(label)}: {status_marker(label).meaning}" for label in labels
                       if status_marker(label).meaning)


#: Rows' links wrap rather than being cut (a stylesheet only: it takes no space on the page).
ROWS_CSS = Path(__file__).resolve().parent.parent / "static" / "rows.css"


def list_header(widths: list[float], labels: list[str], helps: dict[str, str] | None = None) -> None:
    for column, label in zip(st.columns(widths), labels, strict=True):
        if label:
            column.markdown(f"**{label}**", help=(helps or {}).get(label))


def session_row(position: int, row: pd.Series, widths: list[int], lead: bool) -> None:
    """One session of the list, keyed ``session-<position on the page>``: its name opens it; areas
    beyond the first few collapse into "+N", which lists them all on hover."""
    with st.container(border=True, key=f"session-{position}"):
        cells = iter(st.columns(widths, vertical_alignment="center"))
        next(cells).page_link("pages/coaching.py", label=escape_markdown(row["name"]),
                              query_params={"assignment": row["assignment_id"], "agent": row["person_id"]})
        if lead:
            next(cells).text(row["agent"])
        with next(cells).container(horizontal=True, gap="xsmall"):
            areas, tags = list(row["coaching_areas"]), list(row["area_tags"])
            overflow = tags[-1] if tags != areas else None  # "+N", standing for the areas not shown
            for tag in tags[:-1] if overflow else tags:
                badge(st, tag, "blue")
            if overflow:
                badge(st, overflow, "gray", help="All coaching areas: " + ", ".join(map(escape_markdown, areas)))
        next(cells).text(f"{row['assigned_date']:%d %b %Y}")
        with next(cells).container(gap=None):
            st.text(f"{row['follow_up_date']:%d %b %Y}" if pd.notna(row["follow_up_date"]) else "—")
            if pd.notna(row["follow_up"]):
                badge(st, row["follow_up"], "red" if row["follow_up"] == OVERDUE else "orange")
        show_status(next(cells), row["status"])


def agent_to_url() -> None:
    """The Agent filter's callback: the URL names the one agent chosen (a link to this list narrowed to
    them), or none."""
    chosen = st.session_state.get("agent_filter") or []
    if len(chosen) == 1:
        st.query_params["agent"] = chosen[0]
    elif "agent" in st.query_params:
        del st.query_params["agent"]


def agent_from_url(agents: dict[str, str]) -> None:
    """A link naming an agent (``?agent=PERSON``, e.g. from the Team page) narrows the list to them, if
    they are in the viewer's scope; else the viewer is told, and the filter is left as it is."""
    linked = st.query_params.get("agent")
    if linked is None or st.session_state.get("agent_filter") == [linked]:
        return
    if linked in agents:
        st.session_state["agent_filter"] = [linked]
    else:
        st.warning("The link names an agent who is not among the agents you can see, so the list is not "
                   "narrowed to them.")


def show_list() -> None:
    st.title("Coaching Assignments")
    choices = scoped(store, viewer, list_choices, today, options.accept_dispute)
    if not choices.sessions:
        st.info(
            "No coaching sessions yet. When a supervisor or QA evaluator assigns you coaching, it appears "
            "here with its coaching areas, assigned and follow-up dates, and status."
            if viewer.role == AGENT
            else "No coaching assignments in your scope yet. Sessions appear here once they are imported."
        )
        return

    lead = viewer.role != AGENT
    kept = ["status_filter", "area_filter", "date_filter", "order", *(["agent_filter"] if lead else [])]
    # The filters fit 1280 px: a lead's five on two lines, an agent's four on one; the dates and the order
    # are wide enough to show all of what they hold.
    columns = iter([*st.columns(3), *st.columns([3.4, 2.6, 4])[:2]] if lead else st.columns([1.8, 1.8, 3.2, 2.6]))
    state.restore("status_filter", choices.statuses)
    state.restore("area_filter", choices.coaching_areas)
    state.restore("date_filter")
    state.restore("order")
    agents: list[str] = []
    if lead:
        state.restore("agent_filter", choices.agents)
        agent_from_url(choices.agents)
        # Agents are chosen by who they are (person_id), shown by name (with the email where two share it).
        agents = next(columns).multiselect("Agent", list(choices.agents), format_func=choices.agents.get,
                                           key="agent_filter", on_change=agent_to_url)
    statuses = next(columns).multiselect("Status", choices.statuses, key="status_filter")
    areas = next(columns).multiselect("Coaching Area", choices.coaching_areas, key="area_filter")
    dates = next(columns).date_input("Assigned between", value=(), key="date_filter", format="YYYY-MM-DD")
    order = next(columns).selectbox("Sort by", list(LIST_ORDERS), key="order")
    for key in kept:
        state.keep(key)  # still chosen after a look at a session
    chosen_from, chosen_to = (tuple(dates) + (None, None))[:2] if dates else (None, None)
    filters = AssignmentFilters(tuple(statuses), tuple(areas), chosen_from, chosen_to, tuple(agents))
    # The page is set, never dropped, so the browser's Page control shows it too. Another filter or
    # order starts on the first page.
    if st.session_state.get("list_query") != (filters, order) or "list_page" not in st.session_state:
        st.session_state["list_page"] = 1
        st.session_state["list_query"] = (filters, order)
    wanted = int(st.session_state["list_page"] or 1)
    listed = scoped(store, viewer, assignment_page, filters, today, options.accept_dispute, order, wanted)
    if listed.page != wanted:  # the list shrank under the page (an import): back to its first page
        st.session_state["list_page"] = 1
        listed = scoped(store, viewer, assignment_page, filters, today, options.accept_dispute, order, 1)
    st.caption(
        f"{listed.matching:,} of {choices.sessions:,} coaching session(s)"
        + (f" · {listed.overdue} overdue" if listed.overdue else "")
        + (". Choose one by its name to open it." if listed.matching else ".")
    )
    if not listed.matching:
        st.info("No coaching session matches these filters. Clear a filter to see more.")
        return
    widths = [4, 2, 4, 2, 2, 3] if lead else [3, 4, 2, 2, 3]
    if 1 < listed.pages <= 10:
        st.segmented_control("Page", range(1, listed.pages + 1), key="list_page", required=True)
    elif listed.pages > 10:
        st.number_input("Page", 1, listed.pages, key="list_page")
    st.html(ROWS_CSS)
    list_header(widths, ["Name", *(["Agent"] if lead else []), "Coaching Area", "Assigned Date",
                         "Follow-Up Date", "Status"], helps={"Status": statuses_help(choices.statuses)})
    for position, (_, row) in enumerate(listed.sessions.iterrows()):
        session_row(position, row, widths, lead)
    if listed.pages > 1:
        st.caption(f"Page {listed.page} of {listed.pages}")


def marked_row(position: int, row: dict, widths: list[float], assignment_id: str, agent: str) -> None:
    """One interaction marked for coaching, keyed ``marked-<position>``: when it happened and where (queues,
    topic, intent), its follow-up date (Kore's "Date"), the coaching area, its three scores (with
    Pass/Fail or why there is none) and its audit."""
    with st.container(border=True, key=f"marked-{position}"):
        cells = iter(st.columns(widths, vertical_alignment="center"))
        with next(cells).container(gap=None):
            st.text(f"{row['start_time']:%d %b %Y %H:%M}")
            where = ", ".join(row["queues"]) + "".join(f" · {part}" for part in (row["topics"], row["intent"]) if part)
            st.caption(escape_markdown(where))
        next(cells).text(f"{row['date']:%d %b %Y}" if pd.notna(row["date"]) else "—")
        if row["coaching_area"]:
            badge(next(cells), row["coaching_area"], "blue")
        else:
            next(cells).text("—")
        next(cells).text(with_result(row["kore_score"], row["kore_result"]))
        next(cells).text(with_result(row["audit_score"], row["audit_result"]))
        next(cells).text(f"{row['sentiment_score']:.1f}" if pd.notna(row["sentiment_score"]) else "—")
        audit_link(next(cells), row["conversation_id"], assignment_id, agent)


def show_detail(assignment_id: str, person_id: str | None) -> None:
    if st.button("All coaching assignments", icon=":material/arrow_back:"):
        st.query_params.clear()
        st.rerun()
    detail = scoped(store, viewer, assignment_detail, assignment_id, person_id, today)
    if detail is None:
        st.warning("Coaching session not found. It may have been removed, or it is not one of yours.")
        return
    status = scoped(store, viewer, session_status, detail.assignment_id, detail.person_id,
                    options.accept_dispute)
    st.title(escape_markdown(detail.name))
    facts = st.columns(3)
    facts[0].metric("Assigned", f"{detail.assigned_date:%d %b %Y}")
    follow_up = f"{detail.follow_up_date:%d %b %Y}" if detail.follow_up_date else "—"
    overdue = detail.follow_up == OVERDUE
    facts[1].metric("Follow-up", follow_up, delta=OVERDUE if overdue else None, delta_color="inverse",
                    delta_arrow="off")
    facts[2].metric("Assigned by", escape_markdown(detail.assigned_by) if detail.assigned_by else "—")
    st.metric("Status", status or "—")
    if viewer.role != AGENT:
        st.caption(
            f"Agent: {escape_markdown(detail.agent)} · {escape_markdown(detail.coaching_type)}"
            + (f" · group {escape_markdown(detail.group_name)}" if detail.group_name else "")
        )

    st.subheader("Coaching Areas")
    with st.container(key="coaching-areas"):
        st.markdown(" ".join(f":blue-badge[{escape_markdown(area)}]" for area in detail.coaching_areas))

    st.subheader("Interactions Marked for Coaching")
    marked = scoped(store, viewer, marked_interactions, detail.assignment_id, detail.person_id,
                    options.pass_score)
    if marked.empty:
        st.info("No interactions were marked for coaching in this session.")
    else:
        widths = [3.1, 2.1, 2.8, 2.1, 2.1, 1.9, 2.8]
        list_header(widths, ["Interaction", "Follow-up", "Coaching Area", "Kore Evaluation", "Supervisor Audit",
                             "Sentiment", ""],
                    helps={"Interaction": "When the interaction started (UTC), and its queues · topic · intent"})
        for position, row in enumerate(marked.to_dict("records")):
            marked_row(position, row, widths, detail.assignment_id, detail.person_id)

    st.subheader("Best Response Examples")
    examples = scoped(store, viewer, best_response_examples, detail.assignment_id, detail.person_id)
    if examples.empty:
        st.info("No best response examples were added to this session.")
    else:
        for example in examples.itertuples():
            with st.container(border=True):
                st.text(example.note or "")
                st.caption(
                    f"{example.start_time:%d %b %Y} · {escape_markdown(', '.join(example.queues))}"
                    + (f" · {escape_markdown(example.topics)}" if example.topics else "")
                )
                st.page_link("pages/audit.py", label="Open the example", icon=":material/open_in_new:",
                             query_params={"conversation": example.conversation_id})

    st.subheader("Feedback")
    st.text(detail.feedback or "No feedback was written.")
    st.subheader("Action Plan")
    st.text(detail.action_plan or "No action plan was written.")

    st.subheader("Review")
    reviewed = marked[marked["review_status"].notna()] if not marked.empty else marked
    if reviewed.empty:
        st.info("No evaluation linked to this session is in review.")
    else:
        widths = [4, 4, 3]
        list_header(widths, ["Interaction", "Review Status", ""])
        for position, row in enumerate(reviewed.to_dict("records")):
            with st.container(border=True, key=f"review-{position}"):
                cells = st.columns(widths, vertical_alignment="center")
                cells[0].text(f"{row['start_time']:%d %b %Y %H:%M}")
                show_status(cells[1], row["review_status"])
                audit_link(cells[2], row["conversation_id"], detail.assignment_id, detail.person_id)


if "assignment" in st.query_params:
    # Written back so the address bar shows them: a page link to this same page passes its query to
    # the run but leaves the browser's URL as it was, and the session's URL is what people bookmark.
    st.query_params.from_dict(st.query_params.to_dict())
    show_detail(st.query_params["assignment"], st.query_params.get("agent"))
else:
    show_list()

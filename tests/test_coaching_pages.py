"""The Coaching Assignments list, a session's detail and the audit page, through Streamlit's AppTest.

One demo store serves the module (the same as tests/test_pages.py builds). Runs go through app.py as
on a server that has run it once (see tests/test_pages.py for why), signed in with ``AppTest.user``.

The pages read "today" from ``ui.clock``, which the tests fix at ``app_pages.DEMO_NOW``; what they show
is compared with the domain layer asked for the same day. The demo store's facts the tests
rely on (the demo agent's session with every coaching area, its two pending sessions, an overdue
follow-up, …) are asserted where they are used, so a change to the demo fails loudly here.
"""

from __future__ import annotations

import csv
import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coaching import store
from coaching.assignments import (
    LIST_ORDERS,
    AssignmentFilters,
    assignment_list,
    best_response_examples,
    marked_interactions,
    status_marker,
)
from coaching.audit import ANONYMOUS, evaluation_detail, round_title
from coaching.importer import import_files
from ui.text import ZERO_WIDTH_SPACE

from app_pages import (
    ADMIN_EMAIL,
    AGENT_EMAIL,
    DEMO_NOW,
    LEAD_EMAIL,
    OTHER_LEAD_EMAIL,
    ROOT,
    as_user,
    captions,
    infos,
    metrics,
    query,
    rerun,
    rows,
    titles,
)
from list_view import (
    BADGE,
    PAGE_SIZE,
    Tag,
    choose_page,
    keyed_block,
    keyed_rows,
    list_header,
    list_rows,
    page_count,
    unescaped,
    walk,
)

LIST_TITLE = "Coaching Assignments"
NO_MATCH = "No coaching session matches these filters. Clear a filter to see more."
PENDING = ("Pending Agent Review", "Pending Supervisor Review")
AGENT_STATUSES = {"Start Coaching", "In Progress", "Completed", *PENDING}
ALL_SESSIONS = AssignmentFilters()


# -- the store --------------------------------------------------------------------------------------



pytestmark = pytest.mark.usefixtures("demo_app")


def sessions(db: Path, email: str = AGENT_EMAIL, filters: AssignmentFilters = ALL_SESSIONS,
             **kwargs) -> pd.DataFrame:
    """The viewer's list as the page computes it today."""
    return query(db, assignment_list, email, filters, DEMO_NOW.date(), **kwargs)


@pytest.fixture(scope="module")
def agent_name(demo_db: Path) -> str:
    return rows(demo_db, "SELECT name FROM people WHERE email = ?", AGENT_EMAIL)[0][0]


#: Who the demo agent is: sessions are opened for a person (their email), never a name.
AGENT_PERSON = AGENT_EMAIL


@pytest.fixture(scope="module")
def demo_sessions(demo_db: Path, agent_name: str) -> dict[str, str]:
    """The demo agent's sessions the tests need, found (and checked to exist) in the store."""
    listed = sessions(demo_db)
    by_status = dict(zip(listed["status"], listed["assignment_id"], strict=False))
    every_area = listed[[len(a) == 7 for a in listed["coaching_areas"]]]["assignment_id"].tolist()
    no_examples = [key for key in listed["assignment_id"]
                   if query(demo_db, best_response_examples, AGENT_EMAIL, key, AGENT_PERSON).empty]
    not_audited = [key for key in listed["assignment_id"]
                   if (query(demo_db, marked_interactions, AGENT_EMAIL, key, AGENT_PERSON)["audit_result"]
                       == "Not audited").any()]
    assert every_area and no_examples and not_audited
    assert {"Pending Agent Review", "Pending Supervisor Review"} <= set(by_status)
    return {
        "every_area": every_area[0],
        "no_examples": no_examples[0],
        "not_audited": not_audited[0],
        "pending_agent": by_status["Pending Agent Review"],
        "pending_supervisor": by_status["Pending Supervisor Review"],
        "with_examples": next(k for k in listed["assignment_id"] if k not in no_examples),
    }


# -- driving the app --------------------------------------------------------------------------------


def count_caption(at: AppTest) -> str:
    [caption] = [c for c in captions(at) if "coaching session(s)" in c]
    return caption


def multiselect(at: AppTest, label: str):
    return next(m for m in at.multiselect if m.label == label)


def tags_in_markdown(source: str) -> list[Tag]:
    """The badges in one markdown string, as people read them."""
    return [Tag(unescaped(m["label"]), m["colour"], "")
            for part in re.findall(r":[a-z]+-badge\[(?:\\.|[^\]])*\]", source) if (m := BADGE.match(part))]


def dataframe_showing(at: AppTest, column: str) -> pd.DataFrame:
    """The one table of the page that shows ``column``."""
    [frame] = [d.value for d in at.dataframe if column in d.proto.column_order]
    return frame


# -- the list ---------------------------------------------------------------------------------------


def shown_date(value) -> str:
    return "—" if pd.isna(value) else f"{value:%d %b %Y}"


def test_the_agents_list_shows_names_area_tags_dates_and_statuses(demo_db: Path, demo_sessions) -> None:
    at = as_user(AGENT_EMAIL, "pages/coaching.py")
    assert list_header(at) == ["Name", "Coaching Area", "Assigned Date", "Follow-Up Date", "Status"]
    shown = list_rows(at).set_index("assignment_id")
    expected = sessions(demo_db).set_index("assignment_id")
    assert len(expected) <= PAGE_SIZE, "the demo agent's sessions fit on one page"
    assert list(shown.index) == list(expected.index)  # newest first
    assert list(shown["name"]) == list(expected["name"])
    assert list(shown["status"]) == list(expected["status"])
    assert list(shown["follow_up"]) == list(expected["follow_up"].fillna(""))
    assert list(shown["assigned_date"]) == [shown_date(d) for d in expected["assigned_date"]]
    assert list(shown["follow_up_date"]) == [shown_date(d) for d in expected["follow_up_date"]]
    assert set(shown["shown_agent"]) == {None}  # an agent's list has no Agent column
    # Each name links to its session on this page.
    assert set(shown["page"]) == {"coaching"}
    # The session with all 7 areas: three tags, then "+4", which lists all 7 on hover.
    every = shown.loc[demo_sessions["every_area"]]
    areas = list(expected.loc[demo_sessions["every_area"], "coaching_areas"])
    assert every["area_tags"] == [*areas[:3], "+4"]
    assert every["tag_colours"] == ["blue", "blue", "blue", "gray"]
    assert every["area_help"] == "All coaching areas: " + ", ".join(areas)
    # A session with three areas or fewer shows them all, with no "+N" and no hover list.
    for key, row in shown.iterrows():
        stored = list(expected.loc[key, "coaching_areas"])
        if len(stored) <= 3:
            assert row["area_tags"] == stored and row["area_help"] == ""
        else:
            assert row["area_tags"] == [*stored[:3], f"+{len(stored) - 3}"]
    # Statuses in the agent's words, with both pending reviews.
    assert {"Pending Agent Review", "Pending Supervisor Review"} <= set(shown["status"])
    assert set(shown["status"]) <= AGENT_STATUSES
    # An overdue follow-up, never on a completed session, marked red.
    overdue = shown[shown["follow_up"] == "Overdue"]
    assert len(overdue) >= 1 and not (overdue["status"] == "Completed").any()
    assert count_caption(at) == (
        f"{len(expected)} of {len(expected)} coaching session(s) · {len(overdue)} overdue. "
        "Choose one by its name to open it.")


def test_names_and_coaching_areas_are_shown_as_text(demo_db: Path, tmp_path: Path, monkeypatch) -> None:
    """A supervisor's session name or area with markdown in it reads as typed, in the list too: every
    markup character reaches Streamlit escaped (the badge and the link label render markdown)."""
    db = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, db)
    with store.next_generation(db) as con:
        con.execute("UPDATE assignments SET name = '**Bold** [link](http://x.test) <b>hi</b>', "
                    "coaching_areas = ['**Loud**', '_soft_ :red[x]', 'B', '[C] `c`'] "
                    "WHERE assignment_id = (SELECT max(assignment_id) FROM assignments a JOIN people p "
                    "ON p.name = a.agent WHERE p.email = ?)", [AGENT_EMAIL])
    monkeypatch.setenv("COACHING_DB", str(db))
    at = as_user(AGENT_EMAIL, "pages/coaching.py")
    shown = list_rows(at)
    row = shown[shown["name"].str.startswith("**Bold**")]
    assert len(row) == 1, list(shown["name"])
    row = row.iloc[0]
    assert row["name"] == "**Bold** [link](http://x.test) <b>hi</b>"
    assert row["area_tags"] == ["**Loud**", "_soft_ :red[x]", "B", "+1"]
    assert row["area_help"] == "All coaching areas: **Loud**, _soft_ :red[x], B, [C] `c`"
    # What Streamlit is given: no markup character left unescaped.
    bodies = [m.value for m in at.markdown if "Loud" in m.value or "soft" in m.value]
    # (A zero-width space, invisible, follows each ":" so that no URL or emoji code is found in the text.)
    zw = ZERO_WIDTH_SPACE
    assert bodies == [r":blue-badge[\*\*Loud\*\*]", rf":blue-badge[\_soft\_ \:{zw}red\[x\]]"]
    [hover] = [m.proto.help for m in at.markdown if "Loud" in m.proto.help]
    assert hover == rf"All coaching areas: \*\*Loud\*\*, \_soft\_ \:{zw}red\[x\], B, \[C\] \`c\`"
    [label] = [link.proto.label for link in at.get("page_link") if "Bold" in link.proto.label]
    assert label.startswith(rf"\*\*Bold\*\* \[link\]\(http\:{zw}\/\/x\.test\)")


def test_filters_and_order_outlast_a_look_at_a_session(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, "pages/coaching.py")
    multiselect(at, "Status").set_value(["Completed"])
    at.selectbox(key="order").set_value("Name (A to Z)")
    rerun(at)
    narrowed = list_rows(at)
    follow(at, narrowed.iloc[0])
    assert titles(at) == [narrowed.iloc[0]["name"]]
    next(b for b in at.button if b.label == "All coaching assignments").click()
    rerun(at)
    assert multiselect(at, "Status").value == ["Completed"]
    assert at.selectbox(key="order").value == "Name (A to Z)"
    assert list(list_rows(at)["assignment_id"]) == list(narrowed["assignment_id"])


def test_the_status_filter_narrows_the_rows_and_the_caption(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, "pages/coaching.py")
    total = len(list_rows(at))
    options = multiselect(at, "Status").options
    assert {"Pending Agent Review", "Pending Supervisor Review"} <= set(options)
    for chosen in (["Completed"], ["Pending Agent Review"], list(PENDING)):
        multiselect(at, "Status").set_value(chosen)
        rerun(at)
        expected = sessions(demo_db, filters=AssignmentFilters(statuses=tuple(chosen)))
        shown = list_rows(at)
        assert 0 < len(shown) < total
        assert list(shown["assignment_id"]) == list(expected["assignment_id"])
        assert set(shown["status"]) == set(chosen)
        assert count_caption(at).startswith(f"{len(shown)} of {total} coaching session(s)")


def test_the_coaching_area_filter_narrows_the_rows_and_the_caption(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, "pages/coaching.py")
    everything = sessions(demo_db)
    total = len(everything)
    # An area some sessions have and others do not.
    area = next(a for a in multiselect(at, "Coaching Area").options
                if 0 < sum(a in list(areas) for areas in everything["coaching_areas"]) < total)
    multiselect(at, "Coaching Area").set_value([area])
    rerun(at)
    shown = list_rows(at)
    expected = sessions(demo_db, filters=AssignmentFilters(coaching_areas=(area,)))
    assert list(shown["assignment_id"]) == list(expected["assignment_id"])
    assert 0 < len(shown) < total
    # Every shown session has the area, also when it is hidden behind "+N" (then it is in the hover).
    assert all(area in tags or area in hover for tags, hover in zip(shown["area_tags"], shown["area_help"],
                                                                    strict=True))
    assert count_caption(at).startswith(f"{len(shown)} of {total} coaching session(s)")


def test_the_assigned_date_filter_narrows_the_rows_and_the_caption(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, "pages/coaching.py")
    everything = sessions(demo_db)
    dates = sorted(pd.to_datetime(everything["assigned_date"]).dt.date)
    chosen = (dates[1], dates[-2])  # inclusive: drops the first and the last
    at.date_input[0].set_value(chosen)
    rerun(at)
    shown = list_rows(at)
    expected = sessions(demo_db, filters=AssignmentFilters(assigned_from=chosen[0], assigned_to=chosen[1]))
    assert list(shown["assignment_id"]) == list(expected["assignment_id"])
    assert len(shown) == len(everything) - 2
    assert count_caption(at).startswith(f"{len(shown)} of {len(everything)} coaching session(s)")


@pytest.mark.parametrize("order", list(LIST_ORDERS))
def test_each_sort_order_lists_the_sessions_as_the_store_orders_them(demo_db: Path, order: str) -> None:
    at = as_user(AGENT_EMAIL, "pages/coaching.py")
    assert at.selectbox(key="order").value == next(iter(LIST_ORDERS))
    assert at.selectbox(key="order").options == list(LIST_ORDERS)
    at.selectbox(key="order").set_value(order)
    rerun(at)
    expected = sessions(demo_db, order=order)
    assert list(list_rows(at)["assignment_id"]) == list(expected["assignment_id"])
    assert count_caption(at).startswith(f"{len(expected)} of {len(expected)} coaching session(s)")


def test_filters_combine_and_a_filter_matching_nothing_says_so(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, "pages/coaching.py")
    everything = sessions(demo_db)
    total = len(everything)
    completed = everything[everything["status"] == "Completed"]
    area = list(completed.iloc[0]["coaching_areas"])[0]
    multiselect(at, "Status").set_value(["Completed"])
    multiselect(at, "Coaching Area").set_value([area])
    rerun(at)
    shown = list_rows(at)
    expected = sessions(demo_db, filters=AssignmentFilters(statuses=("Completed",), coaching_areas=(area,)))
    assert list(shown["assignment_id"]) == list(expected["assignment_id"])
    assert len(shown) >= 1
    assert count_caption(at).startswith(f"{len(shown)} of {total} coaching session(s)")
    # An assigned date range with no session in it.
    at.date_input[0].set_value((date(2020, 1, 1), date(2020, 1, 31)))
    rerun(at)
    assert list_rows(at).empty and not list_header(at)
    assert NO_MATCH in infos(at)
    assert count_caption(at) == f"0 of {total} coaching session(s)."
    # Clearing the filters shows everything again.
    multiselect(at, "Status").set_value([])
    multiselect(at, "Coaching Area").set_value([])
    at.date_input[0].set_value(())
    rerun(at)
    assert len(list_rows(at)) == total and not infos(at)


def test_an_agent_without_sessions_sees_the_empty_state(demo_db: Path) -> None:
    email = rows(
        demo_db,
        "SELECT email FROM people WHERE role = 'Agent' AND on_roster AND email IS NOT NULL "
        "AND list_contains(permissions, 'Agent Dashboard') "
        "AND list_contains(permissions, 'Coaching Assignments') "
        "AND name NOT IN (SELECT agent FROM assignments) ORDER BY email LIMIT 1",
    )[0][0]
    at = as_user(email, "pages/coaching.py")
    assert titles(at) == [LIST_TITLE]
    [message] = infos(at)
    assert message.startswith("No coaching sessions yet.")
    assert list_rows(at).empty and not list_header(at)
    assert not at.multiselect and not at.date_input and not at.selectbox
    assert not [c for c in captions(at) if "coaching session(s)" in c]


def test_without_accept_and_dispute_the_list_shows_stored_statuses(demo_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("COACHING_ACCEPT_DISPUTE", "false")
    shown = list_rows(as_user(AGENT_EMAIL, "pages/coaching.py"))
    assert not any(s.startswith("Pending") for s in shown["status"])
    assert list(shown["status"]) == list(sessions(demo_db, accept_dispute=False)["status"])


def test_an_agent_reads_start_coaching_where_a_lead_reads_yet_to_start(demo_db: Path) -> None:
    candidates = rows(
        demo_db,
        "SELECT DISTINCT p.email, p.team_lead_email FROM assignments a JOIN people p ON p.name = a.agent "
        "WHERE a.status = 'Yet to Start' AND p.role = 'Agent' AND p.email <> 'no-coaching@example.com' "
        "ORDER BY p.email",
    )
    email, lead = next(
        (e, lead) for e, lead in candidates if "Start Coaching" in set(sessions(demo_db, e)["status"]))
    mine = list_rows(as_user(email, "pages/coaching.py"))
    key = mine[mine["status"] == "Start Coaching"].iloc[0]["assignment_id"]
    assert "Yet to Start" not in set(mine["status"])
    assert "Start Coaching" in multiselect(as_user(email, "pages/coaching.py"), "Status").options
    leads = sessions(demo_db, lead)
    assert set(leads[leads["assignment_id"] == key]["status"]) == {"Yet to Start"}
    at = as_user(lead, "pages/coaching.py")
    multiselect(at, "Status").set_value(["Yet to Start"])
    rerun(at)
    assert key in set(list_rows(at)["assignment_id"])


def test_statuses_read_as_states_not_buttons(demo_db: Path) -> None:
    """Issue 18: "Start Coaching" was a grey tag that looked like a button and did nothing. Every status is
    coloured text after an icon (no tag, no button), and the Status heading says what each one means."""
    candidates = rows(demo_db, "SELECT DISTINCT p.email FROM assignments a JOIN people p ON p.person_id = "
                               "a.person_id WHERE a.status = 'Yet to Start' AND p.role = 'Agent' ORDER BY p.email")
    email = next(e for (e,) in candidates if "Start Coaching" in set(sessions(demo_db, e)["status"]))
    at = as_user(email, "pages/coaching.py")
    shown = list_rows(at)
    assert "Start Coaching" in set(shown["status"])
    for _, row in shown.iterrows():
        marker = status_marker(row["status"])
        assert (row["status_colour"], f":material/{row['status_icon']}:") == (marker.colour, marker.icon)
    for position in range(len(shown)):
        status_cell = list(keyed_block(at, f"session-{position}").children[0].children.values())[-1]
        assert not [e for e in walk(status_cell) if e.type in ("button", "page_link")]
        assert not [e for e in walk(status_cell) if e.type == "markdown" and "-badge[" in e.value]
    [heading] = [m for m in at.markdown if m.value == "**Status**"]
    assert "Start Coaching: Not started yet" in unescaped(heading.proto.help)


def test_a_lead_sees_the_agent_column_and_the_leads_words(demo_db: Path) -> None:
    at = as_user(LEAD_EMAIL, "pages/coaching.py")
    assert list_header(at) == ["Name", "Agent", "Coaching Area", "Assigned Date", "Follow-Up Date", "Status"]
    expected = sessions(demo_db, LEAD_EMAIL).head(PAGE_SIZE)
    shown = list_rows(at)
    assert list(zip(shown["assignment_id"], shown["person_id"], shown["status"], strict=True)) == list(
        zip(expected["assignment_id"], expected["person_id"], expected["status"], strict=True))
    assert list(shown["shown_agent"]) == list(expected["agent"])
    assert "Start Coaching" not in set(shown["status"])


def agent_filter(at: AppTest):
    return multiselect(at, "Agent")


def test_a_link_naming_an_agent_opens_a_leads_list_narrowed_to_them(demo_db: Path) -> None:
    team = sessions(demo_db, LEAD_EMAIL)
    person = team["person_id"].value_counts().index[0]  # an agent of the lead's with sessions
    at = as_user(LEAD_EMAIL, "pages/coaching.py", agent=person)
    expected = sessions(demo_db, LEAD_EMAIL, AssignmentFilters(agents=(person,)))
    assert agent_filter(at).value == [person]
    # Labelled by name, keyed by who the agent is.
    [name] = set(team[team["person_id"] == person]["agent"])
    assert agent_filter(at).format_func(person) == name
    assert count_caption(at).startswith(f"{len(expected):,} of {len(team):,} coaching session(s)")
    assert set(list_rows(at)["person_id"]) == {person}
    assert list(list_rows(at)["assignment_id"]) == list(expected["assignment_id"].head(PAGE_SIZE))
    # Clearing the filter shows the whole team again, and the URL no longer names the agent.
    agent_filter(at).set_value([])
    rerun(at)
    assert "agent" not in at.query_params
    assert count_caption(at).startswith(f"{len(team):,} of {len(team):,}")
    # Choosing one agent puts them in the URL, so the address is a link to this list.
    other = next(p for p in team["person_id"] if p != person)
    agent_filter(at).set_value([other])
    rerun(at)
    assert at.query_params["agent"] == other and set(list_rows(at)["person_id"]) == {other}


def test_a_link_naming_another_teams_agent_narrows_nothing(demo_db: Path) -> None:
    theirs = sessions(demo_db, OTHER_LEAD_EMAIL)
    stranger, stranger_name = theirs["person_id"].iloc[0], theirs["agent"].iloc[0]
    at = as_user(LEAD_EMAIL, "pages/coaching.py", agent=stranger)
    assert [w.value for w in at.warning] == [
        "The link names an agent who is not among the agents you can see, so the list is not narrowed to them."]
    assert agent_filter(at).value == [] and stranger_name not in agent_filter(at).options
    assert len(agent_filter(at).options) == 12  # the lead's own team
    team = sessions(demo_db, LEAD_EMAIL)
    assert count_caption(at).startswith(f"{len(team):,} of {len(team):,}")
    assert stranger not in set(list_rows(at)["person_id"])


def test_an_agent_has_no_agent_filter_and_a_link_naming_one_changes_nothing(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, "pages/coaching.py", agent=LEAD_EMAIL)
    assert "Agent" not in [m.label for m in at.multiselect] and not at.warning
    mine = sessions(demo_db)
    assert count_caption(at).startswith(f"{len(mine):,} of {len(mine):,}")


def test_a_long_list_comes_in_pages(demo_db: Path) -> None:
    at = as_user(ADMIN_EMAIL, "pages/coaching.py")
    expected = sessions(demo_db, ADMIN_EMAIL)
    pages = -(-len(expected) // PAGE_SIZE)
    assert pages >= 2, "everyone's sessions fill more than one page"
    assert page_count(at) == pages
    seen = []
    for page in range(1, pages + 1):
        choose_page(at, page)
        shown = list_rows(at)
        assert len(shown) == min(PAGE_SIZE, len(expected) - (page - 1) * PAGE_SIZE)
        assert f"Page {page} of {pages}" in captions(at)
        seen.extend(zip(shown["assignment_id"], shown["person_id"], strict=True))
    assert seen == list(zip(expected["assignment_id"], expected["person_id"], strict=True))


def test_another_filter_or_order_starts_on_the_first_page(demo_db: Path) -> None:
    at = as_user(ADMIN_EMAIL, "pages/coaching.py")
    expected = sessions(demo_db, ADMIN_EMAIL)
    pages = -(-len(expected) // PAGE_SIZE)
    choose_page(at, pages)
    assert f"Page {pages} of {pages}" in captions(at)
    order = next(s for s in at.selectbox if s.label == "Sort by")
    order.set_value("Oldest assigned")
    at.run()
    assert f"Page 1 of {pages}" in captions(at)
    # The Page control says so too (its state is set, so the browser is told, not only the server).
    [control] = [c for c in [*at.get("button_group"), *at.number_input] if c.label == "Page"]
    assert control.value == 1 and at.session_state["list_page"] == 1
    oldest = sessions(demo_db, ADMIN_EMAIL, order="Oldest assigned").head(PAGE_SIZE)
    assert list(list_rows(at)["assignment_id"]) == list(oldest["assignment_id"])
    choose_page(at, 2)
    assert f"Page 2 of {pages}" in captions(at)
    status = next(m for m in at.multiselect if m.label == "Status")
    status.set_value(["Completed"])
    at.run()
    completed = sessions(demo_db, ADMIN_EMAIL, AssignmentFilters(statuses=("Completed",)), order="Oldest assigned")
    assert list(list_rows(at)["assignment_id"]) == list(completed["assignment_id"].head(PAGE_SIZE))
    assert page_count(at) == 1 or f"Page 1 of {page_count(at)}" in captions(at)


# -- opening a session ------------------------------------------------------------------------------


def follow(at: AppTest, row: pd.Series) -> AppTest:
    """Open the page a list row's name links to, as a click on the link does (AppTest has no click on a
    page link: the browser journey clicks it for real)."""
    assert row["page"] == "coaching"
    at.query_params.clear()
    at.query_params["assignment"] = row["assignment_id"]
    at.query_params["agent"] = row["person_id"]
    return rerun(at)


def test_a_sessions_name_opens_the_session_and_back_returns_to_the_list(demo_db: Path) -> None:
    at = as_user(AGENT_EMAIL, "pages/coaching.py")
    shown = list_rows(at)
    row = shown.iloc[1]
    assert row["person_id"] == AGENT_PERSON
    follow(at, row)
    assert titles(at) == [row["name"]]
    assert metrics(at)["Status"] == row["status"]
    next(b for b in at.button if b.label == "All coaching assignments").click()
    rerun(at)
    assert at.query_params == {}
    assert len(list_rows(at)) == len(shown)  # the list again, not the session it came from


def test_a_lead_choosing_a_group_members_row_opens_that_members_session(demo_db: Path) -> None:
    at = as_user(OTHER_LEAD_EMAIL, "pages/coaching.py")
    expected = sessions(demo_db, OTHER_LEAD_EMAIL)
    group = expected[expected["coaching_type"] == "Group Agents"]
    assert len(group) >= 2, "the demo's second lead's team has a group session"
    member = group.iloc[-1]
    shown = list_rows(at)
    [row] = [r for _, r in shown.iterrows()
             if (r["assignment_id"], r["person_id"]) == (member["assignment_id"], member["person_id"])]
    follow(at, row)
    assert at.query_params == {"assignment": member["assignment_id"], "agent": member["person_id"]}
    [caption] = [c for c in captions(at) if c.startswith("Agent:")]
    assert member["agent"] in caption and "Group Agents" in caption and "group" in caption


# -- a session's detail -----------------------------------------------------------------------------


def open_session(demo_db: Path, key: str, agent: str, email: str = AGENT_EMAIL) -> AppTest:
    at = as_user(email, "pages/coaching.py", assignment=key, agent=agent)
    assert not at.warning, [w.value for w in at.warning]
    return at


def test_the_session_shows_its_facts_and_every_coaching_area(
    demo_db: Path, demo_sessions, agent_name
) -> None:
    key = demo_sessions["every_area"]
    at = open_session(demo_db, key, AGENT_PERSON)
    detail = rows(demo_db, "SELECT name, assigned_date, follow_up_date, status, assigned_by, coaching_areas "
                           "FROM assignments WHERE assignment_id = ? AND person_id = ?", key, AGENT_PERSON)[0]
    name, assigned, follow_up, status, assigned_by, areas = detail
    assert titles(at) == [name]
    facts = metrics(at)
    assert facts["Assigned"] == f"{assigned:%d %b %Y}"
    assert facts["Follow-up"] == f"{follow_up:%d %b %Y}"
    assert facts["Status"] == {"Yet to Start": "Start Coaching"}.get(status, status)
    assert facts["Assigned by"] == assigned_by
    subheaders = [s.value for s in at.subheader]
    assert subheaders == ["Coaching Areas", "Interactions Marked for Coaching", "Best Response Examples",
                          "Feedback", "Action Plan", "Review"]
    assert len(areas) == 7
    areas_shown = " ".join(e.value for e in walk(keyed_block(at, "coaching-areas")) if e.type == "markdown")
    badges = re.findall(r":blue-badge\[(.*?)\]", areas_shown)
    assert [unescaped(b) for b in badges] == list(areas)  # all of them, none behind "+4"


def test_the_session_lists_marked_interactions_with_pass_fail_and_audit_links(
    demo_db: Path, demo_sessions, agent_name
) -> None:
    key = demo_sessions["not_audited"]
    at = open_session(demo_db, key, AGENT_PERSON)
    marked = query(demo_db, marked_interactions, AGENT_EMAIL, key, AGENT_PERSON, 40.0)
    shown = keyed_rows(at, "marked")
    assert len(shown) == len(marked)
    marked_header, review_header = list_header(at)[:6], list_header(at)[6:]
    assert marked_header == ["Interaction", "Follow-up", "Coaching Area", "Kore Evaluation", "Supervisor Audit",
                             "Sentiment"]
    assert review_header in ([], ["Interaction", "Review Status"])
    for row, expected in zip(shown, marked.itertuples(), strict=True):
        # Each is a real link to its audit, remembering the session (a middle-click opens a new tab).
        [link] = row["links"]
        assert link["label"] == "Open audit" and link["page"].endswith("audit")
        assert link["query"] == {"conversation": expected.conversation_id, "assignment": key, "agent": AGENT_PERSON}
        when, follow_up, kore, audit, sentiment = row["texts"]
        # The interaction's own date and time, and the session's follow-up date for it (Kore's "Date"),
        # each under its own heading.
        assert when == f"{expected.start_time:%d %b %Y %H:%M}"
        assert follow_up == (f"{expected.date:%d %b %Y}" if pd.notna(expected.date) else "—")
        where = ", ".join(expected.queues) + "".join(f" · {p}" for p in (expected.topics, expected.intent) if p)
        assert row["captions"] == [where]
        assert [t.label for t in row["tags"]] == [expected.coaching_area]
        assert re.fullmatch(r"-?\d+ \((Pass|Fail)\)|— \((Below threshold|Not evaluated)\)", kore), kore
        assert re.fullmatch(r"-?\d+ \((Pass|Fail)\)|— \(Not audited\)", audit), audit
        if pd.notna(expected.kore_score):
            assert kore == f"{expected.kore_score:.0f} ({'Pass' if expected.kore_score >= 40 else 'Fail'})"
        assert sentiment == (f"{expected.sentiment_score:.1f}" if pd.notna(expected.sentiment_score) else "—")
    # Each row carries its own interaction's time, not one date for the whole session.
    assert len({row["texts"][0] for row in shown}) == len(shown)
    assert any(row["texts"][3] == "— (Not audited)" for row in shown)


def test_the_pass_score_setting_moves_pass_and_fail(
    demo_db: Path, demo_sessions, agent_name, monkeypatch
) -> None:
    monkeypatch.setenv("COACHING_PASS_SCORE", "100")
    key = demo_sessions["not_audited"]
    shown = keyed_rows(open_session(demo_db, key, AGENT_PERSON), "marked")
    scored = [text for row in shown for text in row["texts"][2:4] if not text.startswith("—")]
    assert scored and all(text.endswith("(Fail)") or text.startswith("100 ") for text in scored)


def test_a_marked_interactions_link_opens_its_audit(demo_db: Path, demo_sessions, agent_name) -> None:
    key = demo_sessions["not_audited"]
    at = open_session(demo_db, key, AGENT_PERSON)
    [link] = keyed_rows(at, "marked")[0]["links"]
    at.switch_page("pages/audit.py")  # what following the link does
    at.query_params.clear()
    at.query_params.update(link["query"])
    rerun(at)
    conversation = link["query"]["conversation"]
    assert titles(at) == ["Audit"]
    # The audit remembers the session it was opened from, for its back button.
    assert at.query_params == {"conversation": conversation, "assignment": key, "agent": AGENT_PERSON}
    assert any(f"Conversation: {conversation}" in c for c in captions(at))


def test_a_session_without_best_responses_says_so(demo_db: Path, demo_sessions, agent_name) -> None:
    at = open_session(demo_db, demo_sessions["no_examples"], AGENT_PERSON)
    assert "No best response examples were added to this session." in infos(at)
    assert not [p for p in at.page_link if p.value == "Open the example"]


def test_best_responses_show_their_notes_as_text_and_open(demo_db: Path, demo_sessions, agent_name) -> None:
    key = demo_sessions["with_examples"]
    examples = query(demo_db, best_response_examples, AGENT_EMAIL, key, AGENT_PERSON)
    at = open_session(demo_db, key, AGENT_PERSON)
    texts = [t.value for t in at.text]
    assert all(note in texts for note in examples["note"])
    links = [p for p in at.page_link if p.value == "Open the example"]
    assert len(links) == len(examples) >= 1
    assert "No best response examples were added to this session." not in infos(at)


def test_feedback_and_action_plan_are_plain_text(demo_db: Path, demo_sessions, agent_name) -> None:
    key = demo_sessions["every_area"]
    feedback, plan = rows(demo_db, "SELECT feedback, action_plan FROM assignments WHERE assignment_id = ? "
                                   "AND person_id = ?", key, AGENT_PERSON)[0]
    texts = [t.value for t in open_session(demo_db, key, AGENT_PERSON).text]
    assert feedback in texts and plan in texts


@pytest.mark.parametrize("which", ["pending_agent", "pending_supervisor"])
def test_a_pending_session_shows_its_status_and_the_reviews_it_waits_on(
    demo_db: Path, demo_sessions, agent_name, which
) -> None:
    status = dict(zip(("pending_agent", "pending_supervisor"), PENDING, strict=True))[which]
    key = demo_sessions[which]
    at = open_session(demo_db, key, AGENT_PERSON)
    assert metrics(at)["Status"] == status
    review = keyed_rows(at, "review")
    statuses = [row["statuses"][0].label for row in review]
    assert status in statuses
    marked = query(demo_db, marked_interactions, AGENT_EMAIL, key, AGENT_PERSON)
    assert sorted(statuses) == sorted(marked["review_status"].dropna())
    assert all([link["label"] for link in row["links"]] == ["Open audit"] for row in review)
    if which == "pending_agent":
        assert "No evaluation linked to this session is in review." not in infos(at)


# -- the audit page ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def disputed(demo_db: Path, agent_name: str) -> str:
    """The demo agent's evaluation with a disputed metric and the most review rounds."""
    found = rows(
        demo_db,
        "SELECT r.conversation_id FROM evaluation_reviews r JOIN evaluations e USING (conversation_id) "
        "JOIN review_events v USING (conversation_id) "
        "WHERE e.scored_agent = ? AND cardinality(r.disputed_metrics) > 0 "
        "GROUP BY ALL ORDER BY max(v.round) DESC, r.conversation_id LIMIT 1",
        agent_name,
    )
    assert found, "the demo agent has a disputed evaluation"
    return found[0][0]


def test_the_audit_page_shows_facts_scores_metrics_and_rounds(demo_db: Path, disputed: str) -> None:
    detail = query(demo_db, evaluation_detail, AGENT_EMAIL, disputed)
    at = as_user(AGENT_EMAIL, "pages/audit.py", conversation=disputed)
    assert titles(at) == ["Audit"] and not at.warning
    [facts] = [c for c in captions(at) if c.startswith("Conversation:")]
    for label, value in (
        ("Conversation", detail.conversation_id), ("Agent", detail.agent),
        ("Queues", ", ".join(detail.queues)), ("Topic", detail.topics or "—"),
        ("Intent", detail.intent or "—"), ("Channel", detail.channel or "—"),
        ("Language", detail.language or "—"), ("Direction", detail.contact_direction or "—"),
        ("Start time", f"{detail.start_time:%d %b %Y %H:%M} UTC"),
        ("Evaluation form", detail.evaluation_form or "—"),
    ):
        assert f"{label}: {value}" in facts, label
    scores = metrics(at)
    assert list(scores) == ["Kore Evaluation Score", "Supervisor Audit Score", "Sentiment Score"]
    final = detail.final_audit_score
    assert scores["Supervisor Audit Score"] == f"{final:.0f} ({'Pass' if final >= 40 else 'Fail'})"
    if detail.kore_score is not None:
        assert scores["Kore Evaluation Score"].startswith(f"{detail.kore_score:.0f} (")
    # Every metric, with who evaluated it and its review badge.
    table = dataframe_showing(at, "source")
    assert list(table["metric"]) == list(detail.metrics["metric"])
    assert set(table["source"]) <= {"Auditor", "Auto QA"}
    assert list(table["source"]) == ["Auditor" if m else "Auto QA" for m in detail.metrics["is_manual"]]
    shown_columns = ["metric", "result", "source", "adherence_weight", "violation_weight", "is_fatal_metric",
                     "review"]
    [metrics_table] = [d for d in at.dataframe if "source" in d.proto.column_order]
    assert list(metrics_table.proto.column_order) == shown_columns
    assert list(table["review"]) == list(detail.metrics["review"].fillna(""))
    badges = set(table["review"]) - {""}
    assert badges and badges <= {"Agent Accepted", "Disputed", "Accepted", "Denied"}
    # The not-adhered metrics are named above the table, as red badges, in the form's order.
    missed = [m for m, r in zip(detail.metrics["metric"], detail.metrics["result"], strict=True)
              if r == "Not Adhered"]
    assert missed, "the disputed demo evaluation has a not-adhered metric"
    [summary] = [m.value for m in at.markdown if "metrics not adhered:" in m.value]
    assert summary.startswith(f"**{len(missed)} of {len(detail.metrics)} metrics not adhered:** ")
    assert [t.label for t in tags_in_markdown(summary)] == missed
    assert {t.colour for t in tags_in_markdown(summary)} == {"red"}
    # The history, round by round, with the audit score's movement.
    rounds = sorted(set(detail.review_events["round"]))
    titles_ = [round_title(r, list(detail.review_events[detail.review_events["round"] == r]["action"]))
               for r in rounds]
    assert [e.label for e in at.expander] == titles_
    assert titles_[0] == "Audit" and titles_[1].startswith("Dispute round ")
    assert len(rounds) >= 2
    history = " → ".join(f"{s:.0f}" for s in detail.audit_score_history)
    assert any(c.startswith(f"Review status: {detail.review_status}")
               and c.endswith(f"audit score: {history}") for c in captions(at))
    # One row per event: when, who (the person: the agent by name), the action, the comment (never "None").
    events = keyed_rows(at, "event")
    assert len(events) == len(detail.review_events)
    for row, event in zip(events, detail.review_events.to_dict("records"), strict=True):
        when, who, action, *comment = row["texts"]
        assert when == f"{event['timestamp']:%d %b %Y %H:%M}"
        assert (who, action) == (event["who"], event["action"])
        assert comment == ([event["comment"]] if isinstance(event["comment"], str) and event["comment"] else [])
        assert "None" not in row["texts"] + row["captions"] and "nan" not in row["texts"] + row["captions"]
        if isinstance(event["metric"], str):
            assert event["metric"] in row["captions"]
        if event["actor"] == "Agent":
            assert who == detail.agent and "Agent" in row["captions"]
    shown_who = {row["texts"][1] for row in events}
    assert detail.agent in shown_who and "Agent" not in shown_who
    # The re-evaluated score is in its row: before and after.
    reevaluated = [row for row in events if row["texts"][2] == "Re-evaluated"]
    moves = list(zip(detail.audit_score_history, detail.audit_score_history[1:], strict=False))
    assert [[c for c in row["captions"] if c.startswith("Audit score:")] for row in reevaluated] == [
        [f"Audit score: {a:g} → {b:g}"] for a, b in moves]


def test_a_disputed_metric_shows_the_disputed_badge(demo_db: Path, agent_name: str) -> None:
    [(conversation,)] = rows(
        demo_db,
        "SELECT r.conversation_id FROM evaluation_reviews r JOIN evaluations e USING (conversation_id) "
        "WHERE e.scored_agent = ? AND r.review_status = 'Pending Supervisor Review' "
        "ORDER BY r.conversation_id LIMIT 1",
        agent_name,
    )
    at = as_user(AGENT_EMAIL, "pages/audit.py", conversation=conversation)
    assert "Disputed" in set(dataframe_showing(at, "source")["review"])


def test_hide_auditor_details_shows_reviewers_as_anonymous(demo_db: Path, disputed: str, monkeypatch) -> None:
    monkeypatch.setenv("COACHING_HIDE_AUDITOR_DETAILS", "true")
    at = as_user(AGENT_EMAIL, "pages/audit.py", conversation=disputed)
    assert len(at.expander) >= 2
    shown = query(demo_db, evaluation_detail, AGENT_EMAIL, disputed, True)
    events = keyed_rows(at, "event")
    who = [row["texts"][1] for row in events]
    assert ANONYMOUS in who and shown.agent in who
    assert not {"QA", "Supervisor"} & set(who) and not {"QA", "Supervisor"} & {c for r in events for c in r["captions"]}
    assert [row["texts"][2] for row in events] == list(shown.review_events["action"])  # only the reviewers hidden


def test_a_below_threshold_interaction_says_why_it_has_no_score(demo_db: Path, agent_name: str) -> None:
    found = rows(
        demo_db,
        "SELECT conversation_id FROM evaluations WHERE scored_agent = ? AND kore_score IS NULL "
        "AND duration_status ILIKE 'below%' AND audit_score IS NULL ORDER BY conversation_id LIMIT 1",
        agent_name,
    )
    assert found, "the demo agent has a below-threshold interaction"
    at = as_user(AGENT_EMAIL, "pages/audit.py", conversation=found[0][0])
    scores = metrics(at)
    assert scores["Kore Evaluation Score"] == "— (Below threshold)"
    assert scores["Supervisor Audit Score"] == "— (Not audited)"
    assert "This evaluation has not been through review." in infos(at)
    assert not at.expander


# -- the auditor, named or hidden ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def audited_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template exports, with an Auditor on c-0002 (the demo has none): Tom Becker's, in review."""
    folder = tmp_path_factory.mktemp("auditor")
    exports = folder / "exports"
    shutil.copytree(ROOT / "data" / "templates", exports)
    with open(exports / "ie-report.csv", encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    table[0].append("Auditor")
    for row in table[1:]:
        row.append("Quinn Lee" if row[0] == "c-0002" else "")
    with open(exports / "ie-report.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(table)
    db = folder / "coaching.duckdb"
    import_files(db, [exports])
    return db


@pytest.mark.parametrize("hidden", [False, True])
def test_the_auditor_is_named_unless_auditor_details_are_hidden(
    audited_db: Path, monkeypatch, hidden
) -> None:
    monkeypatch.setenv("COACHING_DB", str(audited_db))
    monkeypatch.setenv("COACHING_HIDE_AUDITOR_DETAILS", "true" if hidden else "false")
    at = as_user("tom.becker@example.com", "pages/audit.py", conversation="c-0002")
    [facts] = [c for c in captions(at) if c.startswith("Conversation:")]
    assert "Agent: Tom Becker" in facts
    assert ("Auditor: Anonymous" if hidden else "Auditor: Quinn Lee") in facts
    assert "Quinn Lee" not in facts if hidden else "Anonymous" not in facts
    # Round 2 of the template's c-0002 holds only the agent's acceptance: not a dispute round.
    assert [e.label for e in at.expander] == ["Audit", "Dispute round 1", "Accepted by the agent"]
    # The QA who submitted the audit is the report's Auditor, and answers the dispute as the same role.
    who = {row["texts"][1] for row in keyed_rows(at, "event")}
    assert who == ({ANONYMOUS, "Tom Becker"} if hidden else {"Quinn Lee", "Tom Becker"})
    badges = dict(zip(dataframe_showing(at, "source")["metric"], dataframe_showing(at, "source")["review"],
                      strict=True))
    assert badges == {"Greeting": "Agent Accepted", "Empathy - Tone": "Accepted", "Identity Check": ""}
    assert metrics(at)["Supervisor Audit Score"] == "70 (Pass)"  # re-evaluated from 55
    assert any(c.endswith("audit score: 55 → 70") for c in captions(at))

"""Every imported string reaches the page as text: nothing a file says is rendered as markdown or HTML.

A small store whose every imported text field (names of agents, leads and teams, assignment names,
Assigned By, coaching areas, group names, feedback, action plans, best-response notes, queues, topics,
intents, channels, languages, directions, evaluation forms, metric names, auditors, review comments,
conversation and assignment IDs) holds a hostile string: bold, emphasis, a link, an image, HTML, a bare
URL, an address, math, a directive, a Material icon, an emoji code, an entity, code, a start that
would make a list, a heading, a quote or a formula, and (in some) lines that would make blocks of their
own. Every page is run as an agent, a lead and an admin, and
every element that Streamlit renders as markdown (markdown, captions, titles and headers, metrics,
alerts, badges, help tooltips, labels of buttons, page links, tabs, expanders and widgets) is read as
Streamlit's markdown would read it: none may hold live markup, and where one shows a hostile string it
shows all of it, as text.

The CSV downloads of the same pages are read too: no text cell may start a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from coaching import store
from coaching.importer import import_files
from coaching.metric_heatmap import metric_heatmap
from coaching.team import TeamFilters

from app_pages import ADMIN_EMAIL, AGENT_EMAIL, LEAD_EMAIL, Downloads, as_user, point_app_at, rerun, rows
from app_pages import query as query_as
from exports import to_csv

#: What a spreadsheet takes as the start of a formula (OWASP): defined here, not imported, so this test
#: reads the downloads on its own terms.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# -- hostile strings --------------------------------------------------------------------------------

#: What a hostile string may begin with: each would start a list, a heading, a quote or a formula.
STARTS = ("- ", "= ", "+ ", "@ ", "# ", "> ", "1. ", "* ")

#: Lines of their own, in the fields of :data:`MULTILINE`: a paragraph, an indented code block, a
#: heading, a heading's underline, a table.
LINES = "\n\n    hxcode\n# hxheading\n===\n| a | b |\n|---|---|"
MULTILINE = {"assignedby", "topic", "group", "assignment", "auditor"}


def hostile(tag: str, listed: bool = False) -> str:
    """A field's value that is markup of every kind Streamlit renders; ``tag`` tells the fields apart.

    No ``,``; and in an item of a list field (queues, coaching areas) no entity and no line either:
    ``,``, ``;`` and ``|`` separate the items."""
    start = STARTS[sum(map(ord, tag)) % len(STARTS)]
    return (
        f"{start}**hx{tag}** _hxem_ ~~hxstrike~~ [link](https://evil.example/{tag}) "
        f"![i](https://evil.example/{tag}.png) <img src=\"https://evil.example/p.png\"> <b>b</b> <!-- c --> "
        "https://evil.example/bare www.evil.example x@evil.example $x^2$ $$y$$ :red[x] :blue-badge[y] "
        ":material/home: :smile: `code`" + ("" if listed else " &amp; &#60;i&#62;")
        + (LINES if tag in MULTILINE else "")
    )


#: Unescaped (their first character not after a backslash), each of these is live markup: emphasis,
#: strikethrough, a link or an image, HTML, an entity, math, a directive, an emoji code, code, a table.
LIVE = ("**hx", "_hxem_", "~~hx", "[link]", "![i]", "](https", "<img", "<b>", "<!--", "&amp;", "&#60;",
        "$x^2$", "$$y$$", ":red[", ":blue-badge[y", ":material/home", ":smile:", "`code`", "|---")

#: A backslash escape in CommonMark: a backslash before any ASCII punctuation character.
ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
#: Invisible characters a page may add to break an autolink (they are not read).
INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
#: What Streamlit's markdown (GFM) links by searching the text after escapes are read.
AUTOLINK = re.compile(r"https?://|www\.|[-.\w+]+@[-\w]+(?:\.[-\w]+)+", re.IGNORECASE | re.ASCII)
#: Streamlit loads its emoji plugin when the source has this; it then replaces ``:name:`` in the text.
EMOJI_SOURCE = re.compile(r":(?!material/|streamlit:)[\w+-][\w+-]*:")
EMOJI_TEXT = re.compile(r":\+1:|:-1:|:[\w-]+:")
#: A line that would start a list, a heading, a quote, or underline a heading.
BLOCK_START = re.compile(r"^ {0,3}(?:[-+*]|#{1,6}|>|\d{1,9}[.)])(?:[ \t]|$)|^ {0,3}(?:=+|-+)[ \t]*$",
                         re.MULTILINE)


def read(source: str) -> str:
    """The text of markdown as its reader takes it: escapes read."""
    return ESCAPED.sub(r"\1", source)


def shown(source: str) -> str:
    """The text a person sees: escapes read, invisible characters gone, line breaks as spaces (as in a
    paragraph)."""
    return INVISIBLE.sub("", read(source)).replace("\n", " ")


def as_shown(value: str) -> str:
    """A hostile string as a paragraph shows it: line breaks as spaces."""
    return value.replace("\n", " ")


def interpreted(source: str) -> list[str]:
    """What in ``source`` (markdown that holds a hostile string) Streamlit would render as markup."""
    found = [f"live {live!r}" for live in LIVE if re.search(r"(?<!\\)" + re.escape(live), source)]
    if ":material/" in source:  # Streamlit rewrites it before reading escapes: the icon, or a mangled text
        found.append("':material/'")
    if match := AUTOLINK.search(read(source)):
        found.append(f"autolink {match.group()!r}")
    if EMOJI_SOURCE.search(source) and (match := EMOJI_TEXT.search(read(source))):
        found.append(f"emoji {match.group()!r}")
    if match := BLOCK_START.search(source):
        found.append(f"line start {match.group()!r}")
    if "\n\n" in source:
        found.append("a paragraph break (a paragraph, or an indented code block, of its own)")
    return found


# -- the store ---------------------------------------------------------------------------------------

AGENT, OTHER, UNCOACHED, LEAD = hostile("agent"), hostile("other"), hostile("uncoached"), hostile("lead")
METRIC, MANUAL_METRIC = hostile("metric"), hostile("manualmetric")
DISPUTED = hostile("conversation")  # an audited interaction whose ID is hostile too
GROUP_ASSIGNMENT = hostile("assignmentid")
NOW = datetime(2026, 11, 27, 12, 0)  # app_pages.DEMO_NOW: the pages' today


def write_exports(folder: Path) -> None:
    """Exports of every kind, every text field hostile."""
    folder.mkdir(parents=True, exist_ok=True)
    team = hostile("team")
    permissions = "Agent Dashboard, Coaching Assignments"
    (folder / "roster.csv").write_text(to_csv([
        ["Agent Name", "Email", "Team", "Team Lead", "Role", "Permissions"],
        [AGENT, AGENT_EMAIL, team, LEAD_EMAIL, "Agent", permissions],
        [OTHER, "other@example.com", team, LEAD_EMAIL, "Agent", permissions],
        [UNCOACHED, "uncoached@example.com", team, LEAD_EMAIL, "Agent", permissions],
        [LEAD, LEAD_EMAIL, team, "", "Supervisor", ""],
        [hostile("admin"), ADMIN_EMAIL, hostile("adminteam"), "", "Admin", ""],
    ]), encoding="utf-8")

    header = ["ConversationID", "Channel", "Queues", "Last Queue", "Language", "Scored Agent",
              "Start Time", "Sentiment Score", "Topics", "Kore Evaluation Score", "Audit Score",
              "Contact Direction", "Duration Status", "Evaluation Form", "Intent", "Auditor",
              METRIC, f"{METRIC} - Is Fatal Metric", f"{METRIC} - Adherence Weight", f"{METRIC} - Violation",
              f"{MANUAL_METRIC} - Manual Evaluation Metric", f"{MANUAL_METRIC} - Is Fatal Metric",
              f"{MANUAL_METRIC} - Adherence Weight", f"{MANUAL_METRIC} - Violation"]
    evaluations = [header]
    first = NOW - timedelta(days=80)
    for n in range(90):
        agent = (AGENT, OTHER, UNCOACHED)[n % 3]
        audited = n % 3 != 2 or n < 9
        cid = DISPUTED if n == 3 else f"c-{n:03d}"
        evaluations.append([
            cid, hostile("channel"), f"{hostile('queue', listed=True)}; {hostile('queue2', listed=True)}",
            hostile("lastqueue"), hostile("language"), agent,
            f"{first + timedelta(days=n * 0.85, hours=n % 7):%Y-%m-%dT%H:%M:%SZ}",
            4 + n % 6, hostile("topic"), (n * 37) % 200 - 100, (n * 53) % 200 - 100 if audited else "",
            hostile("direction"), hostile("duration"), hostile("form"), hostile("intent"),
            hostile("auditor") if audited else "", n % 2, 0, 10, 10, 1 - n % 2, 0, 10, 10,
        ])
    (folder / "ie-report.csv").write_text(to_csv(evaluations), encoding="utf-8")

    def when(days_ago: float) -> str:
        return f"{NOW - timedelta(days=days_ago):%Y-%m-%d}"

    assignments = [["Assignment ID", "Name", "Agent", "Coaching Type", "Group Name", "Coaching Areas",
                    "Assigned Date", "Follow-Up Date", "Status", "Assigned By", "Feedback", "Action Plan"]]
    areas = ", ".join(hostile(f"area{i}", listed=True) for i in range(5))  # more than shown: a "+N" tag
    assignments.append(["A-1", hostile("assignment"), AGENT, "Individual Agent", "", areas, when(40), when(5),
                        "In Progress", hostile("assignedby"), hostile("feedback"), hostile("actionplan")])
    for agent in (AGENT, OTHER):
        assignments.append([GROUP_ASSIGNMENT, hostile("groupassignment"), agent, "Group Agents",
                            hostile("group"), hostile("grouparea", listed=True), when(30), when(-5),
                            "Yet to Start", hostile("groupassignedby"), hostile("groupfeedback"),
                            hostile("groupplan")])
    assignments.append(["A-3", hostile("otherassignment"), OTHER, "Individual Agent", "",
                        hostile("otherarea", listed=True), when(20), "", "Completed",
                        hostile("otherassignedby"), "", ""])
    (folder / "assignments.csv").write_text(to_csv(assignments), encoding="utf-8")
    (folder / "coaching-interactions.csv").write_text(to_csv([
        ["Assignment ID", "ConversationID", "Coaching Area", "Date"],
        ["A-1", DISPUTED, hostile("area0", listed=True), when(40)],
        ["A-1", "c-000", hostile("area1", listed=True), when(40)],
        [GROUP_ASSIGNMENT, "c-006", hostile("grouparea", listed=True), when(30)],
    ]), encoding="utf-8")
    (folder / "best-responses.csv").write_text(to_csv([
        ["Assignment ID", "ConversationID", "Note"],
        ["A-1", "c-001", hostile("note")],
        [GROUP_ASSIGNMENT, "c-004", hostile("groupnote")],
    ]), encoding="utf-8")

    events = [["ConversationID", "Metric", "Round", "Actor", "Action", "Comment", "Timestamp", "Audit Score"]]

    def at(cid: str, hours: int) -> str:
        n = 3 if cid == DISPUTED else int(cid[2:])
        return f"{first + timedelta(days=n * 0.85, hours=n % 7 + hours):%Y-%m-%dT%H:%M:%SZ}"

    def score(cid: str) -> int:
        n = 3 if cid == DISPUTED else int(cid[2:])
        return (n * 53) % 200 - 100

    # c-000: waits for the agent; DISPUTED (c-003): disputed, waits for the reviewer;
    # c-006: resolved after a dispute round; c-001: the other agent's, resolved.
    events.append(["c-000", "", 0, "QA", "Audit Submitted", hostile("auditcomment"), at("c-000", 2),
                   score("c-000")])
    events.append([DISPUTED, "", 0, "QA", "Audit Submitted", "", at(DISPUTED, 2), score(DISPUTED)])
    events.append([DISPUTED, METRIC, 1, "Agent", "Disputed", hostile("disputecomment"), at(DISPUTED, 5), ""])
    events.append([DISPUTED, MANUAL_METRIC, 1, "Agent", "Accepted", "", at(DISPUTED, 5), ""])
    events.append(["c-006", "", 0, "QA", "Audit Submitted", "", at("c-006", 2), score("c-006")])
    events.append(["c-006", METRIC, 1, "Agent", "Disputed", hostile("dispute2"), at("c-006", 4), ""])
    events.append(["c-006", MANUAL_METRIC, 1, "Agent", "Accepted", "", at("c-006", 4), ""])
    events.append(["c-006", METRIC, 1, "QA", "Dispute Accepted", hostile("answer"), at("c-006", 6), ""])
    events.append(["c-006", "", 1, "QA", "Re-evaluated", hostile("reevaluated"), at("c-006", 7), 90])
    events.append(["c-006", "", 2, "Agent", "Accepted", "", at("c-006", 9), ""])
    events.append(["c-001", "", 0, "QA", "Audit Submitted", "", at("c-001", 2), score("c-001")])
    events.append(["c-001", "", 1, "Agent", "Accepted", hostile("accepted"), at("c-001", 3), ""])
    (folder / "review-events.csv").write_text(to_csv(events), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("hostile")
    write_exports(folder / "exports")
    db = folder / "coaching.duckdb"
    import_files(db, [folder / "exports"])
    yield db
    store.close_all()


@pytest.fixture(autouse=True)
def app_env(hostile_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    point_app_at(hostile_db, monkeypatch)


# -- reading what a page hands Streamlit -------------------------------------------------------------

#: The fields Streamlit renders as markdown, in any element or block: bodies of markdown, captions,
#: headings, alerts and toasts; metric values and deltas; every label and help tooltip; the options of
#: segmented controls and pills.
MARKDOWN_FIELDS = {"body", "label", "help", "delta", "delta_description", "title", "content",
                   "selected_content"}
#: Elements whose text Streamlit shows as it is.
PLAIN_ELEMENTS = {"Text", "Code", "Json", "Exception", "Html", "Arrow", "VegaLiteChart"}


@dataclass
class Reading:
    """What the markdown of one or more runs held: hostile strings, and where they were live."""

    problems: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)  # the hostile fields seen in markdown
    plain: set[str] = field(default_factory=set)  # ... and in plain text (st.text)


def walk(node) -> Iterator:
    yield node
    children = getattr(node, "children", None) or {}
    for child in children.values() if isinstance(children, dict) else children:
        yield from walk(child)


def markdown_of(message: Message, path: str) -> Iterator[tuple[str, str]]:
    """(where, source) of every markdown string in ``message`` and the messages it holds."""
    for descriptor, value in message.ListFields():
        where = f"{path}.{descriptor.name}"
        if descriptor.message_type is not None:
            values = value if descriptor.is_repeated else [value]
            for item in values:
                if isinstance(item, Message):
                    yield from markdown_of(item, where)
        elif descriptor.name in MARKDOWN_FIELDS:
            for item in (value if descriptor.is_repeated else [value]):
                if isinstance(item, str):
                    yield where, item


def read_page(at: AppTest, reading: Reading, page: str) -> None:
    """Check every markdown string of the run ``at`` (main area and sidebar) into ``reading``."""
    for root in (at.main, at.sidebar):
        for node in walk(root):
            proto = getattr(node, "proto", None)
            if not isinstance(proto, Message):
                continue
            kind = proto.DESCRIPTOR.name
            if kind == "Text" and "hx" in proto.body:
                reading.plain |= set(re.findall(r"\*\*hx(\w+)\*\*", proto.body))
            if kind in PLAIN_ELEMENTS:
                continue
            for where, source in markdown_of(proto, kind):
                if "hx" not in read(source) and "evil" not in read(source):
                    continue
                place = f"{page}: {where} {source[:90]!r}"
                reading.problems += [f"{place}: {problem}" for problem in interpreted(source)]
                tags = re.findall(r"hx(\w+)\*\*", shown(source))
                reading.tags |= set(tags)
                whole = [tag for tag in tags if not tag.startswith("raw")]  # "raw": not a hostile() string
                if whole and not any(as_shown(hostile(tag, listed)) in shown(source)
                                     for tag in whole for listed in (False, True)):
                    reading.problems.append(f"{place}: does not show its hostile string as it is")



def read_downloads(at: AppTest, downloads: Downloads, reading: Reading, page: str) -> int:
    """Check the CSV of every download button of the run: no text cell may start a formula. The
    hostile fields all start with one; a text cell that starts with ``'`` and a formula start is
    neutralised. Returns how many CSVs held hostile text."""
    hostile_files = 0
    for button in at.get("download_button"):
        data = downloads[button.proto.deferred_file_id]()
        text = data.decode("utf-8") if isinstance(data, bytes) else str(data)
        hostile_files += "hx" in text
        for number, row in enumerate(csv.reader(io.StringIO(text, newline=""))):
            for cell in row:
                if "hx" in cell and cell.startswith(FORMULA_STARTS):
                    reading.problems.append(f"{page}: {button.proto.id.split('-')[-1]} line {number + 1}: "
                                            f"a formula {cell[:40]!r}")
    return hostile_files


# -- the pages -----------------------------------------------------------------------------------------

#: The audits each role opens (with what the page is told to go back to).
AUDITS = [
    {"conversation": DISPUTED, "assignment": "A-1"},
    {"conversation": "c-006", "tab": "resolved"},
    {"conversation": "c-000"},
    {"conversation": "c-001"},  # a best response example of the agent's session, the other agent's audit
]
TREND_VIEWS = ("Score trends", "Kore vs audit", "Coaching", "Disputes")

#: The hostile fields each role must meet in markdown (where they are escaped), and in plain text.
SHOWN_TO_EVERYONE = {"assignment", "groupassignment", "area0", "area1", "area4", "grouparea", "assignedby",
                     "groupassignedby", "queue", "queue2", "topic", "conversation", "intent", "channel",
                     "language", "direction", "form", "auditor"}
PLAIN_TO_EVERYONE = {"feedback", "actionplan", "note", "groupfeedback", "groupplan", "groupnote"}


def visit(email: str, page: str | None, query: dict[str, str], reading: Reading) -> AppTest:
    at = as_user(email, page, **query)
    read_page(at, reading, f"{email} {page or 'overview'} {sorted(query.items())}"[:120])
    return at


def session_links(at: AppTest) -> list[dict[str, str]]:
    """The query of each session the Coaching Assignments list links to."""
    return [dict(parse_qsl(link.proto.query_string)) for link in at.get("page_link")
            if "assignment=" in link.proto.query_string]


def choose(widget, tags: tuple[str, ...], db: Path) -> None:
    """Choose in an agents' multiselect the people named ``hostile(tag)``, whatever the options' values
    are (a name, an email, an ID) and whatever the widget shows for them."""
    people = rows(db, "SELECT * FROM people")
    values = []
    for tag in tags:
        [person] = [row for row in people if hostile(tag) in row]
        offered = [v for v in person if isinstance(v, str) and str(widget.format_func(v)) in widget.options]
        assert offered, (tag, widget.options)
        values.append(offered[0])
    widget.set_value(values)


def visit_all(email: str, reading: Reading, db: Path) -> None:
    """The overview, the Coaching Assignments list, every session it links to, the audits and the
    Review tabs (a lead's narrowed to the agent)."""
    visit(email, None, {}, reading)
    listed = visit(email, "pages/coaching.py", {}, reading)
    links = session_links(listed)
    assert len(links) >= 2, links
    for query in links:
        visit(email, "pages/coaching.py", query, reading)
    for query in AUDITS:
        visit(email, "pages/audit.py", query, reading)
    for tab in ("pending", "disputes", "resolved"):
        at = visit(email, "pages/review.py", {"tab": tab}, reading)
        if email != AGENT_EMAIL:
            choose(at.multiselect(key="review_agents"), ("agent",), db)
            read_page(rerun(at), reading, f"{email} review {tab}, one agent")


def visit_trends(email: str, reading: Reading, downloads: Downloads, db: Path,
                 **filters: tuple[str, ...]) -> int:
    """Every view of Score Trends with agents (and teams) chosen by their hostile names; how many of
    their CSVs held hostile text."""
    at = visit(email, "pages/trends.py", {}, reading)
    for key, tags in filters.items():
        choose(at.multiselect(key=key), tags, db)
    rerun(at)
    hostile_csvs = 0
    for view in TREND_VIEWS:
        at.session_state["trend_view"] = view
        rerun(at)
        read_page(at, reading, f"{email} trends {view}")
        hostile_csvs += read_downloads(at, downloads, reading, f"{email} trends {view}")
    return hostile_csvs


def visit_lead_pages(email: str, reading: Reading, downloads: Downloads, db: Path) -> int:
    """Team (and the panel of an agent chosen on it) and the Metric Heatmap (and the list of a cell chosen
    on it); how many of their CSVs held hostile text."""
    at = visit(email, "pages/team.py", {}, reading)
    hostile_csvs = read_downloads(at, downloads, reading, f"{email} team")
    assert len(at.dataframe[0].value), "the team view is empty"
    at.session_state["team_rows"] = {"selection": {"rows": [0], "columns": []}}
    read_page(rerun(at), reading, f"{email} team, an agent chosen")
    at = visit(email, "pages/heatmap.py", {}, reading)
    hostile_csvs += read_downloads(at, downloads, reading, f"{email} metric heatmap")
    cells = query_as(db, metric_heatmap, email, TeamFilters.last_days(NOW.date()))
    cell = cells[cells["not_adhered"] > 0].iloc[0]
    at = visit(email, "pages/heatmap.py", {"agent": cell["person_id"], "metric": cell["metric"]}, reading)
    assert at.dataframe, "the chosen cell lists no interactions"
    return hostile_csvs


def assert_plain(reading: Reading, shown_: set[str], plain: set[str]) -> None:
    assert not reading.problems, f"{len(reading.problems)} problem(s):\n" + "\n".join(reading.problems)
    assert shown_ <= reading.tags, f"never shown in markdown: {sorted(shown_ - reading.tags)}"
    assert plain <= reading.plain, f"never shown as text: {sorted(plain - reading.plain)}"


def test_an_agent_sees_every_imported_string_as_text(hostile_db: Path, downloads: Downloads) -> None:
    reading = Reading()
    visit_all(AGENT_EMAIL, reading, hostile_db)
    at = visit(AGENT_EMAIL, "pages/trends.py", {}, reading)
    assert at.get("download_button")
    read_downloads(at, downloads, reading, "my score trends")
    assert_plain(reading, SHOWN_TO_EVERYONE | {"agent"}, PLAIN_TO_EVERYONE)


def test_a_lead_sees_every_imported_string_as_text(hostile_db: Path, downloads: Downloads) -> None:
    reading = Reading()
    visit_all(LEAD_EMAIL, reading, hostile_db)
    hostile_csvs = visit_trends(LEAD_EMAIL, reading, downloads, hostile_db, trend_agents=("agent", "other"))
    assert hostile_csvs >= 3  # Kore vs audit, the gap per agent, the coaching monitor and effect
    assert visit_lead_pages(LEAD_EMAIL, reading, downloads, hostile_db) == 2  # Team's and the heatmap's
    # The lead's own name; the agents' (sessions, the trends caption); the group's; the other agent's session.
    assert_plain(reading, SHOWN_TO_EVERYONE | {"lead", "agent", "other", "group", "otherassignment",
                                               "otherassignedby", "otherarea"}, PLAIN_TO_EVERYONE)


def test_an_admin_sees_every_imported_string_as_text(hostile_db: Path, downloads: Downloads) -> None:
    reading = Reading()
    visit_all(ADMIN_EMAIL, reading, hostile_db)
    hostile_csvs = visit_trends(ADMIN_EMAIL, reading, downloads, hostile_db,
                                trend_agents=("uncoached", "agent"))
    assert hostile_csvs >= 3
    assert visit_lead_pages(ADMIN_EMAIL, reading, downloads, hostile_db) == 2
    assert_plain(reading, SHOWN_TO_EVERYONE | {"admin", "agent", "uncoached"}, PLAIN_TO_EVERYONE)


def test_the_import_page_shows_what_a_file_says_as_text(hostile_db: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(hostile_db.read_bytes())
    monkeypatch.setenv("COACHING_DB", str(db))
    report = to_csv([
        ["ConversationID", "Scored Agent", "Start Time", "Kore Evaluation Score", "Evaluation Form",
         hostile("column")],
        ["n-1", hostile("unrostered"), "2026-11-20T10:00:00Z", 50, hostile("form"), "x"],
    ])
    roster = to_csv([
        ["Agent Name", "Email", "Role", "Team", "Wrong"],
        [hostile("newcomer"), "newcomer@example.com", "Boss", hostile("team"), "x"],
    ])
    reading = Reading()
    try:
        at = as_user(ADMIN_EMAIL, "pages/import_exports.py")
        name = "**hxrawfile** <b>b :smile: [x](y) https:\\evil.example.csv"  # no "/": a file's name
        at.file_uploader[0].set_value([(name, report.encode(), "text/csv")])
        next(b for b in at.form_submit_button if b.label == "Import").click()
        read_page(rerun(at), reading, "import, with warnings")
        assert at.success and len(at.warning) == 2, [w.value for w in at.warning]
        at.file_uploader[0].set_value([("roster.csv", roster.encode(), "text/csv")])
        next(b for b in at.form_submit_button if b.label == "Import").click()
        read_page(rerun(at), reading, "import, refused")
        assert at.error
    finally:
        store.close_all()
    # The file's name, its column the import ignored and its agent not on the roster, in the warnings.
    assert_plain(reading, {"admin", "rawfile", "column", "unrostered"}, set())

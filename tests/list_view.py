"""Reading the Coaching Assignments list the way a person does, from an AppTest run.

The list is one container per session, keyed ``session-<position on the page>``; in it, the name is a
page link to the session, the coaching areas are badges ("+N" carries every area as its hover text), the
dates are text and the status is coloured text after an icon (:func:`statuses_in`). The other pages' rows
(a session's interactions, the Review tabs, an audit's history) are read with :func:`keyed_rows`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs

import pandas as pd
from streamlit.testing.v1 import AppTest

from coaching.assignments import LIST_PAGE_SIZE as PAGE_SIZE
from ui.text import ZERO_WIDTH_SPACE

LIST_TITLE = "Coaching Assignments"
BADGE = re.compile(r"^:(?P<colour>[a-z]+)-badge\[(?P<label>.*)\]$", re.DOTALL)
#: A status (ui.text.status_markdown): coloured text after a Material icon.
STATUS = re.compile(r"^:(?P<colour>[a-z]+)\[:material/(?P<icon>[a-z0-9_]+): (?P<label>.*)\]$", re.DOTALL)


def unescaped(markdown: str) -> str:
    """Markdown as people read it: no bold markers, no escapes, no zero-width spaces (they are invisible)."""
    return re.sub(r"\\(.)", r"\1", re.sub(r"(?<!\\)\*\*", "", markdown)).replace(ZERO_WIDTH_SPACE, "")


@dataclass(frozen=True)
class Tag:
    label: str
    colour: str
    help: str


def walk(node) -> Iterator:
    """``node`` and everything under it, in page order."""
    yield node
    children = getattr(node, "children", None) or {}
    for child in children.values() if isinstance(children, dict) else children:
        yield from walk(child)


def tags_in(node) -> list[Tag]:
    """The badges under ``node``, as people read them (with their hover text)."""
    found = []
    for element in walk(node):
        if element.type == "markdown" and (match := BADGE.match(element.value)):
            found.append(Tag(unescaped(match["label"]), match["colour"], unescaped(element.proto.help)))
    return found


@dataclass(frozen=True)
class Status:
    label: str
    colour: str
    icon: str


def statuses_in(node) -> list[Status]:
    """The statuses under ``node`` (coloured text after an icon), as people read them."""
    return [Status(unescaped(match["label"]), match["colour"], match["icon"]) for element in walk(node)
            if element.type == "markdown" and (match := STATUS.match(element.value))]


def captions_in(node) -> list[str]:
    return [unescaped(e.value) for e in walk(node) if e.type == "caption"]


def texts_in(node) -> list[str]:
    return [e.value for e in walk(node) if e.type == "text"]


def list_header(at: AppTest) -> list[str]:
    """The list's column headings (the page's only bold-only markdown)."""
    return [unescaped(e.value) for e in walk(at.main)
            if e.type == "markdown" and e.value.startswith("**") and e.value.endswith("**")]


def keyed_block(at: AppTest, key: str):
    """The container keyed ``key`` on the page, or None. Streamlit keeps a container's key at the end of
    its block id."""
    return next((b for b in walk(at.main) if b.type == "flex_container" and b.proto.id.endswith(f"-{key}")), None)


def session_block(at: AppTest, position: int):
    """The container of the list's session at ``position`` on the page, or None."""
    return keyed_block(at, f"session-{position}")


def keyed_rows(at: AppTest, prefix: str) -> list[dict]:
    """The rows drawn as containers keyed ``<prefix>-0``, ``<prefix>-1`` …, each as a person reads it: its
    texts, its captions, its tags, its statuses, and its page links (label, the page they open and their
    query)."""
    found = []
    while (block := keyed_block(at, f"{prefix}-{len(found)}")) is not None:
        links = [{"label": e.proto.label, "page": e.proto.page,
                  "query": {k: v[0] for k, v in parse_qs(e.proto.query_string).items()}}
                 for e in walk(block) if e.type == "page_link"]
        found.append({"texts": texts_in(block), "captions": captions_in(block), "tags": tags_in(block),
                      "statuses": statuses_in(block), "links": links})
    return found


def cells_of(at: AppTest, prefix: str) -> list[list]:
    """The rows keyed ``<prefix>-<n>``, each as its cells (the columns of its first line), in order."""
    found = []
    while (block := keyed_block(at, f"{prefix}-{len(found)}")) is not None:
        found.append(list(block.children[0].children.values()))
    return found


def list_rows(at: AppTest) -> pd.DataFrame:
    """The sessions the list shows on its current page, one row per session as a person reads it:
    the name's link (and the session it opens), the tags, the dates, the markers, the status."""
    found = []
    for position in range(PAGE_SIZE):
        block = session_block(at, position)
        if block is None:
            break
        name, *agent, areas, assigned, follow_up, status = block.children[0].children.values()
        [link] = [e for e in walk(name) if e.type == "page_link"]
        query = {key: values[0] for key, values in parse_qs(link.proto.query_string).items()}
        tags, markers, [status_shown] = tags_in(areas), tags_in(follow_up), statuses_in(status)
        found.append({
            "name": unescaped(link.proto.label), "page": link.proto.page,
            "assignment_id": query["assignment"], "person_id": query["agent"],  # who: never a name
            "shown_agent": texts_in(agent[0])[0] if agent else None,
            "area_tags": [t.label for t in tags],
            "area_help": tags[-1].help if tags else "",
            "tag_colours": [t.colour for t in tags],
            "assigned_date": texts_in(assigned)[0],
            "follow_up_date": texts_in(follow_up)[0],
            "follow_up": markers[0].label if markers else "",
            "status": status_shown.label, "status_colour": status_shown.colour, "status_icon": status_shown.icon,
        })
    return pd.DataFrame(found, columns=[
        "name", "page", "assignment_id", "person_id", "shown_agent", "area_tags", "area_help", "tag_colours",
        "assigned_date", "follow_up_date", "follow_up", "status", "status_colour", "status_icon"])


def page_count(at: AppTest) -> int:
    """How many pages the list has (it says "Page i of n" under a list of more than one)."""
    said = [c.value for c in at.caption if re.fullmatch(r"Page \d+ of \d+", c.value)]
    return int(said[0].rsplit(" ", 1)[1]) if said else 1


def choose_page(at: AppTest, page: int) -> None:
    """Choose a page of the list with its Page control (buttons, or a number for many pages)."""
    [control] = [c for c in [*at.get("button_group"), *at.number_input] if c.label == "Page"]
    control.set_value(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def every_list_row(at: AppTest) -> pd.DataFrame:
    """The sessions of every page of the list, choosing each page in turn."""
    frames = [list_rows(at)]
    for page in range(2, page_count(at) + 1):
        choose_page(at, page)
        frames.append(list_rows(at))
    return pd.concat(frames, ignore_index=True)

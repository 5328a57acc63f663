"""Showing what people wrote or imported (names, titles, feedback, notes) as text, never as markdown or HTML.

Streamlit renders markdown in st.markdown, st.caption, titles and headers, st.metric (label, value, delta),
alerts, badges, help tooltips and the labels of buttons, page links, tabs, expanders and widgets. Every
imported string placed in one of those goes through :func:`escape_markdown`, the one helper for it. What
Streamlit shows as plain text (st.text, st.dataframe cells, multiselect and selectbox options, chart
tooltips) takes the string as it is.
"""

from __future__ import annotations

import re

#: Every ASCII punctuation character: CommonMark lets a backslash escape each one, and an escaped one is
#: shown as itself (no emphasis, link, image, HTML tag, entity, list, heading, math or directive).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")

#: U+200B ZERO WIDTH SPACE: invisible. Streamlit's markdown turns ``https://…``, ``www.…`` and
#: ``name@host.tld`` into links, and ``:name:`` into an emoji, by searching the text *after* escapes are
#: read, so escaping cannot stop them; a zero-width space after each ``:`` and ``@`` and between ``www``
#: and its ``.`` does. (Playwright's text matching drops it too, so browser tests find the text as
#: written.)
ZERO_WIDTH_SPACE = "\u200b"
_AUTOLINKED = re.compile(r"(?<=[:@])|(?<=www)(?=\.)", re.IGNORECASE)
#: A line break: in a paragraph it reads as a space, and a space it becomes, so that no imported line
#: can start a block of its own (a code block, a heading, a table, a paragraph).
_LINE_BREAK = re.compile(r"\r\n?|\n")


def escape_markdown(text: object) -> str:
    """``text`` (None as "") made safe to place in markdown: it renders as these characters, a line break
    as a space (as in any paragraph).

    Every ASCII punctuation character is backslash-escaped; a zero-width space (invisible) follows every
    ``:`` and ``@`` and parts ``www`` from a following ``.``, so no URL, address or emoji code is
    turned into a link or a picture; a line break becomes a space, as a paragraph shows it.
    """
    plain = _LINE_BREAK.sub(" ", "" if text is None else str(text))
    return _PUNCTUATION.sub(r"\\\1", _AUTOLINKED.sub(ZERO_WIDTH_SPACE, plain))


def badge_markdown(label: object, colour: str) -> str:
    """A badge (a coloured tag) in markdown showing ``label`` as text."""
    return f":{colour}-badge[{escape_markdown(label)}]"


def status_markdown(label: object, colour: str, icon: str) -> str:
    """A status in markdown: ``label`` as text after a Material ``icon`` (``:material/name:``), both in
    ``colour``. Unlike a badge it reads as a state, not a control, and wraps in a narrow column."""
    return f":{colour}[{icon} {escape_markdown(label)}]"

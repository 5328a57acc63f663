"""ui.text.escape_markdown: whatever a string holds, markdown shows it as these characters."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from ui.text import ZERO_WIDTH_SPACE, escape_markdown

#: CommonMark's backslash escape: a backslash before an ASCII punctuation character is that character.
ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
#: What GFM (Streamlit's markdown) turns into a link in text whose escapes are already read.
AUTOLINK = re.compile(r"https?://|www\.|[-.\w+]+@[-\w]+(?:\.[-\w]+)+", re.IGNORECASE | re.ASCII)
#: An emoji code, which Streamlit's emoji plugin replaces in text whose escapes are already read.
EMOJI = re.compile(r":[\w+-]+:")


def read(markdown: str) -> str:
    """What a markdown reader makes of the escapes, with the zero-width spaces (invisible) left out."""
    return ESCAPE.sub(r"\1", markdown).replace(ZERO_WIDTH_SPACE, "")


def test_every_ascii_punctuation_character_is_escaped() -> None:
    punctuation = "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum())
    escaped = escape_markdown(punctuation)
    assert escaped.replace(ZERO_WIDTH_SPACE, "") == "".join("\\" + c for c in punctuation)


def test_markup_is_escaped() -> None:
    assert escape_markdown("**bold** [link](x) <b>") == r"\*\*bold\*\* \[link\]\(x\) \<b\>"
    assert escape_markdown("$x^2$ &amp; `c` ~~s~~ _e_") == r"\$x\^2\$ \&amp\; \`c\` \~\~s\~\~ \_e\_"
    assert escape_markdown("- a") == r"\- a" and escape_markdown("1. a") == r"1\. a"


def test_urls_addresses_and_emoji_codes_are_broken_by_an_invisible_space() -> None:
    zw = ZERO_WIDTH_SPACE
    assert escape_markdown("https://evil.example/x") == rf"https\:{zw}\/\/evil\.example\/x"
    assert escape_markdown("WWW.evil.example") == rf"WWW{zw}\.evil\.example"
    assert escape_markdown("x@evil.example") == rf"x\@{zw}evil\.example"
    assert escape_markdown(":smile: :material/home:") == rf"\:{zw}smile\:{zw} \:{zw}material\/home\:{zw}"


def test_line_breaks_read_as_spaces() -> None:
    assert escape_markdown("a\n\n# b\r\nc\rd") == r"a  \# b c d"


def test_none_and_other_values() -> None:
    assert escape_markdown(None) == ""
    assert escape_markdown(12.5) == r"12\.5"


def test_letters_digits_and_spaces_are_left_as_they_are() -> None:
    assert escape_markdown("Ekström Zoë 42 多 ") == "Ekström Zoë 42 多 "


@given(st.text())
def test_any_text_reads_back_as_itself_with_no_link_and_no_emoji(text: str) -> None:
    escaped = escape_markdown(text)
    assert read(escaped) == re.sub(r"\r\n?|\n", " ", text).replace(ZERO_WIDTH_SPACE, "")
    assert not re.search(r"[!-/:-@\[-`{-~]", ESCAPE.sub("", escaped))  # no punctuation left unescaped
    assert not AUTOLINK.search(ESCAPE.sub(r"\1", escaped))
    assert not EMOJI.search(ESCAPE.sub(r"\1", escaped))
    assert "\n" not in escaped and "\r" not in escaped

"""Splitting long HTML replies: every part fits, parses, and nothing is lost or reordered."""

from __future__ import annotations

import html as html_lib
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.html import html_problems
from bot.telegram.split import TELEGRAM_LIMIT, split_html, utf16_len


def visible(markup: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]*>", "", markup))


def words(markup: str) -> list[str]:
    return visible(markup).split()


WORD = st.sampled_from(
    ["cramp", "B12", "&amp;", "&lt;b&gt;", "😀", "magnesium", "mcg", "—", "ok", "Ёжик", "x" * 30]
)
SPACE = st.sampled_from([" ", " ", " ", "\n", "\n\n"])
TAGS = [
    ("<b>", "</b>"),
    ("<i>", "</i>"),
    ('<a href="https://example.org/a?b=1&amp;c=2">', "</a>"),
    ("<code>", "</code>"),
    ("<blockquote>", "</blockquote>"),
    ('<span class="tg-spoiler">', "</span>"),
]


@st.composite
def fragments(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 8))):
        if depth < 2 and draw(st.booleans()):
            opening, closing = draw(st.sampled_from(TAGS))
            parts.append(opening + draw(fragments(depth + 1)) + closing)
        else:
            parts.append(draw(WORD))
        parts.append(draw(SPACE))
    return "".join(parts)


@st.composite
def documents(draw: st.DrawFn) -> str:
    return "".join(draw(fragments()) for _ in range(draw(st.integers(1, 12))))


def check(markup: str, limit: int) -> list[str]:
    assert not html_problems(markup)
    parts = split_html(markup, limit)
    assert parts
    for part in parts:
        assert utf16_len(part) <= limit, part
        assert not html_problems(part), (part, html_problems(part))
        assert part.strip()
        assert visible(part).strip(), part
    return parts


@settings(max_examples=120, deadline=None)
@given(documents(), st.integers(200, 600))
def test_parts_fit_parse_and_keep_every_word(markup: str, limit: int) -> None:
    parts = check(markup, limit)
    assert [w for part in parts for w in words(part)] == words(markup)


def test_short_text_is_left_alone() -> None:
    assert split_html("<b>hi</b> &amp; bye") == ["<b>hi</b> &amp; bye"]


def test_real_limit_and_paragraph_preference() -> None:
    paragraph = "<b>Title</b>\n" + "word " * 150 + "end."
    markup = "\n\n".join([paragraph] * 10)
    parts = check(markup, TELEGRAM_LIMIT)
    assert len(parts) == 2
    assert all(part.endswith("end.") for part in parts)  # cut between paragraphs
    assert all(part.startswith("<b>Title</b>") for part in parts)


def test_tags_open_at_a_cut_are_closed_and_reopened() -> None:
    markup = '<blockquote><a href="https://example.org">' + "link text " * 40 + "</a></blockquote>"
    parts = check(markup, 120)
    assert len(parts) > 2
    for part in parts:
        assert part.startswith('<blockquote><a href="https://example.org">')
        assert part.endswith("</a></blockquote>")


def test_entities_and_surrogate_pairs_are_never_cut() -> None:
    markup = "&amp;" * 200 + "😀" * 300
    parts = check(markup, 100)
    assert "".join(parts) == markup


def test_a_word_longer_than_a_message_is_cut() -> None:
    markup = "<b>" + "a" * 10_000 + "</b>"
    parts = check(markup, TELEGRAM_LIMIT)
    assert "".join(visible(p) for p in parts) == "a" * 10_000


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_len("a😀é") == 4

"""Ten thousand hostile messages through the engine: no exception, always a sendable reply.

A fixed, seeded corpus (reproducible) of the kinds of text a public bot meets, plus a
hypothesis search over any Unicode.
"""

from __future__ import annotations

import unicodedata

import pytest
from corpus import CONTROL, INJECTIONS, RTL, corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.html import html_problems
from bot.core.engine import Engine


def check(engine: Engine, text: str) -> None:
    reply = engine.ask(text)
    assert 0 < len(reply.text) <= 4096
    assert html_problems(reply.text) == [], (text, reply.text)
    assert "<script>" not in reply.text
    assert all(len(b.action.encode()) <= 40 for b in reply.buttons)


@pytest.mark.parametrize("start", range(0, 10_000, 2_500))
def test_fixed_corpus(engine: Engine, start: int) -> None:
    for text in corpus()[start : start + 2_500]:
        check(engine, text)


def test_corpus_covers_what_it_claims() -> None:
    messages = corpus()
    assert len(messages) == 10_000
    assert max(len(m) for m in messages) <= 10_000
    assert any(unicodedata.bidirectional(c) == "R" for m in messages for c in m[:50])
    assert any("\x00" in m for m in messages)


@pytest.mark.parametrize(
    "text", ["' OR 1=1 --", "' OR '1'='1", "or", "<script>alert(1)</script>", "1=1", "and then"]
)
def test_a_message_of_empty_words_gets_no_guess(engine: Engine, text: str) -> None:
    """ "' OR 1=1 --" was answered as the remedies compared, and moved with every retraining:
    words that say nothing alone (`empty` in content/synonyms.yaml) get "I didn't get that"."""
    reply = engine.ask(text)
    assert reply.intent is None and reply.suggestions == ()


def test_question_inside_noise_is_still_understood(engine: Engine) -> None:
    """Code around a question may make the model less sure (code is out of scope), but the
    question is still answered, or offered first as a did-you-mean — never declined."""
    for noise in CONTROL + RTL + INJECTIONS:
        reply = engine.ask(f"{noise} does magnesium help cramps {noise}")
        assert "remedy_magnesium" in (reply.intent, *reply.suggestions[:1]), noise


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(), max_size=2_000))
def test_any_unicode(engine: Engine, text: str) -> None:
    check(engine, text)

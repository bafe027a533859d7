"""The answer engine through its public entry points: ask() and act()."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.html import html_problems
from bot.core.engine import MAX_CHARS, Engine
from bot.core.reply import Reply, ReplyKind


def assert_sendable(reply: Reply) -> None:
    assert 0 < len(reply.text) <= 4096
    assert html_problems(reply.text) == []
    for button in reply.buttons:
        assert len(button.action.encode()) <= 40
        assert button.label


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("why do i get leg cramps at night", "night_cramps"),
        ("WHY DO I GET LEG CRAMPS AT NIGHT???", "night_cramps"),
        ("why do i get leg crmaps at nite", "night_cramps"),
        ("does magnesium help with cramps", "remedy_magnesium"),
        ("magnesum for cramps", "remedy_magnesium"),
        ("charley horse in my calf, what causes it", "causes_overview"),
        ("what does vitamin b-12 do in the body", "b12_role"),
        ("can low cobalamin cause muscle spasms", "b12_and_cramps"),
        ("what blood test shows b12 deficiency", "deficiency_testing"),
        ("im vegan where do i get b12", "vegan_vegetarian"),
        ("how much b12 do i need a day", "daily_needs"),
        ("started simvastatin and my legs cramp now", "cause_medications"),
        ("is quinine safe for leg cramps", "quinine"),
        ("could my cramps be from low b12? check me", "start_check"),
        ("thanks!", "thanks"),
        ("hi", "greeting"),
        ("bye", "goodbye"),
        ("👍", "acknowledge"),
    ],
)
def test_answers_the_intent(engine: Engine, text: str, intent: str) -> None:
    reply = engine.ask(text)
    assert reply.intent == intent
    assert_sendable(reply)


def test_medical_answers_cite_their_source(engine: Engine) -> None:
    reply = engine.ask("does magnesium help with cramps")
    assert "Source:" in reply.text
    titles = [
        engine.content.sources[s].title for s in engine.content.intents["remedy_magnesium"].sources
    ]
    assert html.escape(titles[0]) in reply.text


def test_social_messages_never_get_a_medical_answer(engine: Engine) -> None:
    for text in ["hi", "hello there", "thank you so much", "ok", "cool", "bye", "👍", "🙏"]:
        reply = engine.ask(text)
        assert reply.kind is ReplyKind.social, text
        assert "Source:" not in reply.text


@pytest.mark.parametrize(
    ("text", "food"),
    [
        ("does salmon have b12", "salmon"),
        ("do egs have b12", "eggs"),
        ("b12 in sardins?", "sardines"),
        ("is tofu a good source of b12", "tofu"),
        ("how much b12 in soy milk", "plant_milk"),
        ("is nutritional yeast good for b12", "nutritional_yeast"),
    ],
)
def test_food_lookup(engine: Engine, text: str, food: str) -> None:
    reply = engine.ask(text)
    assert (reply.intent, reply.food) == ("food_lookup", food)
    item = engine.content.foods[food]
    assert f"{item.mcg:g} mcg" in reply.text
    assert_sendable(reply)


def test_unreliable_food_names_a_reliable_alternative(engine: Engine) -> None:
    reply = engine.ask("is spinach a source of b12")
    tofu = engine.content.foods["spinach"]
    alternative = engine.content.foods[tofu.alternative or ""]
    assert "not a reliable source" in reply.text
    assert html.escape(alternative.name) in reply.text
    assert reply.buttons[0].action == f"f:{alternative.id}"


@pytest.mark.parametrize(
    "text",
    [
        "my chest hurts and i cant breathe",
        "does b12 help cramps? also my chest feels tight and I can't catch my breath",
        "one calf is swollen red and hot after a long flight",
        "peeing dark brown after the marathon and my legs cramp",
        "her face is drooping on one side and her speech is slurred",
    ],
)
def test_emergencies_win_over_everything(engine: Engine, text: str) -> None:
    reply = engine.ask(text)
    assert reply.kind is ReplyKind.urgent
    assert reply.intent == "urgent_help"
    assert reply.details is not None
    lead = engine.urgent.situation(reply.details["situations"][0])
    assert lead is not None
    titles = [html.escape(engine.content.sources[s].title) for s in lead.sources]
    assert reply.text == engine.urgent.render(lead, titles)


def test_urgent_reply_offers_the_other_emergency_and_question(engine: Engine) -> None:
    reply = engine.ask("does magnesium help cramps? also my chest hurts and i cant breathe")
    assert reply.kind is ReplyKind.urgent
    assert reply.details == {"situations": ["breathing", "chest_pain"]}
    assert [b.action for b in reply.buttons] == ["u:chest_pain", "i:remedy_magnesium"]
    other = engine.act("u:chest_pain")
    assert other is not None and other.kind is ReplyKind.urgent
    assert other.details == {"situations": ["chest_pain"]}


def test_negated_emergency_words_do_not_fire(engine: Engine) -> None:
    reply = engine.ask("no chest pain or swelling, just calf cramps at night")
    assert reply.kind is not ReplyKind.urgent


@pytest.mark.parametrize(
    "text", ["what is the capital of france", "bitcoin price today", "how much vitamin d per day"]
)
def test_out_of_scope_gets_the_fallback(engine: Engine, text: str) -> None:
    reply = engine.ask(text)
    assert reply.intent is None
    assert reply.kind is ReplyKind.fallback
    assert_sendable(reply)


def test_fallback_offers_did_you_mean_buttons(engine: Engine) -> None:
    reply = engine.ask("calf and b12")
    assert reply.kind is ReplyKind.fallback
    assert reply.suggestions
    assert [b.action for b in reply.buttons] == [f"i:{s}" for s in reply.suggestions] + ["none"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("🤷‍♀️🎉🎉", "emoji_only"),
        ("\u200f\u200e\u202e", "empty"),
        ("x" * (MAX_CHARS + 1), "too_long"),
        ("cramp " * 20_000, "too_long"),
    ],
)
def test_bad_input_gets_a_clear_reply(engine: Engine, text: str, key: str) -> None:
    reply = engine.ask(text)
    assert reply.kind is ReplyKind.invalid
    expected = engine.message(key, length=f"{len(text):,}") if key == "too_long" else None
    assert reply.text == (expected or engine.message(key))
    assert_sendable(reply)


def test_control_characters_and_rtl_text_do_not_break_matching(engine: Engine) -> None:
    assert engine.ask("does\x00 magnesium\u200f help\x1b cramps").intent == "remedy_magnesium"
    assert_sendable(engine.ask("مرحبا كيف حالك"))


def test_user_html_is_never_echoed_raw(engine: Engine) -> None:
    for text in ["<b>cramps</b> & <script>alert(1)</script>", "a & b < c", "x" * 5000 + "<i>"]:
        reply = engine.ask(text)
        assert "<script>" not in reply.text
        assert_sendable(reply)


def test_act_answers_buttons_and_refuses_forged_ones(engine: Engine) -> None:
    assert engine.act("i:night_cramps").intent == "night_cramps"  # type: ignore[union-attr]
    assert engine.act("f:salmon").food == "salmon"  # type: ignore[union-attr]
    for forged in ["", "i:", "i:nope", "f:pizza", "x:salmon", "i:night_cramps:extra", "none"]:
        assert engine.act(forged) is None


def test_every_intent_and_food_renders_sendable_html(engine: Engine) -> None:
    for intent in engine.content.intents:
        assert_sendable(engine.act(f"i:{intent}"))  # type: ignore[arg-type]
    for food in engine.content.foods:
        assert_sendable(engine.act(f"f:{food}"))  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_sendable_reply(engine: Engine, text: str) -> None:
    reply = engine.ask(text)
    assert_sendable(reply)
    assert reply.score >= 0 and reply.score <= 100


def test_same_question_same_reply(engine: Engine) -> None:
    assert engine.ask("why do i cramp at night") == engine.ask("why do i cramp at night")


def test_normalisation_folds_b12_spellings_and_synonyms(engine: Engine) -> None:
    normalise = engine.normalise
    for text in ["B-12", "b 12", "Vit B12", "vitamin b12", "cobalamin", "Cyanocobalamin", "B12s"]:
        assert normalise(text) == "b12", text
    assert normalise("Anaemia") == "anemia"
    assert re.fullmatch(r"cramp", normalise("Charley horse!!"))
    assert normalise("pins and needles") == "tingling"

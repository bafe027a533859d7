"""The B12 check as a pure state machine: questionnaire content + answers so far → next step.

No I/O, no clock, no Telegram: callers pass `now` (epoch seconds) and persist `State` (a small
frozen model that round-trips through JSON) after every step, so a crash loses nothing. Every
user-visible word comes from content/questionnaire.yaml. Input from users — taps, typed text,
stale or forged callback data — never raises: it comes back as a `Transition` whose `outcome`
says what happened (e.g. `stale`, `ended`, `invalid`), with a reply to show.

Callback data: `q:<token>:<question index>:<command>` (or `q:<token>:r:<command>` on the
result), at most 18 bytes. The token is derived from `started_at`, so a button from an
earlier check never answers a later one.

Stop only asks ("Stop the check here?", `State.stopping`); "end" (Yes, stop) stops and "go"
(Resume) or any other step goes on, so a "yes" typed then is never taken as an answer.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.content.questionnaire import Condition, Level, Option, Question, Questionnaire
from bot.core.check.state import (
    ACTION,
    OPTION,
    TELEGRAM_LIMIT,
    Answer,
    Ended,
    OptionView,
    Outcome,
    QuestionView,
    Rejected,
    Rejection,
    Result,
    State,
    Status,
    Tally,
    Transition,
    Typed,
    check_token,
)
from bot.core.check.typed import AskBack, normalise, read_answer
from bot.core.reply import Button, Reply, ReplyKind

#: Engine replies that mean "I did not understand": mid-check, most likely a garbled answer.
_NOT_UNDERSTOOD = (ReplyKind.fallback, ReplyKind.invalid)


class CheckEngine:
    """Runs the check described by one loaded questionnaire. Stateless between calls."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.content = questionnaire
        self.spec = questionnaire.spec
        self.ui = questionnaire.spec.ui
        self._index = {q.id: i for i, q in enumerate(self.spec.questions)}
        self._sections = {s.id: s for s in self.spec.sections}
        self.ttl_seconds = self.spec.settings.expire_after_hours * 3600
        defaults = self.spec.option_defaults
        yes, no = defaults.get("yes"), defaults.get("no")
        commands = self.ui.commands
        #: Typed while "Stop the check?" is shown: stop, or go on with the question.
        self._confirm_words = {
            **{normalise(w): "go" for w in (*(no.synonyms if no else ()), *commands.continue_)},
            **{normalise(w): "go" for w in (self.ui.button_resume,)},
            **{normalise(w): "end" for w in (*(yes.synonyms if yes else ()), *commands.stop)},
            **{normalise(w): "end" for w in (self.ui.button_stop_yes,)},
        }

    # ------------------------------------------------------------------ pure transitions

    def start(self, now: float) -> State:
        first = self._next_after({}, -1)
        if first is None:  # impossible for validated content: the first question has no ask_if
            raise RuntimeError("questionnaire has no first question")
        return State(token=check_token(now), started_at=now, updated_at=now, current=first.id)

    def answer(
        self, state: State, question_id: str, option_ids: Iterable[str], *, now: float | None = None
    ) -> State | Rejected:
        """Record an answer to the current question and move on."""
        if state.status != Status.active:
            return Rejected(Rejection.ended)
        if question_id != state.current or question_id not in self._index:
            return Rejected(Rejection.stale)
        question = self.spec.questions[self._index[question_id]]
        given = set(option_ids)
        visible = self.visible_options(state, question)
        chosen = tuple(o for o in visible if o.id in given)
        if not chosen or len(chosen) != len(given):
            return Rejected(Rejection.invalid)
        if len(chosen) > 1 and (question.choice == "single" or any(o.exclusive for o in chosen)):
            return Rejected(Rejection.invalid)
        answers = (*state.answers, Answer(q=question.id, o=tuple(o.id for o in chosen)))
        update: dict[str, object] = {
            "answers": answers,
            "pending": (),
            "stopping": False,
            **_stamp(now),
        }
        nxt = self._next_after(self._answer_map(answers), self._index[question_id])
        if any(o.urgent for o in chosen):
            update |= {"status": Status.urgent, "current": None}
        elif nxt is None:
            update |= {"status": Status.finished, "current": None}
        else:
            update["current"] = nxt.id
        return state.model_copy(update=update)

    def toggle(
        self, state: State, question_id: str, option_id: str, *, now: float | None = None
    ) -> State | Rejected:
        """Tick or untick an option of the current multi-choice question."""
        if state.status != Status.active:
            return Rejected(Rejection.ended)
        if question_id != state.current:
            return Rejected(Rejection.stale)
        question = self.spec.questions[self._index[question_id]]
        option = next((o for o in self.visible_options(state, question) if o.id == option_id), None)
        if question.choice != "multi" or option is None:
            return Rejected(Rejection.invalid)
        ticked = set(state.pending)
        if option.id in ticked:
            ticked.discard(option.id)
        elif option.exclusive:
            ticked = {option.id}
        else:
            combinable = {o.id for o in question.options if not o.exclusive}
            ticked = (ticked & combinable) | {option.id}
        pending = tuple(o.id for o in question.options if o.id in ticked)
        return state.model_copy(update={"pending": pending, "stopping": False, **_stamp(now)})

    def submit(
        self, state: State, question_id: str, *, now: float | None = None
    ) -> State | Rejected:
        """Send the ticked options of a multi-choice question as its answer."""
        if state.status == Status.active and question_id == state.current and not state.pending:
            return Rejected(Rejection.empty_choice)
        return self.answer(state, question_id, state.pending, now=now)

    def back(self, state: State, *, now: float | None = None) -> State | Rejected:
        """Return to the previous question, its earlier answer pre-selected in `pending`."""
        if state.status not in (Status.active, Status.finished):
            return Rejected(Rejection.ended)
        if not state.answers:
            return Rejected(Rejection.first_question)
        last = state.answers[-1]
        return state.model_copy(
            update={
                "answers": state.answers[:-1],
                "current": last.q,
                "pending": last.o,
                "status": Status.active,
                "stopping": False,
                **_stamp(now),
            }
        )

    def stop(self, state: State, *, now: float | None = None) -> State | Rejected:
        if state.status != Status.active:
            return Rejected(Rejection.ended)
        update = {"status": Status.stopped, "current": None, "stopping": False, "pending": ()}
        return state.model_copy(update=update | _stamp(now))

    def is_expired(self, state: State, now: float) -> bool:
        return state.status == Status.active and now - state.updated_at >= self.ttl_seconds

    def restore(self, raw: str | bytes | Mapping[str, Any]) -> State | None:
        """A stored state, re-checked against the current content (None if it no longer fits,
        e.g. the questionnaire changed since it was saved)."""
        stored = State.from_json(raw)
        if stored is None:
            return None
        replay: State | Rejected = self.start(stored.started_at).model_copy(
            update={"token": stored.token, "updated_at": stored.updated_at}
        )
        for answer in stored.answers:
            if isinstance(replay, Rejected):
                return None
            replay = self.answer(replay, answer.q, answer.o)
        if isinstance(replay, Rejected):
            return None
        if stored.status in (Status.stopped, Status.expired) and replay.status == Status.active:
            return replay.model_copy(update={"status": stored.status, "current": None})
        if replay.status != stored.status or replay.current != stored.current:
            return None
        question = self.current_question(replay)
        known = {o.id for o in self.visible_options(replay, question)} if question else set()
        if not set(stored.pending) <= known:
            return None
        return replay.model_copy(update={"pending": stored.pending, "stopping": stored.stopping})

    # ------------------------------------------------------------------ reading a state

    def current_question(self, state: State) -> Question | None:
        if state.status != Status.active or state.current not in self._index:
            return None
        return self.spec.questions[self._index[state.current]]

    def visible_options(self, state: State, question: Question) -> tuple[Option, ...]:
        answers = self._answer_map(state.answers)
        position = self._index[question.id]
        return tuple(
            o
            for o in question.options
            if o.show_if is None or self._eval(o.show_if, answers, position) is True
        )

    def step(self, state: State) -> QuestionView | Result | Ended:
        """What to show for this state: the current question, the result, or that it ended."""
        if state.status in (Status.finished, Status.urgent):
            return self.result(state)
        question = self.current_question(state)
        if question is None:
            return Ended(state.status if state.status != Status.active else Status.stopped)
        index = self._index[question.id]
        answers = self._answer_map(state.answers)
        reachable = sum(
            1
            for i in range(index, len(self.spec.questions))
            if self._asked(self.spec.questions[i], answers, index) is not False
        )
        previous = self.spec.questions[self._index[state.answers[-1].q]] if state.answers else None
        options = tuple(
            OptionView(question.options.index(o), o, o.id in state.pending)
            for o in self.visible_options(state, question)
        )
        return QuestionView(
            question=question,
            index=index,
            number=len(state.answers) + 1,
            total=len(state.answers) + reachable,
            options=options,
            can_go_back=bool(state.answers),
            first_of_section=previous is None or previous.section != question.section,
        )

    def result(self, state: State) -> Result:
        """The scored outcome of the answers so far (normally called once finished)."""
        tally = self._tally(state.answers)
        if tally.urgent is not None and tally.urgent.urgent:
            return self._urgent_result(tally, tally.urgent.urgent, tally.urgent.sources)
        level = self._level(tally)
        settings = self.spec.settings
        ranked = sorted(
            (s for s in self.spec.signals if tally.signals.get(s, 0) >= settings.contributor_min),
            key=lambda s: -tally.signals[s],
        )
        contributors = tuple(ranked[: settings.max_contributors])
        reasons_for = tuple(r for _, r in sorted(tally.reasons_for, key=lambda x: -x[0]))
        result = Result(
            level=level.id,
            title=level.title,
            b12=tally.b12,
            signals=dict(tally.signals),
            tags=frozenset(tally.tags),
            reasons_for=reasons_for,
            reasons_against=tuple(tally.reasons_against),
            contributors=contributors,
            notes=tuple(tally.notes),
            text="",
            summary="",
        )
        text = self._result_text(state, level, result, tally)
        return replace(result, text=text, summary=self._summary_text(state, level))

    # ------------------------------------------------------------------ rendering

    def render(self, state: State, *, show_why: bool = False) -> Reply:
        """The message for this state (question, result, urgent reply, or ended)."""
        view = self.step(state)
        if isinstance(view, Result):
            if view.level == "urgent":
                return Reply(text=view.text, kind=ReplyKind.urgent)
            buttons = (
                Button(self.ui.button_summary, self._action(state, "r", "sum")),
                Button(self.ui.button_back, self._action(state, "r", "back")),
            )
            return Reply(text=view.text, kind=ReplyKind.answer, buttons=buttons)
        if isinstance(view, Ended):
            text = self.ui.stopped if view.status == Status.stopped else self._expired_text()
            return Reply(text=text, kind=ReplyKind.answer)
        if state.stopping:
            return self._render_confirm(state, view)
        return self._render_question(state, view, show_why)

    def summary_reply(self, state: State) -> Reply | None:
        """The "Summary for my doctor" message, once the check has a (non-urgent) result."""
        if state.status != Status.finished:
            return None
        return Reply(text=self.result(state).summary, kind=ReplyKind.answer)

    def ended_reply(self) -> Reply:
        return Reply(text=self.ui.ended, kind=ReplyKind.answer)

    def continue_button(self, state: State) -> Button | None:
        """For a free-text answer given mid-check: a button back to the current question."""
        if state.status == Status.active and state.current in self._index:
            return Button(
                self.ui.button_continue, self._action(state, str(self._index[state.current]), "go")
            )
        return None

    def not_understood(self, state: State) -> Reply | None:
        """The current question again, prefixed with "didn't catch that" and the options."""
        question = self.current_question(state)
        if question is None:
            return None
        if state.stopping:
            names = [self.ui.button_stop_yes, self.ui.button_resume]
        else:
            names = [o.label for o in self.visible_options(state, question)]
        labels = [html.escape(name, quote=False) for name in names]
        hint = self.ui.not_understood.format(options=self.ui.option_separator.join(labels))
        reply = self.render(state)
        return Reply(text=f"{hint}\n\n{reply.text}", kind=reply.kind, buttons=reply.buttons)

    # ------------------------------------------------------------------ input handling

    def read_typed(self, state: State | None, text: str, reply: Reply, now: float) -> Typed:
        """A typed message, with the engine's `reply` to it, in a chat whose check is `state`:
        an answer to the running check, a garbled answer (asked again), or a question of its
        own (answered, with a button back to the check). An emergency is always answered,
        and a check that expired says so before a real question gets its answer."""
        if reply.kind is ReplyKind.urgent or state is None or state.status is not Status.active:
            return Typed(answer=reply)
        step = self.handle_text(state, text, now)
        if step is not None and step.outcome is Outcome.expired:
            # "yes" to an expired question needs nothing more; a real question gets its answer.
            answered = self.handle_text(state, text, state.updated_at) is not None
            return Typed(answer=None if answered else reply, step=step)
        if step is not None:
            return Typed(answer=None, step=step)
        if reply.kind in _NOT_UNDERSTOOD:
            hint = self.not_understood(state)
            if hint is not None:
                return Typed(answer=None, hint=hint)
        button = self.continue_button(state)
        if reply.kind is ReplyKind.start_check or button is None:
            return Typed(answer=reply)
        return Typed(answer=replace(reply, buttons=(*reply.buttons, button)), detach=True)

    def handle_action(self, state: State | None, action: object, now: float) -> Transition:
        """A button press. Never raises on bad input: stale, forged or ended → an outcome."""
        match = ACTION.fullmatch(action) if isinstance(action, str) else None
        if match is None:
            return self._refused(state, Outcome.invalid)
        token, where, command = match.groups()
        if state is None or token != state.token:  # a button of another (older) check
            return self._refused(state, Outcome.ended)
        if self.is_expired(state, now):
            return self._expire(state)
        if where == "r":
            return self._result_action(state, command, now)
        if state.status != Status.active:
            return self._refused(state, Outcome.ended)
        index = int(where)
        if index >= len(self.spec.questions):
            return self._refused(state, Outcome.invalid)
        question = self.spec.questions[index]
        if question.id != state.current:
            return self._refused(state, Outcome.stale)
        return self._question_action(state, question, command, now)

    def handle_text(self, state: State | None, text: str, now: float) -> Transition | None:
        """A typed message during a check: an answer or command, or None if it is neither
        (then treat it as an ordinary question and offer `continue_button`)."""
        if state is None or state.status != Status.active or not isinstance(text, str):
            return None
        if self.is_expired(state, now):
            return self._expire(state)
        question = self.current_question(state)
        if question is None:
            return None
        typed = normalise(text)
        if state.stopping and typed in self._confirm_words:
            return self._question_action(state, question, self._confirm_words[typed], now)
        commands = self.ui.commands
        for name, words in (
            ("back", commands.back),
            ("stop", commands.stop),
            ("why", commands.why),
            ("go", commands.continue_),
        ):
            if typed in {normalise(w) for w in words}:
                return self._question_action(state, question, name, now)
        reading = read_answer(
            question, text, self.spec.typed, self.visible_options(state, question)
        )
        if isinstance(reading, AskBack):  # nothing recorded, nothing of the text kept
            ask = self.ui.ask_yes_no if reading is AskBack.yes_no else self.ui.ask_closest
            shown = self.render(state.model_copy(update={"stopping": False}))
            asked = replace(shown, text=f"{ask}\n\n{shown.text}")
            return Transition(Outcome.question, state.model_copy(update={"stopping": False}), asked)
        if reading is None:
            return None
        return self._after(self.answer(state, question.id, reading, now=now), state)

    # ------------------------------------------------------------------ internals

    def _question_action(
        self, state: State, question: Question, command: str, now: float
    ) -> Transition:
        if command == "stop":  # ask first: Stop sits next to Back and Why?
            confirming = state.model_copy(update={"stopping": True, **_stamp(now)})
            return Transition(Outcome.confirm, confirming, self.render(confirming))
        if command == "end":
            return self._after(self.stop(state, now=now), state)
        state = state.model_copy(update={"stopping": False})  # anything else goes on
        if command == "why":
            return Transition(Outcome.why, state, self.render(state, show_why=True))
        if command == "go":
            return Transition(Outcome.question, state, self.render(state))
        if command == "back":
            return self._after(self.back(state, now=now), state)
        if command == "ok":
            return self._after(self.submit(state, question.id, now=now), state)
        option = OPTION.fullmatch(command)  # "sum", "t", … on a question: forged
        if option is None:
            return self._refused(state, Outcome.invalid)
        multi, number = bool(option.group(1)), int(option.group(2))
        if multi != (question.choice == "multi") or number >= len(question.options):
            return self._refused(state, Outcome.invalid)
        option_id = question.options[number].id
        if multi:
            return self._after(self.toggle(state, question.id, option_id, now=now), state)
        return self._after(self.answer(state, question.id, (option_id,), now=now), state)

    def _result_action(self, state: State, command: str, now: float) -> Transition:
        if state.status == Status.active:
            return self._refused(state, Outcome.stale)
        if state.status != Status.finished:
            return self._refused(state, Outcome.ended)
        if command == "sum":
            reply = Reply(text=self.result(state).summary, kind=ReplyKind.answer)
            return Transition(Outcome.summary, state, reply, new_message=True)
        if command == "back":
            return self._after(self.back(state, now=now), state)
        if command == "go":
            return Transition(Outcome.result, state, self.render(state))
        return self._refused(state, Outcome.invalid)

    def _after(self, new: State | Rejected, old: State) -> Transition:
        if isinstance(new, Rejected):
            notices = {
                Rejection.empty_choice: self.ui.empty_choice_notice,
                Rejection.first_question: self.ui.first_question_notice,
            }
            if new.reason in notices:
                return Transition(Outcome.question, old, self.render(old), notices[new.reason])
            return self._refused(old, Outcome(new.reason.value))
        outcome = {
            Status.active: Outcome.question,
            Status.finished: Outcome.result,
            Status.urgent: Outcome.urgent,
            Status.stopped: Outcome.stopped,
        }[new.status]
        return Transition(outcome, new, self.render(new))

    def _refused(self, state: State | None, outcome: Outcome) -> Transition:
        """Stale or invalid input on a live check shows where we are; otherwise "ended"."""
        live = state is not None and state.status in (Status.active, Status.finished)
        if outcome == Outcome.ended or state is None or not live:
            return Transition(
                Outcome.ended if outcome != Outcome.invalid else outcome,
                state,
                self.ended_reply(),
                self.ui.ended,
            )
        notice = self.ui.stale_notice if outcome == Outcome.stale else None
        return Transition(outcome, state, self.render(state), notice)

    def _expire(self, state: State) -> Transition:
        # Nothing of the question it ended on is kept (the Stop prompt, options ticked but not
        # sent): a stored expired check restores to exactly itself.
        update = {"status": Status.expired, "current": None, "stopping": False, "pending": ()}
        expired = state.model_copy(update=update)
        return Transition(Outcome.expired, expired, self.render(expired), new_message=True)

    def _expired_text(self) -> str:
        return self.ui.expired.format(hours=self.spec.settings.expire_after_hours)

    def _action(self, state: State, where: str, command: str) -> str:
        return f"q:{state.token}:{where}:{command}"

    def _answer_map(self, answers: Sequence[Answer]) -> dict[str, tuple[str, ...]]:
        return {a.q: a.o for a in answers}

    def _eval(
        self, cond: Condition, answers: dict[str, tuple[str, ...]], position: int
    ) -> bool | None:
        """Three-valued: None while a question it depends on may still be asked."""
        if cond.question is not None:
            if cond.question in answers:
                return bool(set(answers[cond.question]) & set(cond.any_of))
            return False if self._index[cond.question] < position else None
        if cond.not_ is not None:
            value = self._eval(cond.not_, answers, position)
            return None if value is None else not value
        values = [self._eval(c, answers, position) for c in (cond.all_ or cond.any_ or ())]
        decisive = cond.all_ is None  # `any`: True decides; `all`: False decides
        if decisive in values:
            return decisive
        return None if None in values else not decisive

    def _asked(
        self, question: Question, answers: dict[str, tuple[str, ...]], position: int
    ) -> bool | None:
        return True if question.ask_if is None else self._eval(question.ask_if, answers, position)

    def _next_after(self, answers: dict[str, tuple[str, ...]], index: int) -> Question | None:
        for i in range(index + 1, len(self.spec.questions)):
            if self._asked(self.spec.questions[i], answers, i):
                return self.spec.questions[i]
        return None

    def _tally(self, answers: Sequence[Answer]) -> Tally:
        tally = Tally()
        given, end = self._answer_map(answers), len(self.spec.questions)
        for answer in answers:
            question = self.spec.questions[self._index[answer.q]]
            for option in (question.option(i) for i in answer.o):
                if option is None:
                    continue
                tally.b12 += option.b12
                for name, weight in option.signals.items():
                    tally.signals[name] = tally.signals.get(name, 0) + weight
                tally.tags.update(option.tags)
                tally.notes += [n for n in option.notes if n not in tally.notes]
                if option.reason_for:
                    tally.reasons_for.append((option.b12, option.reason_for))
                if option.reason_against and (
                    option.reason_against_if is None
                    or self._eval(option.reason_against_if, given, end)
                ):
                    tally.reasons_against.append(option.reason_against)
                if option.b12:
                    tally.sources.append((abs(option.b12), option.sources))
                if option.urgent and tally.urgent is None:
                    tally.urgent = option
        return tally

    def _level(self, tally: Tally) -> Level:
        other = max(tally.signals.values(), default=0)
        for level in self.spec.levels:
            if not level.when or any(
                (r.b12_at_least is None or tally.b12 >= r.b12_at_least)
                and (r.other_at_least is None or other >= r.other_at_least)
                and set(r.tags) <= tally.tags
                for r in level.when
            ):
                return level
        return self.spec.levels[-1]

    def _urgent_result(self, tally: Tally, advice: str, sources: Sequence[str]) -> Result:
        urgent = self.spec.urgent
        parts = [urgent.title, advice, urgent.footer, self._sources_line(sources)]
        text = "\n\n".join(p for p in parts if p)
        return Result(
            level="urgent",
            title=urgent.title,
            b12=tally.b12,
            signals=tally.signals,
            tags=frozenset(tally.tags),
            reasons_for=(),
            reasons_against=(),
            contributors=(),
            notes=(),
            text=text,
            summary="",
        )

    def _bullets(self, title: str, lines: Sequence[str]) -> str:
        return "\n".join([title, *(self.spec.result.bullet + line for line in lines)])

    def _ticked(self, state: State, signal: str) -> str:
        """The ticked options behind a contributor (" You ticked: Statins (for …).")."""
        texts = self.spec.result
        if not self.spec.signals[signal].name_ticked:
            return ""
        labels = [
            html.escape(option.label, quote=False)
            for answer in state.answers
            if (question := self.spec.questions[self._index[answer.q]]).choice == "multi"
            for option in (question.option(i) for i in answer.o)
            if option is not None and option.signals.get(signal, 0) > 0
        ]
        if not labels:
            return ""
        return " " + texts.ticked.format(options=texts.ticked_separator.join(labels))

    def _result_text(self, state: State, level: Level, result: Result, tally: Tally) -> str:
        texts, spec = self.spec.result, self.spec
        important = [spec.notes[n].text for n in result.notes if spec.notes[n].section != "tests"]
        ranked = sorted(tally.sources, key=lambda item: -item[0])
        sources = [*level.sources, *(s for _, cited in ranked for s in cited)]
        parts = [f"{texts.level_title.format(title=level.title)}\n{level.text}"]
        optional: list[str] = []  # what may give way, first to go first
        if important:
            parts.append(self._bullets(texts.notes_title, important))
            sources += [s for n in result.notes for s in spec.notes[n].sources]
        if result.reasons_for:
            parts.append(self._bullets(texts.reasons_for_title, result.reasons_for))
        if result.reasons_against:
            parts.append(self._bullets(texts.reasons_against_title, result.reasons_against))
        if result.contributors:
            lines = [
                texts.contributor_line.format(
                    label=spec.signals[s].label, advice=spec.signals[s].advice
                )
                + self._ticked(state, s)
                for s in result.contributors
            ]
            optional.append(self._bullets(texts.contributors_title, lines))
            parts.append(optional[-1])
            sources += [s for c in result.contributors for s in spec.signals[c].sources]
        if level.show_tests:
            test_notes = [
                spec.notes[n].text for n in result.notes if spec.notes[n].section == "tests"
            ]
            parts.append("\n".join([texts.tests, *(texts.bullet + t for t in test_notes)]))
            sources += texts.tests_sources
        if level.show_food:
            answers = self._answer_map(state.answers)
            end = len(spec.questions)
            food = next(f for f in texts.food if f.if_ is None or self._eval(f.if_, answers, end))
            optional.insert(0, food.text)
            parts.append(food.text)
            sources += food.sources
        parts.append(texts.disclaimer)
        # Safety notes, reasons and tests always stay; when every box is ticked the food ideas,
        # then the other causes, give way so the result still fits one message.
        body = "\n\n".join(parts)
        while len(body) > TELEGRAM_LIMIT and optional:
            parts.remove(optional.pop(0))
            body = "\n\n".join(parts)
        room = TELEGRAM_LIMIT - len(body) - 2
        return f"{body}\n\n{self._sources_line(sources, room)}".rstrip()

    def _sources_line(self, source_ids: Sequence[str], room: int = TELEGRAM_LIMIT) -> str:
        """ "Sources: …" with as many titles (in citation order) as fit in `room`."""
        titles = self.content.source_titles
        unique = [titles[s] for s in dict.fromkeys(source_ids) if s in titles]
        unique = unique[: self.spec.settings.max_sources]
        texts = self.spec.result
        while unique:
            joined = texts.sources_separator.join(html.escape(t, quote=False) for t in unique)
            line = texts.sources_label.format(titles=joined)
            if len(line) <= room:
                return line
            unique.pop()
        return ""

    def _summary_text(self, state: State, level: Level) -> str:
        texts, spec = self.spec.summary, self.spec
        date = datetime.fromtimestamp(state.started_at, tz=UTC).date().isoformat()
        blocks = [texts.title, texts.intro.format(date=date)]
        for section in spec.sections:
            answered = [
                a for a in state.answers if spec.questions[self._index[a.q]].section == section.id
            ]
            if not answered:
                continue
            lines = []
            for answer in answered:
                question = spec.questions[self._index[answer.q]]
                if set(answer.o) <= set(question.summary_skip):
                    continue
                options = [question.option(i) for i in answer.o]
                labels = [o.summary or o.label for o in options if o is not None]
                lines.append(
                    texts.line.format(
                        question=html.escape(question.summary, quote=False),
                        answer=html.escape(texts.answer_separator.join(labels), quote=False),
                    )
                )
            heading = texts.section_title.format(title=section.title)
            blocks.append("\n".join([heading, *(lines or [texts.none_reported])]))
        blocks.append(texts.result.format(level=level.title))
        if level.show_tests:
            blocks.append(texts.tests)
        return "\n\n".join(blocks)

    def _render_confirm(self, state: State, view: QuestionView) -> Reply:
        """Asks "Stop the check here?" with Yes, stop and Resume (the question again)."""
        where = str(view.index)
        buttons = (
            Button(self.ui.button_stop_yes, self._action(state, where, "end")),
            Button(self.ui.button_resume, self._action(state, where, "go")),
        )
        return Reply(text=self.ui.stop_confirm, kind=ReplyKind.answer, buttons=buttons)

    def _render_question(self, state: State, view: QuestionView, show_why: bool) -> Reply:
        ui, question = self.ui, view.question
        lines = []
        if view.number == 1:
            lines.append(ui.intro + "\n")
        section = self._sections[question.section]
        if view.first_of_section and section.intro:
            lines.append(section.intro)
        lines += [ui.progress.format(n=view.number, total=view.total), question.text]
        if show_why:
            lines.append(ui.why_label.format(why=question.why))
        if question.choice == "multi":
            lines.append(ui.multi_hint)
        elif state.pending:
            lines.append(ui.previous_hint)
        where = str(view.index)
        prefix = "t" if question.choice == "multi" else ""
        buttons = [
            Button(
                (ui.selected_mark if o.selected else "") + o.option.label,
                self._action(state, where, f"{prefix}{o.index}"),
            )
            for o in view.options
        ]
        if question.choice == "multi":
            buttons.append(Button(ui.button_done, self._action(state, where, "ok")))
        if view.can_go_back:
            buttons.append(Button(ui.button_back, self._action(state, where, "back")))
        if not show_why:
            buttons.append(Button(ui.button_why, self._action(state, where, "why")))
        buttons.append(Button(ui.button_stop, self._action(state, where, "stop")))
        return Reply(text="\n".join(lines), kind=ReplyKind.answer, buttons=tuple(buttons))


def _stamp(now: float | None) -> dict[str, float]:
    return {} if now is None or not math.isfinite(now) else {"updated_at": now}

"""The B12 check: a pure state machine over content/questionnaire.yaml.

`state.py` holds the data (a chat's `State`, the views and results steps return),
`typed.py` reads typed answers onto options, `flow.py` is the `CheckEngine` that moves a
check on: start, answer, back, stop, the result and its rendering.
"""

from bot.core.check.flow import CheckEngine
from bot.core.check.state import (
    MAX_ACTION_BYTES,
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
    Transition,
    Typed,
)
from bot.core.check.typed import AskBack, parse_typed_answer, read_answer

__all__ = [
    "MAX_ACTION_BYTES",
    "Answer",
    "AskBack",
    "CheckEngine",
    "Ended",
    "OptionView",
    "Outcome",
    "QuestionView",
    "Rejected",
    "Rejection",
    "Result",
    "State",
    "Status",
    "Transition",
    "Typed",
    "parse_typed_answer",
    "read_answer",
]

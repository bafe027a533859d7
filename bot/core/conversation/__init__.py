"""Conversation: the dialogue state of a chat and the follow-ups read against it."""

from bot.core.conversation.dialogue import Dialogue
from bot.core.conversation.follow import FollowUps

__all__ = ["Dialogue", "FollowUps"]

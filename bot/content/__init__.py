"""The content store: YAML in content/, validated into pydantic models."""

from bot.content.models import Category, Food, FoodKind, Intent, Problem, Source, Synonyms
from bot.content.store import Content, ContentError, check_directory, load_content, report

__all__ = [
    "Category",
    "Content",
    "ContentError",
    "Food",
    "FoodKind",
    "Intent",
    "Problem",
    "Source",
    "Synonyms",
    "check_directory",
    "load_content",
    "report",
]

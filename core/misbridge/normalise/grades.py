"""Assessment grade types: the usual spellings of "working at", "predicted", "expected"
and "target" mapped onto one word each, so that marksheets from different MIS agree.

A marksheet's grade type is the school's own vocabulary (SIMS aspects, Bromcom
assessment types): anything not recognised here is kept as given (trimmed), never
guessed into one of the four.
"""

from __future__ import annotations

from misbridge.normalise.rules import clean_text

__all__ = ["GRADE_TYPES", "grade_type"]

#: The canonical grade types.
GRADE_TYPES = ("working-at", "predicted", "expected", "target")

_SPELLINGS = {
    "working-at": (
        "working at",
        "working-at",
        "workingat",
        "working at grade",
        "current",
        "current grade",
        "current working at",
        "wag",
        "wa",
    ),
    "predicted": ("predicted", "predicted grade", "prediction", "forecast", "forecast grade"),
    "expected": ("expected", "expected grade", "expected outcome", "expected standard"),
    "target": ("target", "target grade", "minimum target grade", "mtg", "aspirational target"),
}
_CANONICAL = {spelling: kind for kind, spellings in _SPELLINGS.items() for spelling in spellings}


def _key(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").split())


def grade_type(value: str | None) -> str | None:
    """``"Working At"`` -> ``"working-at"``; an unknown word is kept, trimmed; blank is None."""
    text = clean_text(value)
    if text is None:
        return None
    return _CANONICAL.get(_key(text), text)

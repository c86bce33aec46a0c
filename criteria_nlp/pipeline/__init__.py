"""The criteria-nlp spaCy pipeline (tokenizer, variable matcher, constraint extractor,
operator repair) and the helpers that run it over segmented items."""

from __future__ import annotations

import os

import spacy
from spacy.language import Language

from criteria_nlp.schema import Constraint, Population


def build_pipeline() -> Language:
    """A fresh pipeline built from the rules bundled in ``criteria_nlp/resources``."""
    # TEMPORARY: replaced by the real pipeline (issue 3).
    return spacy.blank("en")


def load_pipeline(path: str | os.PathLike | None = None) -> Language:
    if path is None:
        return build_pipeline()
    return spacy.load(path)


def extract_items(nlp: Language, items, population: Population | None = None, repair: bool = True) -> list[list[Constraint]]:
    """Constraints of each segmented item (offsets index each item's ``text``)."""
    # TEMPORARY: replaced by the real extractor (issue 3).
    return [[] for _ in items]


def extract_text(nlp: Language, text: str, kind: str | None = None, repair: bool = True) -> list[Constraint]:
    from criteria_nlp.segment.base import Item

    item = Item(kind=kind or "inclusion", label=None, text=text, start=0, end=len(text))
    return extract_items(nlp, [item], repair=repair)[0]

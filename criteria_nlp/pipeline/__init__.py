"""The criteria-nlp spaCy pipeline (tokenizer, variable matcher, constraint extractor,
operator repair) and the helpers that run it over segmented items.

    nlp = build_pipeline()       # blank "en" + criteria tokenizer + 3 rule components
    nlp.to_disk("models/x")      # the rules travel inside the folder
    spacy.load("models/x")       # works in a fresh process (entry points in pyproject)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import spacy
from spacy.language import Language

from criteria_nlp.pipeline.numbers import HAS_NUMBER
from criteria_nlp.schema import Constraint, Population

TOKENIZER = "criteria_nlp.tokenizer.v1"
# The cheap test the components run first: text without any number holds no constraint.
HAS_NUMBER_CHECK = HAS_NUMBER.search
COMPONENTS = ("criteria_variables", "criteria_constraints")
REPAIR = "criteria_repair"
BATCH_SIZE = 256
# spaCy refuses texts over 1,000,000 characters (a guard for its parser and NER, which this
# pipeline has not); every stage here is linear, so a longer criterion is read like any other.
MAX_LENGTH = 100_000_000


def build_pipeline() -> Language:
    """A fresh pipeline built from the rules bundled in ``criteria_nlp/resources``."""
    # Importing registers the factories even when the package is not installed (tests
    # run from a checkout); installed, the entry points do the same for spacy.load.
    from criteria_nlp.pipeline import constraints, tokenizer, variables  # noqa: F401

    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER}}})
    from criteria_nlp.pipeline import repair  # noqa: F401

    for name in (*COMPONENTS, REPAIR):
        nlp.add_pipe(name)
    nlp.max_length = MAX_LENGTH
    return nlp


def load_pipeline(path: str | os.PathLike | None = None) -> Language:
    """The pipeline saved in ``path`` (``nlp.to_disk``), or a fresh one when None."""
    if path is None:
        nlp = build_pipeline()
    elif not os.path.isdir(path):
        raise FileNotFoundError(f"{path}: no such pipeline folder (write one with 'criteria-nlp build-model')")
    else:
        nlp = spacy.load(path)
    nlp.max_length = MAX_LENGTH
    return nlp


def extract_items(
    nlp: Language, items: Sequence, population: Population | None = None, repair: bool = True
) -> list[list[Constraint]]:
    """Constraints of each segmented item (offsets index each item's ``text``).

    Each doc gets ``doc._.criterion_kind`` (the item's kind) and ``doc._.population``
    for the repair component; ``repair=False`` skips it and keeps a bare "=" as read."""
    docs = []
    for item in items:
        doc = nlp.make_doc(item.text)
        doc._.criterion_kind = getattr(item, "kind", None)
        doc._.population = population
        docs.append(doc)
    disable = [REPAIR] if not repair and REPAIR in nlp.pipe_names else []
    out = []
    with nlp.select_pipes(disable=disable):
        for doc in nlp.pipe(docs, batch_size=BATCH_SIZE):
            out.append(list(doc._.constraints or []))
    return out


def extract_text(nlp: Language, text: str, kind: str | None = None, repair: bool = True) -> list[Constraint]:
    from criteria_nlp.segment.base import Item

    item = Item(kind=kind or "inclusion", label=None, text=text, start=0, end=len(text))
    return extract_items(nlp, [item], repair=repair)[0]

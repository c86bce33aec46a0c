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


def build_pipeline() -> Language:
    """A fresh pipeline built from the rules bundled in ``criteria_nlp/resources``."""
    # Importing registers the factories even when the package is not installed (tests
    # run from a checkout); installed, the entry points do the same for spacy.load.
    from criteria_nlp.pipeline import constraints, tokenizer, variables  # noqa: F401

    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER}}})
    from criteria_nlp.pipeline import repair  # noqa: F401

    for name in (*COMPONENTS, REPAIR):
        nlp.add_pipe(name)
    return nlp


def load_pipeline(path: str | os.PathLike | None = None) -> Language:
    """The pipeline saved in ``path`` (``nlp.to_disk``), or a fresh one when None."""
    if path is None:
        return build_pipeline()
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path}: no such pipeline folder (write one with 'criteria-nlp build-model')")
    return spacy.load(path)


def extract_items(
    nlp: Language, items: Sequence, population: Population | None = None, repair: bool = True
) -> list[list[Constraint]]:
    """Constraints of each segmented item (offsets index each item's ``text``).

    Each doc gets ``doc._.criterion_kind`` (the item's kind) and ``doc._.population``
    for the repair component; ``repair=False`` skips it and keeps a bare "=" as read."""
    from criteria_nlp.pipeline.lost_signs import PROFILE_KEY, TRACES_KEY, profile

    traces = [getattr(item, "lost_sign_traces", None) for item in items]
    signs = profile([item.text for item in items], traces)  # how the record writes its signs
    docs = []
    for item, trace in zip(items, traces, strict=True):
        doc = nlp.make_doc(item.text)
        doc.user_data[PROFILE_KEY] = signs
        if trace is not None:
            doc.user_data[TRACES_KEY] = trace
        doc._.criterion_kind = getattr(item, "kind", None)
        doc._.population = population
        docs.append(doc)
    disable = [REPAIR] if not repair and REPAIR in nlp.pipe_names else []
    out = []
    with nlp.select_pipes(disable=disable):
        for doc in nlp.pipe(docs, batch_size=BATCH_SIZE):
            out.append(list(doc._.constraints or []))
    if repair and REPAIR in nlp.pipe_names:
        from criteria_nlp.pipeline.lost_signs import record_pass

        out = record_pass(items, out, population)  # bare numbers of a record that lost its signs
    return out


def extract_text(nlp: Language, text: str, kind: str | None = None, repair: bool = True) -> list[Constraint]:
    from criteria_nlp.segment.base import Item

    item = Item(kind=kind or "inclusion", label=None, text=text, start=0, end=len(text))
    return extract_items(nlp, [item], repair=repair)[0]

"""The criteria-nlp spaCy pipeline (tokenizer, variable matcher, constraint extractor,
operator repair) and the helpers that run it over segmented items.

    nlp = build_pipeline()       # blank "en" + criteria tokenizer + 3 rule components
    nlp.to_disk("models/x")      # the rules travel inside the folder
    spacy.load("models/x")       # works in a fresh process (entry points in pyproject)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import nullcontext

import spacy
from spacy.language import Language

from criteria_nlp.pipeline.numbers import text_has_number
from criteria_nlp.schema import Constraint, Population

TOKENIZER = "criteria_nlp.tokenizer.v1"
# The cheap test the components run first: text without any number holds no constraint.
HAS_NUMBER_CHECK = text_has_number
COMPONENTS = ("criteria_variables", "criteria_constraints")
REPAIR = "criteria_repair"
BATCH_SIZE = 256
# spaCy refuses texts over 1,000,000 characters (a guard for its parser and NER, which this
# pipeline has not); every stage here is linear, so a longer criterion is read like any other.
MAX_LENGTH = 100_000_000
# No real record holds thousands of comparisons (the most in 8,120 ClinicalTrials.gov
# studies is 89): an input that does is pasted data or many records run together. Reading
# stops there, so that a megabyte of numbers and operators costs seconds, not minutes.
MAX_RECORD_CONSTRAINTS = 2_000


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


def _number_free_is_empty(nlp: Language, names: tuple[str, ...] | None = None) -> bool:
    """Whether every component of ``nlp`` leaves a doc without any number untouched, so
    that an item whose text holds no digit, number word or roman numeral has no constraint
    and needs no tokenizer pass. True for the bundled pipeline; a pipeline with other
    components, or a variable matcher told to run on every doc, gets every item.
    ``names``: ``tuple(nlp.pipe_names)`` when the caller has it (spaCy builds the list anew
    at every ask)."""
    names = tuple(nlp.pipe_names) if names is None else names
    cached = getattr(nlp, "_criteria_number_free_empty", None)
    if cached is not None and cached[0] == names:
        return cached[1]
    ok = all(name in (*COMPONENTS, REPAIR) for name in names) and "criteria_constraints" in names
    if ok and "criteria_variables" in names:
        ok = bool(getattr(nlp.get_pipe("criteria_variables"), "only_with_numbers", False))
    nlp._criteria_number_free_empty = (names, ok)
    return ok


class ExtractedItems(list):
    """The constraints of each item (a list of lists), and where reading stopped:
    ``cut_at`` is the index of the first item not read because the record reached
    ``max_record_constraints`` (None: every item was read)."""

    cut_at: int | None = None


def extract_items(
    nlp: Language,
    items: Sequence,
    population: Population | None = None,
    repair: bool = True,
    max_record_constraints: int | None = MAX_RECORD_CONSTRAINTS,
) -> ExtractedItems:
    """Constraints of each segmented item (offsets index each item's ``text``).

    Each doc gets ``doc._.criterion_kind`` (the item's kind) and ``doc._.population``
    for the repair component; ``repair=False`` skips it and keeps a bare "=" as read.
    An item without any number gets no doc at all (every component skips such docs).
    Within an active :class:`~criteria_nlp.pipeline.memo.ItemMemo` of ``nlp`` (the batch
    path), an item already read with the same context is not read again. Items are read in
    order, a slice at a time; once the record holds ``max_record_constraints`` (None: no
    limit) the items after the one that reached it are not read (``cut_at``)."""
    from criteria_nlp.pipeline.lost_signs import PROFILE_KEY, TRACES_KEY, profile
    from criteria_nlp.pipeline.memo import SignHabits, current

    traces = [getattr(item, "lost_sign_traces", None) for item in items]
    # how the record writes its signs, as the items' docs read it
    record_profile = profile([item.text for item in items], traces)
    signs = SignHabits.of(record_profile)
    names = tuple(nlp.pipe_names)  # (a new list at every ask)
    skip = _number_free_is_empty(nlp, names)
    memo = current(nlp)
    context = None
    if memo is not None:
        pop = population.model_dump_json() if population is not None else None
        context = (signs, pop, bool(repair), names)
    out = ExtractedItems([] for _ in items)
    disable = [REPAIR] if not repair and REPAIR in names else []
    total = 0
    for first in range(0, len(items), BATCH_SIZE):
        last = min(first + BATCH_SIZE, len(items))
        docs = []
        wanted = []
        keys = []
        for i in range(first, last):
            item, trace = items[i], traces[i]
            if skip and (memo.number_free(item.text, HAS_NUMBER_CHECK) if memo is not None
                         else not HAS_NUMBER_CHECK(item.text)):
                continue
            kind = getattr(item, "kind", None)
            if memo is not None:
                key = (item.text, kind, None if trace is None else tuple(sorted(trace)), context)
                kept = memo.get(key)
                if kept is not None:
                    out[i] = kept
                    continue
                keys.append(key)
            doc = nlp.make_doc(item.text)
            doc.user_data[PROFILE_KEY] = signs
            if trace is not None:
                doc.user_data[TRACES_KEY] = trace
            doc._.criterion_kind = kind
            doc._.population = population
            docs.append(doc)
            wanted.append(i)
        if docs:
            with nlp.select_pipes(disable=disable) if disable else nullcontext():
                for i, doc in zip(wanted, nlp.pipe(docs, batch_size=BATCH_SIZE), strict=True):
                    out[i] = list(doc._.constraints or [])
            if memo is not None:
                for key, i in zip(keys, wanted, strict=True):
                    memo.put(key, out[i])
        if max_record_constraints is None:
            continue
        for i in range(first, last):
            total += len(out[i])
            if total >= max_record_constraints and i + 1 < len(items):
                out.cut_at = i + 1
                for j in range(i + 1, last):
                    out[j] = []
                break
        if out.cut_at is not None:
            break
    if repair and REPAIR in names and any(out):
        from criteria_nlp.pipeline.lost_signs import record_pass

        pipe = nlp.get_pipe("criteria_constraints") if "criteria_constraints" in names else None
        data = getattr(pipe, "lost_sign_data", None)
        # bare numbers of a record that lost its signs (in place: ``cut_at`` stays)
        out[:] = record_pass(items, list(out), population, data, record_profile)
    return out


def extract_text(nlp: Language, text: str, kind: str | None = None, repair: bool = True) -> list[Constraint]:
    from criteria_nlp.segment.base import Item

    item = Item(kind=kind or "inclusion", label=None, text=text, start=0, end=len(text))
    return extract_items(nlp, [item], repair=repair)[0]

"""Cheap tests around medspaCy's ConText, which the constraint extractor runs for negation.

ConText is the slowest step of the pipeline per doc. It only ever negates a target from
a negation modifier whose scope overlaps it, and a modifier's scope lies inside the
sentence (here: clause) where the modifier starts. Its modifiers are phrase matches on
lower-case tokens, so a negation modifier starts at a token whose lower-case text is the
first token of a negation cue. When no clause that a target overlaps holds such a token,
ConText cannot negate anything in the doc and is not run: the result is the same.
"""

from __future__ import annotations

import numpy
from spacy.attrs import LOWER, ORTH
from spacy.strings import get_string_id

# The tokens that end a clause: the next token starts a new "sentence" for ConText.
CLAUSE_ENDS = (";", ".", "!", "?")
_END_IDS = [numpy.uint64(get_string_id(t)) for t in CLAUSE_ENDS]
_START, _INSIDE = 1, numpy.uint64(2**64 - 1)  # spaCy's sent_start values 1 and -1 (as uint64)


def clause_starts(doc):  # noqa: ANN001, ANN201 - a spaCy Doc; a numpy array
    """spaCy SENT_START values (uint64, for ``doc.from_array``): a token starts a clause
    when it is the first token or follows one of ``CLAUSE_ENDS``."""
    orth = doc.to_array(ORTH)
    starts = numpy.full(len(orth), _INSIDE, dtype=numpy.uint64)
    if len(starts):
        prev = orth[:-1]
        ends = numpy.zeros(len(prev), dtype=bool)
        for end in _END_IDS:
            ends |= prev == end
        starts[0] = _START
        starts[1:][ends] = _START
    return starts


def negation_openers(nlp, rules: list[dict]):  # noqa: ANN001, ANN201
    """String ids of the lower-case first tokens of the negation cues (tokenized as
    medspaCy tokenizes a literal rule: lower-cased, by the pipeline's tokenizer); None when
    some negation rule is a token or regex pattern, which this test does not cover."""
    ids = set()
    for rule in rules:
        literal = rule.get("literal")
        if rule.get("pattern") is not None or not literal:
            return None
        tokens = nlp.tokenizer(literal.lower())
        if len(tokens):
            ids.add(get_string_id(tokens[0].lower_))
    return frozenset(ids)


def negation_possible(doc, starts, targets, openers) -> bool:  # noqa: ANN001
    """Whether a negation cue may start in a clause that one of ``targets`` overlaps."""
    if openers is None:
        return True
    cues = [i for i, lower in enumerate(doc.to_array(LOWER).tolist()) if lower in openers]
    if not cues:
        return False
    clause = numpy.cumsum(starts == _START).tolist()
    with_cue = {clause[i] for i in cues}
    for span in targets:
        if span.end <= span.start:
            return True
        if any(k in with_cue for k in range(clause[span.start], clause[span.end - 1] + 1)):
            return True
    return False

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
    """{string id: (forward, backward)} of the lower-case first tokens of the negation cues
    (tokenized as medspaCy tokenizes a literal rule: lower-cased, by the pipeline's
    tokenizer), with the directions of the cues they open; None when some negation rule is
    a token or regex pattern, or sets its own scope, which this test does not cover."""
    ids: dict[int, tuple[bool, bool]] = {}
    for rule in rules:
        literal = rule.get("literal")
        if rule.get("pattern") is not None or not literal or rule.get("max_scope") is not None:
            return None
        tokens = nlp.tokenizer(literal.lower())
        if not len(tokens):
            continue
        direction = str(rule.get("direction", "")).upper()
        forward, backward = direction != "BACKWARD", direction != "FORWARD"  # other: both ways
        key = get_string_id(tokens[0].lower_)
        was = ids.get(key, (False, False))
        ids[key] = (was[0] or forward, was[1] or backward)
    return ids


def negation_possible(doc, starts, targets, openers) -> bool:  # noqa: ANN001
    """Whether a negation cue may start at a token whose scope can reach one of ``targets``:
    a forward cue's scope runs from its end to the end of its clause, a backward cue's from
    the start of its clause to the cue (medspaCy ConText, no max_scope)."""
    if openers is None:
        return True
    lowers = doc.to_array(LOWER).tolist()
    cues = [(i, openers[lower]) for i, lower in enumerate(lowers) if lower in openers]
    if not cues:
        return False
    clause = numpy.cumsum(starts == _START).tolist()
    n = len(clause)
    # token bounds of each clause: [first token, one past the last)
    first: dict[int, int] = {}
    for i in range(n - 1, -1, -1):
        first[clause[i]] = i
    ends = {clause[i]: i + 1 for i in range(n)}
    for span in targets:
        ts, te = span.start, span.end
        if te <= ts:
            return True
        for i, (forward, backward) in cues:
            k = clause[i]
            if forward and ts < ends[k] and te > i + 1:
                return True
            if backward and ts < i and te > first[k]:
                return True
    return False

"""A trial's own abbreviations teach the lexicon, for that record only.

Criteria often define an abbreviation once ("SLE disease activity index (SLEDAI)",
"six-minute walk test (6MWT)") and use the short form after. When the long form is a
lexicon alias but the short form is not, a constraint named by the short form is renamed
to the lexicon variable. scispaCy's AbbreviationDetector (Schwartz & Hearst's algorithm)
finds the definitions; it needs no trained model.
"""

from __future__ import annotations

import re
from functools import lru_cache

import spacy

from criteria_nlp.schema import TrialRecord

# A definition needs a parenthesised short form: checking for one first keeps the
# detector off the records that cannot have any (most of them).
_DEFINITION_HINT = re.compile(r"\(\s*[A-Za-z0-9][\w\-/]{1,11}\s*\)")


@lru_cache(maxsize=1)
def _detector():
    from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  (registers the factory)

    from criteria_nlp.pipeline.tokenizer import linear_tokenizer

    nlp = spacy.blank("en")
    nlp.tokenizer = linear_tokenizer(nlp)  # spaCy's tokens, without its quadratic cost on long runs
    nlp.max_length = 100_000_000  # no parser here: a criterion over 10^6 characters is fine
    nlp.add_pipe("abbreviation_detector")
    return nlp


def find_abbreviations(text: str) -> dict[str, str]:
    """Short form -> long form for every abbreviation the text defines."""
    if not _DEFINITION_HINT.search(text):
        return {}
    found: dict[str, str] = {}
    for piece in _pieces(text):
        doc = _detector()(piece)
        for short in doc._.abbreviations:
            found.setdefault(short.text, short._.long_form.text)
    return found


# The detector is quadratic in the definitions it finds (scispaCy removes its matcher's
# patterns one by one): a text over twice this size (the longest real criteria text has
# 19,020 characters) is read in pieces of at most this size, cut at a line break or space.
_PIECE = 32 * 1024


def _pieces(text: str) -> list[str]:
    if len(text) <= 2 * _PIECE:
        return [text]
    pieces, pos, n = [], 0, len(text)
    while pos < n:
        end = min(n, pos + _PIECE)
        if end < n:
            cut = max(text.rfind("\n", pos + _PIECE // 2, end), text.rfind(" ", pos + _PIECE // 2, end)) + 1
            end = cut if cut > pos else end
        pieces.append(text[pos:end])
        pos = end
    return pieces


_INDEX_CACHE: dict[int, tuple[dict, dict[str, str]]] = {}


def _alias_index(entries: dict[str, dict]) -> dict[str, str]:
    """Folded alias -> canonical name; built once per lexicon (the component's entries)."""
    cached = _INDEX_CACHE.get(id(entries))
    if cached is not None and cached[0] is entries:
        return cached[1]
    index: dict[str, str] = {}
    for name, entry in entries.items():
        for alias in entry.get("aliases") or [name]:
            index.setdefault(" ".join(alias.lower().split()), name)
    _INDEX_CACHE[id(entries)] = (entries, index)
    return index


_IN_PARENS = re.compile(r"\(([^()]*)\)")


def _parenthesised(texts: list[str]) -> set[str]:
    """Everything written between "(" and ")" (without brackets inside), once per record."""
    return {m.group(1) for t in texts for m in _IN_PARENS.finditer(t)}


def _defined_here(short: str, texts: list[str], inside: set[str] | None = None) -> bool:
    """Cheap test before the detector: the short form stands in parentheses somewhere.
    ``inside`` (``_parenthesised(texts)``) answers in one look-up: a scan of the texts per
    constraint was quadratic on a long record."""
    if inside is not None and "(" not in short and ")" not in short:
        return short in inside or f" {short} " in inside
    return any(f"({short})" in t or f"( {short} )" in t for t in texts)


def teach_abbreviations(record: TrialRecord, criteria_texts: list[str], entries: dict[str, dict]) -> int:
    """Rename constraints whose variable is a short form this record defines and whose
    long form the lexicon knows. Returns how many constraints were renamed."""
    inside = _parenthesised(criteria_texts) if any(c.mention for crit in record.criteria for c in crit.constraints) else set()
    pending = [
        c
        for crit in record.criteria
        for c in crit.constraints
        if c.variable not in entries and c.mention and _defined_here(c.mention, criteria_texts, inside)
    ]
    if not pending:
        return 0
    taught: dict[str, dict] = {}
    index = _alias_index(entries)
    for text in criteria_texts:
        for short, long in find_abbreviations(text).items():
            name = index.get(" ".join(long.lower().split()))
            if name is not None:
                taught[short] = entries[name]
    renamed = 0
    for c in pending:
        entry = taught.get(c.mention or "")
        if entry is None:
            continue
        c.variable = entry["name"]
        if c.category == "other":
            c.category = entry["category"]
        renamed += 1
    return renamed

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

    nlp = spacy.blank("en")
    nlp.add_pipe("abbreviation_detector")
    return nlp


def find_abbreviations(text: str) -> dict[str, str]:
    """Short form -> long form for every abbreviation the text defines (scispaCy's
    AbbreviationDetector run on the whole text: the reference for :func:`define`)."""
    if not _DEFINITION_HINT.search(text):
        return {}
    doc = _detector()(text)
    found: dict[str, str] = {}
    for short in doc._.abbreviations:
        found.setdefault(short.text, short._.long_form.text)
    return found


def _squash(text: str) -> str:
    return "".join(text.split())


def define(text: str, shorts: set[str]) -> dict[str, str]:
    """``find_abbreviations(text)`` restricted to the short forms in ``shorts``, without
    the detector's matchers: the same answer for every short form asked.

    The detector pairs every "(" token with every later ")" token, keeps the pairs with at
    most 8 tokens inside (``filter_matches``), and accepts a candidate whose short and long
    forms it has not accepted before, in the order its Matcher yields them (by the end of
    the match, then the later start first). Its second Matcher adds the other places
    where an accepted short form's tokens occur; their text differs from the short form
    only in the spaces between its tokens, so only then (never seen in the corpora) is the
    whole detector run."""
    if not shorts or not _DEFINITION_HINT.search(text):
        return {}
    from scispacy.abbreviation import filter_matches, find_abbreviation

    doc = _detector().make_doc(text)
    opens: list[int] = []
    matches: list[tuple[int, int, int]] = []
    for j, token in enumerate(doc):
        orth = token.text
        if orth == "(":
            opens.append(j)
        elif orth == ")":
            # pairs ending here, the later "(" first; 9 tokens apart at most (<= 8 inside)
            for i in reversed(opens):
                if j - i - 1 > 8:
                    break
                if j >= i + 2:
                    matches.append((0, i + 1, j))
    accepted: dict[str, str] = {}
    seen_long: set[str] = set()
    for long_candidate, short_candidate in filter_matches(matches, doc):
        short, long = find_abbreviation(long_candidate, short_candidate)
        if not long or long.text in seen_long or short.text in accepted:  # an empty span is no long form
            continue
        seen_long.add(long.text)
        accepted[short.text] = long.text
    wanted = {_squash(s): s for s in shorts}
    for short in accepted:
        asked = wanted.get(_squash(short))
        if asked is not None and asked != short:
            found = find_abbreviations(text)
            return {s: found[s] for s in shorts if s in found}
    return {s: accepted[s] for s in shorts if s in accepted}


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


def _defined_here(short: str, texts: list[str]) -> bool:
    """Cheap test before the detector: the short form stands in parentheses somewhere."""
    return any(f"({short})" in t or f"( {short} )" in t for t in texts)


def teach_abbreviations(record: TrialRecord, criteria_texts: list[str], entries: dict[str, dict]) -> int:
    """Rename constraints whose variable is a short form this record defines and whose
    long form the lexicon knows. Returns how many constraints were renamed."""
    pending = [
        c
        for crit in record.criteria
        for c in crit.constraints
        if c.variable not in entries and c.mention and _defined_here(c.mention, criteria_texts)
    ]
    if not pending:
        return 0
    taught: dict[str, dict] = {}
    index = _alias_index(entries)
    shorts = {c.mention or "" for c in pending}
    for text in criteria_texts:
        for short, long in define(text, shorts).items():
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

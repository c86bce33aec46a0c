"""A trial's own abbreviations teach the lexicon, for that record only.

Criteria often define an abbreviation once ("SLE disease activity index (SLEDAI)",
"six-minute walk test (6MWT)") and use the short form after. When the long form is a
lexicon alias but the short form is not, a constraint named by the short form is renamed
to the lexicon variable. scispaCy's AbbreviationDetector (Schwartz & Hearst's algorithm)
finds the definitions; it needs no trained model.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from functools import lru_cache

import spacy

from criteria_nlp.pipeline.affixes import MAX_RUN
from criteria_nlp.schema import TrialRecord

# A definition needs a parenthesised short form: checking for one first keeps the
# detector off the records that cannot have any (most of them).
_DEFINITION_HINT = re.compile(r"\(\s*[A-Za-z0-9][\w\-/]{1,11}\s*\)")


@lru_cache(maxsize=1)
def _detector():
    from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  (registers the factory)

    from criteria_nlp.pipeline.tokenizer import LINEAR_TOKENIZER

    # spaCy's tokens, without its quadratic cost on long runs
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": LINEAR_TOKENIZER}}})
    nlp.max_length = 100_000_000  # no parser here: a criterion over 10^6 characters is fine
    nlp.add_pipe("abbreviation_detector")
    return nlp


def find_abbreviations(text: str) -> dict[str, str]:
    """Short form -> long form for every abbreviation the text defines (scispaCy's
    AbbreviationDetector run on the whole text: the reference for :func:`define`)."""
    if not _DEFINITION_HINT.search(text):
        return {}
    found: dict[str, str] = {}
    for piece in _pieces(text):
        doc = _detector()(piece)
        for short in doc._.abbreviations:
            found.setdefault(short.text, short._.long_form.text)
    return found


def _squash(text: str) -> str:
    return "".join(text.split())


# How far a candidate reaches around its "(" token, in whitespace-separated runs (each run
# holds at least one token): the detector's long form is at most 32 tokens before it
# (2 x a short form of at most 3 tokens under 10 characters), the ")" at most 9 after it.
_RUNS_BEFORE = 34
_RUNS_AFTER = 11
_RUN = re.compile(r"\S+")
_UNSURE = object()


class _Brackets:
    """The "(" and ")" tokens of a doc, found once: the pairs of each short form's brackets
    are then read from them alone (a scan of every token per short form was quadratic)."""

    def __init__(self, doc):
        self.doc = doc
        self.open_token: dict[int, int] = {}  # character offset of a "(" token -> its index
        self.closes: list[int] = []  # indices of the ")" tokens
        for j, token in enumerate(doc):
            orth = token.text
            if orth == "(":
                self.open_token[token.idx] = j
            elif orth == ")":
                self.closes.append(j)

    def pairs(self, opens_at: Iterable[int] | None = None) -> list[tuple[int, int, int]]:
        """The detector's "(" ... ")" matches with at most 8 tokens inside, brackets removed,
        in the order of its Matcher (by end, the later start first); only "(" tokens at the
        character offsets ``opens_at`` when given."""
        found: list[tuple[int, int]] = []
        closes = self.closes
        starts = self.open_token.values() if opens_at is None else (self.open_token.get(p) for p in opens_at)
        for i in starts:
            if i is None:
                continue
            # a ")" at most 8 tokens on, with at least one token between
            for j in closes[bisect_left(closes, i + 2) : bisect_right(closes, i + 9)]:
                found.append((j, i))
        found.sort(key=lambda m: (m[0], -m[1]))  # by ")", the later "(" first
        return [(0, i + 1, j) for j, i in found]


def _candidates(doc, matches) -> list[tuple[int, int, str, str | None]]:
    """(offset of the ")", -offset of the "(", short form, long form or None) per candidate."""
    from scispacy.abbreviation import filter_matches, find_abbreviation

    out = []
    for (_, start, end), (long_candidate, short_candidate) in _filtered(matches, doc, filter_matches):
        short, long = find_abbreviation(long_candidate, short_candidate)
        # an empty span is no long form (the detector tests ``if long``)
        out.append((doc[end].idx, -doc[start - 1].idx, short.text, long.text if long else None))
    return out


def _filtered(matches, doc, filter_matches):
    # filter_matches drops some matches: run it one match at a time to keep the pairing
    for match in matches:
        for candidate in filter_matches([match], doc):
            yield match, candidate


def _whole(text: str, shorts: set[str]) -> dict[str, str]:
    """The detector's answer for ``shorts``, from one pass over the whole text."""
    doc = _detector().make_doc(text)
    accepted: dict[str, str] = {}
    seen_long: set[str] = set()
    for _, _, short, long in _candidates(doc, _Brackets(doc).pairs()):
        if long is None or long in seen_long or short in accepted:
            continue
        seen_long.add(long)
        accepted[short] = long
    asked: dict[str, set[str]] = {}
    for s in shorts:
        asked.setdefault(_squash(s), set()).add(s)
    for short in accepted:
        if asked.get(_squash(short), {short}) - {short}:
            # the detector's second Matcher finds an accepted short form's tokens elsewhere:
            # a text that differs only in spaces may then be a short form too
            found = find_abbreviations(text)
            return {s: found[s] for s in shorts if s in found}
    return {s: accepted[s] for s in shorts if s in accepted}


class _Runs:
    """The whitespace-separated runs of a text, found once for all the short forms asked."""

    def __init__(self, text: str):
        self.runs = list(_RUN.finditer(text))
        self.starts = [r.start() for r in self.runs]
        self.has_long = any(r.end() - r.start() > MAX_RUN for r in self.runs)


class _BracketIndex:
    """Where each "(" of a text stands, found once for all the short forms asked: what its
    innermost pair holds (spaces removed), and the last non-space characters before it."""

    TAIL = 24  # characters kept before each "(": a longer short form is looked for by regex

    def __init__(self, text: str):
        self.text = text
        self.inside: dict[str, list[int]] = {}
        for m in _IN_PARENS.finditer(text):
            self.inside.setdefault(_squash(m.group(1)), []).append(m.start())
        self.tails: list[tuple[str, int]] = []
        pos = text.find("(")
        while pos != -1:
            self.tails.append((_tail(text, pos, self.TAIL), pos))
            pos = text.find("(", pos + 1)
        self._by_length: dict[int, dict[str, list[int]]] = {}

    def opens(self, short: str) -> set[int]:
        """The offsets of every "(" right after ``short`` or right before it with only the
        short form inside, spaces anywhere between (the regexes of ``_opens_by_regex``)."""
        squashed = _squash(short)
        if not squashed or len(squashed) > self.TAIL or "(" in squashed or ")" in squashed:
            return _opens_by_regex(self.text, short)
        found = set(self.inside.get(squashed, ()))
        by_tail = self._by_length.get(len(squashed))
        if by_tail is None:
            n = len(squashed)
            by_tail = self._by_length[n] = {}
            for tail, pos in self.tails:
                if len(tail) >= n:
                    by_tail.setdefault(tail[-n:], []).append(pos)
        found.update(by_tail.get(squashed, ()))
        return found


def _tail(text: str, pos: int, size: int) -> str:
    """The last ``size`` non-space characters before ``pos`` (fewer at the text's start):
    read from a window that widens until it holds them, not character by character."""
    width = 4 * size
    while True:
        lo = max(0, pos - width)
        squashed = "".join(text[lo:pos].split())  # (split's white space is isspace's)
        if len(squashed) >= size or lo == 0:
            return squashed[-size:] if squashed else ""
        width *= 4


def _opens_by_regex(text: str, short: str) -> set[int]:
    flex = r"\s*".join(re.escape(ch) for ch in short if not ch.isspace())
    if not flex:
        return set()
    opens = {m.start() for m in re.finditer(rf"(?=\(\s*{flex}\s*\))", text)}
    opens |= {m.end(1) - 1 for m in re.finditer(rf"(?=({flex}\s*\())", text)}
    return opens


def _opens(text: str, short: str, runs: _Runs | None, index: _BracketIndex) -> tuple[set[int], _Runs | None]:
    """Offsets of the "(" that can define ``short``, and the text's runs once needed."""
    # Every candidate whose short form is ``short`` up to spaces has its "(" here: right
    # after the short form, or right before it with only the short form inside.
    opens = index.opens(short)
    if not opens:
        return opens, runs
    if runs is None:
        runs = _Runs(text)
    if runs.has_long:
        # no definition is read inside a run of more than MAX_RUN characters without a space:
        # no real criterion holds one, and each short form would tokenize all of it again
        run_of = [runs.runs[bisect_right(runs.starts, p) - 1] for p in opens]  # a "(" is in a run
        opens = {p for p, r in zip(opens, run_of, strict=True) if r.end() - r.start() <= MAX_RUN}
    return opens, runs


def _segments(opens: list[int], runs: _Runs, size: int) -> list[list[int]]:
    """The stretches of text around the sorted ``opens`` that a candidate can reach, merged."""
    starts = runs.starts
    segments: list[list[int]] = []
    for pos in opens:
        k = bisect_right(starts, pos) - 1
        lo = 0 if k - _RUNS_BEFORE <= 0 else starts[k - _RUNS_BEFORE]
        hi = size if k + _RUNS_AFTER >= len(starts) - 1 else runs.runs[k + _RUNS_AFTER].end()
        if segments and lo <= segments[-1][1]:
            segments[-1][1] = max(segments[-1][1], hi)
        else:
            segments.append([lo, hi])
    return segments


def _settle(text: str, short: str, found: list[tuple[int, int, str, str | None]]):
    """The detector's long form for ``short`` from the candidates of its own brackets (in
    the detector's order); _UNSURE when they do not settle it."""
    accepted: dict[str, str] = {}
    for _, _, s, long in found:
        if long is None:
            continue
        first = text.find(long)
        if text.find(long, first + 1) != -1:
            return _UNSURE  # another candidate elsewhere may have taken this long form first
        if s not in accepted:
            accepted[s] = long
    target = _squash(short)
    if any(s != short and _squash(s) == target for s in accepted):
        return _UNSURE
    return accepted.get(short)


def define(text: str, shorts: set[str]) -> dict[str, str]:
    """``find_abbreviations(text)`` restricted to the short forms in ``shorts``: the same
    answer for every short form asked, at a fraction of the cost.

    The detector pairs every "(" token with every later ")" token at most 9 tokens on,
    turns each pair into a (long form, short form) candidate (``filter_matches``,
    ``find_abbreviation``) and accepts a candidate whose short and long forms it has not
    accepted before, in its Matcher's order; its second Matcher then adds the other places
    where an accepted short form's tokens stand. Here only the text around the brackets
    that can define an asked short form is tokenized, and scispaCy's own functions read
    those candidates. When that cannot settle the answer (the long form also stands
    elsewhere in the text, or a short form differing only in spaces was accepted), the
    whole text is read as the detector does."""
    if not shorts or not _DEFINITION_HINT.search(text):
        return {}
    runs = None
    index = _BracketIndex(text)
    asked: dict[str, list[int]] = {}
    for short in shorts:
        opens, runs = _opens(text, short, runs, index)
        if opens:
            asked[short] = sorted(opens)
    if not asked or runs is None:
        return {}
    # Each stretch around any asked short form's brackets is tokenized once for all of them
    # (cut at whitespace: its tokens are the whole text's tokens, as spaCy splits at
    # whitespace first; a stretch not at the text start has >= 34 tokens before any of its
    # "(", so the detector's start-of-text checks cannot apply there).
    every = sorted({p for opens in asked.values() for p in opens})
    make_doc = _detector().make_doc
    docs = [(lo, hi, _Brackets(make_doc(text[lo:hi]))) for lo, hi in _segments(every, runs, len(text))]
    lows = [lo for lo, _, _ in docs]
    out: dict[str, str] = {}
    for short, opens in asked.items():
        found = []
        for k in sorted({bisect_right(lows, p) - 1 for p in opens}):
            lo, hi, brackets = docs[k]
            inside = [p - lo for p in opens[bisect_left(opens, lo) : bisect_left(opens, hi)]]
            for end, neg_start, s, long in _candidates(brackets.doc, brackets.pairs(inside)):
                found.append((end + lo, neg_start - lo, s, long))
        found.sort(key=lambda c: (c[0], c[1]))
        long = _settle(text, short, found)
        if long is _UNSURE:
            return _whole(text, shorts)
        if long is not None:
            out[short] = long
    return out


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

"""Candidate mentions of a bound and the features a learned scorer weighs them by.

The structural rules (``constraint_mentions`` / ``attach``) propose one mention per bound;
this module lists the other things a bound could name in its item: the lexicon matches
and the noun chunks (runs of content words, word classes from ``resources/attachment.json``)
near it (the nearest few on each side). Each candidate gets sparse binary features: the
rules' choice (or inside / before / after it), its side of the bound and rank from it,
content words, commas and clause marks between, another bound between, the link word
next to the bound ("of", "for", "since", "within") and the function words in the gap, the
word before the candidate, the lexicon category, and the bound's kind (age, window, dose,
lab...). ``criteria_nlp.pipeline.attach_score`` weighs them with the weights in
``models/attachment/weights.json`` (``python -m criteria_nlp.evaluation.attach_train``);
the same code builds the training rows, so training and run time cannot drift apart.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from criteria_nlp.pipeline.attach import _TOKEN, Chunker
from criteria_nlp.pipeline.grammar import WINDOW_UNITS

# how far from a bound a candidate may be (characters)
REACH_BEFORE = 100
REACH_AFTER = 60
# how many candidates on each side, nearest first
MAX_BEFORE = 4
MAX_AFTER = 3
MAX_CHUNK_WORDS = 8
_LINKS = {
    "of", "for", "since", "after", "within", "in", "with", "to", "at", "on", "than", "from", "during", "over",
    "before", "prior", "following", "past", "last", "previous", "is", "was", "be", "and", "or", "by", "per",
    "under", "as", "the", "a", "an", "least", "more", "less", "no", "not", "greater", "lower", "higher", "up",
}
_GAP_WORDS = 6


@dataclass
class Candidate:
    start: int
    end: int
    feats: list[str] = field(default_factory=list)
    ent: tuple | None = None  # (start, end, label, variable, text) of a lexicon match
    rule: bool = False


class ItemWords:
    """An item's words (or those of a window of it), read once for all its bounds: tokens,
    running counts of commas / clause marks / content words, and noun chunks."""

    __slots__ = ("toks", "starts", "commas", "hard", "content", "chunks", "text_start")

    def __init__(self, chunker: Chunker, text: str, bounds: list[tuple[int, int]], lo: int = 0, hi: int | None = None):
        hi = len(text) if hi is None else hi
        while 0 < lo < len(text) and text[lo - 1].isalnum():
            lo -= 1
        known, kind_of = chunker._kinds, chunker._kind
        toks = [
            (m.start(), m.end(), (w := m.group(0)).lower(), known.get(w) or kind_of(w)) for m in _TOKEN.finditer(text, lo, hi)
        ]
        self.toks = toks
        self.starts = [t[0] for t in toks]
        commas, hard, content = [0], [0], [0]
        for t in toks:
            commas.append(commas[-1] + (t[2] == ","))
            hard.append(hard[-1] + (t[2] in (";", ":")))
            content.append(content[-1] + (t[3] == "content" and not t[2].isdigit()))
        self.commas, self.hard, self.content = commas, hard, content
        self.text_start = len(text) - len(text.lstrip())
        inside = [False] * len(toks)
        bounds = [b for b in bounds if b[1] > lo and b[0] < hi]
        for s, e in bounds:
            for i in range(bisect_left(self.starts, s), len(toks)):
                if toks[i][0] >= e:
                    break
                inside[i] = True
        # a bound's first word can start before the bound ("x10^9"): the token holding s
        for s, _e in bounds:
            i = bisect_left(self.starts, s) - 1
            if i >= 0 and toks[i][1] > s:
                inside[i] = True
        stray = chunker.stray
        chunks = []
        i, n = 0, len(toks)
        while i < n:
            if toks[i][3] != "content" or inside[i] or toks[i][2].isdigit():
                i += 1
                continue
            j = i
            while j + 1 < n and toks[j + 1][3] == "content" and not inside[j + 1] and not toks[j + 1][2].isdigit():
                j += 1
            first = max(i, j - MAX_CHUNK_WORDS + 1)
            if not all(t[2] in stray or not t[2][0].isalpha() for t in toks[first : j + 1]):
                chunks.append((toks[first][0], toks[j][1], first, j))
            i = j + 1
        self.chunks = chunks

    @classmethod
    def read(cls, chunker: Chunker, text: str, bounds, lo: int = 0, hi: int | None = None) -> ItemWords:
        return cls(chunker, text, bounds, lo, hi)

    def token_at(self, offset: int) -> int:
        """Index of the first token starting at or after ``offset``."""
        return bisect_left(self.starts, offset)


def _bucket(n: int) -> str:
    return str(n) if n < 4 else "4-5" if n < 6 else "6-9" if n < 10 else "10+"


def bound_kind(c) -> str:
    if c.category == "age":
        return "age"
    if c.unit in WINDOW_UNITS:
        return "window"
    return c.category or "other"


def rule_class(c, ents) -> str:
    """The bound's kind and what the rules named (a lexicon match, other words, nothing):
    the scorer is asked only in the classes where it beat the rules in cross-validation."""
    if c.mention_start is None:
        named = "none"
    else:
        span = (c.mention_start, c.mention_end)
        named = "ent" if any((e[0], e[1]) == span for e in ents) else "chunk"
    return f"{bound_kind(c)}/{named}"


def candidates(chunker: Chunker, text: str, words: ItemWords, ents, c, bounds: list[tuple[int, int]]) -> list[Candidate]:
    """The candidate mentions of constraint ``c`` (item offsets) with their features."""
    lo = max(0, c.start - REACH_BEFORE)
    hi = min(len(text), c.end + REACH_AFTER)
    spans: dict[tuple[int, int], Candidate] = {}
    rule_span = None
    if c.mention_start is not None and c.mention_end is not None and c.mention_end > c.mention_start:
        rule_span = (c.mention_start, c.mention_end)
        spans[rule_span] = Candidate(c.mention_start, c.mention_end, rule=True)
    kind = bound_kind(c)
    for e in ents:
        # whether a bound is an age is the rules' call (an age word, a person, the unit):
        # an age name is a candidate only for a bound read as an age
        if e[1] > lo and e[0] < hi and (e[2] != "age" or kind == "age"):
            cand = spans.get((e[0], e[1]))
            if cand is None:
                cand = spans[(e[0], e[1])] = Candidate(e[0], e[1])
            cand.ent = e
    chunks = words.chunks
    before = [ch for ch in chunks if lo < ch[1] <= c.start][-MAX_BEFORE:]
    after = [ch for ch in chunks if c.end <= ch[0] < hi][:MAX_AFTER]
    for s, e, _, _ in before + after:
        if (s, e) not in spans:
            spans[(s, e)] = Candidate(s, e)
    if not spans:
        return []
    toks = words.toks
    commas, hard_marks, content = words.commas, words.hard, words.content
    b_first = words.token_at(c.start)
    b_last = words.token_at(c.end) - 1
    before_word = toks[b_first - 1][2] if b_first > 0 else "^"
    after_word = toks[b_last + 1][2] if b_last + 1 < len(toks) else "$"
    bw = before_word if before_word in _LINKS else ("," if before_word in (",", ";", ":", "(") else "w")
    aw = after_word if after_word in _LINKS else ("," if after_word in (",", ";", ":", ")", "(") else "w")
    own = (c.start, c.end)
    others = [b for b in bounds if b[1] > lo and b[0] < hi and b != own]
    out = list(spans.values())
    b_rank = sorted((x for x in out if x.end <= c.start), key=lambda x: -x.end)
    a_rank = sorted((x for x in out if x.start >= c.end), key=lambda x: x.start)
    rank = {id(x): i for i, x in enumerate(b_rank)}
    rank.update({id(x): i for i, x in enumerate(a_rank)})
    measure = chunker.measure
    for x in out:
        first = words.token_at(x.start)
        last = words.token_at(x.end) - 1
        if x.end <= c.start:
            side = "b"
            g0, g1 = last + 1, b_first  # the gap's tokens: [g0, g1)
        elif x.start >= c.end:
            side = "a"
            g0, g1 = b_last + 1, first
        else:
            side = "i"
            g0 = g1 = 0
        if g1 < g0:
            g1 = g0
        n = g1 - g0
        r = _bucket(rank.get(id(x), 0))
        f = [
            f"s={side}|k={kind}",
            f"s={side}|r={r}",
            f"s={side}|r={r}|k={kind}",
            f"s={side}|cw={_bucket(content[g1] - content[g0])}",
        ]
        k_commas = commas[g1] - commas[g0]
        if k_commas:
            f.append(f"s={side}|comma={min(k_commas, 2)}")
        lo_gap, hi_gap = (x.end, c.start) if side == "b" else (c.end, x.start)
        if hard_marks[g1] - hard_marks[g0] or (side != "i" and text.count(". ", lo_gap, hi_gap)):
            f.append(f"s={side}|hard")
        if others and any(x.end <= o[0] and o[1] <= c.start or c.end <= o[0] and o[1] <= x.start for o in others):
            f.append(f"s={side}|bound_between|k={kind}")
        if side == "b":
            f.append(f"bw={bw}|k={kind}")
            if n:
                w = toks[g0][2]
                f.append(f"next={w if w in _LINKS else 'w'}|k={kind}")
            for t in toks[max(g0, g1 - _GAP_WORDS) : g1]:
                if t[3] != "content" or t[2] in _LINKS:
                    f.append(f"gb={t[2]}")
        elif side == "a":
            f.append(f"aw={aw}|k={kind}")
            w = toks[g1 - 1][2] if n else "0"
            f.append(f"prev={w if w in _LINKS or w == '0' else 'w'}|k={kind}")
            for t in toks[g0 : min(g1, g0 + _GAP_WORDS)]:
                if t[3] != "content" or t[2] in _LINKS:
                    f.append(f"ga={t[2]}")
        if x.rule:
            f.append("rule")
            f.append(f"rule|k={kind}")
        elif rule_span is not None:
            if x.start < rule_span[1] and rule_span[0] < x.end:
                f.append(f"in_rule|k={kind}")
            elif x.end <= rule_span[0]:
                f.append(f"before_rule|s={side}|k={kind}")
            else:
                between = (rule_span[1] <= x.start and x.end <= c.start) or (c.end <= rule_span[0] and x.end <= rule_span[0])
                f.append(f"after_rule|s={side}|between={between}|k={kind}")
        if x.ent is not None:
            label = x.ent[2]
            f.append(f"ent={label}|k={kind}")
            f.append(f"ent={label}|s={side}")
        else:
            f.append(f"chunk|k={kind}")
        if last >= first:
            if toks[last][2] in measure:
                f.append("measure_head")
        if first > 0:
            pre = toks[first - 1]
            if pre[2] in _LINKS:
                f.append(f"pre={pre[2]}|k={kind}")
            if pre[3] == "clause" or pre[2] in ("(", ")"):
                f.append(f"clause_start|mark={pre[2]}|s={side}")
        x.feats = f
    return out

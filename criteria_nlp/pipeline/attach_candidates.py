"""Candidate mentions of a bound and the features a learned scorer weighs them by.

The structural rules (``constraint_mentions`` / ``attach``) propose one mention per bound;
this module lists the other things a bound could name in its item: the lexicon matches
and the noun chunks (runs of content words, word classes from ``resources/attachment.json``)
near it. Each candidate gets sparse binary features: the rules' choice, its side of the
bound and distance, the link word between ("of", "for", "since", "within"), clause marks
and other bounds crossed, brackets, coordination, the lexicon category, and the bound's
kind (age, window, dose, lab). ``criteria_nlp.pipeline.attach_score`` weighs them with
the weights in ``models/attachment/weights.json`` (trained by ``criteria-nlp
train-attachment``); the same code builds the training rows, so training and run time
cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from criteria_nlp.pipeline.attach import _TOKEN, Chunker

# how far from a bound a candidate may be (characters)
REACH_BEFORE = 160
REACH_AFTER = 90
MAX_CHUNK_WORDS = 8
_LINKS = {
    "of", "for", "since", "after", "within", "in", "with", "to", "at", "on", "than", "from", "during", "over",
    "before", "prior", "following", "past", "last", "previous", "is", "was", "be", "and", "or", "by", "per",
    "under", "as", "the", "a", "an", "least", "more", "less", "no", "not", "greater", "lower", "higher", "up",
}
_TIME_UNITS = {"a", "mo", "wk", "d", "h", "min", "s"}
_GAP_WORDS = 6


@dataclass
class Candidate:
    start: int
    end: int
    feats: list[str] = field(default_factory=list)
    ent: tuple | None = None  # (start, end, label, variable, text) of a lexicon match
    rule: bool = False


@dataclass
class ItemWords:
    """An item's words, read once for all its bounds."""

    toks: list[tuple[int, int, str, str]]  # start, end, lower-case word, kind
    chunks: list[tuple[int, int, int, int]]  # start, end, first token, last token
    text_start: int = 0  # offset of the item's first word

    @classmethod
    def read(cls, chunker: Chunker, text: str, bounds: list[tuple[int, int]], lo: int = 0, hi: int | None = None) -> ItemWords:
        """The words of ``text[lo:hi]`` (moved out to whole words), chunked."""
        hi = len(text) if hi is None else hi
        while 0 < lo < len(text) and text[lo - 1].isalnum():
            lo -= 1
        toks = []
        kinds = chunker._kind
        for m in _TOKEN.finditer(text, lo, hi):
            w = m.group(0)
            toks.append((m.start(), m.end(), w.lower(), kinds(w)))
        inside = [False] * len(toks)
        if bounds:
            j = 0
            spans = sorted(bounds)
            for i, (s, e, _, _) in enumerate(toks):
                while j < len(spans) and spans[j][1] <= s:
                    j += 1
                k = j
                while k < len(spans) and spans[k][0] < e:
                    if spans[k][1] > s:
                        inside[i] = True
                        break
                    k += 1
        chunks = []
        i = 0
        n = len(toks)
        while i < n:
            if toks[i][3] != "content" or inside[i] or toks[i][2].isdigit():
                i += 1
                continue
            j = i
            while j + 1 < n and toks[j + 1][3] == "content" and not inside[j + 1] and not toks[j + 1][2].isdigit():
                j += 1
            first = max(i, j - MAX_CHUNK_WORDS + 1)
            chunks.append((toks[first][0], toks[j][1], first, j))
            i = j + 1
        return cls(toks, chunks, len(text) - len(text.lstrip()))

    def token_at(self, offset: int) -> int:
        """Index of the first token starting at or after ``offset``."""
        lo, hi = 0, len(self.toks)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.toks[mid][0] < offset:
                lo = mid + 1
            else:
                hi = mid
        return lo


def _bucket(n: int) -> str:
    return str(n) if n < 4 else "4-5" if n < 6 else "6-9" if n < 10 else "10+"


def bound_kind(c) -> str:
    if c.category == "age":
        return "age"
    if c.unit in _TIME_UNITS:
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
    if c.mention_start is not None and c.mention_end is not None and c.mention_end > c.mention_start:
        spans[(c.mention_start, c.mention_end)] = Candidate(c.mention_start, c.mention_end, rule=True)
    for e in ents:
        if e[1] > lo and e[0] < hi:
            cand = spans.setdefault((e[0], e[1]), Candidate(e[0], e[1]))
            cand.ent = e
    for s, e, _, _ in words.chunks:
        if e > lo and s < hi and (s, e) not in spans and not chunker._stray(text, s, e):
            spans[(s, e)] = Candidate(s, e)
    if not spans:
        return []
    kind = bound_kind(c)
    unit = "time" if c.unit in _TIME_UNITS else "none" if c.unit is None and not c.relative_to else "unit"
    rule_span = (c.mention_start, c.mention_end) if c.mention_start is not None else None
    toks = words.toks
    b_first = words.token_at(c.start)
    b_last = words.token_at(c.end) - 1
    before_word = toks[b_first - 1][2] if b_first > 0 else "^"
    after_word = toks[b_last + 1][2] if b_last + 1 < len(toks) else "$"
    bw = before_word if before_word in _LINKS else ("," if before_word in (",", ";", ":", "(") else "w")
    aw = after_word if after_word in _LINKS else ("," if after_word in (",", ";", ":", ")", "(") else "w")
    others = [b for b in bounds if b != (c.start, c.end)]
    out = list(spans.values())
    # rank of each candidate on its side (nearest first)
    before = sorted((x for x in out if x.end <= c.start), key=lambda x: -x.end)
    after = sorted((x for x in out if x.start >= c.end), key=lambda x: x.start)
    rank = {id(x): i for i, x in enumerate(before)}
    rank.update({id(x): i for i, x in enumerate(after)})
    base = [f"k={kind}", f"u={unit}"]
    for x in out:
        f = x.feats
        if x.end <= c.start:
            side = "b"
            gap_first, gap_last = words.token_at(x.end), b_first - 1
        elif x.start >= c.end:
            side = "a"
            gap_first, gap_last = b_last + 1, words.token_at(x.start) - 1
        else:
            side = "i"
            gap_first, gap_last = 0, -1
        gap = toks[gap_first : gap_last + 1] if gap_last >= gap_first else []
        n = len(gap)
        commas = sum(t[2] == "," for t in gap)
        hard = sum(t[2] in (";", ":") for t in gap) + text.count(". ", x.end if side == "b" else c.end, c.start if side == "b" else x.start)
        content = sum(t[3] == "content" and not t[2].isdigit() for t in gap)
        r = _bucket(rank.get(id(x), 0))
        f.extend(base)
        f.append(f"s={side}")
        f.append(f"s={side}|k={kind}")
        f.append(f"s={side}|d={_bucket(n)}")
        f.append(f"s={side}|d={_bucket(n)}|k={kind}")
        f.append(f"s={side}|r={r}")
        f.append(f"s={side}|r={r}|k={kind}")
        f.append(f"s={side}|cw={_bucket(content)}")
        if commas:
            f.append(f"s={side}|comma={min(commas, 2)}")
        if hard:
            f.append(f"s={side}|hard")
        if any(x.end <= o[0] and o[1] <= c.start or c.end <= o[0] and o[1] <= x.start for o in others):
            f.append(f"s={side}|bound_between")
            f.append(f"s={side}|bound_between|k={kind}")
        if side == "b":
            f.append(f"bw={bw}|k={kind}")
            f.append(f"bw={bw}")
            if gap:
                lw = gap[0][2] if gap[0][2] in _LINKS else "w"
                f.append(f"next={lw}|k={kind}")
        elif side == "a":
            f.append(f"aw={aw}|k={kind}")
            f.append(f"aw={aw}")
            lw = gap[-1][2] if gap and gap[-1][2] in _LINKS else "w" if gap else "0"
            f.append(f"prev={lw}|k={kind}")
        if x.rule:
            f.append("rule")
            f.append(f"rule|k={kind}")
        elif rule_span is not None and x.start < rule_span[1] and rule_span[0] < x.end:
            f.append("in_rule")
            f.append(f"in_rule|k={kind}")
        elif rule_span is None:
            f.append(f"no_rule|s={side}|k={kind}")
        elif x.end <= rule_span[0]:
            f.append(f"before_rule|s={side}|k={kind}")
        elif x.start >= rule_span[1]:
            between = (rule_span[1] <= x.start and x.end <= c.start) or (c.end <= rule_span[0] and x.end <= rule_span[0])
            f.append(f"after_rule|s={side}|between={between}|k={kind}")
        if x.ent is not None:
            label = x.ent[2]
            f.append(f"ent={label}")
            f.append(f"ent={label}|k={kind}")
            f.append(f"ent={label}|s={side}")
            if x.ent[3] == c.variable:
                f.append("ent_is_var")
        else:
            f.append(f"chunk|k={kind}")
        first = words.token_at(x.start)
        last = words.token_at(x.end) - 1
        cw = toks[first : last + 1]
        nw = len(cw)
        f.append(f"nw={_bucket(nw)}")
        if cw:
            head = cw[-1][2]
            if head in chunker.person:
                f.append(f"person|k={kind}")
            if any(t[2] in chunker.age for t in cw):
                f.append(f"ageword|k={kind}")
            if head in chunker.measure:
                f.append("measure_head")
        if first > 0 and toks[first - 1][2] == "(" and last + 1 < len(toks) and toks[last + 1][2] == ")":
            f.append("bracketed")
        if last + 1 < len(toks) and toks[last + 1][2] in ("or", "and", "and/or"):
            f.append(f"coord_after|s={side}")
        if first > 0 and toks[first - 1][2] in ("or", "and", "and/or"):
            f.append(f"coord_before|s={side}")
        if first > 0 and toks[first - 1][2] in _LINKS:
            f.append(f"pre={toks[first - 1][2]}|k={kind}")
        if x.start <= words.text_start:
            f.append("item_start")
        elif toks[first - 1][3] == "clause" or toks[first - 1][2] in ("(", ")"):
            f.append(f"clause_start|mark={toks[first - 1][2]}|s={side}")
        # words: the candidate's head and first word, its neighbours, the words between
        if cw:
            f.append(f"hw={cw[-1][2]}")
            f.append(f"fw={cw[0][2]}")
        f.append(f"pw={toks[first - 1][2] if first > 0 else '^'}|s={side}")
        f.append(f"nx={toks[last + 1][2] if last + 1 < len(toks) else '$'}|s={side}")
        near = gap[-_GAP_WORDS:] if side == "b" else gap[:_GAP_WORDS]
        for t in near:
            if t[3] != "content" or t[2] in _LINKS:
                f.append(f"g{side}={t[2]}")
    return out

"""Bounds written as fractions: visual acuity in Snellen notation and scores written out
of their scale's top.

"BCVA between 20/400 and 20/40", "visual acuity of 20/40 or better", "acuity < 1/10":
the value grammar has no reading for a number over a number that is no unit (it read
"< 1/10" as "< 1"). An acuity fraction is read here as decimal acuity, the fraction's
value (20/40 is 0.5), so the bound compares as vision does: better is larger, "or worse"
is a ceiling. "Pain of 4/10 or more", "MMSE between 18 and 26/30": the points are the
value, the scale's top is ``scale_max``.

A fraction is read only where its cue word stands in the clause before it (or "Snellen"
right after), never next to a date's slash ("3/10/2020") or before a unit ("140/90
mmHg"). The cue words, the acuity operators and the scale tops are data
(``resources/fractions.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from criteria_nlp.pipeline.grammar import _norm
from criteria_nlp.pipeline.trie import alternation

ACUITY_UNIT = "{decimal acuity}"
_NUMBER = r"\d{1,3}(?:[.,]\d{1,2})?"
_FRACTION = re.compile(
    rf"(?<![\w./,])(?P<a>{_NUMBER})\s{{0,2}}/\s{{0,2}}(?P<b>\d{{1,3}})(?![\w/]|[.,]\d)"
)
# a clause ends at these (the cue of a fraction is looked for after the last one)
_CLAUSE_MARK = re.compile(r"[;\n]|\.\s")
_CUE_REACH = 80


@dataclass(frozen=True)
class FractionBound:
    start: int
    end: int
    operator: str
    value: float
    upper: float | None
    unit: str | None
    unit_text: str | None
    written: str | None
    scale_max: float | None
    acuity: bool
    # an acuity restated in brackets ("6/60 (20/200 Snellen)"): (value, start, end) each
    alternates: tuple = ()


@dataclass(frozen=True)
class _Piece:
    """One fraction that its cue makes a bound."""

    start: int
    end: int
    numerator: float
    denominator: float
    acuity: bool

    @property
    def value(self) -> float:
        return round(self.numerator / self.denominator, 4) if self.acuity else self.numerator


def _num(s: str) -> float:
    return float(s.replace(",", "."))


class FractionScan:
    """Finds acuity and score bounds written as fractions; built from the grammar's phrases."""

    def __init__(self, data: dict, grammar, range_openers: list[str], range_separators: list[str]):
        self.grammar = grammar
        self.acuity_variable = data["acuity_variable"]
        words = alternation(data["acuity_words"])
        abbreviations = alternation(data["acuity_abbreviations"])
        self.acuity_cue = re.compile(rf"(?<![\w-])(?:(?i:{words})|{abbreviations})(?![\w-])")
        self.acuity_after = re.compile(rf"(?i)\s{{0,2}}\(?\s{{0,2}}(?:{alternation(data['acuity_after'])})(?!\w)")
        self.score_cue = re.compile(rf"(?i)(?<![\w-])(?:{alternation(data['score_words'])})(?![\w-])")
        self.numerators = {float(n) for n in data["acuity_numerators"]}
        self.denominators = {float(n) for n in data["score_denominators"]}
        self.acuity_before = {**grammar.before, **data["acuity_before"]}
        self.acuity_post = {**grammar.after, **data["acuity_after_operators"]}
        self.before_re = {
            acuity: re.compile(rf"(?i)(?P<op>{alternation(list(ops))})\s{{0,3}}(?:of\s{{1,2}}|:\s{{0,2}})?\Z")
            for acuity, ops in ((True, self.acuity_before), (False, grammar.before))
        }
        named = alternation(data["acuity_after"])
        self.post_re = {
            acuity: re.compile(
                # "6/60 (20/200 Snellen) or better", "20/80 Snellen or better": the bracketed
                # restatement or the notation's name comes first
                rf"(?i)\s{{0,2}}(?:\([^()]{{0,60}}\)\s{{0,2}}{lead})?(?P<post>{alternation(list(ops))})(?!\w)"
            )
            for acuity, ops, lead in (
                (True, self.acuity_post, rf"|(?:{named})\s{{1,2}}"), (False, grammar.after, "")
            )
        }
        self.range_re = re.compile(
            rf"(?i)(?:(?<!\w)(?P<open>{alternation(range_openers)})\s{{1,3}})?"
            rf"(?<![\w./,])(?P<first>{_NUMBER}(?:\s{{0,2}}/\s{{0,2}}\d{{1,3}})?)\s{{0,3}}"
            rf"(?P<sep>{alternation(range_separators)})\s{{0,3}}\Z"
        )

    def find(self, text: str, end: int | None = None, limit: int = 300) -> list[FractionBound]:
        """The fraction bounds of ``text[:end]``, at most ``limit`` of them (the extractor's cap)."""
        end = len(text) if end is None else end
        if "/" not in text:
            return []
        out: list[FractionBound] = []
        for m in _FRACTION.finditer(text, 0, end):
            piece = self._piece(m, text)
            if piece is None:
                continue
            last = out[-1] if out else None
            if last is not None and last.start <= piece.start < last.end:
                if last.acuity and piece.acuity and last.upper is None and abs(last.value - piece.value) <= 0.02:
                    out[-1] = _with_alternate(last, piece)
                continue  # inside the bound before it (a bracketed restatement)
            ranged = self._range(piece, text, last)
            if ranged is not None:
                if last is not None and last.start >= ranged.start:
                    out.pop()  # its first bound, read alone before its second was seen
                out.append(ranged)
            else:
                out.append(self._single(piece, text))
            if len(out) >= limit:
                break
        return out

    # ------------------------------------------------------------------ pieces

    def _piece(self, m: re.Match, text: str) -> _Piece | None:
        a, b = _num(m.group("a")), float(m.group("b"))
        if b == 0:
            return None
        lo = max(0, m.start() - _CUE_REACH)
        for mark in _CLAUSE_MARK.finditer(text, lo, m.start()):
            lo = mark.end()
        cued = self.acuity_cue.search(text, lo, m.start()) or self.acuity_after.match(text, m.end())
        if cued and ((a in self.numerators and b >= 3) or (0 < a <= b <= 10)):
            return _Piece(m.start(), m.end(), a, b, True)
        if b in self.denominators and a <= b and self.score_cue.search(text, lo, m.start()):
            unit = re.match(r"\s{0,2}([^\W\d_][\w/\[\]]*|%)", text[m.end() : m.end() + 20])
            if unit and self.grammar.unit_code(unit.group(1)) not in (None, "{score}"):
                return None  # "140/90 mmHg", "89/102 cm": a pair of values with a unit
            return _Piece(m.start(), m.end(), a, b, False)
        return None

    def _single(self, p: _Piece, text: str) -> FractionBound:
        start, end, op, written = p.start, p.end, "==", None
        pre = self.before_re[p.acuity].search(text, max(0, p.start - 40), p.start)
        ops_before = self.acuity_before if p.acuity else self.grammar.before
        ops_after = self.acuity_post if p.acuity else self.grammar.after
        if pre and pre.group("op")[0].isalpha() and pre.start("op") > 0 and text[pre.start("op") - 1].isalnum():
            pre = None  # a word glued to the word before it is no operator word
        if pre:
            written = pre.group("op")
            op, start = ops_before.get(_norm(written), "=="), pre.start("op")
        post = self.post_re[p.acuity].match(text, p.end)
        if post and (op == "==" or not pre):
            written = post.group("post")
            op, end = ops_after.get(_norm(written), "=="), post.end()
        elif p.acuity and (snellen := self.acuity_after.match(text, p.end)) and "(" not in snellen.group():
            end = snellen.end()  # "20/200 Snellen"
        return self._bound(p, start, end, op, p.value, None, written)

    def _range(self, p: _Piece, text: str, last: FractionBound | None) -> FractionBound | None:
        """"between 20/400 and 20/40", "20/25 to 20/400", "between 18 and 26/30"."""
        floor = last.end if last is not None and last.upper is not None else 0
        m = self.range_re.search(text, max(floor, p.start - 60), p.start)
        if m is None:
            return None
        first = m.group("first")
        fraction = "/" in first
        if p.acuity:
            if not fraction:
                return None  # "20 to 20/40": no acuity range
            a, b = (_num(x) for x in first.split("/"))
            if b == 0:
                return None
            lower = round(a / b, 4)
        else:
            lower = _num(first.split("/")[0])
            if fraction and float(first.split("/")[1]) != p.denominator:
                return None  # two scales
        if m.group("open") is None and _norm(m.group("sep")) == "and":
            return None  # "20/40 and 20/200": two eyes or a list, not a range
        low, high = sorted((lower, p.value))
        if low == high or (not p.acuity and high > p.denominator):
            return None
        start = m.start("open") if m.group("open") else m.start("first")
        return self._bound(p, start, p.end, "between", low, high, m.group("open") or m.group("sep"))

    def _bound(self, p: _Piece, start, end, op, value, upper, written) -> FractionBound:
        return FractionBound(
            start=start, end=end, operator=op, value=value, upper=upper,
            unit=ACUITY_UNIT if p.acuity else None, unit_text=None, written=written,
            scale_max=None if p.acuity else p.denominator, acuity=p.acuity,
        )


def fraction_values(text: str) -> set[float]:
    """The decimal value of each fraction written in ``text`` ("20/40 to 20/320": 0.5, 0.0625);
    the scorers compare an acuity bound with its gold by these."""
    return {round(_num(a) / float(b), 4) for a, b in re.findall(rf"({_NUMBER})\s{{0,2}}/\s{{0,2}}(\d{{1,3}})", text) if float(b)}


def _with_alternate(bound: FractionBound, p: _Piece) -> FractionBound:
    return replace(bound, alternates=(*bound.alternates, (p.value, p.start, p.end)))

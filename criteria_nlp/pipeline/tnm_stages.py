"""TNM categories as bounds: "T1-3 N0 M0", "cT2-4a, any N, M0", "pT1 pN0", "T3N1M0",
"stage T2 or higher".

The value grammar reads the digits of a TNM group as numbers of their own ("T1-3 N0 M0"
became "== -3"). Here each category is one bound on its own variable (``TNM T category``,
``N``, ``M`` in the lexicon), its mention the letter with its prefix ("cT", "pN"): "T1-3"
is between 1 and 3, "M0" is 0, "N0 or N1" is between 0 and 1. A sub-category letter
("T2a") keeps its category's number (the text keeps the letter); "Tx", "Tis" and "any N"
bound nothing.

"T2" alone is as often an MRI sequence, a diabetes type ("T2DM") or a vertebra, so a
category is read only in a group of two letters ("T2 N0", "T3N1M0"), with a TNM prefix
("pT2", "ypN1"), or after a staging word ("stage T3", "T category of T2"). The words are
data (``resources/tnm.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from criteria_nlp.pipeline.grammar import _norm
from criteria_nlp.pipeline.trie import alternation

_PREFIX = r"(?:yp|yc|p|c|r|a|u)?"
_SUB = r"(?:[a-d]|mi)?"
_TOP = {"T": 4, "N": 3, "M": 1}
# one category: its letter, its first number, and a range or list of more numbers
_ELEMENT = re.compile(
    # not inside a word or number, unless right after the category before it ("T3N1M0")
    rf"(?:(?<![A-Za-z0-9/-])|(?<=[0-4])(?=[NM])|(?<=[0-4][a-d])(?=[NM]))(?P<prefix>{_PREFIX})(?P<letter>[TNM])"
    rf"(?:(?P<first>[0-4]){_SUB}"
    rf"(?P<more>(?:\s{{0,2}}(?:-|–|to|through|,\s{{0,2}}or|,\s{{0,2}}and|or|and|,|/)\s{{0,2}}(?:{_PREFIX}(?P=letter))?[0-4]{_SUB}(?![\d.]))*)"
    rf"|(?P<unknown>x|X|is))"
    # what follows a category: not a word or number glued to it, unless the next category ("T3N1M0")
    rf"(?=$|[^A-Za-z0-9+*-]|[NM](?:[0-3]|x)|-[^A-Za-z])"
)

# a category's letter and number (or x, is), which every element starts with
_HINT = re.compile(r"[TNM](?:[0-4]|x|X|is)")


@dataclass(frozen=True)
class TnmBound:
    start: int
    end: int
    letter: str
    mention: tuple[int, int]  # the letter with its prefix
    operator: str
    value: float
    upper: float | None
    written: str | None


class TnmScan:
    """Finds TNM categories that their group, prefix or staging word makes a bound."""

    def __init__(self, data: dict, before: dict[str, str], after: dict[str, str]):
        self.variables: dict[str, str] = data["variables"]
        self.stage_word = re.compile(rf"(?i)(?<!\w)(?:{alternation(data['staging_words'])})\s{{0,3}}(?:of\s{{1,2}}|:\s{{0,2}})?\Z")
        self.before, self.after = before, after
        self.before_re = re.compile(rf"(?i)(?:(?<=\W)|^)(?P<op>{alternation(list(before))})\s{{0,3}}\Z")
        self.after_re = re.compile(rf"(?i)\s{{0,3}}(?P<post>{alternation(list(after))})(?!\w)")
        self.group_gap = int(data["group_gap"])

    def find(self, text: str, end: int | None = None, limit: int = 300) -> list[TnmBound]:
        end = len(text) if end is None else end
        if not _HINT.search(text, 0, end):
            return []  # most items have no letter-and-number category at all
        elements = list(_ELEMENT.finditer(text, 0, end))
        # "Tx", "Tis" make a group but bound nothing
        read = (
            self._bound(m, text)
            for k, m in enumerate(elements)
            if not m.group("unknown") and self._is_tnm(m, k, elements, text)
        )
        return list(islice((b for b in read if b is not None), limit))

    def _is_tnm(self, m: re.Match, k: int, elements: list[re.Match], text: str) -> bool:
        if m.group("prefix"):
            return True  # "pT2", "cN1", "ypT0"
        if self.stage_word.search(text, max(0, m.start() - 30), m.start()):
            return True  # "stage T3", "T category of T2"
        # a group: another letter in the chain of categories close by ("T2 N0", "T3N1M0",
        # "T1c - T2a, Nx or N0, Mx or M0")
        letters = {m.group("letter")}
        for step in (-1, 1):
            j = k
            while 0 <= j + step < len(elements):
                a, b = sorted((elements[j], elements[j + step]), key=lambda e: e.start())
                gap = text[a.end() : b.start()]
                if len(gap) > self.group_gap or "\n" in gap:
                    break
                j += step
                letters.add(elements[j].group("letter"))
        return len(letters) > 1

    def _bound(self, m: re.Match, text: str) -> TnmBound | None:
        letter = m.group("letter")
        numbers = [int(m.group("first"))] + [int(d) for d in re.findall(r"[0-4]", _numbers_only(m.group("more") or ""))]
        if any(n > _TOP[letter] for n in numbers):
            return None
        mention = (m.start("prefix") if m.group("prefix") else m.start("letter"), m.end("letter"))
        start, end = mention[0], m.end()
        written = None
        if len(numbers) > 1:
            low, high = min(numbers), max(numbers)
            ranged = re.search(r"-|–|to|through", m.group("more") or "")
            if not ranged and sorted(set(numbers)) != list(range(low, high + 1)):
                numbers = numbers[:1]  # "T1 or T3": not one range; the first stands
                end = m.end("first") + len(re.match(_SUB, text[m.end("first") :]).group())
            else:
                return TnmBound(start, end, letter, mention, "between", float(low), float(high), None)
        op = "=="
        pre = self.before_re.search(text, max(0, start - 30), start)
        if pre:
            op, written, start = self.before.get(_norm(pre.group("op")), "=="), pre.group("op"), pre.start("op")
        else:
            post = self.after_re.match(text, end)
            if post:
                op, written, end = self.after.get(_norm(post.group("post")), "=="), post.group("post"), post.end()
        return TnmBound(start, end, letter, mention, op, float(numbers[0]), None, written)


def _numbers_only(more: str) -> str:
    """The numbers of a range or list tail, without the letters that repeat ("-T3a" -> "-3")."""
    return re.sub(rf"{_PREFIX}[TNM](?=[0-4])", "", more)

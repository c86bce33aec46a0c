"""Durations written in two units, read as one bound: "between 24 weeks 0 days and 34
weeks 6 days", "28+0 to 33+6 weeks of gestation", "GA >= 34 4/7 weeks", "aged 2 years 6
months to 5 years".

Gestational ages are written this way (weeks and days, "+d" or "d/7"), and so are the
ages of young children (years and months). The value grammar reads each part as a number
of its own ("== 24 wk", "== 0 d", ...); here the parts are summed in the larger unit (34
weeks 6 days is 34.857 weeks) and the operator or range around them is read once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from criteria_nlp.pipeline.grammar import _norm
from criteria_nlp.pipeline.trie import alternation

_WEEKS = r"(?:weeks?|wks?|w)(?![a-z])"
_DAYS = r"(?:days?|d)(?![a-z])"
_YEARS = r"(?:years?|yrs?|y)(?![a-z])"
_MONTHS = r"(?:months?|mos?|m)(?![a-z])"
_N = r"(?<![\d.,/+])\d{1,2}(?![\d.,])"


def _part(tag: str) -> str:
    """One duration, compound or plain; its groups carry ``tag``."""
    return (
        # 34 weeks 6 days, 34 weeks and 6 days, 34 wks + 6 d
        rf"(?P<{tag}wd>(?P<{tag}w1>{_N})\s{{0,2}}{_WEEKS}\s{{0,2}}(?:,\s{{0,2}}|and\s{{1,2}}|\+\s{{0,2}})?(?P<{tag}d1>[0-6])\s{{0,2}}{_DAYS})"
        # 2 years 6 months, 1 year and 6 months
        rf"|(?P<{tag}ym>(?P<{tag}y1>{_N})\s{{0,2}}{_YEARS}\s{{0,2}}(?:,\s{{0,2}}|and\s{{1,2}})?(?P<{tag}m1>\d|1[01])\s{{0,2}}{_MONTHS})"
        # 34+6 (weeks), 34 4/7 (weeks)
        rf"|(?P<{tag}plus>(?P<{tag}w2>{_N})(?:(?:\+|\s{{1,2}}\+\s{{1,2}})(?P<{tag}d2>[0-6])|\s(?P<{tag}d3>[0-6])\s{{0,1}}/\s{{0,1}}7)(?!\d)"
        rf"(?:\s{{0,2}}(?P<{tag}wu>{_WEEKS}))?)"
        # a plain second bound: "2 years 6 months to 5 years"
        rf"|(?P<{tag}plain>(?P<{tag}n>{_N})\s{{0,2}}(?P<{tag}pu>{_WEEKS}|{_YEARS}|{_MONTHS}))"
    )


@dataclass(frozen=True)
class CompoundBound:
    start: int
    end: int
    operator: str
    value: float
    upper: float | None
    unit: str  # UCUM: "wk" or "a"
    unit_text: str
    written: str | None


class CompoundScan:
    """Finds bounds on durations written in two units; built from the grammar's phrases."""

    def __init__(self, before: dict[str, str], after: dict[str, str], range_openers: list[str], range_separators: list[str]):
        # the grammar's phrases before a number and before a window ("within": "<="), and
        # after one ("or more")
        self.before, self.after = before, after
        ops = alternation(list(before) + ["before", "after", "beyond"])
        # The scan starts at a number; the words before it are read only where a part was
        # found (a regex that tried the phrases first would try them at every position).
        self.regex = re.compile(
            rf"(?i)(?P<first>{_part('a')})"
            # "between 24+0 weeks of amenorrhea and 36+6 weeks": the first part's thing between
            rf"(?:(?:\s{{1,2}}of\s{{1,2}}[A-Za-z]{{3,20}})?\s{{0,3}}(?P<sep>{alternation(range_separators)})\s{{0,3}}(?:{_part('b')})"
            rf"|\s{{0,3}}(?P<post>(?:{alternation(list(after))}))(?!\w))?"
        )
        self.lead = re.compile(
            rf"(?i)(?:(?P<open>(?<!\w)(?:{alternation(range_openers)}))\s{{1,3}}|(?P<op>(?<!\w)(?:{ops}))\s{{0,3}})\Z"
        )

    def find(self, text: str, end: int | None = None, limit: int = 300) -> list[CompoundBound]:
        """The two-unit bounds of ``text[:end]``, at most ``limit`` of them (the extractor's cap)."""
        end = len(text) if end is None else end
        if "+" not in text and "/7" not in text and not _TWO_UNITS.search(text, 0, end):
            return []
        out = []
        for m in self.regex.finditer(text, 0, end):
            bound = self._bound(m, text)
            if bound is not None:
                out.append(bound)
                if len(out) >= limit:
                    break
        return out

    def _one(self, m: re.Match, tag: str) -> tuple[float, str | None, bool] | None:
        """(value, UCUM unit or None when not written, compound) of one part."""
        g = m.group
        if g(f"{tag}wd"):
            return int(g(f"{tag}w1")) + int(g(f"{tag}d1")) / 7, "wk", True
        if g(f"{tag}ym"):
            return int(g(f"{tag}y1")) + int(g(f"{tag}m1")) / 12, "a", True
        if g(f"{tag}plus"):
            days = g(f"{tag}d2") or g(f"{tag}d3")
            return int(g(f"{tag}w2")) + int(days) / 7, "wk" if g(f"{tag}wu") else None, True
        if g(f"{tag}plain"):
            unit = g(f"{tag}pu").lower()
            ucum = "wk" if unit.startswith("w") else "a" if unit.startswith("y") else "mo"
            return float(g(f"{tag}n")), ucum, False
        return None

    def _bound(self, m: re.Match, text: str) -> CompoundBound | None:
        a = self._one(m, "a")
        b = self._one(m, "b") if m.group("sep") else None
        if a is None or not (a[2] or (b is not None and b[2])):
            return None  # nothing written in two units: the value grammar's reading stands
        lead = self.lead.search(text, max(0, m.start() - 40), m.start())

        def g(name: str) -> str | None:
            if name in ("open", "op"):
                return lead.group(name) if lead else None
            return m.group(name)

        def begin(name: str) -> int:
            return lead.start(name) if name in ("open", "op") else m.start(name)

        if b is None:
            if a[1] is None:
                return None  # "28+0" with no unit: not known to be weeks
            op = self._operator(g("op"))
            if g("post") and op == "==":
                op = self.after.get(_norm(g("post")), "==")
                start = begin("op") if g("op") else m.start()
                return CompoundBound(start, m.end(), op, round(a[0], 4), None, a[1], _unit_text(m, "a"), g("post"))
            # a range opener with one part ("between 24+0 weeks" and no second): the part alone
            start = begin("op") if g("op") else m.start()
            return CompoundBound(start, m.end("first"), op, round(a[0], 4), None, a[1], _unit_text(m, "a"), g("op"))
        unit = a[1] or b[1]
        if unit is None or (a[1] and b[1] and a[1] != b[1]) or unit == "mo":
            return None  # "2 years 6 months to 30 months": units that differ are left as read
        if a[0] >= b[0]:
            return None
        start = begin("open") if g("open") else m.start()
        if g("op") and not g("open"):
            return None  # "≥ 28+0 to 33+6 weeks" is no one range
        return CompoundBound(start, m.end(), "between", round(a[0], 4), round(b[0], 4), unit,
                             _unit_text(m, "b") or _unit_text(m, "a"), g("open") or g("sep"))

    def _operator(self, written: str | None) -> str:
        if not written:
            return "=="
        key = _norm(written)
        return {"before": "<", "after": ">", "beyond": ">"}.get(key) or self.before.get(key, "==")


_TWO_UNITS = re.compile(rf"(?i)\d\s{{0,2}}(?:{_WEEKS}|{_YEARS})[\s,]{{0,3}}(?:and\s{{1,2}})?\d")


def _unit_text(m: re.Match, tag: str) -> str | None:
    for group in ("wd", "ym", "wu", "pu"):
        if m.group(f"{tag}{group}"):
            text = m.group(f"{tag}{group}")
            # a compound's unit as written is its larger unit's word ("weeks" of "34 weeks 6 days")
            return text if group in ("wu", "pu") else re.search(r"[A-Za-z]+", text).group()
    return None

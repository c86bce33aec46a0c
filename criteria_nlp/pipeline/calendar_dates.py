"""Calendar dates as bounds: "admitted between January 2015 and December 2018",
"diagnosed since 1 March 2020", "treated before 2019", "from 2008 to 2015".

The value grammar (grammar.py) ignores years and dates on purpose: a bare "2019" is an
edition, a version or a year of publication far more often than a bound. A date is read
here only where words make it one: a range of two dates, or one date after a word that
bounds it ("since", "before", "no later than"). The words and month names are data
(``resources/dates.json``).

A date bound keeps its date as written, as an ISO 8601 date of the precision written
(``2015``, ``2015-01``, ``2015-01-31``), in ``Constraint.date`` / ``upper_date``; ``value``
and ``upper`` hold the same bound as a decimal year, taken at the side of the written
period the operator means ("until 2019" is up to the end of 2019, "before 2019" up to
its start), so that a bound can be checked as a number too.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from criteria_nlp.pipeline.trie import alternation

_YEAR = r"(?:19|20)\d\d(?!\d)"
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th|er|º)?"
# any year in the text at all: most criteria have none, and then nothing is tried
YEARS = re.compile(rf"(?<!\d){_YEAR}")


@dataclass(frozen=True)
class WrittenDate:
    """One date as written: its year, and month and day when written."""

    year: int
    month: int | None = None
    day: int | None = None

    def iso(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def first_day(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> date:
        month = self.month or 12
        return date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])


def decimal_year(d: date) -> float:
    """2015-07-02 -> 2015.4986: the day's start as a fraction of its year."""
    days = 366 if calendar.isleap(d.year) else 365
    return round(d.year + (d.timetuple().tm_yday - 1) / days, 4)


@dataclass(frozen=True)
class DateBound:
    start: int
    end: int
    operator: str
    lower: WrittenDate
    upper: WrittenDate | None
    written: str  # the bounding word as written ("between", "since"), or the range sign

    def values(self) -> tuple[float, float | None]:
        """(value, upper) as decimal years, each at the side of its period the operator means."""
        if self.operator == "between":
            # the last day counts: "until December 2018" takes in 31 December
            return decimal_year(self.lower.first_day()), decimal_year(self.upper.last_day())
        if self.operator == ">":
            # "after 2019": later than the whole of 2019
            return decimal_year(self.lower.last_day()), None
        if self.operator == "<=":
            return decimal_year(self.lower.last_day()), None
        return decimal_year(self.lower.first_day()), None


def years_of(c) -> set[int]:
    """The years of a calendar-date constraint (``Constraint.date`` / ``upper_date``)."""
    return {int(d[:4]) for d in (c.date, c.upper_date) if d}


def _numeric(written: str, day_first: bool | None = None) -> WrittenDate | None:
    """A numeric date ("31.01.2015", "1/31/2015"), or None when no such day exists. Unless
    ``day_first`` says: dots and dashes are written day first in Europe, slashes month
    first (the US convention of ClinicalTrials.gov) unless the first number is above 12."""
    a, b, y = (int(x) for x in re.split(r"[./-]", written))
    if day_first is None:
        day_first = "/" not in written or a > 12
    d, mo = (a, b) if day_first else (b, a)
    return WrittenDate(y, mo, d) if _valid(y, mo, d) else None


def _valid(year: int, month: int | None, day: int | None) -> bool:
    if month is not None and not 1 <= month <= 12:
        return False
    if day is not None:
        if month is None:
            return False
        return 1 <= day <= calendar.monthrange(year, month)[1]
    return True


class DateScan:
    """Finds the date bounds of a text; built once from ``dates.json``."""

    def __init__(self, data: dict):
        self.month_of = {name.lower(): int(n) for n, names in data["months"].items() for name in names}
        month = rf"(?<!\w)(?:{alternation(list(self.month_of))})(?!\w)\.?"
        # the date forms, each with its own groups (tag: a, b)
        def one(tag: str, year_optional: bool = False) -> str:
            y = rf"(?P<{tag}y1>{_YEAR})"
            opt = "?" if year_optional else ""
            return (
                # 2015-01-31, 2015/01/31
                rf"(?P<{tag}iso>(?<![\w/.]){_YEAR}[-/](?:0?[1-9]|1[0-2])[-/](?:3[01]|[12]\d|0?[1-9])(?![\d/-]|\.\d))"
                # 31.01.2015 (day first), 1/31/2015 or 31/1/2015 (month first unless the
                # first number cannot be a month), 01/2015
                rf"|(?P<{tag}num>(?<![\w/.])\d{{1,2}}[./-]\d{{1,2}}[./-]{_YEAR}(?![\d/-]|\.\d))"
                rf"|(?P<{tag}my>(?<![\w/.])(?:0?[1-9]|1[0-2])[/.-]{_YEAR}(?![\d/-]|\.\d))"
                # 1st of January 2011, 31 December 2017, 1 de enero de 2018
                rf"|(?P<{tag}dm>(?<![\w/.])(?P<{tag}d1>{_DAY})\s{{1,2}}(?:(?:of|de)\s{{1,2}})?(?P<{tag}m1>{month}),?"
                rf"(?:\s{{1,2}}(?:de\s{{1,2}})?{y}){opt})"
                # January 1, 2014; January 2015; Nov. 2017; Jan-2015
                rf"|(?P<{tag}md>(?P<{tag}m2>{month})(?:\s{{1,2}}(?P<{tag}d2>{_DAY})(?![\d/.-]))?,?"
                rf"(?:(?:\s{{1,2}}(?:de\s{{1,2}})?|-)(?P<{tag}y2>{_YEAR})){opt})"
                # a year alone; "2019-10" is a year and month, "2015-2018" a range of years
                rf"|(?P<{tag}year>(?<![\w/.]){_YEAR}(?![\w/]|\.\d|-(?:0?[1-9]|1[0-2])(?!\d)))"
            )

        opener = rf"(?<!\w)(?P<open>{alternation(list(data['range_open']))})\s{{1,3}}(?:the\s{{1,2}})?"
        sep = rf"\s{{0,3}}(?P<sep>{alternation(list(data['range_separators']))})\s{{0,3}}(?:the\s{{1,2}})?"
        present = rf"(?P<present>{alternation(list(data['present']))})(?!\w)"
        self.bound_words = {" ".join(p.lower().split()): op for op, ps in data["open"].items() for p in ps}
        single = rf"(?<!\w)(?P<word>{alternation(list(self.bound_words))})\s{{1,3}}(?:the\s{{1,2}})?"
        self.regex = re.compile(
            rf"(?:{opener})?(?:{one('a', year_optional=True)}){sep}(?:{present}|(?:{one('b')}))"
            rf"|{single}(?:{one('c')})",
            re.IGNORECASE,
        )
        # one date after a bounding word alone: tried where a range starting there failed
        # ("from 20 January 2020 to the date of approval" is "since 20 January 2020")
        self.single = re.compile(rf"{single}(?:{one('c')})", re.IGNORECASE)

    def _date(self, m: re.Match, tag: str) -> WrittenDate | None:
        g = m.group
        if g(f"{tag}iso"):
            y, mo, d = (int(x) for x in re.split(r"[-/]", g(f"{tag}iso")))
        elif g(f"{tag}num"):
            return _numeric(g(f"{tag}num"))
        elif g(f"{tag}my"):
            mo, y = (int(x) for x in re.split(r"[/.-]", g(f"{tag}my")))
            d = None
        elif g(f"{tag}dm") is not None:
            d = int(re.match(r"\d+", g(f"{tag}d1")).group())
            mo = self.month_of[g(f"{tag}m1").rstrip(".").lower()]
            y = int(g(f"{tag}y1")) if g(f"{tag}y1") else 0
        elif g(f"{tag}md") is not None:
            d = int(re.match(r"\d+", g(f"{tag}d2")).group()) if g(f"{tag}d2") else None
            mo = self.month_of[g(f"{tag}m2").rstrip(".").lower()]
            y = int(g(f"{tag}y2")) if g(f"{tag}y2") else 0
        elif g(f"{tag}year"):
            y, mo, d = int(g(f"{tag}year")), None, None
        else:
            return None
        if y and not _valid(y, mo, d):
            return None
        return WrittenDate(y, mo, d)

    def find(self, text: str, end: int | None = None, limit: int = 300) -> list[DateBound]:
        """The date bounds of ``text[:end]``, at most ``limit`` of them (the extractor's cap)."""
        end = len(text) if end is None else end
        if not YEARS.search(text, 0, end):
            return []
        out: list[DateBound] = []
        pos = 0
        while len(out) < limit and (m := self.regex.search(text, pos, end)) is not None:
            bound = self._bound(m, text)
            if bound is None and m.group("open"):
                alone = self.single.match(text, m.start(), end)
                bound = self._bound(alone, text) if alone else None
                m = alone or m
            if bound is None:
                pos = m.start() + 1
                continue
            out.append(bound)
            pos = m.end()
        return out

    def _bound(self, m: re.Match, text: str) -> DateBound | None:
        g = m.group
        if g("word"):
            day = self._date(m, "c")
            if day is None or (day.month is None and m.group(0)[len(g("word")) :].lstrip()[:4].lower() == "the "):
                return None  # "after the 2017 wildfires": the year names an event
            return DateBound(m.start(), m.end(), self.bound_words[" ".join(g("word").lower().split())], day, None, g("word"))
        lower = self._date(m, "a")
        if lower is None:
            return None
        if g("present"):
            if not lower.year or (g("present").lower() == "date" and text[: m.start("present")].endswith("the ")):
                return None  # "from 20 January 2020 to the date of approval": no open end
            # "from 1960 to present": a floor (today is no bound worth writing down)
            return DateBound(m.start(), m.end(), ">=", lower, None, g("open") or g("sep"))
        upper = self._date(m, "b")
        if upper is None:
            return None
        if g("anum") and g("bnum") and "/" in g("anum") + g("bnum"):
            # "between 01/09/2019 and 31/10/2020": one range writes both dates one way, and a
            # first number above 12 shows which
            firsts = [int(re.split(r"[./-]", g(t))[0]) for t in ("anum", "bnum")]
            if max(firsts) > 12:
                lower, upper = _numeric(g("anum"), day_first=True), _numeric(g("bnum"), day_first=True)
                if lower is None or upper is None:
                    return None
        if not lower.year:
            # "between 1 January and 31 March 2020": the first date takes the second's year
            if not _valid(upper.year, lower.month, lower.day):
                return None
            lower = WrittenDate(upper.year, lower.month, lower.day)
        if lower.first_day() > upper.last_day():
            return None  # not a range forward in time
        if not g("open"):
            # without "between"/"from", only two dates of the same form read as a range
            # ("2008 to 2015", "March 2016 - June 2019"), and never with a plain "and"
            if (lower.month is None) != (upper.month is None) or g("sep").lower() in ("and", "et", "y", "und", "e", "en"):
                return None
            if lower.month is None and re.match(r"\s{1,2}[A-Z]", text[m.end() : m.end() + 3]):
                return None  # "the 2015-2020 Dietary Guidelines": an edition's name
        return DateBound(m.start(), m.end(), "between", lower, upper, g("open") or g("sep"))

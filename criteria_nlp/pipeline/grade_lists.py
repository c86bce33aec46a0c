"""Lists of three or more grades, classes or stages read as one range.

The value grammar reads a list of two ("stage I and II", "ECOG 0 or 1") as a range; a
longer list ("ASA I, II or III", "NYHA class II, class III or class IV", "grade 1, 2, 3")
came out as its first member alone, or split in two. A list of consecutive whole numbers
accepts exactly the range from its first to its last member, so it is stored as that
range ("between 1 and 3"); a list with a gap ("stage I or III") is left as read.
"""

from __future__ import annotations

import re

from criteria_nlp.pipeline.numbers import ROMAN, parse_roman
from criteria_nlp.schema import Constraint

# at most this many members in one list: longer runs are tables, not criteria
MAX_MEMBERS = 8
_ROMAN_WHOLE = re.compile(rf"(?-i:{ROMAN})")
# "ICDAS score of 1, 2 or 3": a score named just before a list of digits
_SCORE_WORD = re.compile(r"(?i)\bscores?\b(?:\s+of)?\s*$")


def member_pattern(keywords: str) -> re.Pattern:
    """The next member of a list: a separator, maybe the keyword again, one numeral."""
    return re.compile(
        r"(?i)(?P<sep>\s{0,2},\s{0,2}(?:(?:or|and|and/or)\s{1,3})?|\s{1,3}(?:or|and|and/or)\s{1,3}|\s{0,2}/\s{0,2})"
        rf"(?:(?:{keywords})\s{{1,2}})?"
        rf"(?P<num>(?-i:{ROMAN})|\d{{1,2}}[a-cA-C]?)(?![\w.,]\d|[\w%])"
    )


def _numeral(written: str) -> tuple[int | None, bool]:
    """(value, written as a roman numeral) of one list member; None for a sub-stage
    ("IVA", "IIIb"): "III, IVA or IVB" is no run of whole stages."""
    if written.isdigit():
        return int(written), False
    if written[-1:] in "abcABC":
        return None, True
    return parse_roman(written), True


def _sub_stage_of(written: str, value: int) -> bool:
    """Whether ``written`` is a sub-stage of ``value`` ("3a", "IIIB" of 3)."""
    core = written[:-1]
    if written[-1:] not in "abcABC" or not core:
        return False
    return (int(core) if core.isdigit() else parse_roman(core)) == value


def _last_numeral(c: Constraint) -> tuple[int | None, bool] | None:
    words = c.text.split()
    if not words:
        return None
    last = words[-1].strip("(),;")
    if last.isdigit():
        return int(last), False
    if _ROMAN_WHOLE.fullmatch(last):
        return _numeral(last)
    return None


def continue_list(c: Constraint, text: str, members: re.Pattern, keyword_before: re.Pattern) -> Constraint:
    """``c`` extended over the members of a grade list that follow it, when they continue
    it one by one ("I, II or III"); else ``c`` as it was."""
    if (
        c.operator not in ("==", "between")
        or c.written_operator == "="  # a bare "=": the repair decides what it lost
        or c.unit is not None
        or c.relative_to is not None
        or not float(c.value).is_integer()
        or (c.upper is not None and not float(c.upper).is_integer())
    ):
        return c
    last = _last_numeral(c)
    if last is None or last[0] is None:
        return c
    value, roman = last
    top = int(c.upper if c.upper is not None else c.value)
    if value != top:
        return c
    # digits need a grading word before them ("ASA 1, 2 or 3") or a score to bound ("ECOG
    # 0, 1 or 2"): "2, 3 or 4 weeks" is no list
    if (
        not roman
        and c.category != "score"
        and not keyword_before.search(text, max(0, c.start - 40), c.end)
        and not _SCORE_WORD.search(text, max(0, c.start - 25), c.start)
    ):
        return c
    end, sep, count = c.end, None, 0
    while count < MAX_MEMBERS and (m := members.match(text, end)) is not None:
        nxt, nxt_roman = _numeral(m.group("num"))
        if nxt is None and _sub_stage_of(m.group("num"), top + 1):
            return c  # "stage 0, 1, 2 or 3a": a range up to 2 would leave 3a out
        if nxt is None or nxt_roman != roman or nxt != top + 1:
            break
        top, end, sep, count = nxt, m.end(), m.group("sep").strip(" ,") or ",", count + 1
    if not count:
        return c
    return c.model_copy(
        update={
            "operator": "between",
            "upper": float(top),
            "end": end,
            "text": text[c.start : end],
            "written_operator": c.written_operator if c.upper is not None else sep,
        }
    )

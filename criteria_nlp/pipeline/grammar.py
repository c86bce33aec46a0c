"""The value grammar of criteria_constraints, compiled from operators.json and units.json.

One regular expression finds every numeric expression (operator, number or range,
multiplier of a reference limit, scientific notation, unit, trailing operator). It is
built from bounded pieces only, so that it runs in linear time on any input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from criteria_nlp import compiled, textcache
from criteria_nlp.pipeline import trie
from criteria_nlp.pipeline.numbers import NUMBER_WORDS, ROMAN, ROMAN_BEFORE
from criteria_nlp.pipeline.trie import alternation, first_chars, fold, trie_regex

# UCUM codes of calendar time; a window may also be counted in a drug's half-lives
TIME_UNITS = frozenset({"a", "mo", "wk", "d", "h", "min", "s"})
WINDOW_UNITS = TIME_UNITS | {"{half-life}"}
# the units an age is counted in ("infants < 28 days", "aged 6 to 36 months", "over 18 years")
AGE_UNITS = frozenset({"a", "mo", "wk", "d"})

_UNIT_SPACE = r"\s{1,2}"
_UNIT_SLASH = r"\s{0,2}/\s{0,2}"


def _unit_atoms(form: str, folded: bool) -> tuple[list[str], str]:
    """A unit form as trie atoms: spaces around '/' optional, no letter or digit after."""
    if len(form) == 1 and form.isalpha():
        # "3 d" is three days, "3D" is not
        return [f"(?-i:{re.escape(form)})"], r"(?![A-Za-z0-9])"
    atoms: list[str] = []
    for i, part in enumerate(form.split("/")):
        if i:
            atoms.append(_UNIT_SLASH)
        atoms.extend(_UNIT_SPACE if c == " " else re.escape(fold(c) if folded else c) for c in part)
    return atoms, (r"(?![A-Za-z0-9])" if form[-1:].isalnum() else "")


def unit_alternation(case_sensitive: list[str], insensitive: list[str]) -> str:
    """All unit forms as one regex: the case-sensitive forms first, then the others."""
    # dict.fromkeys, not set: the same pattern text in every process (the compiled-form cache keys on it)
    cs = sorted(dict.fromkeys(case_sensitive), key=len, reverse=True)
    ci = sorted(dict.fromkeys(insensitive), key=len, reverse=True)
    parts = []
    if cs:
        parts.append("(?-i:" + trie_regex([_unit_atoms(f, False) for f in cs]) + ")")
    if ci:
        parts.append(trie_regex([_unit_atoms(f, True) for f in ci]))
    return f"(?=[{first_chars(cs + ci)}])(?:" + "|".join(parts) + ")" if parts else "(?!)"


# the last word of a comparison phrase, before a number with a decimal comma ("above 0,40")
_WORD_OPERATOR_END = "".join(
    rf"|(?<=\b{w}\s)" for w in ("than", "least", "most", "above", "below", "over", "under", "exceeding")
)
# the second number of a range whose first has a decimal comma ("18,5-24,9")
_COMMA_RANGE_END = "".join(
    rf"|(?<=\d,\d{d}{gap})" for d in ("", r"\d") for gap in ("-", "–", r"\s-\s", r"\s–\s", r"\sto\s")
)
# thousands commas ("100,000"; a comma after it may be punctuation: "platelets < 100,000, INR")
_DIGITS = r"(?:\d{1,3}(?:,\d{3}){1,3}(?!\d|,\d)|\d{1,9})(?:[.·]\d{1,6})?|[.]\d{1,6}"
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_ONES = "one two three four five six seven eight nine".split()
# "a hundred", "twenty-one", "seven", "twice", "a dozen" as one trie (a flat list of 40 words
# costs a microsecond at every word start). Which word matches is as with the flat list
# "a hundred|one hundred|twenty-one|...|seven|...": a word is read whole (a non-word follows
# it), and where two can match ("twenty one" / "twenty") the longer comes first in both.
_WORD_NUMBER = trie_regex(
    [([*w, r"\s", *"hundred"], "") for w in ("a", "one")]
    + [([*t, r"[-\s]", *o], "") for t in _TENS for o in _ONES]
    + [([*w], "") for w in [*NUMBER_WORDS.split("|"), "twice", "half", "single"]]
    + [(["a", r"\s+", *"dozen"], "")]
)


@dataclass
class Grammar:
    regex: re.Pattern
    before: dict[str, str]
    after: dict[str, str]
    temporal: dict[str, str]
    units: dict[str, str]
    unit_kind: dict[str, str]
    references: dict[str, str]
    # case-sensitive unit forms read as written before their folded form ("mM": mmol/L, not mm)
    written_first: frozenset = frozenset()

    def unit_code(self, written: str) -> str | None:
        """The UCUM code of a unit as written: its folded form's, else the form as written
        (a case-sensitive form), the molar forms of ``written_first`` as written first."""
        if written in self.written_first and (code := self.units.get(written)):
            return code
        return self.units.get(_norm(written)) or self.units.get(written)


_SLASH = re.compile(r"\s*/\s*")


@lru_cache(maxsize=8192)
def _norm(s: str) -> str:
    # the key of a phrase or unit as written; the same few hundred phrases recur
    return _SLASH.sub("/", " ".join(s.lower().split()))


def _with_other_languages(operators: dict) -> tuple[dict, dict[str, list[str]]]:
    """operators.json with its "other_languages" block (EU registry records in Spanish,
    French, German, ...) joined to the English lists, and that block's time units."""
    extra = operators.get("other_languages")
    if not extra:
        return operators, {}
    merged = dict(operators)
    for section in ("before", "after", "temporal"):
        merged[section] = {op: list(ps) for op, ps in operators[section].items()}
        for op, ps in extra.get(section, {}).items():
            merged[section].setdefault(op, []).extend(ps)
    for key in ("range_openers", "range_separators"):
        merged[key] = list(operators[key]) + list(extra.get(key, []))
    return merged, extra.get("units", {})


def compile_grammar(operators: dict, units: dict) -> Grammar:
    operators, other_units = _with_other_languages(operators)
    before = {_norm(p): op for op, ps in operators["before"].items() for p in ps}
    after = {_norm(p): op for op, ps in operators["after"].items() for p in ps}
    temporal = {_norm(p): op for op, ps in operators["temporal"].items() for p in ps}
    references = {_norm(p): ref for ref, ps in operators["references"].items() for p in ps if p != "N"}
    unit_map: dict[str, str] = {}
    unit_kind: dict[str, str] = {}
    case_sensitive = set(units.get("case_sensitive_forms", []))
    cs_forms, ci_forms = [], []
    for entry in units["units"]:
        unit_kind[entry["ucum"]] = entry.get("kind", "")
        for form in entry["forms"]:
            unit_map[_norm(form) if form not in case_sensitive else form] = entry["ucum"]
            (cs_forms if form in case_sensitive else ci_forms).append(form)
    # Units this component needs whatever units.json says (time windows and ages).
    for ucum, forms in [*{"a": ["years", "year"], "mo": ["months", "month"], "wk": ["weeks", "week"],
                        "d": ["days", "day"], "h": ["hours", "hour", "hr", "hrs", "h"],
                        "min": ["minutes", "minute", "min", "mins"],
                        "%": ["%"]}.items(), *other_units.items()]:  # fmt: skip
        unit_kind.setdefault(ucum, "time" if ucum != "%" else "fraction")
        for f in forms:
            if _norm(f) not in unit_map:
                unit_map[_norm(f)] = ucum
                ci_forms.append(f)
    # the units' trie (1,700 forms) takes 20 ms to write out: kept for the next process
    unit_alt = textcache.built(
        "grammar-units", "\x01".join(cs_forms) + "\x00" + "\x01".join(ci_forms),
        lambda: unit_alternation(cs_forms, ci_forms), [__file__, trie.__file__],
    )
    pre = alternation(list(before))
    post = alternation(list(after))
    temp = alternation(list(temporal))
    openers = alternation(operators["range_openers"])
    seps = alternation(operators["range_separators"])
    # "0 or 1", "I and II", "grade II/III": short lists of grades read as one range
    seps_plain = alternation(operators["range_separators_without_opener"] + operators.get("list_separators", []))
    quals = alternation(operators["qualifiers"])
    mults = alternation(operators["multipliers"])
    refs = alternation([p for ps in operators["references"].values() for p in ps if p != "N"])
    # a keyword may touch a numeral character ("GradeⅡ"): its end is no word character but those
    roman_kw = alternation(operators["roman_keywords"], word_end=r"(?![^\WⅠ-ⅿ])")

    def number(tag: str) -> str:
        # "IL-2", "COVID-19": digits after letter + hyphen are part of a name, except as the
        # second bound of a range ("8yr-18yrs")
        glued = r"(?<![A-Za-z][-–])" if tag == "a" else ""
        # digits (maybe a titre "1:160"), or number words ("three (3)"), or roman numerals
        # after a grade/class/stage keyword.
        return (
            rf"(?:(?P<{tag}t>1\s?:\s?(?P<{tag}tv>\d{{1,5}}))(?![\d:])"
            # a decimal comma, read only right after an operator ("BMI ≥18,5", "index above
            # 0,40"), right before a unit ("1,5 mg/dL", "0,25 cm²") or in a range of such
            # numbers ("18,5-24,9", "18,5 to 30 kg/m2"): a thousands comma has three digits after it
            rf"|(?:(?<=[<>≥≤=])|(?<=[<>≥≤=]\s){_WORD_OPERATOR_END}{_COMMA_RANGE_END}"
            rf"|(?<![\d,./])(?=\d{{1,4}},\d{{1,2}}\s{{0,2}}(?:{unit_alt})"
            rf"|\d{{1,4}},\d{{1,2}}\s{{0,3}}(?:[-–]|to)\s{{0,3}}\d{{1,4}}(?:,\d{{1,2}}(?![\d,])|(?![\d,])\s{{0,2}}(?:{unit_alt}))))"
            rf"(?P<{tag}c>\d{{1,4}},\d{{1,2}})(?![\d,])"
            # "x3 ULN", "× 2.5 ULN": a multiplication sign written before the multiple of a
            # reference limit (what follows is checked in ref(): the limit must be named)
            rf"|(?:(?<![\w.,^*/])|(?:(?<=[xX×])|(?<=[xX×]\s))(?=(?:{_DIGITS})\s{{0,2}}(?:{refs})))(?<!\d:){glued}(?P<{tag}d>{_DIGITS})(?!\d|[.]\d|,\d{{3}}(?!\d)|:\d|(?:st|nd|rd|th)\b(?!\s{{1,2}}(?:percentile|centile|%\s?ile)))"
            rf"|(?<![\w-])(?P<{tag}w>{_WORD_NUMBER})(?:\s{{0,2}}\(\s?(?P<{tag}p>\d{{1,4}})\s?\))?(?![\w-])"
            # a roman numeral after a space or sign; a numeral character ("GradeⅠ") after anything
            rf"|(?:(?<={ROMAN_BEFORE})|(?=[Ⅰ-Ⅻⅰ-ⅹ]))(?P<{tag}r>(?-i:{ROMAN}))(?![\w])"
            # a dipstick grade right after a sign: "urine protein >= ++" is ">= 2+"
            rf"|(?:(?<=[<>≥≤=])|(?<=[<>≥≤=]\s))(?P<{tag}plus>\(\+(?:\s?\+){{1,3}}\)|\+(?:\s?\+){{1,3}})(?![\w+]))"
        )

    def sci(tag: str) -> str:
        # "x 10^9/L", "×10⁹/L", "* 10*9/l": the power of ten becomes part of the unit.
        return (
            rf"(?:\s{{0,2}}(?:[x×X*·]|times)\s{{0,2}}10\s{{0,2}}(?:\^|\*{{1,2}}|[eE])?\s{{0,2}}"
            rf"(?P<{tag}exp>[0-9⁰¹²³⁴⁵⁶⁷⁸⁹]{{1,2}})"
            rf"(?:\s{{0,2}}/\s{{0,2}}(?P<{tag}per>[µμu]?[lL]|mm3|mm³|mcL|mL|ml|kg)(?![A-Za-z]))?)"
        )

    # "3 times normal", "2x institutional normal": the upper limit, named by "normal" only
    # right after a multiplier ("2 normal ECGs" is no limit; "3 times normal size" is a size)
    normal = r"(?:institutional\s{1,2})?normal(?:\s{1,2}(?:limits?|values?|range))?(?![\w])(?!\s{1,2}(?:size|saline|volume|dose|weight))"

    def ref(tag: str) -> str:
        # "2 x ULN", "3 times the upper limit of normal", "3N", "1.5 ULN"; "N" and "normal"
        # only right after a multiplier ("N" also glued to the number).
        return (
            # "2x ULN", "1.5xULN": an "x" glued to the number only when a limit follows
            rf"(?:\s{{0,2}}(?P<{tag}mult>{mults}|(?<=\d)[xX×](?=\s{{0,2}}(?:{refs}|(?-i:N)(?![\w])|{normal})))\s{{0,2}}(?:(?:of|the|an?)\s{{1,2}}){{0,2}}"
            rf"(?:(?P<{tag}ref>{refs})|(?P<{tag}refn>(?-i:N))(?![\w])|(?P<{tag}refnorm>{normal}))?"
            rf"|\s{{0,2}}(?P<{tag}ref2>{refs})|(?<=\d)(?P<{tag}refg>(?-i:N))(?![\w])"
            # "1.5xULN": sign and limit glued to the number
            rf"|(?<=\d)[xX×](?P<{tag}refx>(?-i:I?ULN|LLN))(?![\w]))"
        )
    unit = rf"(?:\s{{0,2}}-?\s{{0,2}}(?P<unit>{unit_alt}))"
    # "3-mo to 5-yrs": a hyphen may join the first number to a unit of two letters or more
    # ("95-M-0150" is a protocol number)
    unit1 = rf"(?:\s{{0,2}}(?:-(?=[A-Za-z]{{2}}))?(?P<unit1>{unit_alt}))"
    # "between 50 kg (inclusive) and 90 kg (exclusive)": whether a bound is included, in brackets
    inclusive = r"(?:\s{0,2}\((?:both\s)?(?:inclusive|exclusive|inclusively|included|excluded|incl\.?)\))"
    # "1 h of life", "18 years of age", "65 years old"
    age_tail = r"(?:of\s{1,3}age|of\s{1,3}life(?!\s{1,3}expectancy)|old)(?![\w])"
    opener = rf"(?:(?P<opener>{openers})\s{{1,3}}(?:(?:{quals})\s{{1,3}}){{0,2}})"
    range_sep = rf"(?:\s{{0,3}}(?P<sep>{seps})\s{{0,3}})"
    range_sep_plain = rf"(?:\s{{0,3}}(?P<sep2>{seps_plain})\s{{0,3}})"
    pre_op = (
        rf"(?:(?P<pre>{pre})\s{{0,3}}(?:(?:{quals})\s{{0,3}}:?\s{{0,3}}){{0,3}}"
        rf"|(?P<temp>{temp})\s{{1,3}}(?:(?:{quals})\s{{1,3}}){{0,1}})"
    )
    # "5 ≤ ESSDAI ≤ 13", "5=ESSDAI=13": a variable between two bounds.
    lop = r"(?:<=|=<|≤|⩽|≦|<|＜|=)"
    two_sided = (
        rf"(?P<lv>{_DIGITS})(?:\s{{0,2}}(?:{unit_alt}))?\s{{0,2}}(?P<lop>{lop})\s{{0,2}}"
        rf"(?P<mid>[A-Za-z][\w\-]{{0,30}}(?:\s[\w\-]{{1,30}}){{0,3}})"
        rf"\s{{0,2}}(?P<rop>{lop})\s{{0,2}}(?P<rv>{_DIGITS})(?![\d])(?:\s{{0,2}}(?P<unit2>{unit_alt}))?"
    )
    def roman_kw_part(tag: str) -> str:
        # the keyword may stand in brackets: "American Society of Anesthesiologists (ASA) II"
        return rf"(?:(?P<{tag}kwo>\()?(?P<{tag}rkw>{roman_kw})(?({tag}kwo)\))(?:\s{{1,2}}|(?=[Ⅰ-Ⅻⅰ-ⅹ])))"

    # "ALT <= ULN", ">= the lower limit of normal": a sign before a reference limit with no
    # number, a bound of one times the limit (tried after every reading with a number)
    reference_only = (
        rf"(?P<nrpre>{pre})\s{{0,3}}(?:(?:{quals})\s{{0,3}}){{0,2}}(?P<nref>{refs})(?![\w])"
        rf"(?!\s{{0,2}}(?:[x×X*·]|times|of|range|value)?\s{{0,2}}\d)"
    )
    expr = (
        rf"(?P<two>{two_sided})"
        rf"|(?:{opener}|{pre_op})?{roman_kw_part('a')}?(?:(?<![\w])[xX×]\s?(?=\d))?(?P<asign>[-−](?=\d))?{number('a')}"
        rf"(?:{sci('a')}|{ref('a')})?{unit1}?(?:\s{{0,2}}-?\s{{0,2}}{age_tail})?{inclusive}?"
        # "between 18- and 65-years": the first number's hyphen waits for the second's unit
        # (not "5- or 10-minute Apgar score": two names)
        rf"(?:-(?=\s{{1,3}}(?:and|to)\s))?"
        rf"(?:(?(opener){range_sep}|{range_sep_plain})(?:(?P<pre2>{pre})\s{{0,2}})?{roman_kw_part('b')}?"
        rf"(?P<bsign>[-−](?=\d))?{number('b')}(?:{sci('b')}|{ref('b')})?)?"
        rf"{unit}?(?:\s{{0,2}}-?\s{{0,2}}{age_tail})?{inclusive}?"
        # a trailing operator, unless it opens another comparison ("18 and less or equal 45")
        rf"(?:\s{{0,3}}(?P<post>{post})(?!\s{{0,2}}(?:\d|than\b|or\b|equal|to\b)))?"
        rf"|{reference_only}"
    )
    # No expression starts with a letter inside a word: most positions are rejected at once.
    # Nor 10 + d digits before a non-digit (d: the most digits a unit form starts with,
    # "1012/l"): a number has at most 9 digits before its end, a unit follows, and no
    # phrase before a number starts with a digit. It keeps long runs of digits cheap.
    lead = max((len(f) - len(f.lstrip("0123456789")) for f in cs_forms + ci_forms), default=0)
    if any(p[:1].isdigit() for p in (*before, *temporal, *operators["range_openers"], *operators["roman_keywords"])):
        lead = None  # a phrase starting with a digit: no guard
    digit_guard = rf"(?!\d{{{10 + lead}}})" if lead is not None else ""
    # compiled once, then loaded in compiled form (see compiled.py), behind a look-ahead on
    # the characters an expression can start with
    regex = compiled.compile(
        rf"(?:(?![A-Za-z])|(?<![A-Za-z])){digit_guard}(?:{expr})", re.IGNORECASE, prefilter=True
    )
    return Grammar(regex, before, after, temporal, unit_map, unit_kind, references,
                   frozenset(units.get("written_first", [])))

"""Reading one number as written: digits, number words, roman numerals, fractions."""

from __future__ import annotations

import re
from functools import lru_cache

from roman_numerals import InvalidRomanNumeralError, RomanNumeral
from text_to_num import text2num

from criteria_nlp.pipeline.trie import alternation

SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
# Unicode roman numeral letters (Ⅲ) -> ASCII, so one reader handles both.
_UNICODE_ROMAN = {
    "Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V", "Ⅵ": "VI", "Ⅶ": "VII", "Ⅷ": "VIII",
    "Ⅸ": "IX", "Ⅹ": "X", "Ⅺ": "XI", "Ⅻ": "XII",
    "ⅰ": "i", "ⅱ": "ii", "ⅲ": "iii", "ⅳ": "iv", "ⅴ": "v", "ⅵ": "vi", "ⅶ": "vii", "ⅷ": "viii",
    "ⅸ": "ix", "ⅹ": "x",
}  # fmt: skip
# Words text2num does not read but criteria use as quantities.
_SPECIAL_WORDS = {
    "half": 0.5, "½": 0.5, "¼": 0.25, "¾": 0.75, "once": 1.0, "twice": 2.0, "thrice": 3.0,
    "single": 1.0, "double": 2.0, "triple": 3.0, "a": 1.0, "an": 1.0, "none": 0.0, "no": 0.0,
    "dozen": 12.0, "a dozen": 12.0, "a half": 0.5, "one and a half": 1.5,
}  # fmt: skip
_DIGITS = re.compile(r"[-−]?\d+(?:,\d{3})*(?:\.\d+)?|[-−]?\.\d+")
_ROMAN = re.compile(r"(?i)^([ivx]{1,5})[a-c]?$")
_WORDS = re.compile(r"(?i)^[a-z][a-z -]*$")


def parse_roman(text: str) -> int | None:
    """'III' -> 3, 'IVa' -> 4 (a sub-stage letter is dropped), 'Ⅳ' -> 4; else None."""
    text = _UNICODE_ROMAN.get(text, text)
    m = _ROMAN.match(text)
    if not m:
        return None
    try:
        return int(RomanNumeral.from_string(m.group(1).upper()))
    except (InvalidRomanNumeralError, ValueError):
        return None


@lru_cache(maxsize=4096)
def parse_word_number(text: str) -> float | None:
    """'five' -> 5, 'twenty-one' -> 21, 'twice' -> 2; None when the words are no number."""
    key = " ".join(text.lower().replace("-", " ").split())
    if key in _SPECIAL_WORDS:
        return _SPECIAL_WORDS[key]
    if not key or not _WORDS.match(key):
        return None
    try:
        return float(text2num(key, "en"))
    except ValueError:
        return None


def parse_digits(text: str) -> float | None:
    text = text.translate(SUPERSCRIPTS)
    m = _DIGITS.search(text)
    if not m:
        return None
    return float(m.group(0).replace(",", "").replace("−", "-"))


def parse_number(text: str) -> float | None:
    """The number a short piece of text stands for (digits first, then words, then roman
    numerals); None when there is none."""
    text = text.strip()
    if not text:
        return None
    if any(ch.isdigit() for ch in text):
        return parse_digits(text)
    if text in _SPECIAL_WORDS:
        return _SPECIAL_WORDS[text]
    roman = parse_roman(text)
    if roman is not None:
        return float(roman)
    return parse_word_number(text)


NUMBER_WORDS = (
    "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred"
)
# Roman numerals as the value grammar reads them (grammar.py): case-sensitive, after a
# space, a hyphen, a slash or an operator, with an optional sub-stage letter ("IVa").
ROMAN = r"(?:IV|IX|V?I{1,3}|V|X|iv|ix|v?i{1,3}|v|x|[Ⅰ-Ⅻⅰ-ⅹ])[a-cA-C]?"
ROMAN_BEFORE = r"[\s\-–－~/<>=≥≤]"
# A cheap test run before any other work: text without a digit, a number word or a roman
# numeral cannot hold a numeric constraint. It finds every roman numeral the grammar reads
# ("stage IVa", "class iii", "grade X"), or that item would hold no constraint at all.
# The number words form a trie: this check runs on every item, most of which hold no number.
_NUMBER_CHARACTERS = "[\\d⁰¹²³⁴⁵⁶⁷⁸⁹½¼¾Ⅰ-Ⅻⅰ-ⅹ]"
_SPELLED = rf"(?i:{alternation(NUMBER_WORDS.split('|') + ['twice', 'once', 'single', 'double', 'half', 'dozen'])})"
_NUMERAL = r"\b(?:I{1,3}|IV|VI{0,3}|IX|ii|iii|iv)\b" rf"|(?<={ROMAN_BEFORE}){ROMAN}(?!\w)"
# A reference limit with no number before it ("ALT <= ULN", "potassium >= the lower limit of
# normal") is a bound of one times the limit: text that names one may hold a constraint.
_REFERENCE = (
    r"(?i:(?<![a-z])(?:i?uln|i?lln|ulrr|ulnr)(?![a-z])"
    r"|(?<![a-z])(?:upper|lower)\s{1,3}(?:limit|normal)(?![a-z])|(?<![a-z])normal\s{1,3}(?:upper|lower)(?![a-z]))"
)
# A dipstick grade after a sign ("urine protein >= ++"), read by the grammar as 2+.
_DIPSTICK = r"[<>≥≤=]\s?\(?\+\s?\+"
_NUMBER_WORDS = f"{_SPELLED}|{_NUMERAL}|{_REFERENCE}|{_DIPSTICK}"
HAS_NUMBER = re.compile(f"{_NUMBER_CHARACTERS}|{_NUMBER_WORDS}")
# The same test in parts, much faster: the engine finds a character of a class with one
# scan, while the whole pattern tries every branch at every position. The
# numerals are a search of their own led by the letters they can start with, so the engine
# skips to those letters instead of trying the look-behind at every position (a text
# without a digit costs 40% less than with one pattern for the words and numerals).
_CHARACTER = re.compile(_NUMBER_CHARACTERS).search
_SPELLED_AT = re.compile(_SPELLED).search
_NUMERAL_AT = re.compile(f"(?=[IVXivxⅠ-Ⅻⅰ-ⅹ])(?:{_NUMERAL})").search
_REFERENCE_AT = re.compile(f"(?=[IiLlNnUu])(?:{_REFERENCE})").search
_DIPSTICK_AT = re.compile(_DIPSTICK).search


_SEARCHES = (_CHARACTER, _SPELLED_AT, _NUMERAL_AT, _REFERENCE_AT, _DIPSTICK_AT)


class NumberScan:
    """``number_at`` over one text for positions that only grow, in time linear in the text.

    Each of the five searches keeps its last match: it is still the first one from any
    later position up to its start (a match does not depend on where the search began: the
    look-behinds see the text before it), and a search that found nothing finds nothing
    later. A search runs again only once the position has passed its match, so together
    they read the text about once; one search per position read again the rest of a text
    without a digit at every number word (quadratic: 1 MB of number words took minutes)."""

    __slots__ = ("_text", "_found", "_done", "_pos")

    def __init__(self, text: str) -> None:
        self._text = text
        self._forget(0)

    def _forget(self, pos: int) -> None:
        self._pos = pos
        self._found: list = [None] * len(_SEARCHES)
        self._done = [False] * len(_SEARCHES)  # searched, and nothing found from there on

    def at(self, pos: int) -> int | None:
        """Where ``HAS_NUMBER.search(text, pos)`` would start."""
        if pos < self._pos:
            self._forget(pos)  # a step back: what was found from later on may not be first
        self._pos = pos
        first = None
        for k, search in enumerate(_SEARCHES):
            if self._done[k]:
                continue
            m = self._found[k]
            if m is None or m.start() < pos:
                m = self._found[k] = search(self._text, pos)
                if m is None:
                    self._done[k] = True
                    continue
            if first is None or m.start() < first:
                first = m.start()
        return first


def number_at(text: str, pos: int = 0) -> int | None:
    """Where ``HAS_NUMBER.search(text, pos)`` would start (None: no number from ``pos``)."""
    return NumberScan(text).at(pos)


def text_has_number(text: str) -> bool:
    """``HAS_NUMBER.search(text) is not None``."""
    return (
        _CHARACTER(text) is not None
        or _SPELLED_AT(text) is not None
        or _NUMERAL_AT(text) is not None
        or _REFERENCE_AT(text) is not None
        or ("+" in text and _DIPSTICK_AT(text) is not None)
    )


# The criteria tokenizer stores the check's answer on each doc, and the text of docs with
# a number: it has the string at hand, while ``doc.text`` rebuilds it from the tokens.
HAS_NUMBER_KEY = "criteria_nlp.has_number"
TEXT_KEY = "criteria_nlp.text"


def has_number(doc) -> bool:  # noqa: ANN001 - a spaCy Doc
    """Whether ``doc`` may hold a numeric constraint (cached in ``doc.user_data``)."""
    flag = doc.user_data.get(HAS_NUMBER_KEY)
    if flag is None:
        flag = doc.user_data[HAS_NUMBER_KEY] = text_has_number(doc.text)
    return flag


def doc_text(doc) -> str:  # noqa: ANN001 - a spaCy Doc
    """``doc.text``, from the tokenizer's copy when it kept one (tokens never change it)."""
    text = doc.user_data.get(TEXT_KEY)
    return text if text is not None else doc.text

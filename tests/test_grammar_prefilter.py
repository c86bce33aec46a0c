"""The value grammar's look-ahead and digit-run guard change no match.

``compiled.compile(..., prefilter=True)`` puts a look-ahead on the characters a match can
start with (read from the parse tree) in front of a pattern; the grammar also refuses to
start inside a long run of digits. Both only refuse positions where no match can start:
checked against the plain patterns on text made to hit their edges.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from criteria_nlp import compiled

# letters that fold to ASCII under re.IGNORECASE (Kelvin sign, long s, dotless i, ...)
FOLDS = "Kſıİµ"

PATTERNS = [
    (r"ab|c\d", 0),
    (r"(?i)x?y", 0),
    (r"kelvin|s[a-c]+", re.I),
    (r"(?-i:V)|\s+[Ⅰ-Ⅻ]|(?<!\w)iv", re.I),
    (r"(a)?(?(1)b|c)d", 0),
    (r"(?=x)y|z{0}w|(?>q+)r", 0),
    (r"(?:(?![A-Za-z])|(?<![A-Za-z]))(?!\d{4})(?:\d{1,3}\.|one|µg)", re.I),
]


@pytest.mark.parametrize(
    ("pattern", "flags", "expected"),
    [(r"ab|c\d", 0, "ac"), (r"a*", 0, None), (r"[^a]b", 0, None), (r"(?i:a)b", 0, None), (r"x?\d", 0, r"x\d")],
)
def test_first_set_of_small_patterns(pattern, flags, expected):
    # None: a match may start anywhere (an empty match, a negated set, a case-insensitive
    # part of a case-sensitive pattern): no look-ahead then
    assert compiled.first_set(pattern, flags) == expected


def test_the_look_ahead_in_the_parse_tree_is_the_look_ahead_in_the_text():
    for pattern, flags in PATTERNS:
        text, args = compiled._program(pattern, flags, prefilter=True)
        assert text.startswith(("(?=[", "(?i)(?=["))
        assert compiled._program(text, flags)[1] == args


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="abcdxyzqrwVvIiⅢ 0123456789.-" + FOLDS + "KELVINSone", max_size=40))
def test_a_prefiltered_pattern_finds_the_same_matches(text):
    for pattern, flags in PATTERNS:
        plain = re.compile(pattern, flags)
        fast = compiled.compile(pattern, flags, prefilter=True)
        assert [(m.span(), m.groups()) for m in fast.finditer(text)] == [
            (m.span(), m.groups()) for m in plain.finditer(text)
        ], pattern


def test_the_cache_keeps_the_look_ahead(tmp_path, monkeypatch):
    monkeypatch.setenv("CRITERIA_NLP_CACHE", str(tmp_path))
    pattern = r"(?i)one|two\d"
    compiled._MEMORY.clear()
    first = compiled.compile(pattern, 0, prefilter=True)
    compiled._MEMORY.clear()
    again = compiled.compile(pattern, 0, prefilter=True)  # loaded from the file
    compiled._MEMORY.clear()
    assert again.pattern == first.pattern and again.pattern.endswith(f"(?:{pattern[4:]})")
    assert [m.span() for m in again.finditer("x ONE two3")] == [(2, 5), (6, 10)]
    assert compiled.compile(pattern, 0).pattern == pattern  # no look-ahead unless asked


@pytest.fixture(scope="module")
def grammars():
    """The grammar as compiled, and the same pattern without look-ahead and digit guard."""
    from criteria_nlp import load

    regex = load().get_pipe("criteria_constraints").grammar.regex
    inner = regex.pattern[regex.pattern.index("])(?:") + len("])(?:") : -1]
    guard = re.search(r"\(\?!\\d\{(\d+)\}\)", inner)
    assert guard is not None and int(guard.group(1)) >= 10
    plain = compiled.compile(inner[: guard.start()] + inner[guard.end() :], regex.flags)
    return regex, plain


PIECES = [
    "0", "1", "9", "12345", "1234567890", "1,000", ".5", "·", " ", "  ", "-", "–", "/", ":", "(", ")",
    "<", ">", "≥", "≤", "=", "<=", "x", "×", "^", "10^9/L", "1012/l", "109/l", "mg", "mL/min", "%",
    "years", "old", "of age", "ULN", "N", "times", "at least", "more than", "between", "and", "to",
    "or", "stage", "grade", "IVa", "II", "vi", "X", "twenty-one", "six", "a dozen", "once", "ESSDAI",
    "Age", "e", "E", "K", "ſ",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_the_grammar_matches_as_without_look_ahead_and_guard(grammars, pieces):
    fast, plain = grammars
    text = "".join(pieces)
    for pos in range(0, len(text), 7):
        a, b = fast.search(text, pos), plain.search(text, pos)
        assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups())), (text, pos)


def test_the_grammar_skips_a_long_digit_run_and_reads_what_follows(grammars):
    fast, plain = grammars
    text = "9" * 5000 + " ≥ 18 years"
    assert fast.search(text).group() == plain.search(text).group() == "≥ 18 years"

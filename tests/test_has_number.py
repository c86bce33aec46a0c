"""The cheap number test (numbers.HAS_NUMBER) finds every roman numeral the grammar reads.

Items without a hit are skipped before the tokenizer and the constraint component, and the
component starts the grammar a few words before each hit: a roman numeral the test missed
("stage IVa") gave no constraint unless another number stood in the same item.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import criteria_nlp
from criteria_nlp.pipeline.numbers import HAS_NUMBER


def _values(text: str) -> list[tuple[str, float, str]]:
    record = criteria_nlp.structure(text)
    return [(c.operator, c.value, c.text) for item in record.criteria for c in item.constraints]


@pytest.mark.parametrize(
    ("alone", "numeral", "value"),
    [
        ("Tumour stage IVa at enrolment", "stage IVa", 4.0),
        ("Lupus nephritis of class v", "class v", 5.0),
        ("Lesions of grade X", "grade X", 10.0),
        ("Stage IIIb disease", "Stage IIIb", 3.0),
        ("Liver disease of stage vi", "stage vi", 6.0),
    ],
)
def test_a_roman_numeral_alone_is_read_as_with_another_number(alone, numeral, value):
    read = _values(alone)
    assert ("==", value, numeral) in read
    with_age = _values(alone + ", aged 20 or over")
    assert ("==", value, numeral) in with_age and len(with_age) == len(read) + 1


@pytest.mark.parametrize("text", ["Signed informed consent", "i.e. no prior therapy", "Vitamin D deficiency"])
def test_text_without_a_number_still_has_no_constraint(text):
    assert _values(text) == []


@pytest.fixture(scope="module")
def grammar():
    from criteria_nlp import load

    return load().get_pipe("criteria_constraints").grammar.regex


PIECES = ["stage", "grade", "class", " ", "  ", "-", "/", "(", ")", ",", ".", "≥", "<", "I", "II", "III", "IV",
          "IVa", "IIIb", "V", "VI", "VIII", "IX", "X", "Xc", "i", "ii", "iv", "vi", "ix", "x", "xB", "Ⅲ", "ⅳ",
          "a", "b", "c", "MIX", "Vitamin", "and", "or"]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=20))
def test_every_roman_numeral_the_grammar_reads_is_a_hit(grammar, pieces):
    text = "".join(pieces)
    for m in grammar.finditer(text):
        for group in ("ar", "br"):
            if m.group(group) is not None:
                hit = HAS_NUMBER.search(text, m.start(group))
                assert hit is not None and hit.start() == m.start(group), (text, m.group(group))


# Letters of the number words, numerals and reference limits, digits and number signs, word
# breaks and the characters a numeral may follow: the places where the test in parts could differ.
_ALPHABET = "onetwhivfsxdzlgryucIVXabcABC 0123456789½Ⅳⅸ_-/<=≥\t\nKſé"
_WORDS = ["one", "Twice", "ninety", "IV", "iii", "Ⅻ", "seventeen", "half", "x", "V", "IXb", "sixty-", "ULN", "iuln",
          "LLN", "upper limit", "Lower  normal", "normal upper", "ulnr", "population", "≥ ++", "=(+ +", "+"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet=_ALPHABET, max_size=6), st.sampled_from(_WORDS)), max_size=12))
def test_number_at_and_text_has_number_answer_as_the_whole_pattern(parts):
    from criteria_nlp.pipeline.numbers import NumberScan, number_at, text_has_number

    text = "".join(parts)
    assert text_has_number(text) == (HAS_NUMBER.search(text) is not None)
    scan = NumberScan(text)  # one scan asked at growing positions, as the constraint loop asks
    for pos in [*range(len(text) + 1), 0, len(text) // 2]:  # and a step back
        whole = HAS_NUMBER.search(text, pos)
        expected = whole.start() if whole else None
        assert number_at(text, pos) == expected, (text, pos)
        assert scan.at(pos) == expected, (text, pos)


def test_the_constraint_loop_reads_a_text_of_number_words_about_once(monkeypatch):
    # Characters each search of the number test passes over, summed over one criterion of
    # number words without a digit: one search per position read the rest of the text
    # again at every word (quadratic), the kept matches read it about once.
    from criteria_nlp.pipeline import numbers

    read = [0]

    def counted(search):
        def wrapper(text, pos=0, *rest):
            m = search(text, pos, *rest)
            read[0] += (m.end() if m else len(text)) - pos
            return m

        return wrapper

    monkeypatch.setattr(numbers, "_SEARCHES", tuple(counted(s) for s in numbers._SEARCHES))
    text = "Patients with " + "twenty one or two hundred thirty " * 600
    criteria_nlp.structure(text)
    assert 0 < read[0] <= 5 * 2 * len(text)  # five searches, each at most about twice over

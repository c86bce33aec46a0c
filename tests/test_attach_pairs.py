"""What a blood pressure pair bounds when its first number, read without a unit, is
followed by the pair's other half ("> 170/110 mmHg"): the pressure named before the pair,
or the other end of the range it closes; never the pair's own "110 mmHg". Sentences
written for these tests (none is a corpus sentence)."""

import pytest

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def pressures(nlp, text):
    found = [c for c in extract_text(nlp, text, repair=False) if c.unit == "mm[Hg]"]
    for c in found:
        if c.mention is not None:
            assert text[c.mention_start : c.mention_end] == c.mention
    return found


@pytest.mark.parametrize(
    "text, thing",
    [
        ("Untreated hypertension (> 165/105 mmHg) at the first visit", "Untreated hypertension"),
        ("Resting pressure averaging above 155/96 mmHg", "Resting pressure"),
    ],
)
def test_a_pair_names_the_thing_before_it_not_its_own_second_half(nlp, text, thing):
    found = pressures(nlp, text)
    assert len(found) == 2
    for c in found:
        assert c.mention is not None and thing in c.mention, c
        assert c.mention_end <= c.start, c
    assert {c.variable for c in found} == {"systolic blood pressure", "diastolic blood pressure"}


def test_the_upper_end_of_a_pressure_range_names_what_the_lower_end_named(nlp):
    text = "Seated arterial pressure of at least 125/75 mm Hg but below 165/102 mm Hg on two visits"
    found = pressures(nlp, text)
    assert len(found) == 4
    assert {c.mention for c in found} == {found[0].mention}
    assert "pressure" in found[0].mention and found[0].mention_end <= found[0].start


def test_a_bare_pair_names_nothing(nlp):
    found = pressures(nlp, "> 152/93 mmHg")
    assert len(found) == 2 and all(c.mention is None for c in found)

"""A word that qualifies a bound or its comparison ("inclusive", "apart", "better",
"appropriate", "a maxima") names no thing: the bound names the thing before it. Sentences
written for these tests (none is a corpus sentence)."""

import pytest

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


@pytest.mark.parametrize(
    "text, number, thing",
    [
        ("Clock Drawing test between 3 to 7 inclusive", 3, "Clock Drawing test"),
        ("Auditory threshold is better than 35 dB", 35, "Auditory threshold"),
        ("Two cortisol readings at least one week apart greater than 20 ug/dL", 20, "cortisol readings"),
        ("Ferritin levels age appropriate (>= 30 ng/ml)", 30, "Ferritin"),
    ],
)
def test_a_qualifying_word_is_not_the_thing_bounded(nlp, text, number, thing):
    found = [c for c in extract_text(nlp, text, repair=False) if c.value == number]
    assert len(found) == 1
    c = found[0]
    assert c.mention is not None and thing in c.mention, c
    assert text[c.mention_start : c.mention_end] == c.mention

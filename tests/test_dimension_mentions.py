"""A length bound followed by the dimension it measures names that dimension ("in
diameter", "in the longest dimension", "in size"). Sentences written for these tests."""

import pytest

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


@pytest.mark.parametrize(
    ("text", "mention", "variable"),
    [
        ("A polyp at least 6 mm in diameter", "diameter", "polyp diameter"),
        ("Nodules under 3 cm in their greatest size", "Nodules", "Nodules"),  # "their ...": the thing itself
        ("One target node of 2 cm or more in short axis", "short axis", "tumour size"),
        ("Skin defect below 5 cm in length", "length", "Skin defect length"),
        ("Plaque between 1 and 4 mm thickness", "thickness", "Plaque thickness"),
    ],
)
def test_length_bound_names_its_dimension(nlp, text, mention, variable):
    c = extract_text(nlp, text, repair=True)[0]
    assert (c.mention, c.variable) == (mention, variable)
    assert text[c.mention_start : c.mention_end] == mention


def test_both_ends_of_a_range_name_the_dimension_after_the_second(nlp):
    a, b = extract_text(nlp, "A cyst that is > 1 cm and < 3 cm in size", repair=True)
    assert a.mention == b.mention == "size"


def test_other_units_keep_their_thing(nlp):
    (c,) = extract_text(nlp, "Haemoglobin above 10 g/dL in size of sample", repair=True)
    assert c.variable == "hemoglobin"

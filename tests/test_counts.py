"""A count of criteria to meet ("two of the following") is a floor, on sentences written for these tests."""

import pytest

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Patients fulfilling three of the following findings:", 3),
        ("Has 2 of these risk factors: smoking, obesity, diabetes", 2),
        ("At least 4 of the following cardiac events", 4),
    ],
)
def test_count_of_criteria_is_a_floor(nlp, text, value):
    (c,) = extract_text(nlp, text, repair=True)
    assert (c.operator, c.value, c.repaired) == (">=", value, False)
    assert c.written_operator.startswith("of ") or c.written_operator.lower() == "at least"


@pytest.mark.parametrize(
    "text",
    ["Toxicity grade 3 of the following kinds: neuropathy, rash", "NYHA class III of these patients"],
)
def test_a_grade_before_the_phrase_is_no_count(nlp, text):
    (c,) = extract_text(nlp, text, repair=True)
    assert c.operator == "==" and "of" not in c.text


def test_none_of_the_following_is_no_count(nlp):
    assert extract_text(nlp, "None of the following conditions apply", repair=True) == []


@pytest.mark.parametrize(
    "text",
    ["Histology of one of the following tumour types:", "Must meet 1 of these conditions"],
)
def test_one_of_a_list_bounds_nothing(nlp, text):
    # "one of the following" names a list to choose from: no count worth a constraint
    assert extract_text(nlp, text, repair=True) == []


def test_at_least_one_keeps_its_own_words(nlp):
    (c,) = extract_text(nlp, "At least one of the following signs:", repair=True)
    assert (c.operator, c.value, c.text) == (">=", 1, "At least one")

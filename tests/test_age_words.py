"""Ages named by their own words: two coordinated age bounds each with its own age word,
the other end of an age in months, a bare number right after a person, abbreviated "years
old", and years that do not measure the weight named after them. Sentences written for
these tests."""

import pytest

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def _read(nlp, text, kind="inclusion"):
    found = extract_text(nlp, text, kind=kind, repair=True)
    for c in found:
        assert text[c.start : c.end] == c.text
        if c.mention is not None:
            assert text[c.mention_start : c.mention_end] == c.mention
    return found


@pytest.mark.parametrize(
    ("text", "first_word", "second_word"),
    [
        ("Volunteers younger than 3 months or older than 75 years", "younger", "older"),
        ("Girls older than 11 years and younger than 16 years", "older", "younger"),
    ],
)
def test_each_age_bound_keeps_its_own_age_word(nlp, text, first_word, second_word):
    first, second = _read(nlp, text)
    assert (first.category, second.category) == ("age", "age")
    assert (first.mention, second.mention) == (first_word, second_word)
    # each mention is the word inside its own bound, not the other bound's
    assert first.start <= first.mention_start < first.end
    assert second.start <= second.mention_start < second.end


def test_an_age_named_before_both_bounds_is_shared(nlp):
    text = "Age of the participant >= 21 and <= 64 years"
    first, second = _read(nlp, text)
    assert (first.variable, second.variable) == ("age", "age")
    assert first.mention_start == second.mention_start == 0


def test_other_end_of_an_age_in_months_is_an_age(nlp):
    text = "Toddlers whose age is > 18 months and < 30 months"
    first, second = _read(nlp, text)
    assert (first.operator, first.value, first.unit, first.category) == (">", 18.0, "mo", "age")
    assert (second.operator, second.value, second.unit, second.category) == ("<", 30.0, "mo", "age")
    assert second.variable == "age"


@pytest.mark.parametrize(
    ("text", "kind", "operator", "value", "person"),
    [
        ("Every participant >= 21 who lives in the catchment area", "inclusion", ">=", 21.0, "participant"),
        ("Outpatients < 16", "exclusion", "<", 16.0, "Outpatients"),
        ("Men over 45 with a history of angina", "inclusion", ">", 45.0, "Men"),
    ],
)
def test_bare_number_after_a_person_is_their_age(nlp, text, kind, operator, value, person):
    (c,) = _read(nlp, text, kind)
    assert (c.operator, c.value, c.unit, c.category, c.variable) == (operator, value, "a", "age", "age")
    assert c.mention == person


@pytest.mark.parametrize(
    "text",
    [
        "Patients >= 3 previous regimens of chemotherapy",  # a count of what follows
        "Donors < 45 kg",  # a unit of its own
        "Participants with haemoglobin < 9.5",  # a lab named between
    ],
)
def test_a_number_after_a_person_that_is_not_an_age(nlp, text):
    assert all(c.category != "age" for c in _read(nlp, text))


@pytest.mark.parametrize(
    ("text", "value"),
    [("Transplant recipients aged > 40 y.o.", 40.0), ("Ex-smokers and =60yo", 60.0), ("Residents > 70 y/o", 70.0)],
)
def test_abbreviated_years_old_is_an_age(nlp, text, value):
    (c,) = _read(nlp, text)
    assert (c.value, c.unit, c.category, c.variable) == (value, "a", "age", "age")


def test_years_do_not_measure_the_weight_after_them(nlp):
    text = "Volunteer over 21 years weighing 50 to 90 kg"
    age, weight = _read(nlp, text)
    assert (age.value, age.category, age.variable) == (21.0, "age", "age")
    assert (weight.value, weight.upper, weight.unit, weight.variable) == (50.0, 90.0, "kg", "weight")


def test_hours_still_name_the_test_after_them(nlp):
    # a duration in hours qualifies the test that follows ("2 hour glucose"), unlike years
    text = "A 3 hour glucose value of 11 mmol/L or more"
    found = _read(nlp, text)
    assert any(c.unit == "h" and c.variable is not None and "glucose" in c.variable for c in found)


def test_a_thing_one_year_old_is_not_an_age(nlp):
    (c,) = _read(nlp, "Grafts less than two years old", "exclusion")
    assert c.category == "temporal"

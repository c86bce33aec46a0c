"""Ranges and units in the forms real criteria write them: two time units in one range,
"(inclusive)" between the bounds, suspended hyphens, standard deviations, adjectives
between a window's number and its unit. Sentences written for these tests."""

import pytest

from criteria_nlp.evaluation.lct import GoldComparison, _same_bound
from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def _one(nlp, text):
    (c,) = extract_text(nlp, text, repair=True)
    assert text[c.start : c.end] == c.text
    return c


@pytest.mark.parametrize(
    ("text", "value", "upper", "unit"),
    [
        # the first bound is written in the second's unit: not "between 3 and 9 years"
        ("Toddlers aged 9 months to 3 years", 0.75, 3.0, "a"),
        ("Participants between 18 months and 4 years of age", 1.5, 4.0, "a"),
        ("Infants 10 days to 6 weeks old", 10 / 7, 6.0, "wk"),
        ("Surgery between 36 hours and 5 days before randomisation", 1.5, 5.0, "d"),
        # one unit for both: as written
        ("Adolescents aged 12 to 17 years", 12.0, 17.0, "a"),
    ],
)
def test_range_of_two_time_units_is_in_the_second_unit(nlp, text, value, upper, unit):
    c = _one(nlp, text)
    assert (c.operator, c.unit) == ("between", unit)
    assert c.value == pytest.approx(value, abs=1e-5) and c.upper == pytest.approx(upper)


def test_scorer_compares_a_converted_range_by_its_written_numbers(nlp):
    c = _one(nlp, "Toddlers aged 9 months to 3 years")
    gold = GoldComparison("T1", 14, 33, "9 months to 3 years", "between", [3.0, 9.0], ["9", "3"], None, "age")
    wrong = GoldComparison("T2", 14, 33, "8 months to 3 years", "between", [3.0, 8.0], ["8", "3"], None, "age")
    assert _same_bound(gold, c) and not _same_bound(wrong, c)


@pytest.mark.parametrize(
    ("text", "written", "value", "upper", "unit"),
    [
        ("Body weight between 45 kg (inclusive) and 100 kg (exclusive)",
         "between 45 kg (inclusive) and 100 kg (exclusive)", 45.0, 100.0, "kg"),
        ("Neonates between 2 days of life and 12 weeks of life", "between 2 days of life and 12 weeks of life",
         2 / 7, 12.0, "wk"),
        ("Women and men aged between 30- and 70-years", "between 30- and 70-years", 30.0, 70.0, "a"),
        ("Ovulatory cycles of 24- to 38-days length", "24- to 38-days", 24.0, 38.0, "d"),
        ("Children aged 4-yrs to 11-yrs", "4-yrs to 11-yrs", 4.0, 11.0, "a"),
        ("BMI 19 to 31 kg/m2 (both inclusive) at screening", "19 to 31 kg/m2 (both inclusive)", 19.0, 31.0, "kg/m2"),
    ],
)
def test_range_forms(nlp, text, written, value, upper, unit):
    c = _one(nlp, text)
    assert (c.text, c.operator, c.unit) == (written, "between", unit)
    assert c.value == pytest.approx(value, abs=1e-5) and c.upper == pytest.approx(upper)


@pytest.mark.parametrize(
    "text",
    [
        "Apgar score recorded at the 1- or 5-minute mark",  # two names, no range
        "Enrolled under screening protocol 91-M-0244",  # a protocol number
        "Dosing on cycle 3 day 8",  # a day of a schedule
    ],
)
def test_names_and_schedules_are_no_range(nlp, text):
    assert extract_text(nlp, text, repair=True) == []


@pytest.mark.parametrize(
    ("text", "value", "upper"),
    [
        ("Usual menstrual cycle 26-34 days", 26.0, 34.0),  # "cycle" before a number with a unit
        ("Able to attend a clinic visit 10-14 days after discharge", 10.0, 14.0),
    ],
)
def test_numbered_word_before_a_range_with_a_unit(nlp, text, value, upper):
    c = _one(nlp, text)
    assert (c.operator, c.value, c.upper, c.unit) == ("between", value, upper, "d")


@pytest.mark.parametrize(
    ("text", "operator", "value"),
    [
        ("Height at least 2 SD below the mean for age", ">=", 2.0),
        ("IQ no lower than 1.5 standard deviations under the norm", ">=", 1.5),
    ],
)
def test_standard_deviations_are_a_unit(nlp, text, operator, value):
    c = _one(nlp, text)
    assert (c.operator, c.value, c.unit) == (operator, value, "{SD}")


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("Hospitalised for pneumonia in the 4 preceding months", 4.0, "mo"),
        ("No radiotherapy within the 2 previous years", 2.0, "a"),
        ("Any live vaccine into the 3 prior weeks", 3.0, "wk"),
    ],
)
def test_adjective_between_a_window_and_its_unit(nlp, text, value, unit):
    c = _one(nlp, text)
    assert (c.operator, c.value, c.unit, c.category) == ("<=", value, unit, "temporal")


def test_numeral_character_glued_to_its_keyword(nlp):
    c = _one(nlp, "Heart failure of NYHA classⅡ－Ⅲ")
    assert (c.operator, c.value, c.upper) == ("between", 2.0, 3.0)
    c = _one(nlp, "Tumour of gradeⅣ")
    assert (c.operator, c.value) == ("==", 4.0)


def test_decimal_comma_after_a_comparison_word(nlp):
    c = _one(nlp, "Left ventricular ejection fraction above 0,45")
    assert (c.operator, c.value) == (">", 0.45)
    c = _one(nlp, "Platelets more than 100,000 per microlitre")  # a thousands comma stays one
    assert c.value == 100000.0


@pytest.mark.parametrize(
    ("text", "value", "upper", "unit"),
    [
        ("Body mass index 19,5-27,5", 19.5, 27.5, None),
        ("Body mass index 20,5 to 32 kg/m2", 20.5, 32.0, "kg/m2"),
        ("Counts between 2,000-4,000 cells", 2000.0, 4000.0, None),  # thousands commas
    ],
)
def test_range_of_decimal_commas(nlp, text, value, upper, unit):
    c = _one(nlp, text)
    assert (c.operator, c.value, c.upper, c.unit) == ("between", value, upper, unit)


@pytest.mark.parametrize(
    ("text", "operator", "value", "unit"),
    [
        ("Bleeding risk [platelet count < 80,000, or INR above 2]", "<", 80000.0, None),  # comma after a thousands number
        ("Child with BMI > 97th %ile for age", ">", 97.0, "{percentile}"),
        ("Length at or above the 10th centile", ">=", 10.0, "{percentile}"),
        ("Birth weight below the 2nd percentile", "<", 2.0, "{percentile}"),
        ("Haemoglobin at or below 9.5 g/dL", "<=", 9.5, "g/dL"),
    ],
)
def test_thousands_percentiles_and_at_or_above(nlp, text, operator, value, unit):
    c = extract_text(nlp, text, repair=True)[0]
    assert (c.operator, c.value, c.unit) == (operator, value, unit)

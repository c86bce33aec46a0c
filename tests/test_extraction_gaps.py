"""Comparisons that were not read at all, one class a test, with sentences of our own.

Each class was found by listing the written ≥/≤ of the training part of
``ctgov_unlabelled`` and of LCT batches 1-10 that no constraint covered.
"""

import pytest

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def read(nlp, text):
    return [(c.operator, c.value, c.unit, c.text) for c in extract_text(nlp, text, repair=False)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # heart rate and respiratory rate abbreviations are vital signs, not statistics
        ("Resting tachycardia with HR >110 beats/min", [(">", 110.0, "/min", ">110 beats/min")]),
        ("Tachypnoea, RR ≥ 28 breaths per minute", [(">=", 28.0, "/min", "≥ 28 breaths per minute")]),
        # a capitalised "OR" between two bounds is the conjunction
        (
            "One lesion of 15 mm or more by calipers OR ≥ 8 mm by spiral CT",
            [(">=", 15.0, "mm", "15 mm or more"), (">=", 8.0, "mm", "≥ 8 mm")],
        ),
    ],
)
def test_vital_sign_abbreviations_and_capital_or_are_not_statistics(nlp, text, expected):
    assert read(nlp, text) == expected


@pytest.mark.parametrize("text", ["a sample size of n = 40 per arm", "significant at p < 0.01", "a lower bound of the CI > 0.8"])
def test_statistics_are_still_not_criteria(nlp, text):
    assert read(nlp, text) == []


def test_a_route_read_as_a_roman_numeral_does_not_hide_the_next_bound(nlp):
    # "IV" (intravenous) looks like the numeral 4; it is no value, and the dose after it was dropped with it
    got = read(nlp, "Methotrexate given at >12 mg/m2 IV or >20 mg/m2 by mouth")
    assert got == [(">", 12.0, "mg/m2", ">12 mg/m2"), (">", 20.0, "mg/m2", ">20 mg/m2")]


@pytest.mark.parametrize(
    ("text", "operator", "value", "written"),
    [
        ("Persistent diarrhoea ≥ CTCAE grade 2", ">=", 2.0, "≥ CTCAE grade 2"),
        ("Nausea of ≤ NCI-CTCAE v5.0 grade 1 at baseline", "<=", 1.0, "≤ NCI-CTCAE v5.0 grade 1"),
        ("Mucositis (≥ CTC AE grade 3)", ">=", 3.0, "≥ CTC AE grade 3"),
        ("Rash ≥ CTCAE gr. 2 in the last cycle", ">=", 2.0, "≥ CTCAE gr. 2"),
    ],
)
def test_a_grading_system_between_the_sign_and_the_grade(nlp, text, operator, value, written):
    (c,) = extract_text(nlp, text, repair=False)
    assert (c.operator, c.value, c.text) == (operator, value, written)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ulcer diameter ≥ to 3 cm", (">=", 3.0, "cm", "≥ to 3 cm")),
        ("Participants ≤ of 70 years", ("<=", 70.0, "a", "≤ of 70 years")),
        (
            "Insomnia for greater than or equal to (≥) 3 months",
            (">=", 3.0, "mo", "greater than or equal to (≥) 3 months"),
        ),
        ("eGFR less than or equal to (≤) 45 mL/min", ("<=", 45.0, "mL/min", "less than or equal to (≤) 45 mL/min")),
    ],
)
def test_a_stray_word_or_a_repeated_sign_after_the_operator(nlp, text, expected):
    assert read(nlp, text) == [expected]


@pytest.mark.parametrize(
    ("text", "operator", "relative_to", "written"),
    [
        ("Serum amylase ≤ ULN at screening", "<=", "ULN", "≤ ULN"),
        ("Serum sodium ≥ LLN", ">=", "LLN", "≥ LLN"),
        ("Conjugated bilirubin no higher than the upper limit of normal", "<=", "ULN", "no higher than the upper limit of normal"),
        ("Albumin >= institutional lower limit of normal", ">=", "LLN", ">= institutional lower limit of normal"),
    ],
)
def test_a_sign_before_a_reference_limit_alone_is_one_times_the_limit(nlp, text, operator, relative_to, written):
    (c,) = extract_text(nlp, text, repair=False)
    assert (c.operator, c.value, c.relative_to, c.text) == (operator, 1.0, relative_to, written)


def test_a_multiple_of_the_limit_is_still_read_with_its_number(nlp):
    (c,) = extract_text(nlp, "Lipase ≤ 2 x the upper limit of normal", repair=False)
    assert (c.operator, c.value, c.relative_to) == ("<=", 2.0, "ULN")


def test_a_reference_limit_without_a_sign_is_not_a_bound(nlp):
    assert extract_text(nlp, "Liver enzymes within the upper limit of normal range are expected", repair=False) == []


def test_coordinated_labs_before_a_reference_limit_each_get_the_bound(nlp):
    got = [(c.variable, c.operator, c.relative_to) for c in extract_text(nlp, "Calcium and sodium ≥ LLN", repair=False)]
    assert got == [("calcium", ">=", "LLN"), ("sodium", ">=", "LLN")]


@pytest.mark.parametrize(
    "text", ["a hazard ratio (HR) < 0.75 for progression", "relative risk (RR) > 1.5 in the cohort", "odds ratio OR >= 3"]
)
def test_hr_rr_or_are_statistics_where_the_item_names_the_statistic(nlp, text):
    assert read(nlp, text) == []


@pytest.mark.parametrize(
    ("text", "operator", "value", "written"),
    [
        ("Dipstick proteinuria ≥ ++ at two visits", ">=", 2.0, "≥ ++"),
        ("urinary protein < (+++)", "<", 3.0, "< (+++)"),
        ("Proteinuria ≤ + + on urinalysis", "<=", 2.0, "≤ + +"),
    ],
)
def test_a_dipstick_grade_after_a_sign_is_its_count_of_pluses(nlp, text, operator, value, written):
    (c,) = extract_text(nlp, text, repair=False)
    assert (c.variable, c.operator, c.value, c.text) == ("proteinuria", operator, value, written)


@pytest.mark.parametrize("text", ["HER2 +++ on immunohistochemistry", "ER+ and PR+ disease"])
def test_pluses_without_a_sign_are_no_bound(nlp, text):
    assert read(nlp, text) == []


def test_a_sign_a_dump_lost_inside_a_repeated_bracket_is_read_from_the_phrase(nlp):
    (c,) = extract_text(nlp, "Adults greater than or equal to (=) 60 years of age", repair=True)
    assert (c.operator, c.value, c.repaired) == (">=", 60.0, False)


@pytest.mark.parametrize(
    ("text", "variable", "operator", "value", "upper", "written"),
    [
        ("Anaesthetic risk ASA classification I to III", "ASA physical status", "between", 1.0, 3.0, "ASA classification I to III"),
        ("Physical status per American Society of Anesthesiologists (ASA) II or III", "ASA physical status", "between", 2.0, 3.0, "(ASA) II or III"),
        ("heart failure of New York Heart Association (NYHA) III", "NYHA class", "==", 3.0, None, "(NYHA) III"),
        ("a frail patient (ASA 4)", "ASA physical status", "==", 4.0, None, "ASA 4"),
    ],
)
def test_a_grade_after_its_scale_named_in_brackets_or_as_a_classification(nlp, text, variable, operator, value, upper, written):
    (c,) = extract_text(nlp, text, repair=False)
    assert (c.variable, c.operator, c.value, c.upper, c.text) == (variable, operator, value, upper, written)


@pytest.mark.parametrize("text", ["history of (1) stroke", "Type II diabetes mellitus", "(b) prior surgery"])
def test_an_enumeration_in_brackets_is_still_no_value(nlp, text):
    assert read(nlp, text) == []

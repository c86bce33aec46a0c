"""Durations written in two units read as one bound, on sentences written for these tests."""

import pytest

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


@pytest.mark.parametrize(
    ("text", "written", "operator", "value", "upper", "unit"),
    [
        ("Pregnancy between 22 weeks 0 days and 31 weeks 5 days", "between 22 weeks 0 days and 31 weeks 5 days", "between", 22, 31 + 5 / 7, "wk"),
        ("Women at 26+0 to 32+4 weeks of gestation", "26+0 to 32+4 weeks", "between", 26, 32 + 4 / 7, "wk"),
        ("Neonates born at 30 + 2 weeks to 35 + 6 weeks", "30 + 2 weeks to 35 + 6 weeks", "between", 30 + 2 / 7, 35 + 6 / 7, "wk"),
        ("Gestation of at least 35 weeks 3 days", "at least 35 weeks 3 days", ">=", 35 + 3 / 7, None, "wk"),
        ("Gestational age < 29+0 weeks", "< 29+0 weeks", "<", 29, None, "wk"),
        ("Gestational age 33 weeks 1 day or more", "33 weeks 1 day or more", ">=", 33 + 1 / 7, None, "wk"),
        ("Scan at 12 2/7 to 13 6/7 weeks", "12 2/7 to 13 6/7 weeks", "between", 12 + 2 / 7, 13 + 6 / 7, "wk"),
        ("Delivered before 36 weeks and 4 days", "before 36 weeks and 4 days", "<", 36 + 4 / 7, None, "wk"),
        ("Toddlers aged 1 year 6 months to 4 years", "1 year 6 months to 4 years", "between", 1.5, 4, "a"),
        ("Children younger than 3 years and 9 months", "younger than 3 years and 9 months", "<", 3.75, None, "a"),
    ],
)
def test_two_unit_durations(nlp, text, written, operator, value, upper, unit):
    (c,) = extract_text(nlp, text, repair=True)
    assert (c.text, c.operator, c.unit) == (written, operator, unit)
    assert c.value == pytest.approx(value, abs=1e-4)
    assert (c.upper is None) == (upper is None) and (upper is None or c.upper == pytest.approx(upper, abs=1e-4))
    assert text[c.start : c.end] == c.text


def test_child_age_in_years_and_months_is_an_age(nlp):
    (c,) = extract_text(nlp, "Toddlers aged 1 year 6 months to 4 years", repair=True)
    assert (c.variable, c.category) == ("age", "age")


@pytest.mark.parametrize(
    "text",
    [
        "HER2 IHC 3+ 2 weeks before surgery",  # a staining grade, then a window
        "Score of 28+0 on the scale",  # "+0" with no weeks
        "Between 30 weeks and 20 weeks",  # backwards
    ],
)
def test_no_compound_where_none_is_written(nlp, text):
    for c in extract_text(nlp, text, repair=True):
        assert c.value == int(c.value) and (c.upper is None or c.upper == int(c.upper)), c.text


def test_the_readers_keep_the_extractors_cap(nlp):
    # a pasted table of dates and two-unit durations: the cap of criteria_constraints holds
    from criteria_nlp.pipeline.constraints import MAX_CONSTRAINTS

    found = extract_text(nlp, "since 1 March 2020, 28+0 to 33+6 weeks; " * 400, repair=True)
    assert len(found) == MAX_CONSTRAINTS

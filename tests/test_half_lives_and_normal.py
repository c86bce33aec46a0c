"""Windows counted in half-lives, a second measure of a window ("30 days or 5 half-lives"),
and multiples of "normal" as multiples of the upper limit. Sentences written for these tests."""

import pytest

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def _read(nlp, text):
    found = extract_text(nlp, text, repair=True)
    for c in found:
        assert text[c.start : c.end] == c.text and c.text == c.text.strip()
    return found


@pytest.mark.parametrize(
    ("text", "operator", "value", "mention"),
    [
        ("No biologic therapy within 4 half-lives before baseline", "<=", 4.0, "biologic therapy"),
        ("More than 6 elimination half-lives since the last antidepressant", ">", 6.0, "antidepressant"),
        ("Within 3 half lives of the comparator drug", "<=", 3.0, "comparator drug"),
    ],
)
def test_window_in_half_lives(nlp, text, operator, value, mention):
    (c,) = _read(nlp, text)
    assert (c.operator, c.value, c.unit, c.category, c.mention) == (operator, value, "{half-life}", "temporal", mention)


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("Any experimental agent within 21 days or 6 half-lives, whichever is longer",
         (21.0, "d"), (6.0, "{half-life}")),
        ("Steroid injection within 8 weeks or 60 days before the visit", (8.0, "wk"), (60.0, "d")),
    ],
)
def test_second_measure_of_a_window_is_that_window(nlp, text, first, second):
    a, b = _read(nlp, text)
    assert (a.value, a.unit, b.value, b.unit) == (*first, *second)
    assert a.operator == b.operator == "<=" and b.mention == a.mention and b.category == "temporal"


def test_bare_duration_after_a_bound_of_another_kind_keeps_its_reading(nlp):
    # a dose, then a duration: no window to share
    a, b = _read(nlp, "Prednisone above 10 mg or 14 days of use")
    assert b.operator == "=="


@pytest.mark.parametrize(
    ("text", "operator", "value", "variable"),
    [
        ("Serum bilirubin no more than 2.5 times normal", "<=", 2.5, "bilirubin"),
        ("SGPT less than 4x institutional normal", "<", 4.0, "ALT"),
        ("Creatinine under 1.5 x normal values", "<", 1.5, "creatinine"),
        ("ALT above 3 times UNL", ">", 3.0, "ALT"),
    ],
)
def test_times_normal_is_a_multiple_of_the_upper_limit(nlp, text, operator, value, variable):
    (c,) = _read(nlp, text)
    assert (c.operator, c.value, c.relative_to, c.variable) == (operator, value, "ULN", variable)


def test_a_multiple_of_normal_names_the_lab_before_it_not_after(nlp):
    a, b = _read(nlp, "Alkaline phosphatase under 3 times normal AST under 2 times normal")
    assert (a.variable, b.variable) == ("alkaline phosphatase", "AST")


def test_normal_size_is_no_limit(nlp):
    (c,) = _read(nlp, "Liver more than 2 times normal size on imaging")
    assert c.relative_to is None and c.text == "more than 2 times"


def test_multiple_of_the_half_life(nlp):
    a, b = _read(nlp, "Any investigational device within 60 days or 4X the half-life, whichever is longer")
    assert (b.operator, b.value, b.unit, b.mention) == ("<=", 4.0, "{half-life}", a.mention)

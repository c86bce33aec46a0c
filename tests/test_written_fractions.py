"""Bounds written as fractions (Snellen acuity, scores out of their scale's top), on
sentences written for these tests."""

import pytest

from criteria_nlp.evaluation.lct import GoldComparison, _same_bound
from criteria_nlp.pipeline import build_pipeline, extract_text
from criteria_nlp.pipeline.written_fractions import ACUITY_UNIT, fraction_values


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


@pytest.mark.parametrize(
    ("text", "written", "operator", "value", "upper"),
    [
        ("Study eye BCVA between 20/320 and 20/32", "between 20/320 and 20/32", "between", 0.0625, 0.625),
        ("Visual acuity from 20/50 to 20/200 in the treated eye", "from 20/50 to 20/200", "between", 0.1, 0.4),
        ("Corrected visual acuity of 20/30 or better in each eye", "20/30 or better", ">=", 0.6667, None),
        ("Fellow eye acuity of 20/100 or worse", "20/100 or worse", "<=", 0.2, None),
        ("Vision in the other eye better than 20/50", "better than 20/50", ">", 0.4, None),
        ("Snellen acuity worse than 20/63", "worse than 20/63", "<", 0.3175, None),
        ("Best corrected visual acuity ≥ 6/18", "≥ 6/18", ">=", 0.3333, None),
        ("Distance acuity below 3/10 in the study eye", "below 3/10", "<", 0.3, None),
        ("Reads 20/80 Snellen or better on the chart", "20/80 Snellen or better", ">=", 0.25, None),
    ],
)
def test_acuity_is_decimal(nlp, text, written, operator, value, upper):
    (c,) = extract_text(nlp, text, repair=True)
    assert (c.text, c.operator, c.unit, c.scale_max) == (written, operator, ACUITY_UNIT, None)
    assert c.value == pytest.approx(value, abs=1e-4)
    assert (c.upper is None) == (upper is None) and (upper is None or c.upper == pytest.approx(upper, abs=1e-4))
    assert text[c.start : c.end] == c.text


def test_acuity_bound_names_the_acuity_not_the_eye(nlp):
    (c,) = extract_text(nlp, "Visual acuity in the non-study eye worse than 20/400", repair=True)
    assert c.variable == "best-corrected visual acuity"
    assert c.mention == "Visual acuity"


def test_bracketed_restatement_of_an_acuity_is_its_alternate(nlp):
    text = "BCVA of 6/24 (20/80) or better"
    (c,) = extract_text(nlp, text, repair=True)
    assert (c.operator, c.value, c.text) == (">=", 0.25, "6/24 (20/80) or better")
    assert [(a.text, a.value) for a in c.alternates] == [("20/80", 0.25)]


@pytest.mark.parametrize(
    ("text", "written", "operator", "value", "upper", "scale_max"),
    [
        ("Average back pain of 5/10 or more on the NRS", "5/10 or more", ">=", 5, None, 10),
        ("Worst pain intensity > 3/10 at screening", "> 3/10", ">", 3, None, 10),
        ("MoCA score between 19 and 25/30", "between 19 and 25/30", "between", 19, 25, 30),
        ("Glasgow coma score of 13/15 or less", "13/15 or less", "<=", 13, None, 15),
        ("Shoulder strength at least 4/5 on manual testing", "at least 4/5", ">=", 4, None, 5),
    ],
)
def test_score_out_of_its_top(nlp, text, written, operator, value, upper, scale_max):
    (c,) = extract_text(nlp, text, repair=True)
    assert (c.text, c.operator, c.value, c.upper, c.scale_max) == (written, operator, value, upper, scale_max)
    assert c.unit is None and c.category == "score"


@pytest.mark.parametrize(
    "text",
    [
        "Pain diary started on 4/10/2021 with no entries missing",  # a date's slashes
        "Ratio of 1/3 between the two arms",  # a fraction with no cue word
        "Acuity testing done 2 to 3 times a week",  # an acuity word, no fraction
    ],
)
def test_fractions_that_are_no_acuity_or_score(nlp, text):
    assert all(c.unit != ACUITY_UNIT and c.scale_max is None for c in extract_text(nlp, text, repair=True))


def test_pair_of_values_with_a_unit_is_no_score(nlp):
    cs = extract_text(nlp, "Resting pain clinic blood pressure under 150/95 mmHg", repair=True)
    assert [(c.value, c.unit, c.scale_max) for c in cs] == [(150, "mm[Hg]", None), (95, "mm[Hg]", None)]


def test_more_letters_read_is_better(nlp):
    (c,) = extract_text(nlp, "ETDRS acuity of 60 letters or better in the study eye", repair=True)
    assert (c.operator, c.value, c.unit) == (">=", 60, "{letters}")
    (c,) = extract_text(nlp, "ETDRS acuity of 35 letters or worse in the study eye", repair=True)
    assert (c.operator, c.value) == ("<=", 35)


def test_scorer_compares_acuity_by_the_fractions_values(nlp):
    # LCT's values of "20/50 to 20/200" are its numerators, 20 and 20
    text = "Visual acuity from 20/50 to 20/200 in the treated eye"
    (c,) = extract_text(nlp, text, repair=True)
    gold = GoldComparison("T1", 19, 34, "20/50 to 20/200", "between", [20.0, 20.0], ["20", "20"], None, "observation")
    assert _same_bound(gold, c)
    wrong = GoldComparison("T2", 19, 34, "20/40 to 20/200", "between", [20.0, 20.0], ["20", "20"], None, "observation")
    assert not _same_bound(wrong, c)
    assert fraction_values("between 20/400 and 6/60") == {0.05, 0.1}


def test_reading_says_the_scale_and_the_acuity(nlp):
    from criteria_nlp.report.text import constraint_reading

    (c,) = extract_text(nlp, "Worst pain intensity > 3/10 at screening", repair=True)
    assert constraint_reading(c.model_dump()).endswith("pain intensity > 3 out of 10")
    (c,) = extract_text(nlp, "Corrected visual acuity of 20/40 or better in each eye", repair=True)
    assert constraint_reading(c.model_dump()) == "best-corrected visual acuity >= 0.5 (decimal acuity)"

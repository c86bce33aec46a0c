"""Lists of three or more grades read as one range, on sentences written for these tests."""

import pytest

from criteria_nlp.evaluation.lct import GoldComparison, _same_bound
from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


@pytest.mark.parametrize(
    ("text", "written", "lower", "upper"),
    [
        ("Anaesthetic risk ASA I, II or III", "ASA I, II or III", 1, 3),
        ("Heart failure of NYHA class II, class III or class IV", "NYHA class II, class III or class IV", 2, 4),
        ("Astrocytoma grade I, II, III or glioblastoma", "grade I, II, III", 1, 3),
        ("Gross Motor Function levels I, II, and III", "levels I, II, and III", 1, 3),
        ("ASA class 1, 2 or 3", "ASA class 1, 2 or 3", 1, 3),
        ("ECOG performance status 0, 1 or 2", "0, 1 or 2", 0, 2),
        ("Plaque index score of 1,2 or 3", "1,2 or 3", 1, 3),
    ],
)
def test_runs_of_grades(nlp, text, written, lower, upper):
    (c,) = extract_text(nlp, text, repair=True)
    assert (c.operator, c.value, c.upper, c.unit) == ("between", lower, upper, None)
    assert c.text.endswith(written) and text[c.start : c.end] == c.text


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Stage III, IVA or IVB carcinoma", "Stage III"),  # sub-stages are no run of whole stages
        ("Lymphoma grade 1, 2, 3A or 3B", "grade 1"),  # a range up to 2 would leave 3A out
        ("Relapse 2, 3 or 4 weeks after surgery", None),  # digits without a grading word
    ],
)
def test_lists_left_as_read(nlp, text, first):
    found = extract_text(nlp, text, repair=True)
    assert all(not (c.operator == "between" and c.upper == 4 and c.value <= 3 and c.unit is None) for c in found)
    if first is not None:
        assert found[0].text == first and found[0].upper is None


def test_lct_list_matches_the_range_it_fills(nlp):
    (c,) = extract_text(nlp, "ASA I, II or III", repair=True)
    gold = GoldComparison(id="T1", start=0, end=16, text="ASA I, II or III", operator="EQ", values=[1.0, 2.0, 3.0],
                          value_text=[], unit_text=None, category="stage")
    assert _same_bound(gold, c)
    gold.values = [1.0, 2.0, 4.0]
    assert not _same_bound(gold, c)

"""The error classes issue 10 saw in real WHO exports, each as sentences written for this
test (never a corpus sentence), dumped ("=" for every lost sign) and read by the whole
record path. Two classes the decision still reads wrong are marked xfail (strict)."""

import pytest

import criteria_nlp
from criteria_nlp.evaluation.repair import run_record


@pytest.fixture(scope="module")
def nlp():
    return criteria_nlp.load()


def _read(nlp, text: str) -> list[str]:
    return [c.operator for c in run_record(nlp, text) if c.written_operator == "="]


def test_lab_limits_under_adequate_organ_function_are_repaired_each(nlp):
    text = (
        "Inclusion Criteria:\n- Adequate organ function, defined as:\n"
        "  - Absolute neutrophil count = 1.5 x 10^9/L\n  - Total bilirubin = 1.5 x ULN\n"
        "  - Creatinine clearance = 50 mL/min\n- Signed informed consent"
    )
    assert _read(nlp, text) == [">=", "<=", ">="]


def test_exclusion_thresholds_on_labs_name_the_abnormal_side(nlp):
    text = "Exclusion Criteria:\n- Serum creatinine = 2.0 mg/dL\n- Platelet count = 50 x 10^9/L\n- ALT = 3 x ULN"
    assert _read(nlp, text) == [">=", "<=", ">="]


def test_a_time_window_in_brackets_after_an_event_is_how_recent(nlp):
    text = (
        "Exclusion Criteria:\n- Myocardial infarction (= 6 months before screening)\n"
        "- Stroke or transient ischaemic attack (= 3 months prior to randomisation)"
    )
    assert _read(nlp, text) == ["<=", "<="]


@pytest.mark.xfail(strict=True, reason="a threshold that defines a disease stage: still read as a safety floor")
def test_a_threshold_that_defines_end_stage_kidney_disease(nlp):
    text = "Inclusion Criteria:\n- End-stage renal disease (eGFR = 15 mL/min/1.73 m2) on dialysis"
    assert _read(nlp, text) == ["<="]


@pytest.mark.xfail(strict=True, reason="two bounds asking the same thing are read one by one")
def test_two_bounds_of_one_adequacy_ask_the_same_way(nlp):
    text = "Inclusion Criteria:\n- Adequate iron status: serum ferritin = 100 ng/mL and transferrin saturation = 20%"
    assert _read(nlp, text) == [">=", ">="]

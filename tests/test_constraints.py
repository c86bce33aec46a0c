"""The constraint extractor on real criteria text (the seed records and the issue's cases)."""

import time
from pathlib import Path

import pytest

from criteria_nlp.pipeline import build_pipeline, extract_text

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def one(nlp, text, repair=False, kind=None):
    found = extract_text(nlp, text, kind=kind, repair=repair)
    assert len(found) == 1, [c.text for c in found]
    return found[0]


def test_sledai_floor_from_listing_page(nlp):
    text = "SLE disease activity index(SLEDAI) ≥ 8."
    assert text in (ROOT / "examples" / "NCT02932137_listing_page.txt").read_text(encoding="utf-8")
    c = one(nlp, text)
    assert (c.variable, c.operator, c.value, c.category, c.written_operator) == ("SLEDAI", ">=", 8, "score", "≥")
    assert text[c.start : c.end] == c.text == "≥ 8"


def test_age_and_weight_ranges(nlp):
    text = "age:18 to 75 years, weight 45-80Kg"
    age, weight = extract_text(nlp, text, repair=False)
    assert (age.variable, age.operator, age.value, age.upper, age.unit, age.category) == (
        "age", "between", 18, 75, "a", "age")
    assert (weight.variable, weight.operator, weight.value, weight.upper, weight.unit) == (
        "weight", "between", 45, 80, "kg")


def test_scientific_notation_unit(nlp):
    c = extract_text(nlp, "decreased C3 or C4, leukopenia<3×10^9/L, thrombocytopenia<100×10^9/L;", repair=False)
    assert [(x.operator, x.value, x.unit) for x in c] == [("<", 3, "10*9/L"), ("<", 100, "10*9/L")]


def test_multiple_of_upper_limit(nlp):
    c = one(nlp, "hepatic insufficiency (transaminases> 3N) )")
    assert (c.operator, c.value, c.relative_to) == (">", 3, "ULN")
    c = one(nlp, "ALT≥2×ULN")
    assert (c.variable, c.operator, c.value, c.relative_to) == ("ALT", ">=", 2, "ULN")
    c = one(nlp, "liver insufficiency (upper limit of normal range of transaminase > 2 times)")
    assert (c.operator, c.value, c.relative_to) == (">", 2, "ULN")


def test_coordinated_variables_share_the_expression(nlp):
    text = "hepatic insufficiency (alanine aminotransferase or aspartate aminotransferase = 2 times of the upper limit of the normal range);"
    found = extract_text(nlp, text, repair=False)
    assert [(c.variable, c.operator, c.written_operator, c.value, c.relative_to) for c in found] == [
        ("ALT", "==", "=", 2, "ULN"), ("AST", "==", "=", 2, "ULN")]


def test_years_item_numbers_and_names_are_not_constraints(nlp):
    for text in [
        "Meet the 1997 revised classification criteria of the American College of Rheumatology",
        "Patients with Sjogren's syndrome who meet the 2002 EULAR classification criteria.",
        "Inability to comply with IL-2 treatment regimen.",
        "NCT04077684 COVID-19 vaccine, type 2 diabetes, SLEDAI-2K, CTCAE v5, version 4.03",
        "randomised 1:1 to each arm, phone 8615201303563, registered 2019-10-23 in 2015",
        "NYHA = New York Heart Association",
        "1. Negative urine pregnancy test",
    ]:
        assert extract_text(nlp, text, repair=False) == [], text


def test_bare_equals_is_kept_as_written_without_repair(nlp):
    c = one(nlp, "SLE disease activity index(SLEDAI) = 8")
    assert (c.operator, c.written_operator, c.repaired, c.confidence) == ("==", "=", False, 1.0)
    c = one(nlp, "severe comorbidities including heart failure (= grade III NYHA)")
    assert (c.variable, c.operator, c.value, c.written_operator) == ("NYHA class", "==", 3, "=")
    c = one(nlp, "corticosteroids (=1.0 mg/kg)")
    assert (c.operator, c.value, c.unit, c.category) == ("==", 1.0, "mg/kg", "dose")


def test_two_sided_equals(nlp):
    c = one(nlp, "ESSDAI score range 5=ESSDAI=13 at baseline")
    assert (c.variable, c.operator, c.value, c.upper, c.written_operator) == ("ESSDAI", "between", 5, 13, "=")
    c = one(nlp, "145 mmHg ≤ SBP ≤ 190 mmHg")
    assert (c.operator, c.value, c.upper) == ("between", 145, 190)


def test_time_windows_attach_to_what_they_bound(nlp):
    c = one(nlp, "History of administration of rituximab or other biologics within 6 months")
    assert (c.variable, c.category, c.operator, c.value, c.unit, c.written_operator) == (
        "rituximab", "temporal", "<=", 6, "mo", "within")
    c = one(nlp, "inadequate response to standard treatment for = 3 months")
    assert (c.variable, c.category, c.operator, c.written_operator, c.unit) == (
        "standard treatment", "temporal", "==", "=", "mo")
    c = one(nlp, "Cancer or history of cancer cured for less than five years")
    assert (c.category, c.operator, c.value, c.unit) == ("temporal", "<", 5, "a")
    c = one(nlp, "IV bolus of corticosteroids in the last 2 months.")
    assert (c.category, c.operator, c.value, c.unit) == ("temporal", "<=", 2, "mo")


def test_operator_words_ranges_and_numbers(nlp):
    cases = {
        "Age 18 years or older": (">=", 18, None, "a", "age"),
        "no more than 2 prior lines of therapy": ("<=", 2, None, None, "other"),
        "HbA1c between 7.0% and 10.5%": ("between", 7.0, 10.5, "%", "lab"),
        "ECOG performance status 0~2": ("between", 0, 2, None, "score"),
        "class II-IV heart failure": ("between", 2, 4, None, None),
        "at least three (3) months of therapy": (">=", 3, None, "mo", "temporal"),
        "Age ≥20 and ≤40 years": (">=", 20, None, None, "age"),
        "BMI ≥18,5": (">=", 18.5, None, None, None),
        "ANA>1:160": (">", 160, None, None, None),
    }
    for text, (op, value, upper, unit, category) in cases.items():
        c = extract_text(nlp, text, repair=False)[0]
        assert (c.operator, c.value, c.upper) == (op, value, upper), text
        if unit:
            assert c.unit == unit, text
        if category:
            assert c.category == category, text


def test_second_bound_after_a_cut_list_is_read(nlp):
    found = extract_text(nlp, "Age ≥20 and ≤40 years", repair=False)
    assert [(c.operator, c.value) for c in found] == [(">=", 20), ("<=", 40)]


def test_a_second_bound_joined_by_or_keeps_the_variable(nlp):
    """'or' before an operator is a conjunction, not the odds ratio 'OR'; the second bound
    has no name of its own and bounds the first one's variable."""
    low, high = extract_text(nlp, "BMI <18.5 or > 30 kg/m2", repair=False)
    assert (low.variable, low.operator, low.value) == ("BMI", "<", 18.5)
    assert (high.variable, high.operator, high.value, high.unit) == ("BMI", ">", 30, "kg/m2")
    assert extract_text(nlp, "odds ratio (OR) > 2 in the pilot study", repair=False) == []
    # a bare number after a bound with a unit is another quantity, not that bound's
    found = extract_text(nlp, "Beighton score = 5 for women up to the age of 50 years and = 4 for men", repair=False)
    assert [c.variable for c in found if c.value == 4] != ["age"]


def test_blood_pressure_pairs_bound_both_pressures(nlp):
    for text, op in (("uncontrolled hypertension (BP > 160/100 mmHg)", ">"), ("blood pressure ≥ 180 / 110mmHg", ">=")):
        sys_, dia = extract_text(nlp, text, repair=False)
        assert (sys_.variable, sys_.operator, sys_.value, sys_.unit) == ("systolic blood pressure", op, 160 if op == ">" else 180, "mm[Hg]")
        assert (dia.variable, dia.operator, dia.value) == ("diastolic blood pressure", op, 100 if op == ">" else 110)
        assert (sys_.start, sys_.end) == (dia.start, dia.end) and text[sys_.start : sys_.end].endswith("mmHg")
    # a score out of ten is not a pressure
    (pain,) = extract_text(nlp, "average pain score of > 4/10", repair=False)
    assert (pain.operator, pain.value, pain.upper) == (">", 4, None)


def test_negation_from_context(nlp):
    c = one(nlp, "No history of seizures within 2 years")
    assert c.negated is True
    c = one(nlp, "AST not more than 2 x ULN")
    assert c.negated is False and c.operator == "<="


def test_runs_in_linear_time_on_hostile_input(nlp):
    """Dense digits, operators and spaces: time grows with length, not faster (no
    catastrophic backtracking). 4x the text may take at most ~6x the time."""
    unit = "1 = 2 >= 3 - 4 ~ 5 < 6 x 10 ^ 9 / "
    times = []
    extractor = nlp.get_pipe("criteria_constraints")
    # the grammar itself, without the cap on comparisons per criterion
    extractor.max_constraints, cap = 10**9, extractor.max_constraints
    try:
        for n in (25_000, 100_000):
            text = (unit * (n // len(unit) + 1))[:n]
            t0 = time.perf_counter()
            found = extract_text(nlp, text, repair=False)
            times.append(time.perf_counter() - t0)
            assert len(found) > n // 20
    finally:
        extractor.max_constraints = cap
    assert times[1] < 6 * times[0] + 0.5
    assert times[1] < 15
    t0 = time.perf_counter()
    assert extract_text(nlp, "9" * 200_000, repair=False) == []
    assert time.perf_counter() - t0 < 5


def test_a_megabyte_of_comparisons_is_read_up_to_the_cap(nlp):
    """1 MB of dense comparisons is pasted data, not a criterion: reading stops after
    MAX_CONSTRAINTS comparisons, so the whole pipeline (repair included) takes seconds."""
    from criteria_nlp.pipeline.constraints import MAX_CONSTRAINTS, TRUNCATED_KEY

    text = "12 >= 3 <= 45.6 = 7 < 8 > 9 - 10 " * 30_300
    assert len(text) > 999_000
    t0 = time.perf_counter()
    doc = nlp(text)
    assert time.perf_counter() - t0 < 10
    found = doc._.constraints
    assert len(found) == MAX_CONSTRAINTS and doc.user_data[TRUNCATED_KEY] is True
    assert all(text[c.start : c.end] == c.text for c in found)
    assert [(c.operator, c.value) for c in found[:2]] == [(">=", 3), ("<=", 45.6)]
    short = nlp("Age >= 18 years and BMI < 30")
    assert TRUNCATED_KEY not in short.user_data and len(short._.constraints) == 2


SEEDS = ROOT / "annotations" / "seeds.jsonl"


@pytest.mark.skipif(not SEEDS.exists(), reason="no seed gold")
def test_seed_gold_constraints_are_found_with_their_operators():
    """Every gold constraint of the seeds whose item the segmenter finds is found, with the
    gold operator (repairs included), value, unit and reference."""
    from criteria_nlp.evaluation.gold import evaluate_gold

    report = evaluate_gold(ROOT / "annotations")
    matched = sum(r.get("constraints_matched", 0) for r in report["per_record"])
    assert report["constraints_detection"]["fp"] == 0, report["false_alarms"]
    segmented = [r for r in report["per_record"] if r.get("items_found")]
    gold_in_segmented = sum(r.get("constraints_gold", 0) for r in segmented)
    assert matched == gold_in_segmented, report["misses"]
    # A strict miss may only be a unit code the lexicon spells differently from the gold
    # ("g/(24.h)" for "g/d"); operator (repaired or not), value and reference must agree.
    for miss in report["misses"]:
        gold, found = miss["gold"], miss.get("found") or {}
        assert miss["why"] == "wrong reading", miss
        assert (found["operator"], found["value"], found["relative_to"]) == (
            gold["operator"], gold["value"], gold["relative_to"]), miss


@pytest.mark.parametrize(
    ("text", "operator", "value", "written"),
    [
        ("Hamilton depression score = 18 or higher", ">=", 18, "or higher"),
        ("Age = 65 or older", ">=", 65, "or older"),
        ("ECOG performance status = 1 or less", "<=", 1, "or less"),
        ("Karnofsky score of > = 70", ">=", 70, "> ="),
        ("Total bilirubin < = 1.5 mg/dL", "<=", 1.5, "< ="),
    ],
)
def test_an_operator_written_apart_or_after_a_bare_equals_is_read_as_written(nlp, text, operator, value, written):
    (c,) = extract_text(nlp, text, kind="inclusion")
    assert (c.operator, c.value, c.written_operator) == (operator, value, written)
    assert not c.repaired and c.confidence == 1.0


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("Sitting blood pressure of > 155/95.", [(">", 155, 95)]),
        ("Uncontrolled hypertension (BP ≥ 170/105 at two visits)", [(">=", 170, 105)]),
        ("BP > 150/100 or < 85/55", [(">", 150, 100), ("<", 85, 55)]),
    ],
)
def test_blood_pressure_pair_without_a_unit(nlp, text, pairs):
    found = extract_text(nlp, text, repair=False)
    got = [(s.operator, s.value, d.value) for s, d in zip(found[::2], found[1::2], strict=True)]
    assert got == pairs
    assert [c.variable for c in found] == ["systolic blood pressure", "diastolic blood pressure"] * len(pairs)
    assert all(c.unit == "mm[Hg]" and c.unit_text is None for c in found)


def test_a_slash_after_another_thing_is_no_pressure(nlp):
    (c,) = extract_text(nlp, "Pain score > 6/10 at rest", repair=False)
    assert (c.operator, c.value, c.unit) == (">", 6, None)


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("Serum creatinine of 1,8 mg/dL or more", 1.8, "mg/dL"),
        ("Wound area between 0,5 cm² and 4,0 cm²", 0.5, "cm2"),
        ("Platelets 150,000/mm3", 150000, "{cells}/uL"),  # three digits: a thousands comma
        ("eGFR < 45 mL/min/1,73m2", 45, "mL/min/{1.73_m2}"),  # inside a unit, no number of its own
    ],
)
def test_decimal_comma_before_a_unit(nlp, text, value, unit):
    c = extract_text(nlp, text, repair=False)[0]
    assert (c.value, c.unit) == (value, unit)


@pytest.mark.parametrize(
    ("text", "unit"),
    [("Serum sodium < 130 mM", "mmol/L"), ("Homocysteine > 15 uM", "umol/L"), ("Nodule > 8 mm", "mm"),
     ("Haemoglobin < 95G/L", "g/L")],  # only the molar forms are read as written first
)
def test_case_sensitive_unit_forms_first(nlp, text, unit):
    (c,) = extract_text(nlp, text, repair=False)
    assert c.unit == unit


@pytest.mark.parametrize(
    ("text", "operator", "value"),
    [
        ("Serum AST > x3 upper normal limit", ">", 3),  # the sign before the multiple
        ("ALT ≤ x 2.5 ULN", "<=", 2.5),
        ("Total bilirubin < 1.5xULN", "<", 1.5),  # sign and limit glued to the number
        ("GGT < 2X ULN", "<", 2),
    ],
)
def test_multiples_of_the_limit_written_with_a_glued_sign(nlp, text, operator, value):
    (c,) = extract_text(nlp, text, repair=False)
    assert (c.operator, c.value, c.relative_to) == (operator, value, "ULN")


@pytest.mark.parametrize("text", ["Tablets x3 daily", "A 3x3 grid of images", "Lens of x10 magnification"])
def test_an_x_without_a_limit_is_no_multiple(nlp, text):
    assert all(c.relative_to is None for c in extract_text(nlp, text, repair=False))


@pytest.mark.parametrize("text", ["Ejection fraction by 2D echocardiography", "Good 3D images of the uterus", "Tear film by Keratograph 5M",
     "Staging by 18F-FDG PET"])
def test_a_capital_letter_glued_to_a_bare_number_is_a_name(nlp, text):
    assert extract_text(nlp, text, repair=False) == []


def test_a_lower_case_unit_glued_to_a_number_is_still_read(nlp):
    (c,) = extract_text(nlp, "Fasting for 2h before the test", repair=False)
    assert (c.value, c.unit) == (2, "h")


def test_a_glued_temperature_unit_is_still_read(nlp):
    (c,) = extract_text(nlp, "Fever (38C) at screening", repair=False)
    assert (c.value, c.unit) == (38, "Cel")

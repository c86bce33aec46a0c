"""Operator repair (issue 4): a bare "=" that a registry dump made of a lost >= or <=."""

from __future__ import annotations

from pathlib import Path

import pytest

import criteria_nlp
from criteria_nlp.pipeline.repair import (
    GE,
    KEPT_PREFIX,
    LE,
    RepairRules,
    Vote,
    collect_votes,
    combine,
    decide,
    decision_features,
    default_model,
    default_rules,
    harmonize_record,
    item_probability,
    reading,
    repair_constraints,
)
from criteria_nlp.schema import AgeLimit, Constraint, Criterion, Population, TrialRecord

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def nlp():
    nlp = criteria_nlp.load()
    if "criteria_repair" not in nlp.pipe_names:
        pytest.fail(f"criteria_repair is missing from the pipeline: {nlp.pipe_names}")
    return nlp


def _structure_file(name: str, nlp, repair: bool = True) -> TrialRecord:
    from criteria_nlp.readers import read_path
    from criteria_nlp.records import structure_records

    return next(iter(structure_records(read_path(str(EXAMPLES / name)), nlp, repair=repair)))


def _lost(record: TrialRecord) -> list[tuple[str, Constraint]]:
    return [(crit.kind, c) for crit in record.criteria for c in crit.constraints if c.written_operator == "="]


def _eq(text: str, sub: str, variable: str, category: str, value: float, **kw) -> Constraint:
    """An '=' constraint as the extractor reads it (operator '==', written '=')."""
    i = text.index(sub)
    return Constraint(
        variable=variable,
        category=category,
        operator="==",
        value=value,
        start=i,
        end=i + len(sub),
        text=sub,
        written_operator="=",
        **kw,
    )


# --------------------------------------------------------------------------- seeds, end to end

# (file, kind, variable, expected operator, value): every "=" of the three seeds with lost operators.
SEED_REPAIRS = [
    ("NCT04077684_who_ictrp_page.txt", "inclusion", "SLEDAI", GE, 8),
    ("NCT04077684_who_ictrp_page.txt", "inclusion", "standard treatment", GE, 3),
    ("NCT04077684_who_ictrp_page.txt", "inclusion", "corticosteroid", LE, 1.0),
    ("NCT04077684_who_ictrp_page.txt", "exclusion", "AST", GE, 2),
    ("NCT04077684_who_ictrp_page.txt", "exclusion", "NYHA class", GE, 3),
    ("NCT04397107_trial_details_page.txt", "exclusion", "NYHA class", GE, 3),
    ("NCT04397107_trial_details_page.txt", "exclusion", "creatinine clearance", LE, 30),
    ("NCT05605665_who_ictrp_page.txt", "inclusion", "ESSDAI", GE, 4),
]


@pytest.mark.parametrize("name,kind,variable,operator,value", SEED_REPAIRS)
def test_seed_equals_are_repaired_in_the_right_direction(nlp, name, kind, variable, operator, value):
    record = _structure_file(name, nlp)
    hits = [
        c
        for k, c in _lost(record)
        if k == kind and variable.lower() in c.variable.lower() and c.value == value
    ]
    assert hits, f"no '=' constraint on {variable} = {value} in {name}: {_lost(record)}"
    for c in hits:
        assert c.operator == operator, (c.text, c.operator, c.repair_reason)
        assert c.repaired is True
        assert c.written_operator == "="
        assert 0.5 < c.confidence < 1
        assert c.repair_reason
        # offsets unchanged (the text of an item wrapped over lines is joined with spaces)
        assert record_text(name)[c.start : c.end].split() == c.text.split()


def record_text(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted({s[0] for s in SEED_REPAIRS}))
def test_every_seed_equals_is_repaired(nlp, name):
    lost = _lost(_structure_file(name, nlp))
    assert lost
    assert all(c.repaired and c.operator in (GE, LE, "between") for _, c in lost), lost


def test_the_reason_names_the_evidence(nlp):
    record = _structure_file("NCT04397107_trial_details_page.txt", nlp)
    crcl = next(c for _, c in _lost(record) if c.variable == "creatinine clearance")
    assert "exclusion" in crcl.repair_reason and "insufficiency" in crcl.repair_reason


def test_no_repair_keeps_the_equals(nlp):
    record = _structure_file("NCT04077684_who_ictrp_page.txt", nlp, repair=False)
    lost = _lost(record)
    assert lost and all(c.operator == "==" and not c.repaired and c.confidence == 1 for _, c in lost)
    assert [
        c.operator for c in criteria_nlp.extract("SLEDAI = 8", kind="inclusion", repair=False, nlp=nlp)
    ] == ["=="]


# --------------------------------------------------------------------------- the API on short texts


def test_essdai_outcome_partition(nlp):
    text = "Low-activity (ESSDAI<5),moderate-activity (5=ESSDAI=13) ,high-activity (ESSDAI=14) levels."
    got = [(c.operator, c.value, c.upper, c.repaired) for c in criteria_nlp.extract(text, nlp=nlp)]
    assert got == [("<", 5, None, False), ("between", 5, 13, True), (GE, 14, None, True)]


def test_definition_with_equals_is_not_repaired(nlp):
    assert not [c for c in criteria_nlp.extract("NYHA = New York Heart Association", nlp=nlp) if c.repaired]


def test_real_operators_are_never_repaired(nlp):
    for text, kind in [
        ("Age ≥ 18 years and ≤ 75 years", "inclusion"),
        ("creatinine clearance ≤ 30 ml/min", "exclusion"),
        ("ALT >= 2.5 x ULN", "exclusion"),
        ("SLEDAI-2K score ≥ 6", "inclusion"),
    ]:
        found = criteria_nlp.extract(text, kind=kind, nlp=nlp)
        assert found, text
        assert not any(c.repaired for c in found), text
        assert all(c.confidence == 1 for c in found)


def test_kind_decides_the_direction_of_a_lab(nlp):
    inc = criteria_nlp.extract("creatinine clearance = 60 mL/min", kind="inclusion", nlp=nlp)
    exc = criteria_nlp.extract(
        "renal insufficiency (creatinine clearance = 30 mL/min)", kind="exclusion", nlp=nlp
    )
    assert [c.operator for c in inc] == [GE]
    assert [c.operator for c in exc] == [LE]


# --------------------------------------------------------------------------- the decision, directly


def test_decide_exclusion_uln_multiple():
    text = "transaminases = 3 x upper limit of normal"
    c = _eq(text, "= 3 x upper limit of normal", "ALT", "lab", 3, relative_to="ULN")
    assert decide(c, text, "exclusion").operator == GE
    assert decide(c, text, "inclusion").operator == LE


def test_decide_recency_and_duration():
    within = "chemotherapy within the last = 4 weeks"
    c = _eq(within, "= 4 weeks", "chemotherapy", "temporal", 4, unit="wk")
    assert decide(c, within, "exclusion").operator == LE
    duration = "stable dose for = 3 months"
    c = _eq(duration, "= 3 months", "stable dose", "temporal", 3, unit="mo")
    assert decide(c, duration, "inclusion").operator == GE


def test_a_time_span_without_a_cue_follows_the_item_kind():
    """No cue phrase: inclusion asks for a minimum duration, exclusion bounds how recent."""
    text = "on maintenance therapy (= 6 months)"
    c = _eq(text, "= 6 months", "maintenance therapy", "temporal", 6, unit="mo")
    assert decide(c, text, "inclusion").operator == GE
    assert "time span in an inclusion item" in decide(c, text, "inclusion").reason
    text = "= 4 weeks from major surgery"
    c = _eq(text, "= 4 weeks", "major surgery", "temporal", 4, unit="wk")
    assert decide(c, text, "exclusion").operator == LE
    # a gestational age is a point in pregnancy, not a span: no such vote
    text = "delivery at = 32 weeks of gestation"
    c = _eq(text, "= 32 weeks", "gestational age", "temporal", 32, unit="wk")
    assert not any(v.key.startswith("time:") for v in collect_votes(c, text, "inclusion", model=None))


def test_adult_marks_an_age_floor():
    text = "Adult renal transplant patients (=21years)"
    c = _eq(text, "=21years", "age", "age", 21, unit="a")
    votes = collect_votes(c, text, "inclusion", model=None)
    assert any(v.key == "cue:adult" and v.score > 0 for v in votes)
    young = "children and young adults (=21 years)"
    c = _eq(young, "=21 years", "age", "age", 21, unit="a")
    assert not any(v.key == "cue:adult" for v in collect_votes(c, young, "inclusion", model=None))


def test_decide_keeps_a_list_of_values():
    text = "ECOG = 0 or 1"
    c = _eq(text, "= 0", "ECOG performance status", "score", 0)
    assert decide(c, text, "inclusion") is None


def test_decide_keeps_a_sample_size():
    text = "healthy volunteers (n = 20)"
    c = _eq(text, "= 20", "healthy volunteers", "other", 20)
    assert decide(c, text, "inclusion") is None


def test_age_pair_is_a_range():
    text = "Patients must be = 3 and = 18 years of age."
    lo = _eq(text, "= 3", "age", "age", 3, unit="a")
    hi = _eq(text, "= 18 years", "age", "age", 18, unit="a")
    out = repair_constraints([lo, hi], text, "inclusion")
    assert [c.operator for c in out] == [GE, LE]
    assert all(c.repaired and c.confidence < 1 for c in out)


def test_two_thresholds_are_not_a_range():
    text = "alcohol =24 g/day for women and =36 g/day for men"
    a = _eq(text, "=24 g/day", "alcohol", "other", 24)
    b = _eq(text, "=36 g/day", "alcohol", "other", 36)
    out = repair_constraints([a, b], text, "inclusion")
    assert not any("end of" in (c.repair_reason or "") for c in out)


def test_weak_evidence_leaves_equals():
    rules = RepairRules.from_dict({"threshold": 1.0})
    assert combine([Vote(0.4, "weak"), Vote(-0.1, "weaker")], rules) is None
    r = combine([Vote(2.0, "strong"), Vote(-0.5, "against")], rules)
    assert r.operator == GE and r.confidence < 1 and r.reason == "strong"


def test_harmonize_follows_the_record_and_its_population():
    record = TrialRecord(
        source="t",
        population=Population(
            min_age=AgeLimit(value=18, unit="years"), max_age=AgeLimit(value=65, unit="years")
        ),
        criteria=[
            Criterion(
                id="inc-1",
                kind="inclusion",
                text="age = 65",
                start=0,
                end=8,
                constraints=[_eq("age = 65", "= 65", "age", "age", 65, unit="a")],
            ),
            Criterion(
                id="inc-2",
                kind="inclusion",
                text="BMI = 30",
                start=9,
                end=17,
                constraints=[_eq("BMI = 30", "= 30", "BMI", "anthropometric", 30)],
            ),
            Criterion(
                id="inc-3",
                kind="inclusion",
                text="BMI >= 30",
                start=18,
                end=27,
                constraints=[
                    Constraint(
                        variable="BMI",
                        category="anthropometric",
                        operator=GE,
                        value=30,
                        start=4,
                        end=9,
                        text=">= 30",
                        written_operator=">=",
                    )
                ],
            ),
        ],
    )
    # the item-level decision first (as the pipeline does), then the record pass
    for crit in record.criteria:
        crit.constraints = repair_constraints(crit.constraints, crit.text, crit.kind, record.population)
    harmonize_record(record)
    age, bmi, real = (crit.constraints[0] for crit in record.criteria)
    assert age.repaired and 0.5 <= age.confidence < 1  # its direction: test_the_record_ages_move_the_decision
    assert (bmi.operator, bmi.repaired) == (GE, True) and ">= 30" in bmi.repair_reason
    assert (real.operator, real.repaired) == (GE, False)


def _p_ge(c: Constraint) -> float:
    return item_probability(c)


def test_the_record_ages_move_the_decision():
    text = "age = 65"
    c = _eq(text, "= 65", "age", "age", 65, unit="a")
    alone = repair_constraints([c], text, "inclusion")[0]
    ceiling = Population(max_age=AgeLimit(value=65, unit="years"))
    floor = Population(min_age=AgeLimit(value=65, unit="years"))
    with_max = repair_constraints([c], text, "inclusion", ceiling)[0]
    with_min = repair_constraints([c], text, "inclusion", floor)[0]
    assert _p_ge(with_max) < _p_ge(alone) < _p_ge(with_min)
    assert "maximum age" in with_max.repair_reason or with_max.operator == GE


def test_pipeline_round_trip_keeps_the_rules(nlp, tmp_path):
    nlp.to_disk(tmp_path / "p")
    loaded = criteria_nlp.load(tmp_path / "p")
    assert [c.operator for c in criteria_nlp.extract("SLEDAI = 8", kind="inclusion", nlp=loaded)] == [GE]
    assert (tmp_path / "p" / "criteria_repair" / "repair_rules.json").exists()


# --------------------------------------------------------------------------- round 2: general evidence


def test_operator_written_apart_is_never_repaired(nlp):
    for text in ("Baseline ECOG > = 4", "American Society of Anesthesia (ASA) score < = 2"):
        found = [c for c in criteria_nlp.extract(text, kind="exclusion", nlp=nlp) if "=" in c.text]
        assert found and not any(c.repaired for c in found), text


def test_capacity_scales_ask_for_enough_in_inclusion():
    # MMSE, Barthel: low is worse, and an inclusion item asks for enough capacity
    text = "Mini Mental State Examination score = 24"
    c = _eq(text, "= 24", "MMSE", "score", 24)
    assert decide(c, text, "inclusion").operator == GE
    assert decide(c, text, "exclusion").operator == LE


def test_disease_defining_lab_is_asked_on_its_abnormal_side():
    text = "HbA1c = 8.0% at screening"
    c = _eq(text, "= 8.0%", "HbA1c", "lab", 8.0, unit="%")
    # the role voice points to the abnormal side...
    assert [v.score > 0 for v in collect_votes(c, text, "inclusion") if "disease-defining" in v.key] == [True]
    # ...but an inclusion HbA1c is a ceiling about as often as a floor in the training trials
    # (36 lost <= vs 29 >=): the learned decision must not be sure of either
    hba1c = decide(c, text, "inclusion")
    # a safety lab in the same place is kept within limits, and that is sure
    text = "total bilirubin = 1.5 mg/dL"
    c = _eq(text, "= 1.5 mg/dL", "bilirubin", "lab", 1.5, unit="mg/dL")
    bilirubin = decide(c, text, "inclusion")
    assert bilirubin.operator == LE and bilirubin.confidence >= 0.9
    assert hba1c.confidence < 0.75


def test_control_cue_keeps_a_disease_defining_lab_within_limits():
    text = "diabetes under control, with an HbA1c of = 11%"
    c = _eq(text, "= 11%", "HbA1c", "lab", 11, unit="%")
    assert decide(c, text, "inclusion").operator == LE


def test_second_bound_without_a_name_continues_the_pair(nlp):
    got = criteria_nlp.extract("A1c result =8.0% and =12.0%", kind="inclusion", nlp=nlp)
    assert [(c.operator, c.value) for c in got] == [(GE, 8.0), (LE, 12.0)]
    assert all("end of" in c.repair_reason for c in got)


def test_parallel_thresholds_point_the_same_way(nlp):
    got = criteria_nlp.extract(
        "alcohol intake of =24 g/day for women and =36 g/day for men", kind="exclusion", nlp=nlp
    )
    ops = {c.value: c.operator for c in got if c.repaired}
    assert set(ops) == {24, 36} and ops[24] == ops[36] == GE


def test_lone_age_in_an_inclusion_item_is_a_floor():
    text = "Age = 50 years"
    c = _eq(text, "= 50 years", "age", "age", 50, unit="a")
    assert repair_constraints([c], text, "inclusion", model=None)[0].operator == GE
    # a later ceiling words clause does not reach back ("up to" belongs to another number)
    text = "Beighton score = 5 for women up to the age of 50 years"
    c = _eq(text, "= 5", "Beighton score", "score", 5)
    assert "up to" not in (decide(c, text, "inclusion").reason)


def test_formula_is_kept_but_a_multiple_of_uln_is_repaired(nlp):
    formula = criteria_nlp.extract("GFR (mL/min/1.73 m^2) = 175 × (Scr)^-1.154", kind="inclusion", nlp=nlp)
    assert formula and not any(c.repaired for c in formula)
    uln = [c for c in criteria_nlp.extract("ALT = 2.5 × ULN", kind="exclusion", nlp=nlp) if c.repaired]
    assert [c.operator for c in uln] == [GE]


# --------------------------------------------------------------------------- the learned decision


def test_every_voice_and_the_written_form_are_features_of_one_decision():
    text = "ALT = 3 x ULN"
    c = _eq(text, "= 3 x ULN", "ALT", "lab", 3, relative_to="ULN")
    votes = collect_votes(c, text, "exclusion")
    feats = decision_features(c, text, "exclusion", votes)
    assert feats["voice:relative:ULN:exclusion"] == 1.0  # points to '>='
    assert feats["voice:lexicon:exclusion:lab"] == 1.0
    assert feats["form:="] == 1.0 and feats["kind:exclusion"] == 1.0
    assert feats["var:ALT"] == 1.0
    # the same voice pointing down is -1
    inc = decision_features(c, text, "inclusion", collect_votes(c, text, "inclusion"))
    assert inc["voice:relative:ULN:inclusion"] == -1.0


def test_every_reading_of_a_bare_equals_is_a_probability_with_a_reason(nlp):
    for text, kind in [
        ("Hemoglobin = 9 g/dL", "inclusion"),
        ("prior chemotherapy within = 4 weeks", "exclusion"),
        ("Karnofsky score = 70", "inclusion"),
        ("serum creatinine = 2 x ULN", "exclusion"),
        ("ECOG = 0, 1 or 2", "inclusion"),  # a list: kept
    ]:
        found = [c for c in criteria_nlp.extract(text, kind=kind, nlp=nlp) if c.written_operator == "="]
        assert found, text
        for c in found:
            assert 0 < c.confidence < 1, (text, c)
            assert c.repair_reason, (text, c)


def test_a_kept_equals_is_a_decision_too(nlp):
    kept = [c for c in criteria_nlp.extract("ECOG = 0, 1 or 2", kind="inclusion", nlp=nlp) if c.written_operator == "="]
    assert kept and all(c.operator == "==" and not c.repaired for c in kept)
    assert all(c.confidence < 1 and c.repair_reason.startswith(KEPT_PREFIX) for c in kept)


def test_a_weak_lean_keeps_the_equals_and_states_it():
    rules = RepairRules.from_dict({"min_confidence": 0.6})
    model = default_model()
    r = reading(0.55, [], model, rules)
    assert r.operator == "==" and r.confidence == pytest.approx(0.45)
    assert "P(>=) 0.5500" in r.reason
    c = _eq("x = 1", "= 1", "x", "other", 1).model_copy(update={"repair_reason": r.reason})
    assert item_probability(c) == pytest.approx(0.55)  # the record pass reads the lean back
    strong = reading(0.2, [Vote(-1.0, "a ceiling cue", "cue:ceiling words")], model, default_rules())
    assert strong.operator == LE and strong.confidence == pytest.approx(0.8)
    assert strong.reason.endswith("P(<=) 0.80")


def test_confidence_is_the_calibrated_probability_of_the_model():
    model = default_model()
    assert model is not None and model.learned_decision
    text = "platelets = 100 x 10^9/L"
    c = _eq(text, "= 100 x 10^9/L", "platelet count", "lab", 100)
    votes = collect_votes(c, text, "inclusion")
    feats = decision_features(c, text, "inclusion", votes)
    feats.update(model.prior_features(c.variable, c.unit, c.value, "inclusion"))
    p = model.probability(model.logit(feats))
    r = decide(c, text, "inclusion")
    assert r.confidence == pytest.approx(max(p, 1 - p), abs=1e-4)
    assert model.raw_logit(model.probability(1.3)) == pytest.approx(1.3)


def test_hand_weighted_fallback_without_weights():
    text = "transaminases = 3 x upper limit of normal"
    c = _eq(text, "= 3 x upper limit of normal", "ALT", "lab", 3, relative_to="ULN")
    r = decide(c, text, "exclusion", model=False)
    assert r.operator == GE and "x ULN in an exclusion item" in r.reason

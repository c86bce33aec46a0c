"""Lost-sign forms (issue 10 item 5): character references, '*' and deleted signs.

Every sentence here is written for the test; none comes from a corpus."""

from __future__ import annotations

import pytest

import criteria_nlp
from criteria_nlp.evaluation.lost_signs import _moved, rewrite
from criteria_nlp.pipeline import build_pipeline, extract_text
from criteria_nlp.pipeline.lost_signs import find_signs, profile, scan_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def read(nlp, text, kind="inclusion", repair=True):
    found = extract_text(nlp, text, kind=kind, repair=repair)
    for c in found:
        assert text[c.start : c.end] == c.text, (text, c)
    return found


def only(found, value):
    hits = [c for c in found if c.value == value]
    assert len(hits) == 1, found
    return hits[0]


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize(
    "text, written, op",
    [
        ("Neutrophils 8805;1.5 x 10^9/L", "8805;", ">="),
        ("Bilirubin 8804; 1.5 mg/dL", "8804;", "<="),
        ("Albumin &#8805; 3 g/dL", "&#8805;", ">="),
        ("Ferritin &#x2264;500 ng/mL", "&#x2264;", "<="),
        ("Ferritin x2264;500 ng/mL", "x2264;", "<="),
        ("Albumin &ge; 3 g/dL", "&ge;", ">="),
        ("Albumin ge;3 g/dL", "ge;", ">="),
        ("Weight le; 120 kg", "le;", "<="),
        ("Potassium &lt; 3.5 mmol/L", "&lt;", "<"),
        ("Sodium &gt;150 mmol/L", "&gt;", ">"),
        ("Calcium &gt;= 2.1 mmol/L", "&gt;=", ">="),
        ("Sodium #8805;135 mmol/L", "#8805;", ">="),
        ("BMI8805;18 kg/m2", "8805;", ">="),
    ],
)
def test_reference_before_a_number_is_the_sign(nlp, text, written, op):
    c = read(nlp, text)[0]
    assert c.operator == op
    assert c.written_operator == written
    assert c.repaired is True
    assert 0.5 < c.confidence < 1.0
    assert c.text.startswith(written)
    assert written in c.repair_reason


def test_stripped_code_is_not_read_as_a_count(nlp):
    found = read(nlp, "Thrombocytes 8805;150 x 10^9/L")
    assert [c.value for c in found] == [150.0]
    assert found[0].operator == ">=" and found[0].unit == "10*9/L"


def test_references_work_with_repair_off(nlp):
    # decoding a reference is reading, not guessing: it stays on with --no-repair
    c = read(nlp, "Albumin ge;3 g/dL", repair=False)[0]
    assert c.operator == ">=" and c.written_operator == "ge;"


@pytest.mark.parametrize(
    "text",
    [
        "Usage; 5 tablets daily",  # "ge;" inside a word
        "Patients with a page; 12 hours of sleep",
        "Taking herbal tea; 3 cups",
    ],
)
def test_code_inside_a_word_is_no_sign(nlp, text):
    assert not find_signs(text)
    for c in read(nlp, text):
        assert not c.repaired


def test_code_not_before_a_number_is_no_sign():
    assert not find_signs("the code 8805; see the appendix")
    assert not find_signs("values ge; unknown")


def test_scan_keeps_offsets():
    text = "PLT 8805;100 and Hb &le; 9"
    signs = find_signs(text)
    scan = scan_text(text, signs)
    assert len(scan) == len(text)
    assert [s.operator for s in signs] == [">=", "<="]
    assert scan[signs[0].end - 1] == "≥" and scan[signs[1].end - 1] == "≤"


# --------------------------------------------------------------------------- '*'


def test_star_between_variable_and_number_is_weighed(nlp):
    c = only(read(nlp, "Fasting glucose * 7 mmol/L"), 7.0)
    assert c.written_operator == "*"
    assert c.repaired and c.operator == ">="
    assert c.text.startswith("*")
    assert 0.5 < c.confidence < 1.0


def test_two_stars_are_a_lower_and_an_upper_end(nlp):
    found = read(nlp, "Disease activity score * 12 and * 40")
    low, high = only(found, 12.0), only(found, 40.0)
    assert (low.operator, high.operator) == (">=", "<=")
    assert low.written_operator == high.written_operator == "*"


def test_star_after_a_number_is_a_product(nlp):
    assert not find_signs("AST 3 * ULN and glucose * 7")[:1] or find_signs("AST 3 * ULN and glucose * 7")[0].start > 8
    for c in read(nlp, "AST 3 * ULN"):
        assert c.written_operator != "*"
        assert c.text.startswith("3")


def test_footnote_call_in_brackets_is_no_sign(nlp):
    assert not [s for s in find_signs("Stages II - III (*1) and glucose * 7") if s.start < 20]
    for c in read(nlp, "Disease stages II - III (*1)"):
        assert c.written_operator != "*" and not c.repaired


def test_star_glued_to_a_word_is_a_footnote(nlp):
    found = read(nlp, "Serum phosphate* 2 mg/dL")
    assert all(c.written_operator != "*" and not c.repaired for c in found)


def test_star_in_a_record_with_real_signs_stays(nlp):
    found = read(nlp, "Glucose * 7 mmol/L and creatinine ≤ 1.5 mg/dL")
    glucose = only(found, 7.0)
    assert not glucose.repaired and glucose.written_operator is None


def test_star_in_a_record_that_types_its_signs_is_weighed(nlp):
    # The export that turns "≥"/"≤" into "*" leaves a typed ">=" as it is: the typed sign
    # says nothing of what "*" stands for, a "≥" that survived does (the test above).
    found = read(nlp, "Age >= 18 years and haemoglobin * 6.2 mmol/L")
    haemoglobin = only(found, 6.2)
    assert haemoglobin.repaired and haemoglobin.written_operator == "*"
    assert haemoglobin.operator == ">="
    assert only(found, 18.0).written_operator == ">=" and not only(found, 18.0).repaired


def test_star_of_an_hla_allele_name_is_no_sign(nlp):
    for text in ("Carriers of HLA-B*57:01 and HLA-A*0201", "Donor typed A*02 and B*44 at high resolution"):
        assert not [s for s in find_signs(text) if s.operator == "*"], text
        assert all(c.written_operator != "*" and not c.repaired for c in read(nlp, text)), text
    assert find_signs("LVEF*45%")[0].operator == "*"  # a glued "*" after a longer word still is


def test_star_alleles_of_a_gene_are_no_signs(nlp):
    for text in (
        "Carriers of UGT1A1*28 or of other alleles (e.g., *6) may enter",
        "CYP2C19 poor metabolisers (*2/*2 or *2/*3) are excluded",
    ):
        assert not [s for s in find_signs(text) if s.operator == "*"], text
        assert all(c.written_operator != "*" and not c.repaired for c in read(nlp, text)), text
    assert not profile(["Genotype other than *1 or *28 (e.g., *6); see UGT1A1*28"]).star_numbers


def test_star_before_a_power_of_ten_per_unit_is_a_product(nlp):
    assert not find_signs("Neutrophil counts given in cells * 109/L by the local laboratory")
    assert not find_signs("Platelets reported as count * 10^9/L")
    assert find_signs("Platelets * 100 x 10^9/L")[0].operator == "*"
    assert find_signs("Platelets * 100/mm3")[0].operator == "*"  # a count per unit is a value
    assert find_signs("Leukocytes * 1000/µL")[0].operator == "*"


@pytest.mark.parametrize(
    "text",
    [
        "* 21 years of age at consent",  # the item's text starts with it (a bullet would be its label)
        "Adults, *21 years of age",  # after a comma
        "Able to attend visits; * 21 years old",  # after a semicolon
        "Stable dose of the drug (* 21 days) before baseline",  # after a bracket, a space next
        "Age [*21 years]",
    ],
)
def test_star_where_no_word_stands_before_it_is_weighed(nlp, text):
    c = only(read(nlp, text), 21.0)
    assert c.repaired and c.written_operator == "*" and c.operator in (">=", "<="), c


def test_star_positions_that_are_still_no_sign():
    assert not find_signs("See the note (*1) and the table (*)")  # footnote calls
    assert not find_signs("Prior steroids*, 5 mg daily allowed")  # a footnote mark after a word
    assert not find_signs("The ratio a * b")  # no number after it
    assert not find_signs("*18 years or older")  # glued at an item's start: maybe a bullet


def test_star_before_a_range_is_no_sign_of_it():
    # flattened sub-bullets: a range takes no sign, and its written operator stays its own
    record = criteria_nlp.structure(
        "Inclusion Criteria:\n- Performance status: * 0 to 2 if aged >= 70 years OR * 0 to 1 if younger\n"
    )
    ranges = [c for crit in record.criteria for c in crit.constraints if c.operator == "between"]
    assert [(c.value, c.written_operator, c.text, c.repaired) for c in ranges] == [
        (0.0, "to", "0 to 2", False),
        (0.0, "to", "0 to 1", False),
    ]


def test_glued_star_bullets_are_no_signs():
    record = criteria_nlp.structure("Inclusion Criteria:\n*21 years or older\n*Able to consent\n* Weight * 45 kg\n")
    found = [c for crit in record.criteria for c in crit.constraints]
    # the glued bullet is not read as a lost sign (a first try of the item-start reading did)
    assert not [c for c in found if c.value == 21.0 and (c.repaired or c.written_operator == "*")]
    weight = only(found, 45.0)
    assert weight.repaired and weight.written_operator == "*"


def test_star_kept_with_repair_off(nlp):
    c = only(read(nlp, "Fasting glucose * 7 mmol/L", repair=False), 7.0)
    assert c.written_operator == "*" and c.operator == "==" and not c.repaired


def test_star_profile_counts_footnotes():
    assert profile(["Glucose * 7 and weight * 90"]).stars_are_signs
    assert not profile(["Glucose * 7; steroids*, insulin*, see note*"]).stars_are_signs


# --------------------------------------------------------------------------- '?'


QUESTION_RECORD = (
    "Inclusion Criteria:\n- Age ? 21 years\n- Neutrophils ?1,200/mm3\n- Karnofsky score ? 70%\n"
    "Exclusion Criteria:\n- Serum bilirubin ? 2.5 mg/dL\n"
)


def test_question_mark_of_a_lossy_export_is_weighed():
    record = criteria_nlp.structure(QUESTION_RECORD)
    got = {c.value: c for crit in record.criteria for c in crit.constraints}
    assert {v: got[v].operator for v in (21.0, 1200.0, 70.0, 2.5)} == {21.0: ">=", 1200.0: ">=", 70.0: ">=", 2.5: ">="}
    for c in got.values():
        assert c.repaired and c.written_operator == "?" and "'?' written for a lost sign" in c.repair_reason
        assert 0.5 < c.confidence < 1.0


def test_question_marks_of_questions_stay():
    form = "Inclusion Criteria:\n- Pregnant? 1. Yes 2. No\n- Smoker? No\n- Leakage in the last week? 0=none\n- Weight ? 90 kg\n"
    # quote marks an export lost the same way: a phrase between two "?"
    assert not find_signs("Neutrophils ? 1,200/mm3; the ?7 day? rule applies", profile(["Neutrophils ? 1,200/mm3"]))[1:]
    record = criteria_nlp.structure(form)
    assert not [c for crit in record.criteria for c in crit.constraints if c.repaired]
    # a record with a surviving sign character keeps its "?" too
    kept = criteria_nlp.structure("Inclusion Criteria:\n- Age ≥ 21 years\n- Weight ? 90 kg\n")
    assert not [c for crit in kept.criteria for c in crit.constraints if c.written_operator == "?"]


# --------------------------------------------------------------------------- Symbol font


@pytest.mark.parametrize(
    ("text", "value", "operator", "written"),
    [
        ("Age ³ 21 years at consent", 21.0, ">=", "³"),
        ("Serum creatinine £1.8 mg/dL", 1.8, "<=", "£"),
        ("Karnofsky score³70%", 70.0, ">=", "³"),  # glued to the word, as "≥" was
        ("Performance status (WHO)£ 1", 1.0, "<=", "£"),
    ],
)
def test_symbol_font_signs_are_read_and_marked(nlp, text, value, operator, written):
    c = only(read(nlp, text), value)
    assert (c.operator, c.written_operator, c.repaired) == (operator, written, True)
    assert "Symbol-font" in c.repair_reason and 0.9 < c.confidence < 1.0


def test_what_symbol_font_characters_are_otherwise():
    assert not find_signs("Lesion volume above 2 cm³ 3 months apart")  # a cubic unit
    assert not find_signs("Leukocytes 4 x 10³/µL")  # a power of ten
    assert not find_signs("Participants receive a £25 voucher at each visit")  # money
    assert not find_signs("A £ 40 payment covers travel")


def test_symbol_font_signs_are_read_as_references_are_with_repair_off(nlp):
    # which sign was written is not in doubt (as for "&ge;"): --no-repair keeps only a bare "="
    symbol, reference = (only(read(nlp, t, repair=False), 21.0) for t in ("Age ³ 21 years", "Age &ge; 21 years"))
    assert (symbol.operator, symbol.repaired) == (reference.operator, reference.repaired) == (">=", True)
    assert only(read(nlp, "Age = 21 years", repair=False), 21.0).operator == "=="


# --------------------------------------------------------------------------- deleted signs


def test_double_space_before_a_number_is_a_deleted_sign(nlp):
    c = read(nlp, "Haemoglobin  10 g/dL")[0]
    assert c.repaired and c.operator == ">=" and c.written_operator is None
    assert "deleted" in c.repair_reason
    assert c.text == "10 g/dL"


def test_double_space_in_exclusion(nlp):
    c = read(nlp, "Serum creatinine  2 mg/dL", kind="exclusion")[0]
    assert c.repaired and c.operator == ">=" and c.written_operator is None


def test_plain_number_without_trace_stays(nlp):
    # no variable that needs a bound, or a number its words already place or bound
    for text in ("Take 2 tablets of the study drug", "Visit 3 of the study", "ALT 3 x ULN or higher",
                 "Girls before age 12"):
        for c in read(nlp, text):
            assert not c.repaired and c.confidence == 1.0, c
            assert c.operator == "==" or c.written_operator == "or higher", c


def test_bare_numbers_after_variables_that_need_a_bound(nlp):
    # a record without any written sign whose bounds are all bare numbers
    found = read(nlp, "Age 18 years, haemoglobin 10 g/dL")
    age = only(found, 18.0)
    assert age.repaired and age.operator == ">=" and age.written_operator is None
    assert "deleted" in age.repair_reason
    assert age.confidence < 1.0


def test_one_bare_number_alone_stays(nlp):
    # one bare number in a record is more often written so than stripped
    for text, kind in (("Haemoglobin 10 g/dL", "inclusion"), ("Age 18 years", "exclusion")):
        c = read(nlp, text, kind=kind)[0]
        assert not c.repaired and c.operator == "=="


def test_age_of_an_inclusion_item_alone(nlp):
    # "Age 18 years" in an inclusion item of a record without any sign: a lost floor
    c = read(nlp, "Age 18 years")[0]
    assert c.repaired and c.operator == ">=" and c.written_operator is None
    younger = read(nlp, "Age 18 years or younger than the legal age")[0]
    assert not younger.repaired


def test_no_deleted_sign_in_a_record_with_real_signs(nlp):
    found = read(nlp, "Haemoglobin  10 g/dL and platelets ≥ 100 x 10^9/L")
    hb = only(found, 10.0)
    assert not hb.repaired and hb.operator == "=="


def test_bare_number_after_a_variable_with_other_traces(nlp):
    # a record with traces elsewhere: a bare age after its variable is a lost bound too
    found = read(nlp, "Age 40 years; haemoglobin  10 g/dL; platelets  100 x 10^9/L")
    age = only(found, 40.0)
    assert age.repaired and age.operator == ">=" and age.written_operator is None


def test_deleted_sign_kept_with_repair_off(nlp):
    c = read(nlp, "Haemoglobin  10 g/dL", repair=False)[0]
    assert not c.repaired and c.operator == "=="


def test_clean_text_is_not_marked(nlp):
    text = "Age ≥ 18 years; haemoglobin ≥ 10 g/dL; ALT ≤ 2.5 x ULN"
    assert not any(c.repaired for c in read(nlp, text))


# --------------------------------------------------------------------------- simulation


def test_rewrite_moves_offsets():
    text = "Age ≥ 18 and ALT ≤2 x ULN"
    new, shifts, written = rewrite(text, "entity", "T1")
    assert written[0] in new and "≥" not in new and "≤" not in new
    assert new[_moved(text.index("18"), shifts) :].startswith("18")
    gone, shifts, _ = rewrite(text, "deleted_collapsed")
    assert gone.startswith("Age 18 and ALT 2 x ULN")
    kept, _, _ = rewrite(text, "deleted_space")
    assert kept.startswith("Age  18")


def test_record_keeps_the_traces_its_items_joined(nlp):
    # the segmenter joins an item's whitespace; the trace is read from the source
    from criteria_nlp.readers.base import CriteriaText, RawRecord
    from criteria_nlp.records import structure_raw

    text = "Inclusion Criteria:\n- Serum albumin  3 g/dL\n- Written consent\nExclusion Criteria:\n- Bilirubin  2 mg/dL\n"
    record = structure_raw(RawRecord(source="t", source_format="text", criteria=[CriteriaText(text=text)]), nlp)
    found = {c.value: c for crit in record.criteria for c in crit.constraints}
    for c in found.values():
        assert text[c.start : c.end] == c.text
    assert found[3.0].repaired and found[3.0].operator == ">=" and found[3.0].written_operator is None
    assert found[2.0].repaired and found[2.0].operator == ">="
    plain = structure_raw(
        RawRecord(source="t", source_format="text", criteria=[CriteriaText(text=text.replace("  ", " "))]),
        nlp,
        repair=False,
    )
    assert not any(c.repaired for crit in plain.criteria for c in crit.constraints)


def test_corrupt_evaluation_includes_the_lost_sign_forms(nlp, tmp_path):
    from criteria_nlp.evaluation.lost_signs import evaluate_lost_signs
    from criteria_nlp.evaluation.runner import plan

    assert any(name == "lost_signs" for _, name, _, _ in plan(None, [("lct", str(tmp_path))], True))
    assert not any(name == "lost_signs" for _, name, _, _ in plan(None, [("lct", str(tmp_path))], False))
    batch = tmp_path / "batch12"
    batch.mkdir()
    (batch / "T1.txt").write_text(
        "Inclusion Criteria:\nAge ≥ 18 years\nSerum albumin ≥ 3 g/dL\nExclusion Criteria:\nBilirubin ≥ 2 mg/dL\n",
        encoding="utf-8",
    )
    report = evaluate_lost_signs(tmp_path, nlp=nlp)
    forms = report["forms"]
    assert forms["entity"]["lost"] == 3 and forms["entity"]["recovered"] == 3
    assert forms["numeric_stripped"]["recovered"] == 3
    assert forms["deleted_space"]["repaired"] >= 2
    assert report["clean"]["marked_repaired_by_lost_sign_forms"] == 0
    assert evaluate_lost_signs(tmp_path, nlp=nlp, part="train")["records_signed"] == 0


def test_written_signs_are_counted_as_written():
    from criteria_nlp.pipeline.lost_signs import profile

    assert profile(["Age >= 18", "ANC =>1.5 and Hb </= 9", "ALT ≤ 3 x ULN"]).real_signs == 4
    # a run of sign characters is one sign at most where it opens, none inside it
    assert profile(["x <=> y", "a ==> b", "c >>= d", ">= at the start"]).real_signs == 2
    assert profile(["Age = 18", "weight > 50 kg", "1 < 2", "a / = b"]).real_signs == 0


# --------------------------------------------------------------------------- a record that lost its signs


def _record(nlp, text):
    from criteria_nlp.readers.base import CriteriaText, RawRecord
    from criteria_nlp.records import structure_raw

    record = structure_raw(RawRecord(source="t", source_format="text", criteria=[CriteriaText(text=text)]), nlp)
    found = [c for crit in record.criteria for c in crit.constraints]
    for c in found:
        assert text[c.start : c.end] == c.text
    return {c.text: c for c in found}


def _read_as_deleted_lower_bounds(found, bares):
    for bare in bares:
        assert found[bare].repaired and found[bare].operator == ">=" and found[bare].written_operator is None, bare


def test_vital_sign_of_the_disease_in_a_record_that_lost_its_signs(nlp):
    # space collapsed: no trace, the record's other bounds bare too; an oxygen saturation
    # an inclusion item asks for is a ceiling (the disease lowers it)
    text = (
        "Inclusion Criteria:\n1. Admitted to hospital with pneumonia\n"
        "2. Peripheral oxygen saturation 92% on room air\n3. Respiratory rate 24 breaths per minute\n"
        "Exclusion Criteria:\n1. Estimated glomerular filtration rate 25 mL/min\n"
    )
    found = _record(nlp, text)
    spo2 = found["92%"]
    assert spo2.repaired and spo2.operator == "<=" and spo2.written_operator is None
    assert "deleted" in spo2.repair_reason and 0.5 < spo2.confidence < 1.0
    assert found["24 breaths per minute"].operator == ">="
    assert found["25 mL/min"].operator == "<="


def test_two_bare_ends_of_one_variable(nlp):
    # "19 and 32 kg/m2" with both signs deleted: the smaller a floor, the larger a ceiling
    text = "Inclusion Criteria:\n- Women 40 and 75 years of age\n- Body mass index 19 and 32 kg/m2\n"
    found = _record(nlp, text)
    assert found["19"].repaired and found["19"].operator == ">="
    assert found["32 kg/m2"].repaired and found["32 kg/m2"].operator == "<="


def test_plain_counts_of_a_record_without_signs_stay(nlp):
    text = (
        "Inclusion Criteria:\n- Aged 30 to 60 years\n- Two previous courses of steroid treatment\n"
        "- Received 3 doses of the influenza vaccine\nExclusion Criteria:\n"
        "- Surgery in the 6 weeks before the first visit\n- Took part in 2 other studies last year\n"
    )
    for c in _record(nlp, text).values():
        assert not c.repaired, c


def test_bounds_without_a_lexicon_side_in_a_record_of_bare_numbers(nlp):
    # none of these variables has an abnormal side in the lexicon; in a record of three
    # bare numbers or more the learned decision weighs the record's evidence itself
    text = (
        "Inclusion Criteria:\n- Life expectancy 12 weeks\n- Measurable lesion 10 mm in longest diameter\n"
        "- Karnofsky score 70\nExclusion Criteria:\n- Prior chemotherapy in the last 4 weeks\n"
    )
    found = _record(nlp, text)
    _read_as_deleted_lower_bounds(found, ("12 weeks", "10 mm", "70"))
    assert not found["in the last 4 weeks"].repaired
    # alone, the same line has too little evidence of a lost sign
    alone = _record(nlp, "Inclusion Criteria:\n- Life expectancy 12 weeks\n")
    assert not alone["12 weeks"].repaired and alone["12 weeks"].operator == "=="


def test_bound_after_of_in_a_record_that_lost_its_signs(nlp):
    # "of" before the number places it less than "at", "until", "before" do: "a creatinine
    # clearance of 50 mL/min" lost its sign as often as not, and the decision weighs it
    text = (
        "Inclusion Criteria:\n- Left ventricular ejection fraction of 40%\n"
        "- Creatinine clearance of 50 mL/min\n- A haemoglobin of 9 g/dL\n"
    )
    found = _record(nlp, text)
    _read_as_deleted_lower_bounds(found, ("40%", "50 mL/min", "9 g/dL"))
    # the other placing words still keep a number from the decision
    placed = _record(nlp, "Inclusion Criteria:\n- Diagnosed before age 40\n- Treated until day 50\n- Seen at 9 sites\n")
    assert not any(c.repaired for c in placed.values())


def test_two_bare_numbers_are_weighed_by_the_record(nlp):
    found = _record(nlp, "Inclusion Criteria:\n- Life expectancy 12 weeks\n- Karnofsky score 70\n")
    assert found["12 weeks"].repaired and found["12 weeks"].operator == ">="
    assert found["70"].repaired and found["70"].operator == ">="


def test_the_real_sign_scan_finds_what_its_plain_spelling_finds():
    # The plain spelling of the real-sign pattern: one branch per sign character; the
    # module's pattern is written for speed and must find exactly the same.
    import random
    import re

    from criteria_nlp.pipeline.lost_signs import _REAL_SIGNS

    plain = re.compile(r"[≥≤⩾⩽≧≦]|>(?<![<>=]>)(?:=|/=)|<(?<![<>=]<)(?:=|/=)|=(?<![<>=]=)[><]")
    rng = random.Random(7)
    alphabet = "<>=/≥≤⩾⩽≧≦ a1\n"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(20_000)]
    texts += ["Age >= 18", "ANC =>1.5 and Hb </= 9", "x <=> y", "c >>= d", "a / = b", "≥≥", "=<=>"]
    for text in texts:
        assert [(m.start(), m.group()) for m in _REAL_SIGNS.finditer(text)] == [
            (m.start(), m.group()) for m in plain.finditer(text)
        ], text


def test_the_profile_counts_every_item():
    # the record-wide tests first, then each item: an item's own "*", "?" or double space
    # still counts when only some items have one
    texts = ["Weight 50 kg", "HbA1c * 7%", "Neutrophils ? 1,500/mm3", "Platelets  100 x 10^9/L", "Age  18 years"]
    p = profile(texts)
    assert (p.star_numbers, p.question_numbers, p.question_marks, p.traces) == (1, 1, 1, 2)
    known = profile(texts, [None, None, None, {0, 11}, None])
    assert known.traces == 3
    assert profile(["Weight 50 kg", "Age 18 years"]).traces == 0

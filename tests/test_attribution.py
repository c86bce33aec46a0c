"""Every constraint names what it constrains (issue 11): mention offsets, attachment by
structure, ages only when the text speaks of age, restatements as alternates, look-alike
names. Sentences written for these tests (none is a corpus sentence)."""

import pytest

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def one(nlp, text):
    found = extract_text(nlp, text, repair=False)
    assert len(found) == 1, [c.text for c in found]
    return found[0]


def named(c, text):
    """The mention as its offsets say, and as stored."""
    assert c.mention is not None and c.mention_start is not None
    assert text[c.mention_start : c.mention_end] == c.mention
    return c.mention


# ---------------------------------------------------------------- mention offsets


def test_mention_offsets_index_the_item_and_the_lexicon_names_the_variable(nlp):
    text = "Serum creatinine level must be below 1.8 mg/dL"
    c = one(nlp, text)
    assert named(c, text).startswith("Serum creatinine")
    assert c.variable == "creatinine"  # the lexicon's canonical name


def test_nothing_named_gives_null_variable_not_the_own_text(nlp):
    for text in ("No more than 40%", "<= 250", "21 and over"):
        found = extract_text(nlp, text, repair=False)
        for c in found:
            assert c.variable != c.text
            if c.category != "age":
                assert c.variable is None and c.mention is None, (text, c.variable)


def test_stray_words_do_not_name_a_bound(nlp):
    for text, stray in (
        ("Presence of more than 3 polyps", "Presence"),
        ("Use of > 2 inhalers a day", "Use"),
        ("any level, but at least 4 mg", "but"),
    ):
        for c in extract_text(nlp, text, repair=False):
            assert (c.variable or "").lower() != stray.lower(), (text, c.variable)


def test_records_map_mention_offsets_to_the_source(nlp):
    from criteria_nlp.readers.base import CriteriaText, RawRecord
    from criteria_nlp.records import structure_raw

    source = "Inclusion Criteria:\n- Platelet count at least\n  90,000/mm3\n- Prior radiotherapy within 6 weeks\n"
    raw = RawRecord(source="t.txt", source_format="text", criteria=[CriteriaText(text=source, start=0, end=len(source))])
    record = structure_raw(raw, nlp)
    found = [c for crit in record.criteria for c in crit.constraints]
    assert {c.mention for c in found} == {"Platelet count", "radiotherapy"}
    for c in found:
        assert source[c.mention_start : c.mention_end] == c.mention


# ---------------------------------------------------------------- attachment by structure


def test_a_time_window_binds_to_the_event_it_bounds(nlp):
    text = "No radiotherapy within 6 weeks before the first dose"
    c = one(nlp, text)
    assert (named(c, text), c.category, c.operator, c.unit) == ("radiotherapy", "temporal", "<=", "wk")
    text = "History of melanoma within the last 3 years"
    c = one(nlp, text)
    assert named(c, text) == "melanoma" and c.category == "temporal"


def test_a_window_after_an_anchor_binds_to_the_thing_before_it(nlp):
    text = "Patients taking warfarin prior to surgery within 10 days"
    c = one(nlp, text)
    assert named(c, text) == "warfarin"


def test_a_window_bounds_a_coordinated_phrase_and_its_modifiers(nlp):
    text = "Surgery or biopsy within 14 days"
    c = one(nlp, text)
    assert named(c, text) == "Surgery or biopsy"
    text = "Injection of steroids into the hip within 3 months"
    assert named(one(nlp, text), text) == "Injection of steroids into the hip"


def test_the_time_since_an_event_binds_to_the_event_after_since(nlp):
    text = "At least 8 weeks since prior immunotherapy"
    c = one(nlp, text)
    assert (named(c, text), c.category) == ("immunotherapy", "temporal")


def test_a_duration_binds_to_the_state_that_lasts(nlp):
    text = "Current manic episode lasting > 3 years"
    c = one(nlp, text)
    assert (named(c, text), c.category) == ("manic episode", "temporal")
    text = "Lymphoma > 4 yrs ago"
    c = one(nlp, text)
    assert c.category == "temporal" and c.variable != "age"


def test_an_event_verb_names_the_event_when_nothing_else_does(nlp):
    text = "vaccinated within 2 weeks"
    assert named(one(nlp, text), text) == "vaccinated"


def test_counts_bind_to_the_words_after_them(nlp):
    text = "at least 3 previous courses of chemotherapy"
    c = one(nlp, text)
    assert "courses of chemotherapy" in named(c, text)


def test_a_bracketed_abbreviation_takes_its_full_name_along(nlp):
    text = "Total bilirubin (TBIL) below 2 mg/dL"
    c = one(nlp, text)
    assert named(c, text) == "Total bilirubin (TBIL)"


# ---------------------------------------------------------------- ages


@pytest.mark.parametrize(
    "text",
    [
        "aged 40 to 70 years",
        "women 45 years or older",
        "Patients >= 21 years",
        "adults over 30 years of age",
        "65 years old or younger",
    ],
)
def test_years_are_an_age_when_the_text_speaks_of_age(nlp, text):
    for c in extract_text(nlp, text, repair=False):
        assert (c.category, c.variable) == ("age", "age"), (text, c)
        assert c.mention is not None


@pytest.mark.parametrize(
    "text",
    [
        "diagnosed with glaucoma within the last 2 years",
        "Carcinoma > 5 yrs",
        "stable disease for at least 1 year",
        "smoker for more than 10 years",
    ],
)
def test_years_without_age_words_are_not_an_age(nlp, text):
    for c in extract_text(nlp, text, repair=False):
        assert c.category != "age" and c.variable != "age", (text, c)


def test_an_age_word_before_the_bound_names_it(nlp):
    text = "Age 30 to 60 years old"
    c = one(nlp, text)
    assert named(c, text) == "Age"


# ---------------------------------------------------------------- restatements


@pytest.mark.parametrize(
    "text, unit, alt_value, alt_unit",
    [
        ("Neutrophils >= 2.0 x 10^9/L (2000/µL)", "10*9/L", 2000, "{cells}/uL"),
        ("Weight below 45 kg (99 lbs)", "kg", 99, "[lb_av]"),
        ("Haemoglobin at least 100 g/L (10 g/dL)", "g/L", 10, "g/dL"),
        ("AST > 2.5 x ULN (> 100 U/L)", None, 100, "U/L"),
    ],
)
def test_a_restatement_in_another_unit_joins_its_constraint(nlp, text, unit, alt_value, alt_unit):
    c = one(nlp, text)
    assert c.unit == unit
    assert [(a.value, a.unit) for a in c.alternates] == [(alt_value, alt_unit)]
    a = c.alternates[0]
    assert text[a.start : a.end] == a.text


def test_a_different_bound_in_brackets_stays_a_constraint(nlp):
    found = extract_text(nlp, "Weight below 45 kg (BMI < 17 kg/m2)", repair=False)
    assert len(found) == 2 and not found[0].alternates


# ---------------------------------------------------------------- look-alike names


@pytest.mark.parametrize(
    "text",
    [
        "EGFR exon 21 L858R mutation",
        "prior EGFR TKI for more than 2 months",
        "EGFR amplification of at least 5 copies",
    ],
)
def test_egfr_the_gene_is_not_the_kidney_function(nlp, text):
    for c in extract_text(nlp, text, repair=False):
        assert c.variable != "eGFR", (text, c)


@pytest.mark.parametrize("text", ["eGFR of at least 45 mL/min/1.73 m2", "EGFR >= 50 ml/min", "GFR below 30 mL/min"])
def test_egfr_with_a_clearance_is_the_lab(nlp, text):
    assert one(nlp, text).variable == "eGFR"


def test_look_alike_rules_are_lexicon_data():
    from criteria_nlp.pipeline.variables import _bundled

    rules = _bundled()["eGFR"]["look_alikes"]
    assert rules and {"exon", "tki", "mutation", "amplification"} <= {w.lower() for w in rules[0]["not_near"]}


def test_nyha_functional_classification_is_nyha(nlp):
    assert one(nlp, "NYHA functional classification of 2 or higher").variable == "NYHA class"


def test_a_unit_is_not_taken_from_the_next_clause(nlp):
    found = extract_text(nlp, "fasting glucose < 110 mg/dl and 2 hour insulin below 30", repair=False)
    assert found[0].unit == "mg/dL" and found[0].category == "lab"


def test_consecutive_days_are_a_duration_not_a_dose(nlp):
    text = "ibuprofen taken for > 5 consecutive days"
    c = one(nlp, text)
    assert (c.category, c.unit, named(c, text)) == ("temporal", "d", "ibuprofen")


def test_a_null_variable_does_not_break_repair(nlp):
    # a bare "=" on an unnamed bound goes through the repair component and the record pass
    found = extract_text(nlp, "= 40%", repair=True)
    assert all(c.variable is None for c in found)


def test_a_second_bound_for_another_group_bounds_the_same_thing(nlp):
    text = "Ferritin < 20 ng/mL for women or < 30 ng/mL for men"
    found = extract_text(nlp, text, repair=False)
    assert [c.mention for c in found] == ["Ferritin", "Ferritin"]


def test_a_score_read_on_a_named_instrument_bounds_the_instrument(nlp):
    text = "a total of at least 12 on the Hamilton Anxiety Rating Scale"
    c = one(nlp, text)
    assert "Hamilton Anxiety Rating Scale" in named(c, text)


def test_a_chunk_going_on_past_a_lexicon_name_is_its_own_thing(nlp):
    text = "ALT elevation lasting > 2 weeks"
    c = one(nlp, text)
    assert named(c, text) == "ALT elevation"


def test_a_clause_mark_inside_brackets_does_not_cut_the_thing_off(nlp):
    text = "Major dental surgery (e.g., requiring sedation) <= 21 days before enrolment"
    c = one(nlp, text)
    assert named(c, text).startswith("Major dental surgery")


def test_a_window_bounds_a_list_whose_members_carry_brackets(nlp):
    text = "Use of clopidogrel (Plavix), heparin within 5 days"
    c = one(nlp, text)
    assert named(c, text).startswith("clopidogrel")


@pytest.mark.parametrize(
    "text", ["sexually active with women in the past 6 months", "planning to become pregnant in 9 months", "Men within 2 years"]
)
def test_a_window_after_a_person_is_not_an_age(nlp, text):
    for c in extract_text(nlp, text, repair=False):
        assert c.category == "temporal", (text, c)


def test_young_persons_have_ages_in_days(nlp):
    c = one(nlp, "Neonates < 21 days")
    assert c.category == "age"


def test_an_exception_is_not_what_a_window_bounds(nlp):
    text = "Use of anticoagulants other than heparin within 7 days"
    assert named(one(nlp, text), text) == "anticoagulants"


def test_a_window_after_a_bracketed_note_bounds_the_measured_thing(nlp):
    text = "Creatinine clearance >= 50 mL/min (Cockcroft-Gault) in the last 2 months"
    found = extract_text(nlp, text, repair=False)
    assert [c.mention for c in found] == ["Creatinine clearance", "Creatinine clearance"]


def test_the_second_bound_of_an_age_is_named_where_the_first_was(nlp):
    text = "Age >= 30 and <= 75 years"
    found = extract_text(nlp, text, repair=False)
    assert [(c.category, c.mention) for c in found] == [("age", "Age"), ("age", "Age")]
    found = extract_text(nlp, "age < 16 or greater than 80", repair=False)
    assert [(c.category, c.operator, c.value) for c in found] == [("age", "<", 16), ("age", ">", 80)]


def test_an_age_word_in_the_bound_makes_a_bare_number_an_age(nlp):
    c = one(nlp, "Participants 40 or older")
    assert (c.category, c.unit, c.mention) == ("age", "a", "older")


def test_a_duration_bounds_a_state_with_its_cause_and_place(nlp):
    text = "knee pain due to osteoarthritis for at least 6 months"
    assert named(one(nlp, text), text) == "knee pain due to osteoarthritis"
    text = "swelling in both ankles for more than 6 weeks"
    assert named(one(nlp, text), text) == "swelling in both ankles"


def test_a_window_after_a_comma_finds_its_event_before_the_comma(nlp):
    text = "Major surgery, other than dental surgery, within 3 weeks"
    assert named(one(nlp, text), text) == "Major surgery"


def test_a_numbered_label_does_not_hide_the_event(nlp):
    text = "3) myocardial infarction within the past 6 months"
    assert named(one(nlp, text), text) == "myocardial infarction"


def test_a_window_after_a_bound_is_when_the_bound_held_not_its_anchor(nlp):
    text = "HbA1c < 7.5% 6 months after gastric bypass"
    found = extract_text(nlp, text, repair=False)
    assert [c.mention for c in found] == ["HbA1c", "HbA1c"]


def test_chia_gold_numbers_read_decimal_commas():
    from criteria_nlp.evaluation.attribution import _gold_digits

    assert [_gold_digits(x) for x in ("1,5", "7,05", "1,000", "12")] == ["1.5", "7.05", "1000", "12"]

"""What a bound constrains when a clause stands between it and its thing (issue 11, session
7): an aside set off by commas, a need verb with a sibling after it, a state that lasts, a
route or form after a drug, a lead word before what a count counts, a participle after a
determiner, the other end of a range, and a conjunct led by a verb. Sentences written for
these tests (none is a corpus sentence)."""

import pytest
from attach_helpers import only_bound as bound

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


# ---------------------------------------------------------------- asides


@pytest.mark.parametrize(
    "text, number, thing, not_in",
    [
        ("A severe, uncontrolled infection, as assessed by the treating physician, within the past 2 months", 2, "infection", "physician"),
        ("Known malignancy, treated or untreated, in the last 3 years", 3, "malignancy", "treated"),
        ("Use of systemic antifungals regardless of indication, within the past 8 weeks", 8, "antifungals", "indication"),
    ],
)
def test_a_window_after_an_aside_bounds_the_thing_before_it(nlp, text, number, thing, not_in):
    c = bound(nlp, text, number)
    assert c.category == "temporal" and thing in c.mention and not_in not in c.mention, c


def test_an_exception_between_commas_is_not_an_aside(nlp):
    # the exception keeps its own reading: the thing before "other than"
    c = bound(nlp, "Major surgery, other than dental extraction, within 5 weeks", 5)
    assert "surgery" in c.mention and "extraction" not in c.mention, c


# ---------------------------------------------------------------- need verbs


def test_a_sibling_after_a_need_verb_makes_the_window_bound_the_first_thing(nlp):
    c = bound(nlp, "Pneumonia requiring intravenous antibiotics or any other serious infection within 10 days", 10)
    assert c.mention.startswith("Pneumonia"), c


def test_right_after_a_need_verb_the_window_bounds_what_was_needed(nlp):
    c = bound(nlp, "Kidney disease requiring dialysis within the last 9 months", 9)
    assert c.mention == "dialysis", c


# ---------------------------------------------------------------- a state that lasts


@pytest.mark.parametrize(
    "text, number, thing",
    [
        ("Heart failure controlled on medication for at least 6 weeks", 6, "Heart failure"),
        ("Hypertension under control for at least 2 months", 2, "Hypertension"),
    ],
)
def test_a_duration_after_a_state_bounds_the_thing_in_that_state(nlp, text, number, thing):
    c = bound(nlp, text, number)
    assert c.category == "temporal" and c.mention == thing, c


def test_a_stable_dose_is_a_thing_not_a_state_of_the_thing_before(nlp):
    c = bound(nlp, "Statins allowed if on a stable dose for 4 weeks", 4)
    assert c.mention == "stable dose", c


# ---------------------------------------------------------------- routes and forms


@pytest.mark.parametrize(
    "text, number, drug, route",
    [
        ("Immunoglobulins given by subcutaneous or intravenous route within 4 weeks before screening", 4, "Immunoglobulins", "route"),
        ("Corticosteroids given orally or intravenously within 2 weeks", 2, "Corticosteroids", "orally"),
        ("Methotrexate by mouth or by injection in the past 3 months", 3, "Methotrexate", "injection"),
    ],
)
def test_a_window_after_a_route_bounds_the_drug(nlp, text, number, drug, route):
    c = bound(nlp, text, number)
    assert drug in c.mention and route not in c.mention, c


# ---------------------------------------------------------------- counts


@pytest.mark.parametrize(
    "text, number, counted",
    [
        ("Failure of at least 2 previous anti-TNF regimens", 2, "anti-TNF regimens"),
        ("Relapse after at least 1 prior course of chemotherapy", 1, "course of chemotherapy"),
    ],
)
def test_a_count_bounds_what_it_counts_after_a_lead_word(nlp, text, number, counted):
    c = bound(nlp, text, number)
    assert c.mention == counted, c


# ---------------------------------------------------------------- phrases


def test_a_participle_after_a_determiner_stays_in_the_phrase(nlp):
    c = bound(nlp, "Surgery to the treated eye less than 3 months before", 3)
    assert c.mention.startswith("Surgery"), c


def test_the_other_end_of_a_range_after_but_bounds_the_same_thing(nlp):
    c = bound(nlp, "Urinary protein excretion above 300 mg/day but below 3000 mg/day", 3000)
    assert c.mention == "Urinary protein excretion", c


@pytest.mark.parametrize(
    "text, number, first",
    [
        ("Enrolment in another drug study or undergoing any experimental procedure within 60 days", 60, "Enrolment"),
        ("Recent stroke or have had a transient ischaemic attack within 6 months", 6, "stroke"),
        ("Exposure to or ingestion of lead-based paint within the past 4 years", 4, "Exposure"),
    ],
)
def test_a_window_after_a_verb_led_conjunct_bounds_every_conjunct(nlp, text, number, first):
    c = bound(nlp, text, number)
    assert c.mention.startswith(first) and text[c.mention_end - 3 : c.mention_end] == text[:c.start].rstrip()[-3:], c


def test_a_new_criterion_after_comma_or_is_not_a_conjunct(nlp):
    c = bound(nlp, "Allergy to penicillin, or receiving any antibiotic within 7 days", 7)
    assert "Allergy" not in c.mention and "antibiotic" in c.mention, c


# ---------------------------------------------------------------- where the window's cue is


@pytest.mark.parametrize(
    "text, number, thing",
    [
        ("Use of topical retinoids or benzoyl peroxide, 10 days before the first visit", 10, "retinoids"),
        ("Sun exposure or tanning beds, 2 weeks prior to the biopsy", 2, "Sun exposure"),
    ],
)
def test_an_anchor_after_the_number_lets_the_window_bound_the_thing_before_the_comma(nlp, text, number, thing):
    c = bound(nlp, text, number)
    assert c.category == "temporal" and thing in c.mention, c


def test_a_window_before_a_list_bounds_the_listed_things(nlp):
    text = "Any of the following within the 6 months before randomisation: stroke, myocardial infarction or unstable angina"
    c = bound(nlp, text, 6)
    assert c.mention_start > text.index(":") and c.mention.startswith("stroke"), c


def test_a_bound_between_a_determiner_and_a_noun_modifies_the_noun(nlp):
    c = bound(nlp, "Women with a greater than 20% lifetime risk of ovarian cancer", 20)
    assert c.mention.startswith("lifetime risk"), c



@pytest.mark.parametrize(
    ("text", "thing"),
    [
        ("a target lesion ≥ 15 mm on plain radiography or ≥ 8 mm on MRI", "lesion"),
        ("Carboplatin dose > 5 mg/kg IV or > 8 mg/kg orally", "Carboplatin"),
    ],
)
def test_a_qualifier_between_two_bounds_of_one_thing_is_not_the_second_ones_thing(nlp, text, thing):
    first, second = extract_text(nlp, text, repair=False)
    assert thing in first.mention and second.unit == first.unit
    assert (second.variable, second.mention) == (first.variable, first.mention)


def test_a_new_thing_after_the_conjunction_keeps_its_own_name(nlp):
    first, second = extract_text(nlp, "haemoglobin ≥ 10 g/dL on two readings or albumin ≥ 30 g/L", repair=False)
    assert (first.variable, second.variable) == ("hemoglobin", "albumin")

"""What a time window bounds (issue 11), by class of structure: a window after a place
binds to the treatment given there, a name inside an exception or an anchor phrase is not
the bounded thing (unless the window sits inside the exception's own brackets), and
"older than" said of a thing is how long the thing has lasted, not an age. Sentences
written for these tests (none is a corpus sentence)."""

import pytest
from attach_helpers import only_bound as window

from criteria_nlp.pipeline import build_pipeline, extract_text


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def first_window(nlp, text):
    """The first time window found in ``text``."""
    return next(c for c in extract_text(nlp, text, repair=False) if c.category == "temporal")


# ---------------------------------------------------------------- a place after the treatment


@pytest.mark.parametrize(
    "text, head",
    [
        ("Irradiation to the left breast within 6 weeks of surgery", "Irradiation"),
        ("Steroid injection to the painful knee in the last 8 weeks", "Steroid injection"),
        ("Prior operation on or near the lumbar spine within 9 months", "operation"),
    ],
)
def test_a_window_after_a_place_binds_to_what_was_done_there(nlp, text, head):
    c = window(nlp, text, {"6": 6, "8": 8, "9": 9}[next(d for d in "689" if d in text)])
    assert c.category == "temporal" and head in c.mention, c


def test_after_a_relational_head_the_thing_is_what_follows_to(nlp):
    c = window(nlp, "Poor response to induction chemotherapy within 4 weeks", 4)
    assert c.mention.startswith("induction chemotherapy"), c


# ---------------------------------------------------------------- exceptions and anchors


@pytest.mark.parametrize(
    "text, thing",
    [
        ("Use of anticoagulants other than warfarin within 10 days", "anticoagulants"),
        ("Any antiepileptic drug except for valproate in the preceding 3 months", "antiepileptic drug"),
        ("History of malignancy, excluding treated basal cell carcinoma, in the past 4 years", "malignancy"),
    ],
)
def test_a_lexicon_name_inside_an_exception_is_not_what_the_window_bounds(nlp, text, thing):
    c = first_window(nlp, text)
    assert c.mention == thing, c


def test_a_window_inside_the_exception_brackets_is_the_exceptions_own(nlp):
    text = "Maintenance therapy allowed (except oral steroids for 2 months)"
    c = window(nlp, text, 2)
    assert "steroids" in c.mention, c


# ---------------------------------------------------------------- how old a thing is


@pytest.mark.parametrize(
    "text, thing",
    [
        ("Foot wounds older than 2 years", "Foot wounds"),
        ("A kidney graft less than two years old", "kidney graft"),
        ("Skin biopsy older than 8 weeks", "Skin biopsy"),
    ],
)
def test_older_than_said_of_a_thing_is_a_window_on_the_thing(nlp, text, thing):
    c = extract_text(nlp, text, repair=False)[0]
    assert c.category == "temporal" and c.mention == thing and c.variable != "age", c


@pytest.mark.parametrize(
    "text",
    [
        "Volunteers older than 21 years",
        "Girls less than 12 years old",
        "Patients of either sex older than 50 years",
        "women receiving hormone therapy who are less than 45 years old",
    ],
)
def test_older_than_said_of_a_person_stays_an_age(nlp, text):
    c = extract_text(nlp, text, repair=False)[0]
    assert c.category == "age" and c.variable == "age", c


# ---------------------------------------------------------------- a window in brackets after a time word


@pytest.mark.parametrize(
    "text, thing",
    [
        ("No recent (< 3 months) pulmonary embolism", "pulmonary embolism"),
        ("On stable (4 weeks or more) antihypertensive medication", "antihypertensive medication"),
        ("Prolonged (longer than the last 10 days) opioid therapy", "opioid therapy"),
    ],
)
def test_a_bracketed_window_after_a_time_word_bounds_the_thing_after_the_bracket(nlp, text, thing):
    c = extract_text(nlp, text, repair=False)[0]
    assert c.category == "temporal" and c.mention == thing, c


def test_a_bracket_after_another_word_is_not_read_so(nlp):
    text = "Wound area (over 2 weeks) measured by photograph"
    c = extract_text(nlp, text, repair=False)[0]
    assert c.mention != "measured by photograph" and "photograph" not in (c.mention or ""), c


# ---------------------------------------------------------------- abbreviations do not end a clause


def test_the_full_stop_of_an_abbreviation_does_not_cut_the_phrase(nlp):
    c = window(nlp, "Use of short-acting bronchodilators, e.g. salbutamol in the previous 5 days", 5)
    assert c.mention.startswith("short-acting bronchodilators"), c


# ---------------------------------------------------------------- during X and for N days after


@pytest.mark.parametrize(
    "text, thing",
    [
        ("Agree to avoid egg donation during the trial and for 4 months after it ends", "egg donation"),
        ("Must abstain from alcohol while on study and for 2 weeks after", "alcohol"),
    ],
)
def test_a_window_continuing_a_period_bounds_what_holds_in_it(nlp, text, thing):
    c = first_window(nlp, text)
    assert thing in c.mention, c


# ---------------------------------------------------------------- a relative clause after the head


@pytest.mark.parametrize(
    "text, head",
    [
        ("Herbal remedies that may interact with tacrolimus within 2 weeks", "Herbal remedies"),
        ("Any supplement which is known to affect bone density in the last 6 months", "supplement"),
    ],
)
def test_a_window_after_a_relative_clause_bounds_the_head_it_describes(nlp, text, head):
    c = first_window(nlp, text)
    assert head in c.mention and "tacrolimus" not in c.mention and "density" not in c.mention, c


@pytest.mark.parametrize(
    "text, thing",
    [
        ("Volunteers who received a flu vaccine within 3 weeks", "flu vaccine"),
        ("Lymphoma that has required radiotherapy in the past 2 years", "radiotherapy"),
    ],
)
def test_the_event_inside_the_clause_stays_the_thing(nlp, text, thing):
    c = first_window(nlp, text)
    assert thing in c.mention, c


# ---------------------------------------------------------------- a measurement before its setting


@pytest.mark.parametrize(
    "text, thing",
    [
        ("Mean ventricular rate at rest above 110 bpm", "ventricular rate"),
        ("Endometrial thickness on transvaginal scan of at least 8 mm", "Endometrial thickness"),
        ("Capillary oxygen saturation on room air below 88%", "oxygen saturation"),
    ],
)
def test_a_value_read_in_a_setting_bounds_the_measurement_before_it(nlp, text, thing):
    c = extract_text(nlp, text, repair=False)[0]
    assert thing in c.mention, c


def test_a_thing_based_on_a_measure_is_not_read_as_the_measure(nlp):
    text = "Low red cell mass based on total blood volume below 4000 ml"
    c = extract_text(nlp, text, repair=False)[0]
    assert "red cell mass" not in (c.mention or ""), c


# ---------------------------------------------------------------- a window in half-lives


def test_a_number_of_half_lives_is_a_window_on_the_drug(nlp):
    text = "The last intake of any anticonvulsant at least 5 half-lives before baseline"
    c = window(nlp, text, 5)
    assert c.category == "temporal" and c.mention is not None and "anticonvulsant" in c.mention, c
    assert "half" not in c.mention


def test_a_second_window_joined_by_or_bounds_the_same_event(nlp):
    text = "Any monoclonal antibody within 8 weeks or fewer than 4 half-lives before dosing"
    found = [c for c in extract_text(nlp, text, repair=False) if c.category == "temporal"]
    assert [c.value for c in found] == [8, 4] and found[0].mention == found[1].mention, found
    assert "antibody" in found[1].mention


# ---------------------------------------------------------------- counts and notes


@pytest.mark.parametrize(
    "text, thing",
    [("Endotoxin activity > 0.6 EAA/mL", "Endotoxin activity"), ("Leukocytosis > 25K", "Leukocytosis")],
)
def test_an_unknown_unit_after_a_bare_number_is_not_what_is_counted(nlp, text, thing):
    (c,) = extract_text(nlp, text, repair=False)
    assert c.mention == thing, c


def test_a_count_still_counts_what_follows_it(nlp):
    c = extract_text(nlp, "At least 2 prior regimens of chemotherapy", repair=False)[0]
    assert "regimens" in c.mention, c


def test_a_note_in_brackets_after_a_bound_does_not_name_the_next_bound(nlp):
    text = "Whole brain radiotherapy (> 20 Gy (boost) or > 45 Gy (standard))"
    found = extract_text(nlp, text, repair=False)
    assert [c.value for c in found] == [20, 45], found
    assert found[1].mention == found[0].mention and "radiotherapy" in found[0].mention, found


# ---------------------------------------------------------------- a share of a whole


@pytest.mark.parametrize(
    "text, whole",
    [
        ("Prior radiotherapy to more than 30% of the bone marrow", "bone marrow"),
        ("Able to complete at least 80% of the diary entries", "diary entries"),
    ],
)
def test_a_share_as_an_object_bounds_the_whole_it_is_of(nlp, text, whole):
    c = extract_text(nlp, text, repair=False)[0]
    assert c.mention == whole, c


@pytest.mark.parametrize(
    "text, thing",
    [
        ("Unintended weight loss > 5% of body weight", "weight"),
        ("Psoriasis plaques in more than 10% of the body surface", "Psoriasis plaques"),
    ],
)
def test_a_share_said_of_a_thing_bounds_that_thing(nlp, text, thing):
    c = extract_text(nlp, text, repair=False)[0]
    assert thing in (c.mention or ""), c


# ---------------------------------------------------------------- scores, degrees and measurements


@pytest.mark.parametrize(
    "text, instrument",
    [
        ("Beck Depression Inventory for depression score >= 20", "Beck Depression Inventory"),
        ("Epworth Sleepiness Scale, total score above 10", "Epworth Sleepiness Scale"),
    ],
)
def test_a_score_named_after_its_instrument_bounds_the_instrument(nlp, text, instrument):
    c = extract_text(nlp, text, repair=False)[0]
    assert c.mention == instrument, c


def test_a_score_without_an_instrument_before_stays_the_score(nlp):
    c = extract_text(nlp, "Total symptom severity score of 12 or more", repair=False)[0]
    assert "score" in c.mention, c


@pytest.mark.parametrize(
    "text, thing",
    [("Low (< 20%) expected completion rate", "completion rate"), ("Large (> 3 cm) wound dehiscence", "wound dehiscence")],
)
def test_a_bracketed_value_after_a_degree_word_bounds_the_thing_after_it(nlp, text, thing):
    c = extract_text(nlp, text, repair=False)[0]
    assert thing in (c.mention or ""), c


def test_a_curvature_measured_in_a_place_is_the_curvature(nlp):
    c = extract_text(nlp, "Lumbar curvature measured in the standing position above 50 degrees", repair=False)[0]
    assert c.mention == "Lumbar curvature", c


# ---------------------------------------------------------------- a bracketed note before the window


@pytest.mark.parametrize(
    "text, thing",
    [
        ("Severe gout flare (requiring colchicine or prednisolone) within the last 8 weeks", "flare"),
        ("Castrated (orchiectomy, or other; documented) at least 2 months before", "Castrated"),
    ],
)
def test_a_bracketed_note_before_a_window_is_not_what_it_bounds(nlp, text, thing):
    c = first_window(nlp, text)
    assert thing in c.mention and "colchicine" not in c.mention and "orchiectomy" not in c.mention, c


def test_an_abbreviation_in_brackets_stays_with_its_name(nlp):
    c = next(
        c for c in extract_text(nlp, "Laser trabeculoplasty (SLT) within the past 3 months", repair=False) if c.category == "temporal"
    )
    assert "SLT" in c.mention and "trabeculoplasty" in c.mention, c


# ---------------------------------------------------------------- a verb word heading a compound noun


def test_a_compound_noun_ending_in_a_verb_word_is_a_conjunct(nlp):
    c = window(nlp, "Any cannabis use or opioid misuse within the past 9 months", 9)
    assert c.mention.startswith("cannabis use"), c


def test_a_participle_is_not_read_as_a_compound_noun(nlp):
    c = window(nlp, "Steroids given orally or topical retinoids within the past 9 months", 9)
    assert not c.mention.startswith("Steroids given"), c


# ---------------------------------------------------------------- a list opener of several words


@pytest.mark.parametrize(
    "text, head",
    [
        ("Hospital stay for major surgery including but not limited to spinal, cranial, or hip surgery within 2 months", "major surgery"),
        ("Use of antiplatelet drugs, including, but not limited to, clopidogrel or ticagrelor, within 10 days", "antiplatelet drugs"),
        ("Biologic agents including but not limited to abatacept in the last 8 weeks", "Biologic agents"),
    ],
)
def test_including_but_not_limited_to_leads_back_to_the_head_of_the_list(nlp, text, head):
    c = first_window(nlp, text)
    assert head in c.mention and "limited" in c.mention, c


# ---------------------------------------------------------------- a capital "A" inside a name


@pytest.mark.parametrize(
    "text, name",
    [
        ("Change in dose of immunosuppressants, e.g. tacrolimus, cyclosporine A, sirolimus, in the past 2 months", "immunosuppressants"),
        ("Botulinum toxin A injections nine months prior to entry", "toxin A injections"),
        ("Group A streptococcal infection within 3 weeks", "Group A streptococcal infection"),
    ],
)
def test_a_capital_a_after_a_lower_case_word_is_part_of_the_name(nlp, text, name):
    c = first_window(nlp, text)
    assert name in c.mention, c


# ---------------------------------------------------------------- a look-back window is no age


@pytest.mark.parametrize(
    "text",
    [
        "Runners who have taken part in a marathon program for the upper legs in the last 6 months, patients with asthma",
        "A diagnosis of anaemia confirmed against the adult reference mean within the past 12 months.",
    ],
)
def test_a_window_looking_back_is_not_an_age_whatever_age_word_is_near(nlp, text):
    c = first_window(nlp, text)
    assert c.variable != "age" and c.mention_end <= c.start, c

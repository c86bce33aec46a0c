"""Header spellings and glued numbering (issue 12, items 4 and 5), on sentences written here."""

from __future__ import annotations

import pytest

from criteria_nlp.readers.base import CriteriaText
from criteria_nlp.segment import segment


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(i.kind, i.text) for i in segment(CriteriaText(text))]


@pytest.mark.parametrize(
    "inc_header, exc_header",
    [
        ("[Inclusion Criteria]", "[Exclusion Criteria]"),
        ("(Inclusion criteria)", "(Exclusion criteria)"),
        ("<Inclusion criteria>", "<Exclusion criteria>:"),
        ("\u3010Inclusion criteria\u3011", "\u3010Exclusion criteria\u3011"),
        ("Transplant Inclusion:", "Transplant Exclusion:"),
        ("Donor Inclusion:", "Donor Exclusion:"),
        ("Inclusion criteria", "Exclusion criteria"),
        ("INCLUSION:", "EXCLUSION:"),
        ("INCLUSION", "EXCLUSION"),
        ("1. Inclusion criteria", "2. Exclusion criteria"),
        ("A. INCLUSION:", "B. EXCLUSION:"),
        ("I. Inclusion Criteria:", "II. Exclusion Criteria:"),
        ("Criteria for inclusion:", "Criteria for exclusion:"),
        ("Criteria of inclusion", "Criteria of exclusion"),
        ("Patients are eligible if:", "Patients will be excluded if:"),
        ("Subjects will be included if they meet all of the following:",
         "Subjects will not be eligible if they have any of the following:"),
        ("Inclusion criteria:", "Non-inclusion criteria:"),
        ("Inclusion criteria:", "Reasons for exclusion:"),
        ("Inclusionary criteria:", "Exclusionary criteria:"),
        ("Inclusion criteria:", "Any of the following will exclude a patient from the study:"),
        ("Inclusion Criteria:-", "Exclusion Criteria:-"),
        ("__Inclusion criteria__", "__Exclusion criteria__"),
        ("Criteria for inclusion in the study:", "Criteria for exclusion from the study:"),
        ("Patients meeting all of the following criteria will be included:",
         "Patients meeting any of the following criteria will be excluded:"),
        ("Inclusion criteria:", "Subjects who meet any of the following criteria will be excluded from the study:"),
    ],
)
@pytest.mark.parametrize("bullet", ["- ", "", "1) "])
def test_header_spelling_classes(inc_header, exc_header, bullet):
    # Unlabelled lines too: the header must stand on its own, not through a labelled list.
    second = "2) " if bullet == "1) " else bullet
    text = (f"{inc_header}\n{bullet}Adults with mild asthma\n{second}Able to use an inhaler\n"
            f"{exc_header}\n{bullet}Current smokers\n{second}Surgery within 4 weeks\n")
    items = segment(CriteriaText(text))
    assert [(i.kind, i.kind_source, i.text) for i in items] == [
        ("inclusion", "header", "Adults with mild asthma"),
        ("inclusion", "header", "Able to use an inhaler"),
        ("exclusion", "header", "Current smokers"),
        ("exclusion", "header", "Surgery within 4 weeks"),
    ]


@pytest.mark.parametrize(
    "item",
    [
        "Exclusion of pregnancy by a urine test",
        "Exclusion of hepatitis B: negative serology",
        "Exclusion criteria met at screening are checked again",
        "(Exclusion of other causes) documented",
        "Patients with Exclusion: none",
        "Inclusion in another trial: allowed after 30 days",
        "Prior valve repair is allowed if there is no other\nexclusion criteria;",
    ],
)
def test_an_item_that_starts_with_a_header_word_is_not_a_header(item):
    text = f"Inclusion criteria:\n- Adults aged 30 to 60\n- {item}\n- Written consent\n"
    assert _kinds(text) == [
        ("inclusion", "Adults aged 30 to 60"), ("inclusion", " ".join(item.split())), ("inclusion", "Written consent")]


def test_inline_headers_in_capitals_and_without_colon():
    assert _kinds("INCLUSION: Adults with gout. EXCLUSION: Kidney stones.") == [
        ("inclusion", "Adults with gout."), ("exclusion", "Kidney stones.")]
    text = "Inclusion criteria 1. Adults with gout 2. Urate above 7 mg/dL Exclusion criteria 1. Kidney stones 2. Dialysis"
    assert _kinds(text) == [("inclusion", "Adults with gout"), ("inclusion", "Urate above 7 mg/dL"),
                            ("exclusion", "Kidney stones"), ("exclusion", "Dialysis")]
    # a sentence naming the criteria is not a header, even before a number
    text = "Inclusion criteria: 1. Adults who meet the exclusion criteria 2 weeks later 2. Consent"
    assert [k for k, _ in _kinds(text)] == ["inclusion", "inclusion"]


def test_glued_numbers_split_items():
    text = ("Inclusion criteria: 1.Signed consent 2.Histologically proven gastric cancer 3.Dose below 1.5 mg/kg "
            "4.Bilirubin up to 2.5x ULN Exclusion criteria: 1.Pregnancy 2.Version 2.1 of the score above 3")
    items = segment(CriteriaText(text))
    assert [(i.kind, i.label, i.text) for i in items] == [
        ("inclusion", "1.", "Signed consent"),
        ("inclusion", "2.", "Histologically proven gastric cancer"),
        ("inclusion", "3.", "Dose below 1.5 mg/kg"),
        ("inclusion", "4.", "Bilirubin up to 2.5x ULN"),
        ("exclusion", "1.", "Pregnancy"),
        ("exclusion", "2.", "Version 2.1 of the score above 3"),
    ]
    for i in items:
        assert text[i.start : i.end] == f"{i.label}{i.text}"


def test_number_glued_after_punctuation_starts_the_next_item():
    text = "1. Chemotherapy already received.,2. A subject able to swallow.;3. Weight over 40 kg"
    items = segment(CriteriaText(text))
    assert [(i.label, i.text) for i in items] == [
        ("1.", "Chemotherapy already received.,"),
        ("2.", "A subject able to swallow.;"),
        ("3.", "Weight over 40 kg"),
    ]


def test_glued_numbers_that_do_not_continue_the_numbering_stay_in_the_item():
    text = "1. Hemoglobin at least 9.Platelets counted twice,3.5 times a week 2. Consent"
    assert [(i.label, i.text) for i in segment(CriteriaText(text))] == [
        ("1.", "Hemoglobin at least 9.Platelets counted twice,3.5 times a week"),
        ("2.", "Consent"),
    ]


def test_header_without_colon_at_a_line_start_before_a_number_and_with_crlf():
    text = "Inclusion criteria: 1. Adults 2. Consent\nExclusion criteria 1. Pregnancy 2. Smokers"
    assert _kinds(text) == [("inclusion", "Adults"), ("inclusion", "Consent"),
                            ("exclusion", "Pregnancy"), ("exclusion", "Smokers")]
    text = "Inclusion criteria\r\n1. Adults\r\n2. Consent\r\nExclusion criteria \r\n1. Pregnancy\r\n2. Smokers\r\n"
    assert _kinds(text) == [("inclusion", "Adults"), ("inclusion", "Consent"),
                            ("exclusion", "Pregnancy"), ("exclusion", "Smokers")]

"""The criteria tokenizer splits glued operators and numbers, and keeps names and units whole."""

import pytest
import spacy

from criteria_nlp.pipeline.tokenizer import criteria_tokenizer


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("en")
    nlp.tokenizer = criteria_tokenizer(nlp)
    return nlp


def words(nlp, text):
    return [t.text for t in nlp.make_doc(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SLEDAI=8", ["SLEDAI", "=", "8"]),
        ("eGFR<30", ["eGFR", "<", "30"]),
        ("=30ml/min", ["=", "30", "ml/min"]),
        ("ALT≥2×ULN", ["ALT", "≥", "2", "×", "ULN"]),
        ("5=ESSDAI=13", ["5", "=", "ESSDAI", "=", "13"]),
        ("45-80Kg", ["45", "-", "80", "Kg"]),
        ("18-70", ["18", "-", "70"]),
        (">/=18", [">/=", "18"]),
        ("≥18years", ["≥", "18", "years"]),
        ("<1.5X ULN", ["<", "1.5", "X", "ULN"]),
        ("0~2", ["0", "~", "2"]),
        ("index(SLEDAI)", ["index", "(", "SLEDAI", ")"]),
    ],
)
def test_glued_operators_and_numbers_are_split(nlp, text, expected):
    assert words(nlp, text) == expected


@pytest.mark.parametrize(
    "name", ["IL-2", "COVID-19", "CD4+", "HER2", "anti-CD38", "SLEDAI-2K", "1:160", "HbA1c", "SARS-CoV-2"]
)
def test_names_with_digits_stay_whole(nlp, name):
    assert words(nlp, f"patients with {name} here") == ["patients", "with", name, "here"]


@pytest.mark.parametrize("unit", ["mL/min/1.73m2", "10^9/L", "×10⁹/L", "mg/dL", "cells/mm3"])
def test_units_stay_whole(nlp, unit):
    assert unit in words(nlp, f"value 30 {unit} or more")


def test_offsets_cover_the_text(nlp):
    text = "age:18 to 75 years, weight 45-80Kg; ANA>1:160, leukopenia<3×10^9/L"
    doc = nlp.make_doc(text)
    assert doc.text == text
    assert "".join(t.text_with_ws for t in doc) == text

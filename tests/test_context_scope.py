"""The cheap tests around ConText (pipeline/context_scope.py) give the same negations as
running ConText on every doc that holds a negation word."""

import pytest
from spacy.attrs import SENT_START

from criteria_nlp.pipeline import build_pipeline, extract_text
from criteria_nlp.pipeline.context_scope import clause_starts

TEXTS = [
    "No platelet count below 50,000/uL.",
    "Age 18 to 65 years; no prior chemotherapy within 4 weeks.",
    "Not pregnant. Creatinine clearance > 60 mL/min.",
    "Hemoglobin >= 9 g/dL! Without fever above 38.5 C for 3 days.",
    "Free of seizures for at least 12 months? BMI < 35 kg/m2",
    "Patients cannot walk more than 50 meters. no history of stroke",
    "ECOG 0-1, absence of ascites, weight > 40 kg.",
    "negative pregnancy test within 7 days; HbA1c <= 8%",
    "At least 2 lines of therapy, no more than 3 prior regimens.",
    "no",
    "Platelets > 100,000/uL not requiring transfusion within 7 days",
    "HBV DNA > 2000 IU/mL ruled out; ALT < 3 x ULN negative",
    "Tumour size 2 cm excluded. Weight 50 kg free",
    "Hemoglobin 9 g/dL not present, age 30 years",
]


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def test_clause_starts_as_token_loop(nlp):
    for text in TEXTS:
        a, b = nlp.make_doc(text), nlp.make_doc(text)
        for i, tok in enumerate(a):
            tok.is_sent_start = i == 0 or a[i - 1].text in {";", ".", "!", "?"}
        b.from_array([SENT_START], clause_starts(b))
        assert [t.is_sent_start for t in a] == [t.is_sent_start for t in b]


def test_skipping_context_changes_no_negation(nlp):
    extractor = nlp.get_pipe("criteria_constraints")
    fast = [[c.model_dump() for c in extract_text(nlp, t)] for t in TEXTS]
    saved = extractor._openers
    extractor._openers = (None,)  # no clause test: ConText runs on every doc with a cue word
    try:
        slow = [[c.model_dump() for c in extract_text(nlp, t)] for t in TEXTS]
    finally:
        extractor._openers = saved
    assert fast == slow
    negated = {c["text"] for cs in fast for c in cs if c["negated"]}
    assert negated and not any("60 mL/min" in t for t in negated)

"""A record stops being read once it holds MAX_RECORD_CONSTRAINTS comparisons (pasted data
or many records run together, never one trial's criteria): the items after the one that
reached the cap are not read, the record says so, and everything before is as without it."""

import criteria_nlp
from criteria_nlp import pipeline
from criteria_nlp.readers import read_text
from criteria_nlp.records import structure_raw
from criteria_nlp.segment.base import Item

LINES = [
    "Age >= 18 years and weight >= 40 kg",
    "Hemoglobin >= 9 g/dL",
    "No history of stroke",
    "ALT <= 3 x ULN and AST <= 3 x ULN",
    "Platelets >= 100,000/mm3",
    "Creatinine clearance >= 60 mL/min",
]


def _items():
    return [Item(kind="inclusion", label=None, text=t, start=0, end=len(t)) for t in LINES]


def test_reading_stops_after_the_item_that_reaches_the_cap():
    nlp = criteria_nlp._default_nlp()
    whole = pipeline.extract_items(nlp, _items(), max_record_constraints=None)
    assert [len(cs) for cs in whole] == [2, 1, 0, 2, 1, 1] and whole.cut_at is None
    cut = pipeline.extract_items(nlp, _items(), max_record_constraints=4)
    assert cut.cut_at == 4  # 2 + 1 + 0 + 2 reach 4 at the fourth item; the fifth is not read
    assert list(cut[:4]) == list(whole[:4]) and list(cut[4:]) == [[], []]
    # a cap the record does not reach changes nothing
    assert pipeline.extract_items(nlp, _items(), max_record_constraints=7) == whole


def test_a_cut_record_says_where_reading_stopped(monkeypatch):
    nlp = criteria_nlp._default_nlp()
    text = "Inclusion Criteria:\n" + "".join(f"- {line}\n" for line in LINES)
    (raw,) = read_text(text)
    full = structure_raw(raw, nlp)
    assert not any("comparisons of the record" in w for w in full.warnings)
    monkeypatch.setattr(pipeline, "MAX_RECORD_CONSTRAINTS", 3)
    (raw,) = read_text(text)
    cut = structure_raw(raw, nlp)
    assert [len(c.constraints) for c in cut.criteria] == [2, 1, 0, 0, 0, 0]
    assert len(cut.criteria) == len(full.criteria)  # every item is still there, with its offsets
    (warning,) = [w for w in cut.warnings if "comparisons of the record" in w]
    assert "only the first 3 comparisons" in warning and "inc-3 and the 3 items after it" in warning
    assert cut.criteria[:2] == full.criteria[:2]


def test_the_cap_is_far_above_any_real_record():
    assert pipeline.MAX_RECORD_CONSTRAINTS >= 1000

"""The learned deleted-sign decision and the lost-sign files a saved pipeline carries.

Every sentence here is written for the test; none comes from a corpus."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import spacy

from criteria_nlp.pipeline import build_pipeline, extract_text
from criteria_nlp.pipeline.lost_sign_model import CLASSES, DeletedModel, load_model
from criteria_nlp.pipeline.lost_signs import MODEL_FILE, RULES_FILE, read_component_files


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def test_shipped_model_loads_and_is_a_probability():
    model = load_model()
    assert model is not None and model.classes == CLASSES
    probs = model.probabilities({"bias": 1.0, "trace": 1.0})
    assert abs(sum(probs.values()) - 1.0) < 1e-9
    assert 0.0 < model.threshold < 1.0
    assert "command" in model.meta


def test_scoring_is_a_softmax_with_platt_and_threshold():
    model = DeletedModel(CLASSES, {"bias": [0.0, 0.0, 0.0], "up": [0.0, 3.0, 0.0]}, (1.0, 0.0), 0.8)
    op, p = model.read({"bias": 1.0, "up": 1.0})
    assert op == ">=" and p == pytest.approx(model.probabilities({"bias": 1.0, "up": 1.0})[">="])
    op, p = model.read({"bias": 1.0})
    assert op == "==" and p == pytest.approx(1 / 3)


def test_bad_model_file_is_a_clear_error():
    with pytest.raises(ValueError, match="not a lost-sign decision file"):
        DeletedModel.from_dict({"classes": ["none", ">=", "<="], "weights": {"bias": [1.0]}}, "x.json")


def test_traced_bound_is_read_with_a_calibrated_confidence(nlp):
    c = extract_text(nlp, "Haemoglobin  10 g/dL; platelets  100 x 10^9/L")[0]
    assert c.repaired and c.operator == ">=" and c.written_operator is None
    assert 0.5 < c.confidence < 1.0
    assert "learned lost-sign decision" in c.repair_reason


def test_saved_pipeline_carries_the_lost_sign_files(nlp, tmp_path):
    nlp.to_disk(tmp_path / "p")
    folder = tmp_path / "p" / "criteria_constraints"
    rules = json.loads((folder / RULES_FILE).read_text(encoding="utf-8"))
    model = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
    assert "8805" in rules["entities"][">="]["numeric"] and model["weights"]
    # what the folder says is what the loaded pipeline reads, not the package's files
    rules["entities"][">="]["numeric"].remove("8805")
    (folder / RULES_FILE).write_text(json.dumps(rules), encoding="utf-8")
    model["threshold"] = model["threshold_trace"] = 1.5  # nothing is probable enough
    (folder / MODEL_FILE).write_text(json.dumps(model), encoding="utf-8")
    loaded = spacy.load(tmp_path / "p")
    text = "Neutrophils 8805;1.5 x 10^9/L"
    assert any(c.operator == ">=" for c in extract_text(nlp, text))
    assert not any(c.operator == ">=" for c in extract_text(loaded, text))
    traced = "Haemoglobin  10 g/dL; platelets  100 x 10^9/L"
    assert extract_text(nlp, traced)[0].repaired
    assert not any(c.repaired for c in extract_text(loaded, traced))
    assert not any(c.repaired for c in loaded(traced)._.constraints)


def test_folder_saved_without_the_files_keeps_the_package_ones(tmp_path):
    files = read_component_files(tmp_path, {RULES_FILE: {"a": 1}})
    assert files == {RULES_FILE: {"a": 1}}
    (tmp_path / MODEL_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=MODEL_FILE):
        read_component_files(tmp_path, {})


@pytest.mark.parametrize("text, op", [("Creatinine &lte; 1.8 mg/dL", "<="), ("Clearance &gte; 50 mL/min", ">=")])
def test_non_standard_named_references_are_the_sign(nlp, text, op):
    c = extract_text(nlp, text)[0]
    assert c.operator == op and c.repaired and c.written_operator.startswith("&")


# --------------------------------------------------------------------------- training scheme


def _row(y, src, feats, trial):
    return {"f": {"bias": 1.0, **feats}, "y": y, "trial": trial, "corpus": "sim", "src": src, "ctx": ""}


def test_clean_records_weigh_more_in_the_fit():
    # a word seen before lost bounds and before clean bare numbers alike: weighted, the
    # clean records' reading wins (the false alarms are counted on them)
    pytest.importorskip("sklearn")
    from criteria_nlp.evaluation import lost_sign_train as T

    rows = [_row(">=", "deleted_collapsed", {"w-1:level": 1.0}, f"d{n}") for n in range(12)]
    rows += [_row("none", "plain", {"w-1:level": 1.0}, f"p{n}") for n in range(4)]
    rows += [_row("none", "deleted_collapsed", {"w-1:dose": 1.0}, f"d{n}") for n in range(6)]
    rows += [_row("<=", "deleted_collapsed", {"w-1:upto": 1.0}, f"d{n}") for n in range(6)]
    probe = [{"f": {"bias": 1.0, "w-1:level": 1.0}}]
    old = T.PLAIN_WEIGHT
    try:
        T.PLAIN_WEIGHT = 1.0
        even = T._predict(*T._fit(rows, 1.0), probe)[0]
        T.PLAIN_WEIGHT = 25.0
        weighted = T._predict(*T._fit(rows, 1.0), probe)[0]
    finally:
        T.PLAIN_WEIGHT = old
    assert even[">="] > even["none"]
    assert weighted["none"] > weighted[">="]


def test_threshold_is_the_lowest_under_the_false_alarm_budget():
    from criteria_nlp.evaluation import lost_sign_train as T

    # 400 clean bare numbers: 3 read at 0.9 (0.75%), 1 more at 0.6; lost bounds at 0.95 and 0.7
    rows, probs = [], []
    for n in range(400):
        rows.append(_row("none", "plain", {}, f"p{n}"))
        up = 0.9 if n < 3 else 0.6 if n == 3 else 0.05
        probs.append({"none": 1 - up, ">=": up, "<=": 0.0})
    for n in range(40):
        rows.append(_row(">=", "deleted_collapsed", {}, f"d{n}"))
        up = 0.95 if n < 20 else 0.7
        probs.append({"none": 1 - up, ">=": up, "<=": 0.0})
    gold = Counter({"clean_bare": 400, "deleted_collapsed": 40})
    ab, threshold, final = T.operating_point(rows, probs, gold, None)

    def clean_read(t):
        return sum(T._cal(p[">="], ab) >= t for r, p in zip(rows, probs, strict=True) if r["src"] == "plain")

    assert clean_read(threshold) == 3  # 0.75% of the clean bare numbers: the budget, not more
    assert clean_read(threshold - 0.01) == 4  # one step lower reads the fourth
    # the lowest such threshold reads the lost bounds at 0.7 too (above the fourth clean number)
    assert final["deleted_collapsed"] == 1.0


def test_false_alarms_are_reported_per_corpus():
    from criteria_nlp.evaluation import lost_sign_train as T

    # a pooled share hides a small corpus: 2 alarms in 10 numbers of "small", 0 in 990 of "big"
    rows, probs = [], []
    for n in range(1000):
        corpus = "small" if n < 10 else "big"
        rows.append({**_row("none", "plain", {}, f"p{n}"), "corpus": corpus})
        up = 0.9 if n < 2 else 0.05
        probs.append({"none": 1 - up, ">=": up, "<=": 0.0})
    # a fresh collection also counts (form, corpus) pairs: the report must not trip on them
    gold = Counter({"clean_bare": 1000, "clean_bare_small": 10, "clean_bare_big": 990, ("deleted_space", "big"): 3})
    out, clean = T.score(rows, probs, (1.0, 0.0), 0.5, gold)
    assert out["clean_read"] == "2/1000"
    assert out["clean_read_by_corpus"] == {"big": "0/990", "small": "2/10"}
    lines = T.curve(rows, probs, (1.0, 0.0), gold, None)
    assert lines[0].startswith("0.50: clean 2/1000") and lines[-1].startswith("0.95: clean 0/1000")

"""The repair's training data, training and evaluation: tiny generated corpora here, the
shared corpora where present (skipped without them)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import criteria_nlp
from criteria_nlp.evaluation import calibration
from criteria_nlp.evaluation.repair import corrupt, evaluate_repair, main
from criteria_nlp.evaluation.repair_data import comparisons, corpus_rows, masked, variants
from criteria_nlp.evaluation.split import is_validation_trial
from criteria_nlp.pipeline.repair_model import OperatorModel

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
MODEL = Path(__file__).resolve().parents[1] / "models" / "operator_repair" / "weights.json"

needs_corpora = pytest.mark.skipif(not (CORPORA / "lct").is_dir(), reason="../shared/corpora is absent")


@pytest.fixture(scope="module")
def nlp():
    return criteria_nlp.load()


def test_corruption_keeps_offsets():
    text = "Age ≥ 18 and ≤ 75 years; ALT > 2 x ULN"
    out = corrupt(text)
    assert len(out) == len(text) and out == "Age = 18 and = 75 years; ALT > 2 x ULN"


def test_comparisons_find_signs_and_words_with_their_direction():
    text = "weight no less than 40 kg; Hb \\>= 9; 3 prior lines or more; tumour up to 5 cm; QTc<450"
    found = [(k.written, k.label) for k in comparisons(text)]
    assert found == [("no less than", 1), ("\\>=", 1), ("after:more", 1), ("up to", 0), ("<", 0)]


def test_masking_writes_a_bare_equals_where_each_label_points():
    text = "weight no less than 40 kg; 3 prior lines or more; QTc<450 ms"
    ks = comparisons(text)
    out, labels = masked(text, ks, ks)
    assert out == "weight = 40 kg; = 3 prior lines; QTc=450 ms"
    assert sorted(labels) == [i for i, ch in enumerate(out) if ch == "="]
    assert [labels[i].label for i in sorted(labels)] == [1, 1, 0]


def test_variants_start_with_the_dump_and_mask_each_typed_comparison_once():
    text = "Age ≥ 18 years; ALT > 3 x ULN; platelets < 100; Hb ≤ 9"
    vs = variants(text)
    assert vs[0][0] == corrupt(text)  # the dump itself: ≥/≤ written '=', '>' and '<' kept
    assert sorted(m.written for m in vs[0][1].values()) == ["≤", "≥"]
    typed = [m.written for _, labels in vs[1:] for m in labels.values()]
    assert sorted(typed) == ["<", ">"]
    assert "" not in (v[0] for v in vs)
    assert variants("no comparison at all") == []


def test_calibration_figures():
    perfect = [(0.8, i < 8) for i in range(10)] * 10
    assert calibration.expected_calibration_error(perfect) == pytest.approx(0.0, abs=1e-9)
    over = [(0.95, i < 6) for i in range(10)]
    assert calibration.expected_calibration_error(over) == pytest.approx(0.35)
    s = calibration.summary(perfect + over)
    assert s["readings"] == 110 and s["readings_at_confidence_0.9_or_more"] == 10
    assert s["right_at_confidence_0.9_or_more"] == 0.6
    assert [b["bin"] for b in s["reliability"]] == ["0.8-0.9", "0.9-1.0"]
    assert calibration.expected_calibration_error([]) is None


# --------------------------------------------------------------------------- a tiny training run

_INC = [
    ("Age {op} {v} years", ["≥", ">=", "at least"], [18, 21]),
    ("Hemoglobin {op} {v} g/dL", ["≥", ">="], [9, 10]),
    ("ECOG performance status {op} {v}", ["≤", "<="], [1, 2]),
    ("Bilirubin {op} {v} x ULN", ["≤", "no more than"], [1.5, 2]),
]
_EXC = [
    ("ALT {op} {v} x ULN", ["≥", ">"], [3, 5]),
    ("Creatinine clearance {op} {v} mL/min", ["≤", "<"], [30, 40]),
    ("Major surgery within {op} {v} weeks", ["≤", "<"], [4, 2]),
]


def _write_tiny_chia(root: Path, trials: int = 60) -> list[str]:
    rnd = random.Random(7)
    chia = root / "chia"
    chia.mkdir(parents=True)
    ids = []
    for n in range(trials):
        trial = f"NCT9{n:07d}"
        ids.append(trial)
        for kind, templates in (("inc", _INC), ("exc", _EXC)):
            lines = []
            for tpl, ops, values in templates:
                lines.append(tpl.format(op=rnd.choice(ops), v=rnd.choice(values)))
            (chia / f"{trial}_{kind}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


def test_tiny_training_run_learns_calibrated_directions(tmp_path, nlp):
    from criteria_nlp.evaluation.repair_train import train_operator_model
    from criteria_nlp.pipeline.repair import repair_constraints

    ids = _write_tiny_chia(tmp_path / "corpora")
    rows = corpus_rows(nlp, tmp_path / "corpora", ("chia",), "train", use_cache=False)
    # only the training part is read
    assert rows and not any(is_validation_trial(r["trial"]) for r in rows)
    assert {r["trial"] for r in rows} == {t for t in ids if not is_validation_trial(t)}
    report = train_operator_model(
        tmp_path / "corpora", tmp_path / "model", corpora=("chia",), nlp=nlp,
        grid=((0.3, 1.0, 1.0), (1.0, 1.0, 3.0)), use_cache=False,
    )
    assert report["rows"]["lost_signs"] > 100
    assert report["cv_lost_signs"]["right"] >= 0.95
    assert (report["chosen"]["C"], report["chosen"]["voice_scale"]) in ((0.3, 1.0), (1.0, 3.0))
    model = OperatorModel.load(tmp_path / "model" / "weights.json")
    assert model.learned_decision and {"a", "b"} <= set(model.calibration)
    assert 0 < model.keep["equality"] < 1
    # a sentence of no training trial, as a dump writes it
    text = "Hemoglobin = 11 g/dL"
    found = criteria_nlp.extract(text, kind="inclusion", repair=False, nlp=nlp)
    out = repair_constraints(found, text, "inclusion", model=model)
    assert [(c.operator, c.repaired) for c in out] == [(">=", True)]
    assert 0.5 < out[0].confidence < 1 and out[0].repair_reason


def test_cli_entry_reports_a_missing_folder(capsys, tmp_path):
    assert main(["train", str(tmp_path / "missing")]) == 2
    assert "no such corpora folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- the shipped weights


def test_shipped_weights_are_one_calibrated_decision_trained_on_training_parts():
    model = OperatorModel.load(MODEL)
    assert model.learned_decision
    assert {"a", "b"} <= set(model.calibration) and model.calibration["a"] > 0
    assert 0 < model.keep["equality"] < 1
    cv = model.meta["training_cv"]
    assert cv["rows"]["lost_signs"] > 5000
    assert set(cv["rows"]["by_corpus"]) >= {"lct", "chia", "ctgov_raw", "ctgov_unlabelled"}
    assert model.meta["parts"].startswith("train")
    # every kind of voice is a feature of the one decision, and so is the written form
    voices = {f.split(":")[1] for f in model.weights if f.startswith("voice:")}
    assert {"lexicon", "relative", "cue", "time", "age", "pair", "sibling", "record"} <= voices
    assert "form:=" in model.weights


# --------------------------------------------------------------------------- on the shared corpora


@needs_corpora
def test_evaluate_repair_on_a_sample(nlp):
    report = evaluate_repair(CORPORA / "lct", nlp, limit=60)
    json.dumps(report)  # JSON-able
    train = report["train"]
    assert train["lost_operators"] >= 15
    assert train["recovered_share"] >= 0.75
    assert report["repaired_in_clean_text"] == 0
    cal = train["calibration"]
    assert cal["readings"] > 0 and cal["expected_calibration_error"] is not None
    assert all(0 < b["confidence"] < 1 for b in cal["reliability"])
    # misses are listed for the training part only
    assert len(report["misses (training part)"]) == train["lost_operators"] - train["recovered"]
    ctgov = report["ctgov"]
    assert ctgov["ctgov_raw"]["train"]["clean_written_signs_marked_repaired"] == 0
    assert ctgov["all CT.gov, train"]["lost_operators"] > 0


def test_html_report_draws_a_reliability_diagram():
    from criteria_nlp.report.evaluation import render_html

    pairs = [(0.55, i % 2 == 0) for i in range(10)] + [(0.95, i < 19) for i in range(20)]
    html = render_html({"title": "t", "sections": {"repair": {"calibration": calibration.summary(pairs)}}})
    assert html.count("<circle") == 2  # one dot per non-empty bin
    assert "share right by confidence" in html and "stroke-dasharray" in html  # the diagonal


def _con(text: str, start: int, operator: str, value: float, upper: float | None = None, written: str | None = "="):
    from criteria_nlp.schema import Constraint

    return Constraint(variable="x", category="lab", operator=operator, value=value, upper=upper, start=start,
                      end=start + len(text), text=text, written_operator=written)


def test_ctgov_scoring_reads_a_range_and_another_written_form_like_lct():
    from criteria_nlp.evaluation.repair_ctgov import number_after, score_sign

    dumped = "Weight = 40 to = 120 kg; platelets = 1,500 or more; ALT = 3"
    assert number_after(dumped, dumped.index("= 1,500")) == 1500.0
    both = _con("= 40 to = 120 kg", 7, "between", 40, 120, written="to")
    lo, hi = 7, dumped.index("= 120")
    assert score_sign([both], dumped, lo, ">=")[0] == "ok"
    assert score_sign([both], dumped, hi, "<=")[0] == "ok"
    assert score_sign([both], dumped, hi, ">=")[0] == "wrong"  # the upper bound of a '>=' sign
    more = _con("= 1,500 or more", dumped.index("= 1,500"), ">=", 1500, written="or more")
    assert score_sign([more], dumped, more.start, ">=") == ("ok", None, True)
    assert score_sign([more], dumped, more.start, "<=")[0] == "wrong"
    # the repair's own reading of a '=' comes first and is the one scored
    alt = _con("= 3", dumped.index("= 3"), "<=", 3)
    assert score_sign([alt], dumped, alt.start, "<=") == ("ok", alt, False)
    assert score_sign([alt], dumped, alt.start, ">=")[0] == "wrong"
    assert score_sign([], dumped, alt.start, ">=")[0] == "not-extracted"

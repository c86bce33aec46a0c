"""The repair evaluation and the context model, on the shared corpora (skipped without them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import criteria_nlp
from criteria_nlp.evaluation.repair import corpus_examples, corrupt, evaluate_repair, main, split_of
from criteria_nlp.pipeline.repair import OperatorModel, context_features

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
MODEL = Path(__file__).resolve().parents[1] / "models" / "operator_repair" / "weights.json"

needs_corpora = pytest.mark.skipif(not (CORPORA / "lct").is_dir(), reason="../shared/corpora is absent")


def test_corruption_keeps_offsets():
    text = "Age ≥ 18 and ≤ 75 years; ALT > 2 x ULN"
    out = corrupt(text)
    assert len(out) == len(text) and out == "Age = 18 and = 75 years; ALT > 2 x ULN"


def test_split_is_stable_and_holds_out_about_a_fifth():
    ids = [f"NCT{n:08d}" for n in range(2000)]
    held = [i for i in ids if split_of(i) == "test"]
    assert held == [i for i in ids if split_of(i) == "test"]
    assert 0.15 < len(held) / len(ids) < 0.25


def test_shipped_model_reads_direction_from_context():
    model = OperatorModel.load(MODEL)
    assert model.meta["test_lost_operators"]["accuracy"] >= 0.85  # measured on held-out trials

    def p_ge(text: str, kind: str) -> float:
        i = text.index("=")
        return model.logit(context_features(text, i, i + 1, kind))

    assert p_ge("Hemoglobin = 9 g/dL", "inclusion") > 0
    assert p_ge("ECOG performance status = 2", "inclusion") < 0
    assert p_ge("Karnofsky performance status = 70", "inclusion") > 0


def test_cli_entry_reports_a_missing_folder(capsys, tmp_path):
    assert main(["train", str(tmp_path / "missing")]) == 2
    assert "no such corpora folder" in capsys.readouterr().err


@needs_corpora
def test_corpus_examples_mask_the_operator():
    rows = [r for r in corpus_examples(CORPORA) if r["corpus"] == "lct"]
    assert len(rows) > 500
    assert {r["label"] for r in rows} == {0, 1}
    # the masked operator never leaks into the features
    assert not any(any(s in f for s in "≥≤") for r in rows[:300] for f in r["feats"])


@needs_corpora
def test_evaluate_repair_on_a_sample():
    report = evaluate_repair(CORPORA / "lct", criteria_nlp.load(), limit=60)
    json.dumps(report)  # JSON-able
    assert report["lost_operators"] >= 20
    assert report["recovered_share"] >= 0.75
    assert report["repaired_in_clean_text"] == 0
    assert len(report["misses"]) == report["lost_operators"] - report["recovered"]
    ctgov = report["ctgov_raw"]
    assert ctgov["records"] == 60 and ctgov["agree_share"] >= 0.8


def test_shipped_model_never_saw_lct():
    """The recovery figure is measured on LCT: the shipped weights must not have learned from it."""
    meta = OperatorModel.load(MODEL).meta
    assert "lct" not in meta["params"]["corpora"]
    assert "lct" not in meta["by_corpus"]
    assert meta["unseen_corpus_lct"]["lost_operators"]["n"] > 100

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


def test_mask_comparisons_keeps_offsets_and_labels_every_operator():
    from criteria_nlp.evaluation.repair import mask_comparisons

    text = "Age >= 18 and <= 75; ALT > 2 x ULN; Hb ≤ 9; score 0-1"
    masked, labels = mask_comparisons(text)
    assert len(masked) == len(text)
    assert masked == "Age  = 18 and  = 75; ALT = 2 x ULN; Hb = 9; score 0-1"
    assert [labels[i] for i in sorted(labels)] == [1, 0, 1, 0]
    assert all(masked[i] == "=" for i in labels)


def test_stack_scales_each_voice_and_leaves_unknown_voices_alone():
    from criteria_nlp.pipeline.repair import GE, LE, RepairRules, Vote, combine

    rules = RepairRules.from_dict({"threshold": 0.3})
    votes = [Vote(2.0, "cue", "cue:floor words"), Vote(-1.5, "lexicon", "lexicon:inclusion:lab")]
    assert combine(votes, rules).operator == GE
    # the data say the lexicon voice is worth twice its hand weight, the cue half of it
    stacked = combine(votes, rules, {"cue:floor words": 0.5, "lexicon:inclusion:lab": 2.0})
    assert stacked.operator == LE
    assert combine(votes, rules, {"other": 0.0}).operator == GE


def test_fit_stack_learns_from_data_and_keeps_rare_voices_near_their_hand_weight():
    from criteria_nlp.evaluation.repair import fit_stack

    # "good" always points the right way, "noise" half the time the wrong way
    rows = [{"votes": {"good": 1.0 if y else -1.0, "noise": 1.0}, "label": y} for y in (0, 1) * 100]
    rows.append({"votes": {"rare": 1.0}, "label": 1})
    stack = fit_stack(rows)
    assert stack["good"] > 1.5
    assert stack["noise"] < 0.6  # pulled well below its hand weight (1) by the data
    assert 0.9 < stack["rare"] < 1.2


def test_shipped_model_carries_a_stack_learned_without_lct():
    meta = json.loads(MODEL.read_text(encoding="utf-8"))
    assert "model" in meta["stack"] and len(meta["stack"]) > 10
    assert meta["meta"]["stack"]["examples"]["train"] > 1000
    assert meta["meta"]["stack"]["unseen_corpus_lct"]["stacked"]["n"] > 100

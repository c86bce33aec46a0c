"""The project's own gold (annotations/) is consistent, and criteria-nlp reproduces it."""

from pathlib import Path

import pytest

from criteria_nlp.evaluation.gold import evaluate_gold, load_gold

ANNOTATIONS = Path(__file__).resolve().parents[1] / "annotations"


def test_gold_offsets_slice_to_the_written_text():
    gold = load_gold(ANNOTATIONS)
    assert {g["source"] for g in gold} >= {
        "examples/NCT04077684_who_ictrp_page.txt",
        "examples/NCT02932137_listing_page.txt",
        "examples/NCT04136106_ctgov_field_dump.txt",
        "examples/NCT04397107_trial_details_page.txt",
        "examples/NCT05605665_who_ictrp_page.txt",
    }
    for g in gold:
        text = Path(g["_path"]).read_text(encoding="utf-8")
        for item in g["items"]:
            written = text[item["start"] : item["end"]]
            assert written.startswith(item["label"]), (g["source"], item["id"])
            assert " ".join(written[len(item["label"]) :].split()) == item["text"]
            for c in item.get("constraints", []):
                assert text[c["start"] : c["end"]] == c["text"], (g["source"], c)
                assert item["start"] <= c["start"] < c["end"] <= item["end"]
                if c["operator"] == "between":
                    assert c["upper"] is not None and c["upper"] > c["value"]


@pytest.fixture(scope="module")
def scores():
    return evaluate_gold(ANNOTATIONS)


def test_every_gold_item_is_segmented_with_its_kind(scores):
    assert scores["items"]["f1"] == 1.0
    assert scores["kind_accuracy"] == 1.0


def test_every_seed_constraint_is_found_and_read_right(scores):
    assert scores["constraints_detection"]["recall"] == 1.0, scores["misses"]
    assert scores["constraints_detection"]["precision"] >= 0.95, scores["false_alarms"]
    assert scores["constraints_strict"]["f1"] >= 0.95, scores["misses"]


def test_every_lost_operator_of_the_seeds_is_repaired_the_way_the_record_means(scores):
    assert scores["repair"]["gold"] == 9
    assert scores["repair"]["recovery"] == 1.0, scores["misses"]
    assert scores["repair"]["false_repairs"] == 0

"""Reading brat standoff and scoring the pipeline on LCT's numeric comparisons."""

from pathlib import Path

import pytest

from criteria_nlp.evaluation.brat import BratError, parse_ann
from criteria_nlp.evaluation.lct import _gold_of, corrupt_text, document_items, evaluate_lct, load_lct

LCT = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "lct"

# A small document written for this test, annotated the way LCT annotates comparisons.
TEXT = "Inclusion criteria:\n  1. Age ≥ 21 years\n  2. HbA1c between 7 and 10 %\n"
ANN = "\n".join(
    [
        "T1\tAge 25 28\tAge",
        "T2\tEq-Operator 29 30\t≥",
        "A1\tEq-Operator-Value T2 GTEQ",
        "T3\tEq-Value 31 33\t21",
        "T4\tEq-Temporal-Unit 34 39\tyears",
        "T5\tEq-Comparison 29 39\t≥ 21 years",
        "E1\tEq-Comparison:T5 Operator:T2 Value:T3 Temporal-Unit:T4",
        "E2\tAge:T1 Numeric-Filter:E1",
        "T6\tObservation-Name 45 50\tHbA1c",
        "T7\tEq-Comparison 51 71\tbetween 7 and 10 %",
        "T8\tEq-Value 59 60\t7",
        "T9\tEq-Value 65 67\t10",
        "E3\tEq-Comparison:T7 Value:T8 Value2:T9",
        "E4\tObservation:T6 Numeric-Filter:E3",
        "A2\tObservation-Type-Value E4 lab",
    ]
)


def test_brat_events_and_gold_comparisons():
    doc = parse_ann(ANN, TEXT, "toy")
    assert doc.entities["T5"].text == TEXT[29:39]
    assert doc.events["E3"].args_of("Value") == ["T8", "T9"]
    gold, spans = _gold_of(doc)
    assert [(g.values, g.expected_operator, g.category, g.unit_text) for g in gold] == [
        ([21.0], ">=", "age", "years"),
        ([7.0, 10.0], "==", "lab", None),
    ]
    assert spans == [(29, 39), (51, 71)]


def test_strict_scores_with_and_without_unannotated_operators():
    """The HbA1c range has no annotated operator: strict over all gold expects "==" and
    counts the "between" reading wrong; strict over annotated gold leaves it out."""
    from criteria_nlp.evaluation.lct import LctDoc
    from criteria_nlp.pipeline import build_pipeline

    gold, spans = _gold_of(parse_ann(ANN, TEXT, "toy"))
    doc = LctDoc(doc_id="toy", batch="batch0", text=TEXT, gold=gold, comparison_spans=spans)
    report = evaluate_lct(None, build_pipeline(), docs=[doc])
    assert report["detection"]["f1"] == 1.0
    assert report["operator_confusion"] == {">= -> >=": 1, "== -> between": 1}
    assert report["strict"]["f1"] == 0.5
    annotated = report["strict_annotated"]
    assert (annotated["gold"], annotated["predicted"], annotated["correct"], annotated["f1"]) == (1, 1, 1, 1.0)
    assert annotated["left_out_gold_without_operator"] == 1 == annotated["left_out_predictions_matched_to_them"]


def test_decimal_comma_values_and_blood_pressure_pairs_are_matched():
    """LCT writes European decimals as they stand ("18,5") and annotates "BP > 160/100 mmHg"
    as one comparison with two values; the pipeline reads two bounds on one span."""
    from criteria_nlp.evaluation.lct import LctDoc
    from criteria_nlp.pipeline import build_pipeline

    text = "Inclusion criteria:\n  -  BMI ≥18,5\nExclusion criteria:\n  -  uncontrolled hypertension (BP > 160/100 mmHg)\n"
    bmi, bp = text.index("≥18,5"), text.index("> 160/100 mmHg")
    ann = "\n".join(
        [
            f"T1\tEq-Operator {bmi} {bmi + 1}\t≥",
            "A1\tEq-Operator-Value T1 GTEQ",
            f"T2\tEq-Value {bmi + 1} {bmi + 5}\t18,5",
            f"T3\tEq-Comparison {bmi} {bmi + 5}\t≥18,5",
            "E1\tEq-Comparison:T3 Operator:T1 Value:T2",
            f"T4\tEq-Operator {bp} {bp + 1}\t>",
            "A2\tEq-Operator-Value T4 GT",
            f"T5\tEq-Value {bp + 2} {bp + 5}\t160",
            f"T6\tEq-Value {bp + 6} {bp + 9}\t100",
            f"T7\tEq-Comparison {bp} {bp + 14}\t> 160/100 mmHg",
            "E2\tEq-Comparison:T7 Operator:T4 Value:T5 Value2:T6",
        ]
    )
    gold, spans = _gold_of(parse_ann(ann, text, "toy"))
    assert [g.values for g in gold] == [[18.5], [100.0, 160.0]]
    doc = LctDoc(doc_id="toy", batch="batch0", text=text, gold=gold, comparison_spans=spans)
    report = evaluate_lct(None, build_pipeline(), docs=[doc])
    assert report["detection"]["f1"] == 1.0 and report["strict"]["f1"] == 1.0
    assert report["predicted"] == 2


def test_bad_ann_line_names_file_and_line():
    with pytest.raises(BratError, match=r"toy: line 2 "):
        parse_ann("T1\tAge 1 2\tA\nT2\tEq-Value x y\tz", "abc", "toy")


def test_items_keep_offsets_and_kind():
    text = "Inclusion Criteria:\n  1. Age ≥ 21 years\nExclusion Criteria:\n  - BMI > 40\n"
    items = document_items(text)
    assert [(i.kind, i.text) for i in items] == [("inclusion", "Age ≥ 21 years"), ("exclusion", "BMI > 40")]
    assert all(text[i.start : i.end] == i.text for i in items)


def test_corruption_keeps_length():
    text = "Age ≥ 18 and creatinine ≤ 1.5"
    bad = corrupt_text(text)
    assert len(bad) == len(text) and "≥" not in bad and "≤" not in bad and bad.count("=") == 2


@pytest.mark.corpus
@pytest.mark.skipif(not LCT.is_dir(), reason="../shared/corpora/lct is absent")
def test_lct_scores_on_two_batches():
    from criteria_nlp.pipeline import build_pipeline

    docs = [d for d in load_lct(LCT) if d.batch in ("batch3", "batch12")]
    assert len(docs) > 60 and sum(len(d.gold) for d in docs) > 200
    report = evaluate_lct(LCT, build_pipeline(), docs=docs)
    assert report["detection"]["f1"] >= 0.85, {k: report[k] for k in ("detection", "strict")}
    assert report["strict"]["f1"] >= 0.75
    assert report["recall_temporal"] >= 0.85
    miss = report["misses"][0]
    assert {"doc", "sentence", "start", "end", "gold", "found"} <= set(miss)
    # batch 12 is validation: scored, but none of its examples is listed
    batch_of = {d.doc_id: d.batch for d in docs}
    for key in ("misses", "false_alarms", "wrong_operator", "gold_without_number_list"):
        assert report[key] and {batch_of[x["doc"]] for x in report[key]} == {"batch3"}, key
    assert report["recall_by_part"]["validation"] is not None
    # Registry damage: every ≥/≤ becomes "=". Numbers are still found.
    corrupted = evaluate_lct(LCT, build_pipeline(), docs=docs, corrupt=True, repair=False)
    assert corrupted["detection"]["f1"] >= report["detection"]["f1"] - 0.05


# Written for this test: a range LCT annotates as two comparisons, and a count in 10^9/L
# whose flattened power of ten ("109") LCT takes for a second value.
SPLIT_TEXT = "Inclusion criteria:\n  1. 130 mmHg ≤ SBP ≤ 175 mmHg\n  2. Platelets ≥ 90x109/L\n"
SPLIT_ANN = "\n".join(
    [
        "T1\tEq-Comparison 25 35\t130 mmHg ≤",
        "T2\tEq-Value 25 28\t130",
        "E1\tEq-Comparison:T1 Value:T2",
        "T3\tEq-Comparison 40 50\t≤ 175 mmHg",
        "T4\tEq-Value 42 45\t175",
        "E2\tEq-Comparison:T3 Value:T4",
        "T5\tEq-Comparison 66 76\t≥ 90x109/L",
        "T6\tEq-Value 68 70\t90",
        "T7\tEq-Value 71 74\t109",
        "E3\tEq-Comparison:T5 Value:T6 Value2:T7",
    ]
)


def test_split_range_and_flattened_power_of_ten():
    from criteria_nlp.evaluation.lct import LctDoc
    from criteria_nlp.pipeline import build_pipeline

    assert SPLIT_TEXT[25:35] == "130 mmHg ≤" and SPLIT_TEXT[66:76] == "≥ 90x109/L"
    gold, spans = _gold_of(parse_ann(SPLIT_ANN, SPLIT_TEXT, "toy"))
    assert [g.values for g in gold] == [[130.0], [175.0], [90.0, 109.0]]
    doc = LctDoc(doc_id="toy", batch="batch0", text=SPLIT_TEXT, gold=gold, comparison_spans=spans)
    report = evaluate_lct(None, build_pipeline(), docs=[doc])
    # two constraints (the range, the count) found three gold comparisons; the range's
    # second bound counts as a prediction of its own, so precision stays 1, not 1.5
    assert (report["gold"], report["found"], report["predicted"]) == (3, 3, 3)
    assert report["detection"]["precision"] == 1.0

"""Segmentation into inclusion/exclusion items: seeds, layouts, offsets, classifier."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from criteria_nlp.readers.base import CriteriaText
from criteria_nlp.segment import classifier as clf
from criteria_nlp.segment import segment
from criteria_nlp.segment.base import Item

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"

# Regions of the seed pages, as the readers will hand them over.
SEED_REGIONS = {
    "examples/NCT04077684_who_ictrp_page.txt": ("Key inclusion & exclusion criteria", "Age minimum:", False),
    "examples/NCT05605665_who_ictrp_page.txt": ("Key inclusion & exclusion criteria", "Age minimum:", False),
    "examples/NCT02932137_listing_page.txt": ("- Meet the American College", "Study & Design", True),
    "examples/NCT04397107_trial_details_page.txt": ("Eligibility Inclusion Criteria:", "\n", False),
}


def _gold(name: str) -> dict[str, dict]:
    path = ROOT / "annotations" / name
    return {r["source"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if r}


def _seed_ct(source: str) -> CriteriaText:
    text = (ROOT / source).read_text(encoding="utf-8")
    first, last, headerless = SEED_REGIONS[source]
    start = text.index(first)
    return CriteriaText(text, start=start, end=text.index(last, start), headerless=headerless)


def _as_tuples(items: list[Item]) -> list[tuple]:
    return [(i.kind, i.label, i.text, i.start, i.end) for i in items]


def _gold_tuples(record: dict) -> list[tuple]:
    return [(g["kind"], g["label"], g["text"], g["start"], g["end"]) for g in record["items"]]


def assert_offsets_exact(text: str, items: list[Item]) -> None:
    """Every stretch of an item's text maps back to the source, whitespace aside, and
    every run of non-space characters maps to exactly the same characters."""
    for item in items:
        assert text[item.start : item.end].startswith(item.label or item.text[:1])
        assert text[item.end - 1] == item.text[-1]
        pos = 0
        for word in item.text.split(" "):
            s, e = item.source_span(pos, pos + len(word))
            assert text[s:e] == word, (item.text, word, text[s:e])
            pos += len(word) + 1
        n = len(item.text)
        for i in range(0, n, max(1, n // 7)):
            for j in range(i + 1, n + 1, max(1, n // 5)):
                s, e = item.source_span(i, j)
                assert " ".join(text[s:e].split()) == " ".join(item.text[i:j].split())
        assert item.source_span(0, n)[1] == item.end


@pytest.mark.parametrize("source", sorted(SEED_REGIONS))
def test_seed_pages_match_gold(source):
    ct = _seed_ct(source)
    items = segment(ct)
    assert _as_tuples(items) == _gold_tuples(_gold("seeds.jsonl")[source])
    assert_offsets_exact(ct.text, items)


def test_seed_counts_and_kind_sources():
    counts = {}
    for source in SEED_REGIONS:
        items = segment(_seed_ct(source))
        counts[Path(source).name] = (
            sum(i.kind == "inclusion" for i in items),
            sum(i.kind == "exclusion" for i in items),
        )
        expected_source = "classifier" if SEED_REGIONS[source][2] else "header"
        assert {i.kind_source for i in items} == {expected_source}
    assert counts == {
        "NCT04077684_who_ictrp_page.txt": (6, 14),
        "NCT05605665_who_ictrp_page.txt": (6, 8),
        "NCT02932137_listing_page.txt": (9, 8),
        "NCT04397107_trial_details_page.txt": (3, 8),
    }


def test_field_dump_without_criteria_has_no_items():
    text = (ROOT / "examples/NCT04136106_ctgov_field_dump.txt").read_text(encoding="utf-8")
    # The reader finds no criteria region: an empty one gives nothing.
    assert segment(CriteriaText(text, start=len(text), end=len(text))) == []


@pytest.mark.parametrize("source", sorted(_gold("layouts.jsonl")))
def test_layout_cases_match_gold(source):
    record = _gold("layouts.jsonl")[source]
    text = (ROOT / source).read_text(encoding="utf-8")
    if record["source_format"] == "ctgov_listing_page":
        start = text.index("Recruitment & Eligibility")
        start = text.index("\n- ", text.index("- 120", start)) + 1  # first criterion bullet
        ct = CriteriaText(text, start=start, end=text.index("Study & Design"), headerless=True)
    else:
        ct = CriteriaText(text)
    items = segment(ct)
    assert _as_tuples(items) == _gold_tuples(record)
    assert_offsets_exact(text, items)


@pytest.mark.parametrize(
    "header, kind",
    [
        ("Inclusion Criteria:", "inclusion"),
        ("INCLUSION CRITERIA", "inclusion"),
        ("Eligibility Inclusion Criteria:", "inclusion"),
        ("Inclusion criteria -", "inclusion"),
        ("Inclusion:", "inclusion"),
        ("Key inclusion criteria", "inclusion"),
        ("Inclusion criteria (control group):", "inclusion"),
        ("Main exclusion criteria", "exclusion"),
        ("Exclusion criteria include:", "exclusion"),
        ("Key Exclusion Criteria:", "exclusion"),
        ("EXCLUSION CRITERIA:", "exclusion"),
        ("Non-inclusion criteria:", "exclusion"),
        ("**Exclusion Criteria:**", "exclusion"),
    ],
)
def test_header_spellings(header, kind):
    text = f"{header}\n1. Adults with asthma\n2. FEV1 below 80% of predicted\n"
    items = segment(CriteriaText(text))
    assert [(i.kind, i.kind_source, i.label) for i in items] == [(kind, "header", "1."), (kind, "header", "2.")]


def test_combined_header_is_not_a_kind_and_field_kind_applies_under_it():
    text = "Key inclusion & exclusion criteria\n- Prior stroke\n- Dialysis\n"
    assert {i.kind_source for i in segment(CriteriaText(text))} == {"classifier"}
    items = segment(CriteriaText(text, kind="exclusion", field="Exclusion_Criteria"))
    assert [(i.kind, i.kind_source) for i in items] == [("exclusion", "field")] * 2


def test_headers_inside_a_field_win_over_the_field_kind():
    text = "Inclusion Criteria:\n* Age 18 or over\nExclusion Criteria:\n* Pregnancy\n"
    items = segment(CriteriaText(text, kind="inclusion", field="Inclusion_Criteria"))
    assert [(i.kind, i.kind_source, i.text) for i in items] == [
        ("inclusion", "header", "Age 18 or over"),
        ("exclusion", "header", "Pregnancy"),
    ]


@pytest.mark.parametrize(
    "labels",
    [["1.", "2.", "3."], ["1)", "2)", "3)"], ["(1)", "(2)", "(3)"], ["1-", "2-", "3-"], ["a.", "b.", "c."],
     ["(a)", "(b)", "(c)"], ["i.", "ii.", "iii."], ["A)", "B)", "C)"], ["•", "•", "•"], ["·", "·", "·"],
     ["-", "-", "-"], ["*", "*", "*"]],
)
def test_label_styles(labels):
    bodies = ["Age 18 to 75 years", "Creatinine below 1.5 mg/dL", "Signed consent"]
    text = "Exclusion Criteria:\n" + "".join(f"  {lab} {b}\n" for lab, b in zip(labels, bodies, strict=True))
    items = segment(CriteriaText(text))
    assert [(i.label, i.text, i.kind) for i in items] == [
        (lab, b, "exclusion") for lab, b in zip(labels, bodies, strict=True)
    ]
    assert_offsets_exact(text, items)


def test_nested_items_are_their_own_items():
    text = (
        "Inclusion Criteria:\n"
        "1. Adequate organ function:\n"
        "   a) ANC >= 1.5 x 10^9/L\n"
        "   b) Platelets >= 100 x 10^9/L\n"
        "2. Measurable disease\n"
        "   - by RECIST 1.1\n"
        "3. ECOG 0-1\n"
    )
    items = segment(CriteriaText(text))
    assert [(i.label, i.text) for i in items] == [
        ("1.", "Adequate organ function:"),
        ("a)", "ANC >= 1.5 x 10^9/L"),
        ("b)", "Platelets >= 100 x 10^9/L"),
        ("2.", "Measurable disease"),
        ("-", "by RECIST 1.1"),
        ("3.", "ECOG 0-1"),
    ]


def test_preambles_are_not_items_and_can_give_the_kind():
    text = (
        "Patients must meet all of the following criteria:\n"
        "1. Age 18 or over\n"
        "2. Signed consent\n"
        "Subjects will be excluded if:\n"
        "1. Pregnant\n"
        "2. eGFR < 30 mL/min\n"
    )
    items = segment(CriteriaText(text))
    assert [(i.kind, i.label, i.text) for i in items] == [
        ("inclusion", "1.", "Age 18 or over"),
        ("inclusion", "2.", "Signed consent"),
        ("exclusion", "1.", "Pregnant"),
        ("exclusion", "2.", "eGFR < 30 mL/min"),
    ]


def test_wrapped_items_join_lines_and_keep_exact_offsets():
    text = (
        "Exclusion Criteria:\n\n"
        "1. hepatic insufficiency (alanine aminotransferase or aspartate aminotransferase = 2\n"
        "times of the upper limit of the normal range);\n\n"
        "2. Serious infection such as bacteremia, sepsis;history of chronic infection;\n"
    )
    items = segment(CriteriaText(text))
    assert [i.text for i in items] == [
        "hepatic insufficiency (alanine aminotransferase or aspartate aminotransferase = 2 "
        "times of the upper limit of the normal range);",
        "Serious infection such as bacteremia, sepsis;history of chronic infection;",
    ]
    assert items[0].source_span(items[0].text.index("= 2 times"), items[0].text.index("= 2 times") + 9) == (
        text.index("= 2\ntimes"),
        text.index("= 2\ntimes") + 9,
    )
    assert_offsets_exact(text, items)


def test_inline_numbers_that_are_not_item_numbers():
    text = (
        "Inclusion Criteria: 1. Fulfils the 1997 criteria 2. prednisone 2.5 mg daily 3. ALT < 1.5 x ULN "
        "4. NYHA class 2 or 3 Exclusion Criteria: 1. heart failure grade 3. or worse 2. on dialysis."
    )
    items = segment(CriteriaText(text))
    assert [(i.kind, i.label, i.text) for i in items] == [
        ("inclusion", "1.", "Fulfils the 1997 criteria"),
        ("inclusion", "2.", "prednisone 2.5 mg daily"),
        ("inclusion", "3.", "ALT < 1.5 x ULN"),
        ("inclusion", "4.", "NYHA class 2 or 3"),
        ("exclusion", "1.", "heart failure grade 3. or worse"),
        ("exclusion", "2.", "on dialysis."),
    ]
    assert_offsets_exact(text, items)


def test_lone_number_after_a_quantity_word_does_not_split():
    text = "Exclusion Criteria: 1. neuropathy 2. toxicity of grade 3. or higher"
    assert [i.text for i in segment(CriteriaText(text))] == ["neuropathy", "toxicity of grade 3. or higher"]


def test_text_before_the_region_is_not_segmented():
    clutter = "Sponsor: Example University\n- Status\n- RECRUITING\n"
    text = clutter + "Inclusion Criteria:\n- Age 18+\n\nOther page text\n"
    items = segment(CriteriaText(text, start=len(clutter), end=text.index("\nOther")))
    assert [(i.text, i.start) for i in items] == [("Age 18+", text.index("- Age"))]


def test_bare_text_without_header_is_one_classified_item_per_line():
    text = "Age 18 years or older\nAble to sign the informed consent form\n"
    items = segment(CriteriaText(text))
    assert [(i.kind, i.kind_source, i.label, i.text) for i in items] == [
        ("inclusion", "classifier", None, "Age 18 years or older"),
        ("inclusion", "classifier", None, "Able to sign the informed consent form"),
    ]
    assert all(0.5 <= i.kind_confidence < 1.0 for i in items)


def test_items_before_the_first_header_of_a_text_with_headers_are_inclusion_by_default():
    text = "Adults with gout\nUrate above 7 mg/dL\nExclusion criteria:\nKidney stones\n"
    items = segment(CriteriaText(text))
    assert [(i.kind, i.kind_source) for i in items] == [
        ("inclusion", "default"), ("inclusion", "default"), ("exclusion", "header")]


def test_ctgov_unlabelled_lines_under_headers():
    text = "Inclusion Criteria:\n\nAge ≥ 18 years.\nAble to consent.\n\nExclusion Criteria:\n\nPrior AML therapy.\n"
    items = segment(CriteriaText(text))
    assert [(i.kind, i.label, i.text) for i in items] == [
        ("inclusion", None, "Age ≥ 18 years."),
        ("inclusion", None, "Able to consent."),
        ("exclusion", None, "Prior AML therapy."),
    ]


def test_headerless_without_model_falls_back_to_default(monkeypatch):
    monkeypatch.setattr(clf, "default_model", lambda: None)
    items = segment(CriteriaText("- Signed consent\n- Active hepatitis B\n", headerless=True))
    assert [(i.kind, i.kind_source) for i in items] == [("inclusion", "default")] * 2


def test_switch_point():
    assert clf.switch_point([0.1, 0.2, 0.9, 0.8]) == 2
    # a list opens with inclusion: even exclusion-looking first items leave one inclusion
    assert clf.switch_point([0.9, 0.8]) == 1
    assert clf.switch_point([0.9, 0.8], min_inclusion=0) == 0
    assert clf.switch_point([0.9]) == 1
    assert clf.switch_point([0.1, 0.3]) == 2
    assert clf.switch_point([]) == 0
    # one odd item does not break the order: a lone exclusion-looking item among inclusions
    assert clf.switch_point([0.1, 0.6, 0.2, 0.1, 0.9, 0.95]) == 4


def test_switch_prior_is_a_distribution_and_moves_the_split():
    prior = clf.SwitchPrior(4.0, 6.0, weight=1.0)
    for n in (1, 5, 30):
        assert sum(math.exp(prior.log_pmf(k, n)) for k in range(n + 1)) == pytest.approx(1.0)
    # an uninformative item list: the prior alone picks a split near its mean share (4/10)
    assert clf.switch_point([0.5] * 10, prior) in (3, 4)
    # confident items outweigh the prior
    assert clf.switch_point([0.01] * 9 + [0.99], prior) == 9
    assert clf.switch_point([0.5] * 10, clf.SwitchPrior(4.0, 6.0, weight=0.0), min_inclusion=0) == 0


def test_load_rejects_a_bad_switch_prior(tmp_path):
    doc = {"format": clf.FORMAT, "intercept": 0.0, "features": [], "idf": [], "weights": [],
           "switch_prior": {"alpha": -1, "beta": 2, "weight": 1}}
    (tmp_path / "model.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ValueError, match="model.json: switch_prior alpha and beta must be positive"):
        clf.IncExcModel.load(tmp_path)


def test_shipped_model_scores_typical_criteria():
    model = clf.default_model()
    assert model is not None, "models/inc_exc_classifier/model.json is missing"
    assert model.p_exclusion("Pregnant or breastfeeding women") > 0.5
    assert model.p_exclusion("History of myocardial infarction within the past 6 months") > 0.5
    assert model.p_exclusion("Written informed consent obtained before any study procedure") < 0.5
    assert model.p_exclusion("Age 18 years or older") < 0.5


def test_json_model_reproduces_sklearn(tmp_path):
    pytest.importorskip("sklearn")
    chia = CORPORA / "chia"
    if not chia.is_dir():
        pytest.skip("../shared/corpora/chia is absent")
    sample = tmp_path / "chia"
    sample.mkdir()
    for path in sorted(chia.glob("NCT*_inc.txt"))[:60]:
        for part in ("inc", "exc"):
            src = path.with_name(path.name.replace("_inc.txt", f"_{part}.txt"))
            shutil.copy(src, sample / src.name)
    metrics = clf.train_classifier(sample, tmp_path / "model", extra=False)
    assert metrics["max_abs_diff_vs_sklearn"] < 1e-5
    assert metrics["heldout_lines"] > 0
    model = clf.IncExcModel.load(tmp_path / "model")
    assert 0.0 <= model.p_exclusion("Known HIV infection") <= 1.0


def test_load_reads_and_checks_min_inclusion(tmp_path):
    doc = {"format": clf.FORMAT, "intercept": 3.0, "features": [], "idf": [], "weights": []}
    (tmp_path / "model.json").write_text(json.dumps(doc), encoding="utf-8")
    model = clf.IncExcModel.load(tmp_path)
    assert model.min_inclusion == clf.MIN_INCLUSION == 1
    # the intercept alone says "exclusion" for every item; the first one still opens the list
    assert [k for k, _ in clf.decide_kinds(["Pregnancy", "Drug abuse"], model)] == ["inclusion", "exclusion"]
    (tmp_path / "model.json").write_text(json.dumps({**doc, "min_inclusion": 0}), encoding="utf-8")
    assert [k for k, _ in clf.decide_kinds(["Pregnancy", "Drug abuse"], clf.IncExcModel.load(tmp_path))] == [
        "exclusion", "exclusion"]
    (tmp_path / "model.json").write_text(json.dumps({**doc, "min_inclusion": "one"}), encoding="utf-8")
    with pytest.raises(ValueError, match="model.json: min_inclusion must be a whole number"):
        clf.IncExcModel.load(tmp_path)


def test_load_rejects_a_foreign_json(tmp_path):
    (tmp_path / "model.json").write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(ValueError, match="model.json: not a criteria-nlp"):
        clf.IncExcModel.load(tmp_path)


def test_train_classifier_command_reports_a_missing_corpus(tmp_path):
    from typer.testing import CliRunner

    from criteria_nlp.cli import app

    result = CliRunner().invoke(app, ["train-classifier", str(tmp_path / "nope"), str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "nope: no such directory" in result.output
    assert "Traceback" not in result.output


def test_boundary_features_name_both_sides_and_the_position():
    items = [clf.word_features("Age 18 or older"), clf.word_features("Signed consent"), clf.word_features("Pregnant")]
    first = clf.boundary_features(items, 0, bins=4)
    assert "L:<start>" in first and "R:w:age" in first and first[-1] == "P:start"
    middle = clf.boundary_features(items, 2, bins=4)
    assert "L:b:signed consent" in middle and "R:w:pregnant" in middle and middle[-1] == "P:2"
    last = clf.boundary_features(items, 3, bins=4)
    assert "R:<end>" in last and last[-1] == "P:end"


def test_switch_point_adds_boundary_scores():
    probs = [0.1, 0.6, 0.6, 0.9]
    assert clf.switch_point(probs) == 1
    # a boundary model sure that the switch comes after item 2 moves it there
    assert clf.switch_point(probs, boundary=[0.0, 0.0, 0.0, 3.0, 0.0]) == 3
    with pytest.raises(ValueError, match="boundary needs 5 scores"):
        clf.switch_point(probs, boundary=[0.0])


def test_model_with_a_boundary_part_round_trips(tmp_path):
    doc = {"format": clf.FORMAT, "intercept": 0.0, "features": ["w:pregnant"], "idf": [1.0], "weights": [4.0],
           "boundary": {"weight": 2.0, "position_bins": 4, "intercept": -2.0,
                        "features": ["L:w:consent"], "idf": [1.0], "weights": [6.0]}}
    (tmp_path / "model.json").write_text(json.dumps(doc), encoding="utf-8")
    model = clf.IncExcModel.load(tmp_path)
    texts = ["Signed consent", "Age 18", "Pregnant"]
    logits = model.boundary_logits(texts)
    assert logits == [-2.0, 4.0, -2.0, -2.0]  # only the switch after "Signed consent" scores
    assert model.boundary_scores(texts) == [2.0 * z for z in logits]
    kinds = [k for k, _ in clf.decide_kinds(["Age 18", "Signed consent", "Hepatitis B", "Pregnant"], model)]
    assert kinds == ["inclusion", "inclusion", "exclusion", "exclusion"]
    doc["boundary"].pop("idf")
    (tmp_path / "model.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ValueError, match="model.json: boundary needs"):
        clf.IncExcModel.load(tmp_path)


def test_load_rejects_the_previous_format(tmp_path):
    doc = {"format": "criteria-nlp/inc-exc-linear/3", "intercept": 0.0, "features": [], "idf": [], "weights": []}
    (tmp_path / "model.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ValueError, match="model.json: not a criteria-nlp inclusion/exclusion model"):
        clf.IncExcModel.load(tmp_path)

"""Lists without headers from any reader (issue 12, item 8), on lists written here."""

from __future__ import annotations

import json

import pytest

import criteria_nlp
from criteria_nlp.segment import classifier as clf
from criteria_nlp.segment.decision import Decision, decide, exclusion_marginals, switch_scores

MIXED = (
    "- Adults aged 18 to 65 years\n"
    "- Confirmed diagnosis of moderate plaque psoriasis\n"
    "- Able to give written informed consent\n"
    "- Pregnant or breastfeeding women\n"
    "- Known allergy to the study drug\n"
    "- Participation in another interventional trial within 30 days\n"
)
INCLUSION_ONLY = (
    "1. Men or women aged 40 years or older\n"
    "2. Diagnosis of knee osteoarthritis confirmed by X-ray\n"
    "3. Knee pain on most days of the past month\n"
    "4. Willing to attend all study visits and sign the consent form\n"
)
EXCLUSION_ONLY = (
    "* History of myocardial infarction or stroke\n"
    "* Active hepatitis B or C infection\n"
    "* Pregnancy or lactation\n"
    "* Current alcohol or drug abuse\n"
    "* Known hypersensitivity to any component of the study drug\n"
)


def _kinds(record):
    return [(c.kind, c.kind_source) for c in record.criteria]


def test_a_bare_headerless_list_is_split_by_the_classifier_through_structure():
    record = criteria_nlp.structure(MIXED)
    assert _kinds(record) == [("inclusion", "classifier")] * 3 + [("exclusion", "classifier")] * 3
    assert [c.id for c in record.criteria] == ["inc-1", "inc-2", "inc-3", "exc-1", "exc-2", "exc-3"]
    for c in record.criteria:
        assert 0.5 < c.kind_confidence < 1.0
        assert MIXED[c.start : c.end] == f"- {c.text}"


def test_a_list_of_one_kind_only_stays_one_kind():
    assert _kinds(criteria_nlp.structure(INCLUSION_ONLY)) == [("inclusion", "classifier")] * 4
    assert _kinds(criteria_nlp.structure(EXCLUSION_ONLY)) == [("exclusion", "classifier")] * 5


def test_headers_still_decide_and_say_so():
    record = criteria_nlp.structure("Inclusion Criteria:\n- Age 18 or over\nExclusion Criteria:\n- Pregnancy\n")
    assert [(c.kind, c.kind_source, c.kind_confidence) for c in record.criteria] == [
        ("inclusion", "header", 1.0), ("exclusion", "header", 1.0)]


def _ictrp(tmp_path, inclusion: str, exclusion: str):
    path = tmp_path / "export.xml"
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<Trials><Trial>"
        "<TrialID>ISRCTN00000001</TrialID><Public_title>A test trial</Public_title>"
        f"<Inclusion_Criteria>{inclusion}</Inclusion_Criteria>"
        f"<Exclusion_Criteria>{exclusion}</Exclusion_Criteria>"
        "</Trial></Trials>\n",
        encoding="utf-8",
    )
    return criteria_nlp.structure(str(path))


def test_a_field_of_one_kind_by_definition_is_never_classified(tmp_path):
    # exclusion-looking lines in the Inclusion_Criteria field, inclusion-looking ones in
    # Exclusion_Criteria: the field says what they are
    record = _ictrp(tmp_path, "1. Pregnancy\n2. History of stroke", "1. Adults aged 18 or over\n2. Signed consent")
    assert [(c.kind, c.kind_source, c.kind_confidence, c.field) for c in record.criteria] == [
        ("inclusion", "field", 1.0, "Inclusion_Criteria"),
        ("inclusion", "field", 1.0, "Inclusion_Criteria"),
        ("exclusion", "field", 1.0, "Exclusion_Criteria"),
        ("exclusion", "field", 1.0, "Exclusion_Criteria"),
    ]


def test_ctgov_field_without_headers_is_classified(tmp_path):
    path = tmp_path / "study.json"
    criteria = MIXED.replace("\n", "\\n")
    path.write_text(
        '{"protocolSection": {"identificationModule": {"nctId": "NCT00000001", "briefTitle": "A test"},'
        f' "eligibilityModule": {{"eligibilityCriteria": "{criteria}"}}}}}}',
        encoding="utf-8",
    )
    record = criteria_nlp.structure(str(path))
    assert record.error is None
    assert _kinds(record) == [("inclusion", "classifier")] * 3 + [("exclusion", "classifier")] * 3


def test_posterior_decision():
    # exclusion-probability of each item rises along the list, and "median" gives each item
    # its likelier kind
    scores = switch_scores([0.1, 0.2, 0.9, 0.8], None, Decision(min_inclusion=0))
    marg = exclusion_marginals(scores, 1.0)
    assert marg == sorted(marg) and marg[0] < 0.5 < marg[2]
    median = Decision(rule="median", min_inclusion=0)
    assert [k for k, _ in decide(scores, median)] == ["inclusion", "inclusion", "exclusion", "exclusion"]
    # the start bonus lets a list be all exclusion; min_inclusion forbids it
    scores = switch_scores([0.9, 0.8, 0.95], None, Decision(min_inclusion=0, start_bonus=2.0))
    assert [k for k, _ in decide(scores, median)] == ["exclusion"] * 3
    scores = switch_scores([0.9, 0.8, 0.95], None, Decision(min_inclusion=1))
    assert [k for k, _ in decide(scores, Decision(min_inclusion=1))][0] == "inclusion"
    # a higher temperature makes the confidences less sure, never the kinds different under argmax
    cold = decide(scores, Decision(temperature=1.0))
    warm = decide(scores, Decision(temperature=4.0))
    assert [k for k, _ in cold] == [k for k, _ in warm]
    assert all(w <= c + 1e-9 for (_, c), (_, w) in zip(cold, warm, strict=True))


def test_shipped_model_has_a_decision_chosen_by_cross_validation():
    model = clf.default_model()
    assert model is not None and model.decision is not None
    assert model.decision.min_inclusion == 0  # a list may be all exclusion
    assert "decision" in model.meta and "cv" in model.meta["decision"]


def test_a_bad_decision_block_is_named(tmp_path):
    doc = {"format": clf.FORMAT, "intercept": 0.0, "features": [], "idf": [], "weights": [],
           "decision": {"temperature": 1.0, "rule": "vote"}}
    (tmp_path / "model.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ValueError, match="model.json: decision rule must be one of median, argmax"):
        clf.IncExcModel.load(tmp_path)
    doc["decision"] = {"temperature": 0}
    (tmp_path / "model.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ValueError, match="model.json: decision temperature must be positive"):
        clf.IncExcModel.load(tmp_path)


def test_weights_from_columns_are_the_mapping_they_were(tmp_path):
    from criteria_nlp.segment.tfidf import LinearTfidf, Weights

    feats, idf, coef = ["w:age", "w:pregnant", "g:#pr"], [1.25, 2.5, 0.75], [-0.5, 1.5, 0.25]
    table = Weights.from_columns(feats, idf, coef)
    as_dict = dict(zip(feats, zip(idf, coef, strict=True), strict=True))
    assert dict(table) == as_dict
    a, b = LinearTfidf(table, 0.1), LinearTfidf(as_dict, 0.1)
    for sample in (["w:age"], ["w:pregnant", "g:#pr", "g:#pr", "w:unknown"], []):
        assert a.logit(sample) == b.logit(sample)  # the same float, bit for bit
    with pytest.raises(ValueError, match="twice"):
        Weights.from_columns(["w:age", "w:age"], [1.0, 1.0], [0.0, 0.0])
    doc = {"format": clf.FORMAT, "intercept": 0.0, "features": ["w:a", "w:a"], "idf": [1.0, 1.0], "weights": [0.0, 0.0]}
    (tmp_path / "model.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ValueError, match="model.json: features, idf and weights: a feature is listed twice"):
        clf.IncExcModel.load(tmp_path)


def test_a_model_read_back_from_the_cache_scores_as_the_file_says(tmp_path, monkeypatch):
    model_dir = clf.model_dirs()
    shipped = next((d for d in model_dir if (d / clf.MODEL_FILE).is_file()), None)
    if shipped is None:
        pytest.skip("no shipped classifier")
    monkeypatch.setenv("CRITERIA_NLP_CACHE", str(tmp_path / "cache"))
    texts = ["Age 18 years or older", "Pregnant or breastfeeding women", "Known allergy to the study drug"]
    first = clf.IncExcModel.load(shipped)  # parsed from JSON, then stored
    again = clf.IncExcModel.load(shipped)  # read back from the cache
    assert any((tmp_path / "cache").glob("data-inc-exc-classifier-*"))
    monkeypatch.setenv("CRITERIA_NLP_CACHE", "off")
    plain = clf.IncExcModel.load(shipped)
    for model in (first, again):
        assert [model.p_exclusion(t) for t in texts] == [plain.p_exclusion(t) for t in texts]
        assert model.boundary_logits(texts) == plain.boundary_logits(texts)

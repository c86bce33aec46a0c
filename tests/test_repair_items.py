"""The item-level evidence of the operator repair's decision (session 5): the item's own
words, crossed with the variable's abnormal side and category, and an '=' in brackets.
Sentences written for these tests."""

from criteria_nlp.pipeline.repair_features import crossed_item_words, item_features


def test_item_words_are_features_crossed_with_the_kind():
    text = "Adequate bone marrow reserve with neutrophils = 1.5 x 10^9/L"
    feats = item_features(text, "inclusion", text.index("="))
    assert {"k:inclusion:item:adequate", "k:inclusion:item:marrow", "k:inclusion:item:neutrophils"} <= set(feats)
    assert not any(f.startswith("k:inclusion:paren") for f in feats)


def test_an_equals_in_brackets_after_a_bound_is_a_conversion_and_after_words_a_window():
    conv = "Creatinine = 1.4 mg/dL (= 124 umol/L)"
    assert "k:inclusion:paren:conversion" in item_features(conv, "inclusion", conv.rindex("="))
    window = "Stroke or heart attack (= 3 months before entry)"
    feats = item_features(window, "exclusion", window.index("="))
    assert "k:exclusion:paren:words" in feats and "k:exclusion:paren:conversion" not in feats
    closed = "Stroke (any time) and bilirubin = 2 mg/dL"
    assert not any("paren" in f for f in item_features(closed, "exclusion", closed.index("=")))


def test_item_words_are_crossed_with_the_abnormal_side_and_the_category():
    feats = {
        "k:inclusion:cat:lab:abn:high": 1.0,
        "k:inclusion:cat:lab": 1.0,
        "k:inclusion:item:adequate": 1.0,
        "voice:lexicon": -1.0,
    }
    crossed = set(crossed_item_words(feats))
    assert crossed == {"k:inclusion:abn:high:item:adequate", "k:inclusion:cat:lab:item:adequate"}
    # no lexicon entry: the side is unknown, the category still crosses
    assert set(crossed_item_words({"k:exclusion:cat:time": 1.0, "k:exclusion:item:stroke": 1.0})) == {
        "k:exclusion:abn:none:item:stroke",
        "k:exclusion:cat:time:item:stroke",
    }

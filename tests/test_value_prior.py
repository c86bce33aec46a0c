"""The value-position table of the operator repair: where a bound's value sits among the
values real criteria bound the same variable by (criteria_nlp.pipeline.value_prior)."""

import json
import math

import pytest

import criteria_nlp
from criteria_nlp.evaluation.repair_train import value_prior_table, with_value_prior
from criteria_nlp.evaluation.split import cv_fold
from criteria_nlp.pipeline.repair import GE, LE, default_model
from criteria_nlp.pipeline.value_prior import FEW, ValuePrior, side_of


@pytest.fixture(scope="module")
def nlp():
    return criteria_nlp.load()


def test_the_side_of_a_comparison_does_not_depend_on_the_item_kind():
    # ">= 9" to include and "<= 9" to exclude both make 9 the floor of what is accepted
    assert side_of(1, "inclusion") == side_of(0, "exclusion") == "low"
    assert side_of(0, "inclusion") == side_of(1, "exclusion") == "high"
    assert side_of(1, None) is None


def _table(width=0.1):
    bounds = [("BMI", "kg/m2", 18.5, "low")] * 6 + [("BMI", "kg/m2", 19, "low")] * 2
    bounds += [("BMI", "kg/m2", 35, "high")] * 5 + [("BMI", "kg/m2", 40, "high")] * 3
    bounds += [("BMI", "kg/m2", 30, "low"), ("BMI", "kg/m2", 30, "high"), ("BMI", "kg/m2", 30, "high")]
    bounds += [("weight", "kg", 0, "low"), ("no side", "kg", 5, None), (None, "kg", 5, "low")]
    return ValuePrior.from_bounds(bounds, width)


def test_log_odds_count_the_comparisons_near_the_value_only():
    prior = _table()
    assert prior.counts("BMI", "kg/m2", 18.5) == (8, 0)  # 19 is 0.027 away in log value: within 0.1
    assert prior.counts("bmi", "kg/m2", 17.0) == (6, 0)  # 19 is 0.11 away: outside; the key ignores case
    assert prior.counts("BMI", "kg/m2", 36) == (0, 5)
    assert prior.log_odds("BMI", "kg/m2", 18.5) == pytest.approx(math.log(9 / 1))
    assert prior.log_odds("BMI", "kg/m2", 36) == pytest.approx(math.log(1 / 6))
    assert prior.log_odds("BMI", "kg/m2", 25) is None  # nothing within the width
    assert prior.log_odds("BMI", "lb", 18.5) is None  # another unit is another key
    assert prior.log_odds(None, "kg/m2", 18.5) is None
    assert prior.counts("weight", "kg", 0) == (1, 0)  # a zero has a position of its own
    assert prior.counts("no side", "kg", 5) == (0, 0)


def test_a_wider_window_takes_in_more_values():
    assert _table(width=0.5).counts("BMI", "kg/m2", 30) == (9, 10)
    assert _table(width=0.1).counts("BMI", "kg/m2", 30) == (1, 2)


def test_features_are_crossed_with_the_kind_and_name_thin_support_apart():
    prior = _table()
    many = prior.features("BMI", "kg/m2", 18.5, "inclusion")
    assert list(many) == ["k:inclusion:vprior"] and many["k:inclusion:vprior"] > 0
    thin = prior.features("weight", "kg", 0, "exclusion")
    assert 1 < FEW and list(thin) == ["k:exclusion:vprior:few"]
    assert prior.features("BMI", "kg/m2", 25, "inclusion") == {}


def test_the_table_survives_its_json_form():
    prior = _table()
    back = ValuePrior.from_dict(json.loads(json.dumps(prior.to_dict())))
    assert back.width == prior.width
    assert back.table == {}  # nothing is read before a key is asked for
    back.counts("weight", "kg", 0)
    assert list(back.table) == ["weight|kg"]
    for value in (0, 18.5, 30, 36, 40):
        assert back.counts("BMI", "kg/m2", value) == prior.counts("BMI", "kg/m2", value)
    assert ValuePrior.from_dict({}) is None


def _row(trial, value, label, kind="inclusion"):
    return {
        "trial": trial,
        "label": label,
        "feats": {"bias:1": 1.0},
        "bound": {"value": value, "unit": "kg/m2", "variable": "BMI", "kind": kind},
    }


def test_training_features_are_cross_fitted_so_a_comparison_never_counts_itself():
    trials = [f"NCT{n:08d}" for n in range(12)]
    rows = [_row(t, 18.5, 1) for t in trials]
    out = with_value_prior(rows)
    lone = _row("NCT99999999", 40, 0)
    assert with_value_prior([lone]) == [lone]  # its own fold has nothing else: no feature
    # each row sees the rows of the other folds only
    for r, o in zip(rows, out, strict=True):
        others = sum(1 for t in trials if cv_fold(t) != cv_fold(r["trial"]))
        expected = min(3.0, math.log((others + 1) / 1))
        assert others < len(trials)
        assert o["feats"]["k:inclusion:vprior" if others >= FEW else "k:inclusion:vprior:few"] == pytest.approx(expected, abs=1e-4)
    assert value_prior_table(rows).counts("BMI", "kg/m2", 18.5) == (12, 0)


@pytest.mark.parametrize(
    "kind,text,operator",
    [
        ("inclusion", "Body mass index = 18.5 kg/m2", GE),
        ("inclusion", "Body mass index = 40 kg/m2", LE),
        ("exclusion", "Serum potassium = 3.0 mmol/L", LE),
        ("exclusion", "Serum potassium = 5.5 mmol/L", GE),
        ("inclusion", "Systolic blood pressure = 90 mmHg", GE),
        ("inclusion", "Systolic blood pressure = 160 mmHg", LE),
    ],
)
def test_a_variable_abnormal_on_both_sides_is_read_by_where_its_value_sits(nlp, kind, text, operator):
    model = default_model()
    assert model is not None and model.value_prior, "the shipped weights carry the table"
    (c,) = criteria_nlp.extract(text, kind=kind, nlp=nlp)
    assert c.repaired and c.written_operator == "="
    assert c.operator == operator
    side = "above" if (operator == GE) == (kind == "inclusion") else "below"
    assert f"other trials mostly accept {c.variable} {side}" in c.repair_reason

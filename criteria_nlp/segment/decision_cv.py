"""Choosing the headerless-list decision (:mod:`criteria_nlp.segment.decision`) by
trial-level cross-validation on the Chia training trials only.

Each of the 5 folds fits the shipped item and boundary models on the other folds' trials
(plus the header-labelled LCT and ClinicalTrials.gov lists), then scores three lists per
trial of its own fold: the inclusion list followed by the exclusion list (as Chia has them),
the inclusion list alone and the exclusion list alone. Every decision setting is then scored
on those out-of-fold lists: kind accuracy per list type, and, for the confidences, the log
loss and expected calibration error of the items' probabilities. Validation trials are
never read here; ``--validation`` scores the shipped model on them and prints aggregate
figures only.

    python -m criteria_nlp.segment.decision_cv ../shared/corpora/chia --cache /tmp/oof.json
"""

from __future__ import annotations

import itertools
import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from criteria_nlp.segment.decision import Decision, decide, exclusion_marginals, switch_scores

LIST_TYPES = ("mixed", "inclusion_only", "exclusion_only")
# One scored list: p_exclusion per item, weighted boundary score per switch point, gold labels.
Scored = tuple[list[float], list[float], list[int]]


def _lists(trials: dict, tid: str) -> dict[str, tuple[list[str], list[int]]]:
    inc, exc = trials[tid]["inclusion"], trials[tid]["exclusion"]
    out = {}
    if inc or exc:
        out["mixed"] = (inc + exc, [0] * len(inc) + [1] * len(exc))
    if inc:
        out["inclusion_only"] = (inc, [0] * len(inc))
    if exc:
        out["exclusion_only"] = (exc, [1] * len(exc))
    return out


def out_of_fold(chia_dir: str | os.PathLike, augment: bool = False,
                boundary_c: float | None = None) -> dict[str, list[Scored]]:
    """Out-of-fold scores of the three list types of every Chia training trial; ``augment``
    also trains the boundary model on the fitting trials' one-kind lists."""
    import numpy as np

    from criteria_nlp.segment import classifier as clf

    trials = clf._chia_trials(chia_dir)
    train_ids = sorted(t for t in trials if not clf.is_heldout(t))
    extra_lists = clf.extra_items(chia_dir, {t.upper() for t in trials})[0]
    fx = clf._Features()
    out: dict[str, list[Scored]] = {t: [] for t in LIST_TYPES}
    for fold in range(clf.CV_FOLDS):
        fit_ids = [t for t in train_ids if clf._fold(t) != fold]
        fit_lists = clf._chia_lists(trials, fit_ids) + extra_lists
        items, bnd = clf._fit_both(fit_lists, fx, clf.C_REG, boundary_c or clf.BOUNDARY_C, clf.POSITION_BINS,
                                   boundary_only=clf.one_kind_lists(trials, fit_ids) if augment else ())
        for tid in (t for t in train_ids if clf._fold(t) == fold):
            for kind, (texts, ys) in _lists(trials, tid).items():
                z = items.logits([fx.item(t) for t in texts])
                probs = [float(p) for p in 1.0 / (1.0 + np.exp(-z))]
                bscores = [clf.BOUNDARY_WEIGHT * float(b) for b in bnd.logits(fx.switches(texts, clf.POSITION_BINS))]
                out[kind].append((probs, bscores, ys))
    return out


def shipped_scores(chia_dir: str | os.PathLike) -> dict[str, list[Scored]]:
    """The shipped model's scores of the validation trials' three list types."""
    from criteria_nlp.segment import classifier as clf

    model = clf.default_model()
    if model is None:
        raise FileNotFoundError("no inclusion/exclusion model is installed")
    trials = clf._chia_trials(chia_dir)
    out: dict[str, list[Scored]] = {t: [] for t in LIST_TYPES}
    for tid in sorted(t for t in trials if clf.is_heldout(t)):
        for kind, (texts, ys) in _lists(trials, tid).items():
            probs = [model.p_exclusion(t) for t in texts]
            out[kind].append((probs, model.boundary_scores(texts) or [0.0] * (len(texts) + 1), ys))
    return out


def score(lists: Sequence[Scored], decision: Decision) -> dict[str, float]:
    """Kind accuracy, log loss and expected calibration error (10 bins) of ``decision``."""
    correct = total = 0
    loss = 0.0
    pairs = []
    for probs, bnd, ys in lists:
        scores = switch_scores(probs, bnd, decision)
        kinds = decide(scores, decision)
        marg = exclusion_marginals(scores, decision.temperature)
        for (kind, conf), y, p in zip(kinds, ys, marg, strict=True):
            ok = (kind == "exclusion") == bool(y)
            correct += ok
            total += 1
            q = min(max(p if y else 1.0 - p, 1e-6), 1.0)
            loss -= math.log(q)
            pairs.append((conf, ok))
    bins: dict[int, list[tuple[float, bool]]] = {}
    for conf, ok in pairs:
        bins.setdefault(min(int(conf * 10), 9), []).append((conf, ok))
    ece = sum(abs(sum(c for c, _ in b) - sum(o for _, o in b)) for b in bins.values()) / max(total, 1)
    return {"accuracy": round(correct / total, 4) if total else 0.0, "log_loss": round(loss / max(total, 1), 4),
            "ece": round(ece, 4), "items": total}


def grid(
    scored: dict[str, list[Scored]],
    temperatures: Iterable[float],
    rules: Iterable[str],
    start_bonuses: Iterable[float],
    end_bonuses: Iterable[float],
    min_inclusions: Iterable[int],
) -> list[dict]:
    rows = []
    for t, rule, sb, eb, lo in itertools.product(temperatures, rules, start_bonuses, end_bonuses, min_inclusions):
        if lo > 0 and sb:
            continue  # the start bonus only matters when a list may open with exclusion
        d = Decision(temperature=t, rule=rule, start_bonus=sb, end_bonus=eb, min_inclusion=lo)
        row = {"decision": d.to_json()}
        for kind in LIST_TYPES:
            row[kind] = score(scored[kind], d)
        one = [row[k] for k in ("inclusion_only", "exclusion_only")]
        row["one_kind_accuracy"] = round(sum(r["accuracy"] * r["items"] for r in one) / max(sum(r["items"] for r in one), 1), 4)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m criteria_nlp.segment.decision_cv", description=__doc__.split("\n\n")[0])
    ap.add_argument("chia_dir")
    ap.add_argument("--cache", help="JSON file keeping the out-of-fold scores between runs")
    ap.add_argument("--first-words", action=argparse.BooleanOptionalAction, default=None,
                    help="item features include the first word and first two words")
    ap.add_argument("--boundary-c", type=float, default=None, help="the boundary model's C (default: shipped)")
    ap.add_argument("--augment", action="store_true",
                    help="train the boundary model on the trials' one-kind lists too")
    ap.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 2.0, 3.0, 4.0, 6.0])
    ap.add_argument("--rules", nargs="+", default=["argmax", "median"])
    ap.add_argument("--start-bonuses", type=float, nargs="+", default=[0.0, 2.0, 4.0, 6.0, 8.0])
    ap.add_argument("--end-bonuses", type=float, nargs="+", default=[0.0, 2.0, 4.0])
    ap.add_argument("--min-inclusion", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--validation", action="store_true",
                    help="score the shipped model's decision on the validation trials (aggregates only)")
    args = ap.parse_args(argv)
    if args.first_words is not None:
        from criteria_nlp.segment import classifier as clf

        clf.FIRST_WORDS = args.first_words
    try:
        if args.validation:
            from criteria_nlp.segment.classifier import default_model

            model = default_model()
            decision = model.decision or Decision(min_inclusion=model.min_inclusion)
            val = shipped_scores(args.chia_dir)
            print(json.dumps({"decision": decision.to_json(), **{k: score(val[k], decision) for k in LIST_TYPES}},
                             indent=2))
            return 0
        cache = Path(args.cache) if args.cache else None
        if cache is not None and cache.is_file():
            scored = json.loads(cache.read_text(encoding="utf-8"))
        else:
            scored = out_of_fold(args.chia_dir, args.augment, args.boundary_c)
            if cache is not None:
                cache.write_text(json.dumps(scored), encoding="utf-8")
    except FileNotFoundError as exc:
        print(f"criteria-nlp: {exc}", file=sys.stderr)
        return 2
    rows = grid(scored, args.temperatures, args.rules, args.start_bonuses, args.end_bonuses, args.min_inclusion)
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

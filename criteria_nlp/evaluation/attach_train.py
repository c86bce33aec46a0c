"""Train the attachment scorer (``models/attachment/weights.json``) on the training parts of
LCT and Chia, with settings chosen by cross-validation grouped by trial.

    python -m criteria_nlp.evaluation.attach_train --lct ../shared/corpora/lct \\
        --chia ../shared/corpora/chia [--out models/attachment/weights.json]

Each found gold comparison whose gold names a thing is one example: the candidate mentions
of the constraint found for it (``pipeline.attach_candidates``, built from the rules'
output with the scorer switched off), each labelled right when it overlaps the gold thing
(LCT: the entity whose role points to the comparison; Chia: the entity linked by
``Has_value`` / ``Has_temporal``). A pairwise-ranking logistic regression over the
candidates' binary features (scikit-learn, at training time only) gives the weights; the
scorer keeps the highest-scoring candidate. It is fitted on ``ASK_CLASSES`` and asked only
in the classes of the ``gate`` (chosen by CV gain per bound asked). Chia's sex-specific lab
values linked to the Person are left out (the rules bind them to the lab, LCT's reading).
Validation trials are never read here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from criteria_nlp.evaluation.split import cv_fold, is_validation

MODEL_PATH = Path(__file__).resolve().parents[2] / "models" / "attachment" / "weights.json"
C_GRID = (0.1, 0.3, 1.0)
MARGIN_GRID = (0.0, 0.5)
MIN_GAIN = 3
# Asking costs about 100 µs of CPU per bound (a quarter of what the extractor spends on a
# bound), and the extractor must not get slower by more than a few percent: a class is asked
# only where the scorer fixes one bound in ten or more (other/chunk fixed 1 in 20: +0.007 LCT,
# +0.005 Chia in CV for about +10% extractor CPU; add it to the weights' "gate" to trade).
MIN_RATE = 0.1
# The rule classes (bound kind / what the rules named) the scorer is fitted on and may be
# asked about: those where a model fitted on all classes beat the rules in grouped CV by 3
# examples or more and by 0.04 per example (session 5: +21 of 440, +15 of 34, +12 of 26).
ASK_CLASSES = ("other/chunk", "other/none", "window/none")


@dataclass
class Example:
    corpus: str
    trial: str
    group: str
    feats: list[list[str]]
    labels: list[bool]
    rule: list[bool]
    spans: list[tuple[int, int]] | None = None  # the candidates' offsets in ``text`` (for reading misses)
    text: str = ""
    bound: tuple[int, int] = (0, 0)
    cls: str = ""  # attach_candidates.rule_class: the bound's kind and what the rules named
    things: list[tuple[int, int]] | None = None  # the gold thing's spans in ``text``


def _item_examples(nlp, items, gold_of_item, corpus: str, trial: str, out: list[Example]) -> None:
    """Candidates of every constraint found for a gold comparison of ``items``.
    ``gold_of_item(item, constraints)`` yields (group, thing spans in item offsets, index)."""
    from criteria_nlp.pipeline.attach_candidates import ItemWords, candidates, rule_class

    ext = nlp.get_pipe("criteria_constraints")
    saved = ext.scorer
    ext.scorer = None
    try:
        texts = [it.text for it in items]
        with nlp.select_pipes(disable=[p for p in ("criteria_repair",) if p in nlp.pipe_names]):
            docs = list(nlp.pipe(texts))
    finally:
        ext.scorer = saved
    for it, doc in zip(items, docs, strict=True):
        found = list(doc._.constraints or [])
        if not found:
            continue
        ents = [(e.start_char, e.end_char, e.label_, e._.variable or e.text, e.text) for e in doc.ents]
        bounds = [(c.start, c.end) for c in found]
        words = ItemWords.read(ext.chunker, doc.text, bounds)
        for group, things, k in gold_of_item(it, found):
            if bounds.count(bounds[k]) > 1:
                continue  # coordinated names and pressure pairs keep the rules' reading
            cands = candidates(ext.chunker, doc.text, words, ents, found[k], bounds)
            labels = [any(x.start < e and s < x.end for s, e in things) for x in cands]
            out.append(
                Example(
                    corpus, trial, group, [x.feats for x in cands], labels, [x.rule for x in cands],
                    [(x.start, x.end) for x in cands], doc.text, (found[k].start, found[k].end),
                    rule_class(found[k], ents), things,
                )
            )


def _gold_matches(it, found, gold, found_for, named):
    """(group, thing spans in item offsets, index of the constraint) for each gold comparison of
    item ``it`` that a constraint of ``found`` was found for (``found_for(g, c, start, end)``,
    the constraint's span in record offsets), each constraint used once, in gold order; a gold
    comparison that ``named`` says names no thing takes its constraint but gives no example."""
    used: set[int] = set()
    for g in gold:
        if not (it.start <= g.start < it.end):
            continue
        for k, c in enumerate(found):
            if k in used or not found_for(g, c, c.start + it.start, c.end + it.start):
                continue
            used.add(k)
            if named(g):
                yield g.group, [(a - it.start, b - it.start) for a, b in g.things], k
            break


def collect_lct(nlp, lct_dir) -> list[Example]:
    from criteria_nlp.evaluation.lct import _numbers, _overlaps, _same_numbers, document_items, load_lct

    out: list[Example] = []
    for doc in load_lct(lct_dir):
        if is_validation("lct", doc.doc_id, doc.batch):
            continue
        items = document_items(doc.text)
        gold = [g for g in doc.gold if g.values]

        def gold_of_item(it, found, gold=gold):
            return _gold_matches(
                it, found, gold,
                found_for=lambda comp, c, s, e: _overlaps(comp.start, comp.end, s, e)
                and _same_numbers(comp.values, _numbers(c)),
                named=lambda comp: bool(comp.things),
            )

        _item_examples(nlp, items, gold_of_item, "lct", doc.doc_id, out)
    return out


def collect_chia(nlp, chia_dir) -> list[Example]:
    from criteria_nlp.evaluation.attribution import _chia_gold, _line_items, _same, overlaps

    out: list[Example] = []
    for path in sorted(Path(chia_dir).glob("NCT*_*.txt")):
        trial = path.stem.split("_")[0]
        if is_validation("chia", trial):
            continue
        text, gold = _chia_gold(path)
        items = _line_items(text)

        def found_for(comp, c, s, e):
            nums = [c.value] + ([c.upper] if c.upper is not None else [])
            return overlaps(comp.start, comp.end, s, e) and any(_same(a, b) for a in nums for b in comp.numbers)

        def gold_of_item(it, found, gold=gold, found_for=found_for):
            # "Hb < 11.5 g/dL for women": Chia names the women; we, the Hb
            return _gold_matches(
                it, found, gold, found_for, named=lambda comp: not (comp.group == "rest" and comp.types == ("Person",))
            )

        _item_examples(nlp, items, gold_of_item, "chia", trial, out)
    return out


def _fit(examples: list[Example], c_value: float):
    """Pairwise ranking: each (right, wrong) candidate pair of an example is one row of the
    difference of their features, labelled 1 (and its mirror 0); a logistic regression
    without intercept then scores candidates so that the right one ranks first."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows, y = [], []
    for ex in examples:
        pos = [set(f) for f, lab in zip(ex.feats, ex.labels, strict=True) if lab]
        neg = [set(f) for f, lab in zip(ex.feats, ex.labels, strict=True) if not lab]
        if not pos or not neg:
            continue
        weight = 1.0 / (len(pos) * len(neg))
        for p in pos:
            for n in neg:
                diff = {f: 1.0 for f in p - n} | {f: -1.0 for f in n - p}
                rows.append((diff, weight))
    vec = DictVectorizer()
    x = vec.fit_transform([r for r, _ in rows] + [{k: -v for k, v in r.items()} for r, _ in rows])
    y = [1] * len(rows) + [0] * len(rows)
    w = [wt for _, wt in rows] * 2
    model = LogisticRegression(C=c_value, max_iter=3000, fit_intercept=False)
    model.fit(x, y, sample_weight=w)
    names = vec.get_feature_names_out()
    weights = {str(n): round(float(v), 5) for n, v in zip(names, model.coef_[0], strict=True) if abs(v) > 1e-6}
    return weights, 0.0


def _pick(weights: dict, margin: float, ex: Example) -> int | None:
    scores = [sum(weights.get(f, 0.0) for f in feats) for feats in ex.feats]
    if not scores:
        return None
    best = max(range(len(scores)), key=scores.__getitem__)
    rule = next((i for i, r in enumerate(ex.rule) if r), None)
    if rule is not None and scores[best] - scores[rule] < margin:
        return rule
    return best


def score(examples: list[Example], choose) -> dict:
    """Accuracy of ``choose(example) -> candidate index or None`` per corpus and group."""
    total, right = Counter(), Counter()
    for ex in examples:
        k = choose(ex)
        ok = k is not None and ex.labels[k]
        for key in ((ex.corpus, "all"), (ex.corpus, ex.group)):
            total[key] += 1
            right[key] += ok
    return {f"{c}/{g}": round(right[(c, g)] / total[(c, g)], 4) for c, g in sorted(total)} | {
        f"{c}/{g}_n": total[(c, g)] for c, g in sorted(total)
    }


def rule_choice(ex: Example):
    return next((i for i, r in enumerate(ex.rule) if r), None)


def oracle(ex: Example):
    return next((i for i, lab in enumerate(ex.labels) if lab), None)


def out_of_fold(examples: list[Example], c_value: float, margin: float, folds: int = 5) -> list[int | None]:
    """Each example's pick by a model fitted on the other folds (grouped by trial)."""
    picks: list[int | None] = [None] * len(examples)
    for fold in range(folds):
        train = [ex for ex in examples if cv_fold(ex.trial) != fold]
        weights, _ = _fit([ex for ex in train if any(ex.labels)], c_value)
        for i, ex in enumerate(examples):
            if cv_fold(ex.trial) == fold:
                picks[i] = _pick(weights, margin, ex)
    return picks


def choose_gate(examples: list[Example], picks: list[int | None]) -> list[str]:
    """The rule classes where the out-of-fold picks beat the rules by ``MIN_GAIN`` examples
    or more and by ``MIN_RATE`` per example asked: the scorer is asked there only (it costs
    time on every bound it is asked about; elsewhere it gains too little for that)."""
    net: Counter = Counter()
    asked: Counter = Counter()
    for ex, k in zip(examples, picks, strict=True):
        r = rule_choice(ex)
        asked[ex.cls] += 1
        net[ex.cls] += (k is not None and ex.labels[k]) - (r is not None and ex.labels[r])
    return sorted(c for c, n in net.items() if n >= MIN_GAIN and n / asked[c] >= MIN_RATE)


def gated(examples: list[Example], picks: list[int | None], gate) -> dict:
    index = {id(ex): i for i, ex in enumerate(examples)}
    return score(examples, lambda ex: picks[index[id(ex)]] if ex.cls in gate else rule_choice(ex))


def cross_validate(examples: list[Example], c_value: float, margin: float, folds: int = 5) -> dict:
    picks = out_of_fold(examples, c_value, margin, folds)
    return gated(examples, picks, {ex.cls for ex in examples})


def write_misses(examples: list[Example], choose, path: str) -> int:
    """The training examples ``choose`` gets wrong, one JSON line each with the trial's CV fold
    (to read the misses of some folds and measure a rule on the others)."""
    n = 0
    with open(path, "w", encoding="utf-8") as out:
        for ex in examples:
            k = choose(ex)
            if k is not None and ex.labels[k]:
                continue
            pick = ex.spans[k] if k is not None and ex.spans else None
            row = {
                "corpus": ex.corpus, "trial": ex.trial, "fold": cv_fold(ex.trial), "group": ex.group, "cls": ex.cls,
                "text": ex.text, "bound": ex.text[ex.bound[0] : ex.bound[1]],
                "mention": ex.text[pick[0] : pick[1]] if pick else None,
                "gold": " | ".join(ex.text[s:e] for s, e in ex.things or []),
                "candidate_right": any(ex.labels),
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lct", required=True)
    ap.add_argument("--chia", required=True)
    ap.add_argument("--out", default=str(MODEL_PATH))
    ap.add_argument("--grid", action="store_true", help="choose C and margin by grouped CV (else the stored ones)")
    ap.add_argument("--c", type=float, default=0.3)
    ap.add_argument("--margin", type=float, default=0.0)
    ap.add_argument("--all-classes", action="store_true", help="fit and cross-validate on every rule class")
    ap.add_argument("--misses", help="write the training examples the out-of-fold choice gets wrong here (JSONL)")
    args = ap.parse_args(argv)
    from criteria_nlp.pipeline import build_pipeline

    for d in (args.lct, args.chia):
        if not Path(d).is_dir():
            print(f"attach_train: {d}: no such corpus folder", file=sys.stderr)
            return 1
    nlp = build_pipeline()
    examples = everything = collect_lct(nlp, args.lct) + collect_chia(nlp, args.chia)
    if not args.all_classes:
        # the model is fitted on the classes it is asked about (ASK_CLASSES, chosen by
        # grouped CV of a model fitted on all classes: --all-classes --grid)
        examples = [ex for ex in examples if ex.cls in ASK_CLASSES]
    report = {
        "examples": len(examples),
        "rules": score(everything, rule_choice),
        "oracle": score(everything, oracle),
    }
    settings = [(args.c, args.margin)]
    if args.grid:
        settings = [(c, m) for c in C_GRID for m in MARGIN_GRID]
    cv, oof = {}, {}  # cv: on the examples fitted (ASK_CLASSES unless --all-classes)
    for c_value, margin in settings:
        key = f"C={c_value},margin={margin}"
        oof[key] = out_of_fold(examples, c_value, margin)
        cv[key] = gated(examples, oof[key], {ex.cls for ex in examples})
    key = max(cv, key=lambda k: cv[k]["lct/all"] + cv[k]["chia/all"])
    c_value, margin = (float(p.split("=")[1]) for p in key.split(","))
    gate = choose_gate(examples, oof[key])
    report["cv"] = cv
    report["chosen"] = key
    report["gate"] = gate
    # figures over every example (the rules' choice outside the gate), out of fold
    oof_of = {id(ex): k for ex, k in zip(examples, oof[key], strict=True)}
    report["cv_gated"] = score(everything, lambda ex: oof_of[id(ex)] if ex.cls in gate and id(ex) in oof_of else rule_choice(ex))
    if args.misses:
        write_misses(everything, lambda ex: oof_of[id(ex)] if ex.cls in gate and id(ex) in oof_of else rule_choice(ex), args.misses)
    weights, bias = _fit([ex for ex in examples if any(ex.labels)], c_value)
    report["training_fit"] = score(everything, lambda ex: _pick(weights, margin, ex) if ex.cls in gate else rule_choice(ex))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "about": "attachment scorer: logistic regression over candidate-mention features "
        "(criteria_nlp/pipeline/attach_candidates.py); made by python -m criteria_nlp.evaluation.attach_train",
        "C": c_value,
        "margin": margin,
        "bias": round(bias, 5),
        "gate": gate,
        "cv": report["cv_gated"],
        "weights": dict(sorted(weights.items())),
    }
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))
    print(f"attach_train: wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

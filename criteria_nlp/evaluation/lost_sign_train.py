"""Train the deleted-sign decision (:mod:`criteria_nlp.pipeline.lost_sign_model`) on the
simulation over the training part of the corpora.

Rows: every bare number that may have lost a sign (``is_deleted_candidate``) in a record
without any written sign - in the records whose every "≥"/"≤" was deleted (with its space
left, and with it collapsed; labelled with the clean reading's operator where a sign stood,
"none" elsewhere), and in clean records without a sign (all "none"). Settings (the L2
strength, the reading threshold) are chosen by cross-validation grouped by trial
(``split.cv_fold``): the reading threshold is the lowest whose out-of-fold false alarms on
the clean records stay under MAX_FALSE, and the L2 strength the one that recovers the most
at its threshold. The clean records' rows weigh ``--plain-weight`` each in the fit. A Platt
scaling fitted on the out-of-fold predictions calibrates the chosen class's probability.
scikit-learn is used here only; the weights are JSON.

    python -m criteria_nlp.evaluation.lost_sign_train --signed 3000 --plain 12000 \\
        -o models/lost_signs/deleted.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path

from criteria_nlp.evaluation.lost_signs import SHARED_CORPORA, _gold, _moved, _run, records, rewrite
from criteria_nlp.evaluation.split import cv_fold

FORMS = ("deleted_space", "deleted_collapsed")
CS = (0.01, 0.02, 0.03)  # (0.005, 0.05 and more recovered less out of fold in earlier runs)
MIN_COUNT = 3  # a feature seen in fewer rows is left out
MAX_FALSE = 0.0075  # the most clean bare numbers read as bounds (out of fold) a threshold may cost: a margin under
# the 1% (reading the training false alarms, about half are signs the source record itself lost)


def _spread(rows, limit):
    if len(rows) <= limit:
        return rows
    step = len(rows) / limit
    return [rows[int(i * step)] for i in range(limit)]


def _ctx(text, c):
    return " ".join(text[max(0, c.start - 60) : c.start].split()) + " [[" + c.text + "]] " + " ".join(
        text[c.end : c.end + 30].split()
    )


def collect(nlp, signed, plain):
    """(rows, gold counts): rows are dicts with feats, label, trial, corpus, source."""
    from criteria_nlp.pipeline import lost_sign_decisions as D

    rows = []
    gold_n = Counter()

    def run(text):
        D.COLLECT = []
        try:
            got = _run(nlp, text)
            feats = D.COLLECT
        finally:
            D.COLLECT = None
        return got, feats

    for corpus, trial, text in plain:
        got, feats = run(text)
        gold_n["clean_bare"] += sum(D.is_deleted_candidate(c) for c in got)
        gold_n[f"clean_bare_{corpus}"] += sum(D.is_deleted_candidate(c) for c in got)
        for c in got:
            if (c.repair_reason or "").startswith(D.MARK):
                got_row = feats[int(c.repair_reason[len(D.MARK):])]
                rows.append({**got_row, "y": "none", "trial": trial, "corpus": corpus, "src": "plain",
                             "ctx": _ctx(text, c)})
    for corpus, trial, text in signed:
        clean = _run(nlp, text)
        gold_n["clean_bare"] += sum(D.is_deleted_candidate(c) for c in clean)
        gold_n[f"clean_bare_{corpus}"] += sum(D.is_deleted_candidate(c) for c in clean)
        gold = _gold(clean, text)
        if not gold:
            continue
        for form in FORMS:
            new, shifts, _ = rewrite(text, form, trial)
            got, feats = run(new)
            want = {(_moved(g.end, shifts), g.value): g.operator for g in gold}
            gold_n[form] += len(gold)
            gold_n[(form, corpus)] += len(gold)
            for c in got:
                if not (c.repair_reason or "").startswith(D.MARK):
                    continue
                y = want.get((c.end, c.value), "none")
                got_row = feats[int(c.repair_reason[len(D.MARK):])]
                rows.append({**got_row, "y": y, "trial": trial, "corpus": corpus, "src": form, "ctx": _ctx(new, c)})
    return rows, gold_n


# The weight of a row of a clean record in the fit (--plain-weight). The false alarms are
# counted on the clean records only, while most "none" rows come from the rewritten records;
# weighting the clean ones makes the fit tell a clean record's bare number from a lost bound
# (recovered out of fold, space left / collapsed, at the same false-alarm budget, 3000 signed
# and every plain training record: weight 1 -> 0.625/0.434 at C 0.05; 25 -> 0.676/0.534 at
# C 0.01; 40 or 50 no better).
PLAIN_WEIGHT = 25.0


def _fit(rows, c_value):
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    counts = Counter(k for r in rows for k in r["f"])
    keep = {k for k, n in counts.items() if n >= MIN_COUNT}
    vec = DictVectorizer()
    x = vec.fit_transform([{k: v for k, v in r["f"].items() if k in keep} for r in rows])
    clf = LogisticRegression(C=c_value, max_iter=3000)
    clf.fit(x, [r["y"] for r in rows], sample_weight=[PLAIN_WEIGHT if r["src"] == "plain" else 1.0 for r in rows])
    return vec, clf


def _predict(vec, clf, rows):
    probs = clf.predict_proba(vec.transform([r["f"] for r in rows]))
    classes = list(clf.classes_)
    return [dict(zip(classes, p, strict=True)) for p in probs]


def _chosen(p):
    op = ">=" if p[">="] >= p["<="] else "<="
    return op, p[op]


def oof(rows, c_value):
    """Out-of-fold class probabilities (folds by trial)."""
    folds = [cv_fold(r["trial"]) for r in rows]
    out = [None] * len(rows)
    for k in sorted(set(folds)):
        train = [r for r, f in zip(rows, folds, strict=True) if f != k]
        test = [i for i, f in enumerate(folds) if f == k]
        vec, clf = _fit(train, c_value)
        for i, p in zip(test, _predict(vec, clf, [rows[i] for i in test]), strict=True):
            out[i] = p
    return out


def _weights(vec, clf, classes):
    """The fitted regression as JSON rows: feature -> one weight per class (bias folded in)."""
    names = vec.get_feature_names_out()
    order = [list(clf.classes_).index(c) for c in classes]
    weights = {}
    for j, name in enumerate(names):
        w = [round(float(clf.coef_[i][j]), 4) for i in order]
        if any(abs(x) >= 1e-4 for x in w):
            weights[str(name)] = w
    bias = [round(float(clf.intercept_[i]), 4) for i in order]
    weights["bias"] = [round(a + b, 4) for a, b in zip(weights.get("bias", [0.0] * 3), bias, strict=True)]
    return weights


def _logloss(rows, probs):
    return sum(-math.log(max(p[r["y"]], 1e-12)) for r, p in zip(rows, probs, strict=True)) / len(rows)


def fit_platt(pairs):
    from criteria_nlp.evaluation.lost_signs import fit_platt as fit

    return fit(pairs)


def _cal(p, ab):
    a, b = ab
    p = min(max(p, 1e-6), 1 - 1e-6)
    return 1.0 / (1.0 + math.exp(-(a * math.log(p / (1 - p)) + b)))


def _ece(pairs, bins=10):
    total = 0.0
    for b in range(bins):
        sel = [(p, ok) for p, ok in pairs if b / bins <= p < (b + 1) / bins or (b == bins - 1 and p >= 1.0)]
        if sel:
            total += len(sel) * abs(sum(p for p, _ in sel) / len(sel) - sum(ok for _, ok in sel) / len(sel))
    return round(total / len(pairs), 4) if pairs else None


def score(rows, probs, ab, threshold, gold_n, threshold_trace=None):
    """Recovery per form, false alarms on clean records, calibration of the readings."""
    rec = Counter()
    clean = Counter()
    pairs = []
    for r, p in zip(rows, probs, strict=True):
        op, q = _chosen(p)
        q = _cal(q, ab)
        # a number the run-time gates keep from the decision is never read (rows of older
        # caches, without the flag, count as readable)
        bar = threshold_trace if threshold_trace is not None and "trace" in r["f"] else threshold
        read = r.get("readable", True) and q >= bar
        if r["src"] == "plain":
            clean["bare"] += 1
            clean[("bare", r["corpus"])] += 1
            clean["read"] += read
            clean[("read", r["corpus"])] += read
        if read:
            pairs.append((q, op == r["y"]))
            if r["src"] != "plain" and op == r["y"]:
                rec[r["src"]] += 1
    out = {f: round(rec[f] / gold_n[f], 3) if gold_n[f] else None for f in FORMS}
    # the share as the evaluation counts it: of every bare number of the clean runs
    out["clean_read"] = f"{clean['read']}/{gold_n['clean_bare']}"
    out["clean_read_lct"] = f"{clean[('read', 'lct')]}/{gold_n['clean_bare_lct']}"
    # per corpus too: the budget is pooled, and CT.gov holds about 90% of the clean numbers
    out["clean_read_by_corpus"] = {
        k[len("clean_bare_"):]: f"{clean[('read', k[len('clean_bare_'):])]}/{n}"
        # gold_n also holds (form, corpus) keys: sort the string keys only
        for k, n in sorted((k, n) for k, n in gold_n.items() if isinstance(k, str)) if k.startswith("clean_bare_")
    }
    clean["bare"] = gold_n["clean_bare"]
    out["ece_readings"] = _ece(pairs)
    hi = [ok for q, ok in pairs if q >= 0.9]
    out["right_at_0.9"] = round(sum(hi) / len(hi), 3) if hi else None
    out["readings_at_0.9"] = len(hi)
    return out, clean


def operating_point(rows, probs, gold_n, threshold_trace):
    """(Platt scaling, threshold, scores): the scaling fitted on the out-of-fold readings,
    the threshold (0.5 or more) the most recovery whose out-of-fold false alarms on clean
    records stay under MAX_FALSE (a number after a trace read at ``threshold_trace`` when
    set). Numbers the run-time gates keep from the decision are never read."""
    pairs = []
    for r, p in zip(rows, probs, strict=True):
        if r.get("readable", True):  # the confidence is given to the numbers the gates let through
            op, q = _chosen(p)
            pairs.append((q, op == r["y"]))
    ab = fit_platt(pairs)
    ok = []
    # from 0.5 up: a bound is read only where it is likelier right than wrong
    for t in [x / 100 for x in range(50, 100)]:
        _, clean = score(rows, probs, ab, t, gold_n)
        if clean["read"] / max(1, clean["bare"]) <= MAX_FALSE:
            ok.append(t)
    threshold = min(ok) if ok else 0.95
    final, _ = score(rows, probs, ab, threshold, gold_n, threshold_trace)
    return ab, threshold, final


def curve(rows, probs, ab, gold_n, threshold_trace, step=0.05):
    """Lines of the out-of-fold trade-off for thresholds 0.5..0.95: clean bare numbers read
    as bounds (pooled and per corpus) and the recovery per form."""
    lines = []
    for t in [round(0.5 + step * i, 2) for i in range(int(round(0.45 / step)) + 1)]:
        out, clean = score(rows, probs, ab, t, gold_n, threshold_trace)
        share = clean["read"] / max(1, clean["bare"])
        per = " ".join(f"{k} {v}" for k, v in out["clean_read_by_corpus"].items())
        lines.append(f"{t:.2f}: clean {clean['read']}/{clean['bare']} ({share:.4f}); {per}; "
                     + " ".join(f"{f} {out[f]}" for f in FORMS))
    return lines


def main(argv=None) -> int:
    global PLAIN_WEIGHT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpora", default=str(SHARED_CORPORA))
    ap.add_argument("--signed", type=int, default=1200, help="records with a sign (spread over the corpora)")
    ap.add_argument("--plain", type=int, default=1500, help="records without (all of LCT's training batches too)")
    ap.add_argument("-o", "--output", default="models/lost_signs/deleted.json")
    ap.add_argument("--rows", help="cache of the collected rows (JSON; reused when it exists)")
    ap.add_argument("--dump", help="write the out-of-fold readings of the rows here (training part)")
    ap.add_argument("--curve", action="store_true",
                    help="print the out-of-fold false alarms (pooled, per corpus) and recovery for thresholds 0.5..0.95")
    ap.add_argument("--cs", default=",".join(map(str, CS)), help="L2 strengths tried")
    ap.add_argument("--plain-weight", type=float, default=PLAIN_WEIGHT,
                    help="weight of the clean records' rows in the fit (the false alarms are counted on them)")
    args = ap.parse_args(argv)
    PLAIN_WEIGHT = args.plain_weight
    if not Path(args.corpora).is_dir():
        print(f"{args.corpora}: no corpora folder; nothing to train on", file=sys.stderr)
        return 0
    from criteria_nlp.evaluation.lost_signs import _SIGN
    from criteria_nlp.pipeline import build_pipeline
    from criteria_nlp.pipeline.lost_sign_model import CLASSES, FORMAT, DeletedModel

    every = list(records(args.corpora, "train"))
    signed = _spread([r for r in every if _SIGN.search(r[2])], args.signed)
    plain_all = [r for r in every if not _SIGN.search(r[2]) and any(ch.isdigit() for ch in r[2])]
    plain = _spread(plain_all, args.plain)
    seen = {r[1] for r in plain}
    plain += [r for r in plain_all if r[0] == "lct" and r[1] not in seen]
    cache = Path(args.rows) if args.rows else None
    if cache is not None and cache.exists():
        saved = json.loads(cache.read_text(encoding="utf-8"))
        rows, gold_n = saved["rows"], Counter({k: v for k, v in saved["gold"].items()})
    else:
        rows, gold_n = collect(build_pipeline(), signed, plain)
        if cache is not None:
            gold = {k: v for k, v in gold_n.items() if isinstance(k, str)}
            cache.write_text(json.dumps({"rows": rows, "gold": gold}), encoding="utf-8")
    print(f"rows {len(rows)} {Counter(r['y'] for r in rows)}; gold {dict((k, v) for k, v in gold_n.items() if isinstance(k, str))}",
          file=sys.stderr)
    # After a trace: the clean records of the corpora hold no traced bare number, so the
    # false alarms cannot bound its threshold; it reads where the bound is likelier right
    # than wrong (0.5), unless clean traced numbers exist - then it is the same threshold.
    traced_clean = sum(1 for r in rows if r["src"] == "plain" and "trace" in r["f"])
    threshold_trace = 0.5 if traced_clean == 0 else None
    # the L2 strength: the most out-of-fold recovery at its threshold (log-loss reported)
    cv = {}
    for c_value in [float(x) for x in args.cs.split(",")]:
        probs = oof(rows, c_value)
        ab, threshold, final = operating_point(rows, probs, gold_n, threshold_trace)
        cv[c_value] = {"logloss": _logloss(rows, probs), "probs": probs, "platt": ab, "threshold": threshold,
                       "final": final}
        print(f"C={c_value}: out-of-fold log-loss {cv[c_value]['logloss']:.4f}; threshold {threshold}, "
              f"after a trace {threshold_trace}: {final}", file=sys.stderr)
    best = max(cv, key=lambda k: (sum(cv[k]["final"][f] or 0.0 for f in FORMS), -cv[k]["logloss"]))
    probs, ab, threshold = cv[best]["probs"], cv[best]["platt"], cv[best]["threshold"]
    table = {"final": cv[best]["final"]}
    if args.curve:
        print("\n".join(curve(rows, probs, ab, gold_n, threshold_trace)), file=sys.stderr)
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as fh:
            for r, p in zip(rows, probs, strict=True):
                op, q = _chosen(p)
                fh.write(f"{_cal(q, ab):.3f}\t{op}\t{r['y']}\t{r['src']}\t{r['corpus']}\t{r['ctx']}\n")
    weights = _weights(*_fit(rows, best), CLASSES)
    meta = {
        "command": "python -m criteria_nlp.evaluation.lost_sign_train "
        f"--signed {args.signed} --plain {args.plain} --plain-weight {args.plain_weight:g} -o {args.output}",
        "rows": len(rows),
        "labels": dict(Counter(r["y"] for r in rows)),
        "records": {"signed": len(signed), "plain": len(plain)},
        "C": best,
        "cv_logloss": {str(k): round(v["logloss"], 4) for k, v in cv.items()},
        "cv_recovery": {str(k): {f: v["final"][f] for f in FORMS} for k, v in cv.items()},
        "plain_weight": args.plain_weight,
        "cv_at_threshold": table["final"],
        "clean_traced_rows": traced_clean,
        "max_false": MAX_FALSE,
    }
    model = DeletedModel(CLASSES, weights, ab, threshold, meta, threshold_trace)
    out = model.to_dict()
    out["format"] = FORMAT
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(out, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in meta.items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

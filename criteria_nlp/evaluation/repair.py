"""Measure the operator repair, and train its learned voice.

Measuring: real criteria text with every "≥" and "≤" replaced by "=" (same length, so
offsets hold) simulates a WHO ICTRP dump. :func:`evaluate_repair` scores the corrupted
run on LCT against the gold operators, checks that nothing in the uncorrupted text gets
repaired and that genuine "=" stay, and scores the ClinicalTrials.gov CSV of
``ctgov_raw`` against the clean run of the same text.

Training: :func:`train_operator_model` collects real comparisons (≥ ≤ >= <= > <) from
the shared corpora, masks their operator, and fits a logistic regression over the
context words (:func:`criteria_nlp.pipeline.repair.context_features`). By default it
learns from Chia and the CT.gov CSV only (:data:`TRAIN_CORPORA`), so the whole of LCT -
the corpus with gold operators that :func:`evaluate_repair` scores - is text the model
never saw. Within the training corpora, trials are split by a hash of their id, so the
model's own accuracy (and the CT.gov agreement of :func:`evaluate_repair_ctgov` on the
'test' share) is also on trials it never saw. The weights are written as JSON;
predicting needs no scikit-learn.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from criteria_nlp.pipeline.repair import (
    RepairRules,
    _operator_span,
    context_features,
    default_rules,
    harmonize_record,
    item_votes,
    lexicon_entry,
)
from criteria_nlp.schema import AgeLimit, Constraint, Criterion, Population, TrialRecord

SHARED_CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
CTGOV_CSV = "ctgov_raw/chicagopcdc_clinical_trials.csv"
MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "operator_repair"
TEST_SHARE = 5  # one trial in five is held out from training
# Strength of the pull of each voice's multiplier towards its hand-set weight (1): a
# Gaussian prior of variance 1/16. Weaker priors fitted the training trials better but
# held-out trials of the same corpora no better.
STACK_PRIOR = 8.0
# Regularisation of the context model: of C in 0.1-2, 0.1 decided most masked comparisons
# right on the held-out trials of Chia and CT.gov (0.862 of 963, 0.856 at 0.5).
CONTEXT_C = 0.1
# LCT is left out of training: it is the corpus the recovery figure is measured on.
TRAIN_CORPORA = ("chia", "ctgov_raw")
ALL_CORPORA = ("lct", "chia", "ctgov_raw")

_LOST = str.maketrans({"≥": "=", "≤": "="})
_COMPARISON = re.compile(r"(?<![<>=!≥≤])(≥|≤|>=|<=|=>|=<|>|<)(?![<>=])(?=\s*\d)")
_UP = {"≥", ">=", "=>", ">"}
_HEADER = re.compile(r"^\W*(?:key\s+|main\s+|general\s+)?(inclusion|exclusion)\b[^\n]{0,40}$", re.I | re.M)


def corrupt(text: str) -> str:
    """A registry dump's damage: every ≥ and ≤ becomes "=" (same length, offsets hold)."""
    return text.translate(_LOST)


def split_of(trial_id: str) -> str:
    """'test' for about one trial in five (by a stable hash of the id), else 'train'."""
    h = int(hashlib.sha1(trial_id.encode("utf-8")).hexdigest(), 16)
    return "test" if h % TEST_SHARE == 0 else "train"


def _kind_at(text: str, pos: int) -> str | None:
    kind = None
    for m in _HEADER.finditer(text, 0, pos):
        kind = m.group(1).lower()
    return kind


# --------------------------------------------------------------------------- training data


def _comparisons(trial: str, corpus: str, text: str, kind: str | None = None) -> Iterator[dict]:
    masked = corrupt(text)
    for m in _COMPARISON.finditer(text):
        yield {
            "trial": trial,
            "corpus": corpus,
            "feats": context_features(masked, m.start(), m.end(), kind or _kind_at(text, m.start())),
            "label": _label(m),
            "lost": m.group(1) in ("≥", "≤"),
        }


def _ctgov_rows(csv_path: Path) -> Iterator[dict]:
    csv.field_size_limit(sys.maxsize)
    with csv_path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def corpus_examples(corpora_dir: str | Path, corpora: tuple[str, ...] = ALL_CORPORA) -> list[dict]:
    """Masked comparisons of the named corpora (LCT, Chia, the CT.gov CSV) under ``corpora_dir``."""
    root = Path(corpora_dir)
    rows: list[dict] = []
    if "lct" in corpora:
        for txt in sorted((root / "lct").glob("batch*/*.txt")):
            rows += _comparisons(txt.stem, "lct", txt.read_text(encoding="utf-8"))
    if "chia" in corpora:
        for txt in sorted((root / "chia").glob("*.txt")):
            trial, _, kind = txt.stem.partition("_")
            kind = {"inc": "inclusion", "exc": "exclusion"}.get(kind)
            rows += _comparisons(trial, "chia", txt.read_text(encoding="utf-8"), kind)
    if "ctgov_raw" in corpora and (root / CTGOV_CSV).exists():
        for row in _ctgov_rows(root / CTGOV_CSV):
            rows += _comparisons(row["#nct_id"], "ctgov_raw", row["eligibility_criteria"] or "")
    return rows


# --------------------------------------------------------------------------- stacking data

# Every comparison before a number: the stacked combination learns from the direction of
# all of them (a strict '>' points the same way as a '>='), not only of the ≥/≤ a dump loses.
_TWO_CHAR = {">=", "<=", "=>", "=<"}


def mask_comparisons(text: str) -> tuple[str, dict[int, int]]:
    """``text`` with every comparison before a number written as a bare "=" (a two-character
    operator becomes " =", so offsets hold), and the label (1: an upper direction, '>=' or
    '>') of each '=' by its offset."""
    out = list(text)
    labels: dict[int, int] = {}
    for m in _COMPARISON.finditer(text):
        _mask(out, m)
        labels[m.end() - 1] = _label(m)
    return "".join(out), labels


def _label(m: re.Match) -> int:
    """1 when the comparison bounds from below ('>=', '>', '≥'), else 0."""
    return 1 if m.group(1) in _UP else 0


def _mask(chars: list[str], m: re.Match) -> None:
    for i in range(m.start(), m.end()):
        chars[i] = " "
    chars[m.end() - 1] = "="


def dump_variants(text: str) -> list[tuple[str, dict[int, int]]]:
    """The texts a registry dump makes of ``text`` for training, each with the label of its
    masked '=' by offset: first the dump itself (every ≥ and ≤ written "=", everything
    else as it was), then one text per typed comparison ('>', '<', '>=', ...) with only
    that one masked on top of the dump. So each masked '=' is seen next to the real '<'
    and '>' a dump keeps, as at run time, and the typed comparisons still teach."""
    dumped = corrupt(text)
    comparisons = list(_COMPARISON.finditer(text))
    lost = {m.end() - 1: _label(m) for m in comparisons if m.group(1) in ("≥", "≤")}
    variants = [(dumped, lost)] if lost else []
    for m in comparisons:
        if m.group(1) in ("≥", "≤"):
            continue
        chars = list(dumped)
        _mask(chars, m)
        variants.append(("".join(chars), {m.end() - 1: _label(m)}))
    return variants


def _stack_documents(
    root: Path, corpora: tuple[str, ...]
) -> Iterator[tuple[str, str, str, str | None, Population]]:
    """(trial, corpus, text, kind of every item or None for headers, population)."""
    if "lct" in corpora:
        for txt in sorted((root / "lct").glob("batch*/*.txt")):
            yield txt.stem, "lct", txt.read_text(encoding="utf-8"), None, Population()
    if "chia" in corpora:
        for txt in sorted((root / "chia").glob("*.txt")):
            trial, _, kind = txt.stem.partition("_")
            kind = {"inc": "inclusion", "exc": "exclusion"}.get(kind)
            yield trial, "chia", txt.read_text(encoding="utf-8"), kind, Population()
    if "ctgov_raw" in corpora and (root / CTGOV_CSV).exists():
        for row in _ctgov_rows(root / CTGOV_CSV):
            population = _population(row.get("minimum_age"), row.get("maximum_age"))
            yield row["#nct_id"], "ctgov_raw", row["eligibility_criteria"] or "", None, population


def stack_examples(
    nlp, corpora_dir: str | Path, corpora: tuple[str, ...] = TRAIN_CORPORA, rules: RepairRules | None = None
) -> list[dict]:
    """The pipeline run over the corpora as a registry dump writes them (see
    :func:`dump_variants`): for each masked '=' the extractor reads, the votes of every
    rule voice (unscaled, summed by voice), the context model's features and the true
    direction. The context model's vote is left out
    here: training adds it out of fold."""
    from criteria_nlp.evaluation.lct import document_items
    from criteria_nlp.pipeline import extract_items

    rules = rules or default_rules()
    rows: list[dict] = []
    for trial, corpus, text, kind, population in _stack_documents(Path(corpora_dir), corpora):
        work = []  # (item, labels of its masked '=' by offset in the text)
        for masked, labels in dump_variants(text):
            items = [it for it in document_items(masked) if any(it.start <= o < it.end for o in labels)]
            work += [(it, labels) for it in items]
        if not work:
            continue
        items = [it for it, _ in work]
        if kind is not None:
            for item in items:
                item.kind = kind
        found = extract_items(nlp, items, population=population, repair=False)
        for (item, labels), constraints in zip(work, found, strict=True):
            for i, votes in item_votes(constraints, item.text, item.kind, population, rules).items():
                c = constraints[i]
                op_start, op_end = _operator_span(c)
                label = labels.get(item.start + op_start)
                if votes is None or label is None:
                    continue
                by_voice: Counter = Counter()
                for v in votes:
                    by_voice[v.key] += v.score
                entry = lexicon_entry(c.variable)
                rows.append(
                    {
                        "trial": trial,
                        "corpus": corpus,
                        "label": label,
                        "lost": text[item.start + op_start] in "≥≤",
                        "votes": dict(by_voice),
                        "feats": context_features(item.text, op_start, op_end, item.kind, entry or True),
                    }
                )
    return rows


def _fold(trial_id: str, k: int) -> int:
    return int(hashlib.sha1(f"fold:{trial_id}".encode()).hexdigest(), 16) % k


def fit_stack(rows: list[dict], prior_strength: float = STACK_PRIOR) -> dict[str, float]:
    """Multipliers of the voices (the context model's logit is the voice "model"): a
    logistic regression on the voices' summed votes, without intercept, whose weights are
    drawn towards 1 (the hand-set weights) by a Gaussian prior: a voice seldom heard keeps
    about its hand-set weight, a frequent one gets what the data say."""
    import numpy as np
    from scipy.optimize import minimize

    keys = sorted({k for r in rows for k in r["votes"]})
    x = np.array([[r["votes"].get(k, 0.0) for k in keys] for r in rows])
    y = np.array([r["label"] for r in rows], dtype=float)

    def loss(m):
        z = x @ m
        p = 1.0 / (1.0 + np.exp(-z))
        nll = np.sum(np.logaddexp(0.0, z) - y * z)
        grad = x.T @ (p - y) + 2 * prior_strength * (m - 1.0)
        return nll + prior_strength * np.sum((m - 1.0) ** 2), grad

    result = minimize(loss, np.ones(len(keys)), jac=True, method="L-BFGS-B")
    return {k: round(float(m), 4) for k, m in zip(keys, result.x, strict=True)}


def _decision_accuracy(rows: list[dict], stack: dict[str, float], threshold: float) -> dict:
    """How often the summed, scaled votes repair a masked '=' in its true direction."""
    if not rows:
        return {"n": 0, "recovered": None}
    ok = unrepaired = 0
    for r in rows:
        score = sum(stack.get(k, 1.0) * v for k, v in r["votes"].items())
        if abs(score) < threshold:
            unrepaired += 1
        elif (score > 0) == bool(r["label"]):
            ok += 1
    return {"n": len(rows), "recovered": round(ok / len(rows), 4), "unrepaired": unrepaired}


def _fit_context(train: list[dict], c: float, min_count: int) -> dict[str, float]:
    try:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "training the repair model needs scikit-learn: pip install 'criteria-nlp[train]'"
        ) from exc
    counts = Counter(f for r in train for f in set(r["feats"]))
    keep = {f for f, n in counts.items() if n >= min_count}
    vec = DictVectorizer()
    x_train = vec.fit_transform([{f: 1.0 for f in r["feats"] if f in keep} for r in train])
    # The "bias:1" feature is the intercept, so the fitted weights alone predict.
    clf = LogisticRegression(C=c, max_iter=2000, fit_intercept=False, solver="lbfgs")
    clf.fit(x_train, [r["label"] for r in train])
    weights = {f: round(float(w), 5) for f, w in zip(vec.get_feature_names_out(), clf.coef_[0], strict=True)}
    return {f: w for f, w in weights.items() if abs(w) >= 1e-4}


def _model_vote(weights: dict[str, float], feats: list[str], rules: RepairRules) -> float:
    """The context model's vote as :func:`criteria_nlp.pipeline.repair._model_votes` casts it."""
    clip = rules.get("model", "clip", default=2.5)
    logit = sum(weights.get(f, 0.0) for f in feats)
    return rules.get("model", "weight", default=1.0) * max(-clip, min(clip, logit))


def train_operator_model(
    corpora_dir: str | Path = SHARED_CORPORA,
    out_dir: str | Path = MODEL_DIR,
    c: float = CONTEXT_C,
    min_count: int = 2,
    corpora: tuple[str, ...] = TRAIN_CORPORA,
    nlp=None,
    folds: int = 5,
) -> dict:
    """Fit the context model and the stacked combination of all voices on the training
    trials of ``corpora``, report both on their held-out trials (and on all of LCT when LCT
    is not among ``corpora``) and write ``out_dir/weights.json``. The stack learns from the
    context model's out-of-fold votes, so it does not trust a model scoring its own
    training text. Needs scikit-learn and scipy (the ``train`` extra)."""
    root = Path(corpora_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such corpora folder")
    rows = corpus_examples(root, corpora)
    if not rows:
        raise ValueError(f"{root}: no comparisons found (expected {', '.join(corpora)})")
    train = [r for r in rows if split_of(r["trial"]) == "train"]
    test = [r for r in rows if split_of(r["trial"]) == "test"]
    unseen = [] if "lct" in corpora else corpus_examples(root, ("lct",))
    weights = _fit_context(train, c, min_count)

    def accuracy(part) -> dict:
        if not part:
            return {"n": 0, "accuracy": None}
        ok = sum((sum(weights.get(f, 0.0) for f in r["feats"]) > 0) == bool(r["label"]) for r in part)
        return {"n": len(part), "accuracy": round(ok / len(part), 4)}

    # The stack: rule votes from the pipeline over the masked corpora, next to the context
    # model's vote - out of fold on the training trials, the final model's on the rest.
    if nlp is None:
        from criteria_nlp import load

        nlp = load()
    rules = default_rules()
    threshold = rules.get("threshold", default=1.0)
    stack_rows = stack_examples(nlp, root, corpora, rules)
    stack_train = [r for r in stack_rows if split_of(r["trial"]) == "train"]
    stack_test = [r for r in stack_rows if split_of(r["trial"]) == "test"]
    for k in range(folds):
        fold_weights = _fit_context([r for r in train if _fold(r["trial"], folds) != k], c, min_count)
        for r in stack_train:
            if _fold(r["trial"], folds) == k:
                r["votes"]["model"] = _model_vote(fold_weights, r["feats"], rules)
    for r in stack_test:
        r["votes"]["model"] = _model_vote(weights, r["feats"], rules)
    stack = fit_stack(stack_train)
    stack_unseen = []
    if "lct" not in corpora:
        stack_unseen = stack_examples(nlp, root, ("lct",), rules)
        for r in stack_unseen:
            r["votes"]["model"] = _model_vote(weights, r["feats"], rules)

    def decisions(part: list[dict]) -> dict:
        lost = [r for r in part if r["lost"]]
        return {
            "hand_weights": _decision_accuracy(part, {}, threshold),
            "stacked": _decision_accuracy(part, stack, threshold),
            "lost_only_hand_weights": _decision_accuracy(lost, {}, threshold),
            "lost_only_stacked": _decision_accuracy(lost, stack, threshold),
        }

    report = {
        "examples": {"train": len(train), "test": len(test)},
        "by_corpus": dict(Counter(r["corpus"] for r in rows)),
        "features": len(weights),
        "train": accuracy(train),
        "test_all_operators": accuracy(test),
        "test_lost_operators": accuracy([r for r in test if r["lost"]]),
        "test_by_corpus": {k: accuracy([r for r in test if r["corpus"] == k]) for k in corpora},
        "unseen_corpus_lct": {
            "all_operators": accuracy(unseen),
            "lost_operators": accuracy([r for r in unseen if r["lost"]]),
        },
        # The combination of all voices on the pipeline's '=' candidates (item-level votes,
        # before the record pass): hand-set weights against the learned multipliers.
        "stack": {
            "examples": {"train": len(stack_train), "test": len(stack_test)},
            "test": decisions(stack_test),
            "unseen_corpus_lct": decisions(stack_unseen),
        },
        "params": {
            "C": c,
            "min_count": min_count,
            "corpora": list(corpora),
            "test_share": f"1/{TEST_SHARE} of trials by sha1(id)",
            "stack": f"voice multipliers, prior N(1, 1/{2 * STACK_PRIOR:g}), context votes out of {folds} folds",
        },
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "about": "P(>=) = sigmoid(sum of the weights of the active features); features: "
        "criteria_nlp.pipeline.repair.context_features",
        **report,
    }
    data = {"meta": meta, "weights": weights, "stack": stack}
    (out / "weights.json").write_text(json.dumps(data, sort_keys=True), "utf-8")
    return report


# --------------------------------------------------------------------------- running the pipeline


def _population(min_age: str | None, max_age: str | None) -> Population:
    def limit(value: str | None, none_if: float) -> AgeLimit | None:
        try:
            v = float(value) if value not in (None, "") else None
        except ValueError:
            return None
        return AgeLimit(value=v, unit="years") if v is not None and v != none_if and v > 0 else None

    return Population(min_age=limit(min_age, 0), max_age=limit(max_age, 999))


def run_record(nlp, text: str, repair: bool = True, population: Population | None = None) -> list[Constraint]:
    """Constraints of one criteria text (one item per line, kinds from the headers), with
    the record-level pass; offsets index ``text``."""
    from criteria_nlp.evaluation.lct import document_items
    from criteria_nlp.pipeline import extract_items

    items = document_items(text)
    found = extract_items(nlp, items, population=population, repair=repair)
    record = TrialRecord(source="<eval>", population=population or Population())
    for n, (item, constraints) in enumerate(zip(items, found, strict=True), 1):
        placed = [
            c.model_copy(update={"start": c.start + item.start, "end": c.end + item.start})
            for c in constraints
        ]
        record.criteria.append(
            Criterion(
                id=f"i-{n}",
                kind=item.kind,
                text=item.text,
                start=item.start,
                end=item.end,
                constraints=placed,
            )
        )
    if repair:
        harmonize_record(record)
    return [c for crit in record.criteria for c in crit.constraints]


def _sentence(text: str, start: int, end: int) -> str:
    s = text.rfind("\n", 0, start) + 1
    e = text.find("\n", end)
    return text[s : e if e >= 0 else len(text)].strip()


def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def _close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a))


def _reading(c: Constraint, value: float, operator: str) -> str:
    """How ``c`` reads the gold bound ``value`` ('ok', 'unrepaired', 'wrong', 'other-value')."""
    if c.operator == "between":
        if operator == ">=" and _close(c.value, value) or operator == "<=" and _close(c.upper, value):
            return "ok"
        return "wrong" if _close(c.value, value) or _close(c.upper, value) else "other-value"
    if not _close(c.value, value):
        return "other-value"
    if c.operator == operator:
        return "ok"
    return "unrepaired" if c.operator == "==" else "wrong"


def _share(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _model_corpora() -> list[str]:
    """The corpora the shipped context model was trained on (all three for old weights
    that do not say)."""
    from criteria_nlp.pipeline.repair import default_model

    model = default_model()
    if model is None:
        return []
    return list(model.meta.get("params", {}).get("corpora", ALL_CORPORA))


def evaluate_repair(
    lct_dir: str | Path,
    nlp=None,
    limit: int | None = None,
    repair: bool = True,
    ctgov_csv: str | Path | None = None,
    max_listed: int = 300,
) -> dict:
    """Score the repair on LCT (≥/≤ turned into "=") and on the CT.gov CSV (corrupted run
    against the clean run). JSON-able; misses are listed."""
    from criteria_nlp.evaluation.lct import load_lct

    if nlp is None:
        from criteria_nlp import load

        nlp = load()
    docs = load_lct(lct_dir)[:limit] if limit else load_lct(lct_dir)
    outcome: Counter = Counter()
    by_split: dict[str, Counter] = {"train": Counter(), "test": Counter()}
    misses: list[dict] = []
    clean_repaired: list[dict] = []
    genuine = {"gold": 0, "changed_clean": 0, "changed_corrupted": 0}
    genuine_changed: list[dict] = []
    for doc in docs:
        corrupted = corrupt(doc.text)
        preds = run_record(nlp, corrupted, repair=repair)
        clean = run_record(nlp, doc.text, repair=repair)
        for c in clean:
            if c.repaired and len(clean_repaired) < max_listed:
                clean_repaired.append(
                    {
                        "doc": doc.doc_id,
                        "sentence": _sentence(doc.text, c.start, c.end),
                        "found": c.text,
                        "operator": c.operator,
                        "reason": c.repair_reason,
                    }
                )
        outcome["clean_repaired"] += sum(c.repaired for c in clean)
        for g in doc.gold:
            span = doc.text[g.start : g.end]
            if g.operator in ("EQ", None) and "=" in span and g.values:
                genuine["gold"] += 1
                for run, key in ((clean, "changed_clean"), (preds, "changed_corrupted")):
                    hit = [c for c in run if _overlaps(g.start, g.end, c.start, c.end) and c.repaired]
                    genuine[key] += bool(hit)
                    if hit:
                        genuine_changed.append(
                            {
                                "doc": doc.doc_id,
                                "sentence": _sentence(doc.text, g.start, g.end),
                                "gold": span,
                                "found": hit[0].text,
                                "operator": hit[0].operator,
                            }
                        )
            if g.operator not in ("GTEQ", "LTEQ") or not ({"≥", "≤"} & set(span)) or not g.values:
                continue
            operator = ">=" if g.operator == "GTEQ" else "<="
            # "≥ 20 and ≤ 45" is one range in the gold of some documents: the bound that
            # carries this operator is the smallest (≥) or the largest (≤) value.
            value = g.values[0] if operator == ">=" else g.values[-1]
            cands = [c for c in preds if _overlaps(g.start, g.end, c.start, c.end)]
            readings = [_reading(c, value, operator) for c in cands]
            result = next((r for r in ("ok", "wrong", "unrepaired") if r in readings), "not-extracted")
            outcome[result] += 1
            by_split[split_of(doc.doc_id)][result] += 1
            if result != "ok" and len(misses) < max_listed:
                misses.append(
                    {
                        "doc": doc.doc_id,
                        "sentence": _sentence(corrupted, g.start, g.end),
                        "gold": span,
                        "gold_operator": operator,
                        "gold_value": value,
                        "outcome": result,
                        "found": "; ".join(f"{c.text} [{c.operator}] ({c.repair_reason})" for c in cands)
                        or None,
                    }
                )
    total = sum(outcome[k] for k in ("ok", "wrong", "unrepaired", "not-extracted"))
    extracted = total - outcome["not-extracted"]
    trained_on = _model_corpora()
    unseen = by_split["test"] if "lct" in trained_on else by_split["train"] + by_split["test"]
    report = {
        "documents": len(docs),
        "lost_operators": total,
        "recovered": outcome["ok"],
        "recovered_share": _share(outcome["ok"], total),
        "recovered_share_of_extracted": _share(outcome["ok"], extracted),
        "outcomes": {k: outcome[k] for k in ("ok", "wrong", "unrepaired", "not-extracted")},
        # Which LCT trials the shipped context model learned from: none when it was trained
        # on other corpora only (the default), else the 'train' share of the split.
        "model_training_corpora": trained_on,
        "recovered_share_on_trials_the_model_never_saw": _share(unseen["ok"], sum(unseen.values())),
        "recovered_share_by_model_split": {
            k: {"n": sum(v.values()), "recovered_share": _share(v["ok"], sum(v.values()))}
            for k, v in by_split.items()
        },
        "repaired_in_clean_text": outcome["clean_repaired"],
        "genuine_equals": genuine,
        "misses": misses,
        "repaired_in_clean_text_list": clean_repaired,
        "genuine_equals_changed": genuine_changed,
    }
    csv_path = Path(ctgov_csv) if ctgov_csv else Path(lct_dir).resolve().parent / CTGOV_CSV
    if csv_path.exists():
        report["ctgov_raw"] = evaluate_repair_ctgov(
            csv_path, nlp, limit=limit, repair=repair, max_listed=max_listed
        )
    return report


def evaluate_repair_ctgov(
    csv_path: str | Path, nlp, limit: int | None = None, repair: bool = True, max_listed: int = 300
) -> dict:
    """No gold here: the clean run's reading of every ≥/≤ comparison is the reference
    for the run on the corrupted text (same offsets)."""
    outcome: Counter = Counter()
    by_split: dict[str, Counter] = {"train": Counter(), "test": Counter()}
    misses: list[dict] = []
    n_records = 0
    for row in _ctgov_rows(Path(csv_path)):
        if limit and n_records >= limit:
            break
        n_records += 1
        text = row.get("eligibility_criteria") or ""
        population = _population(row.get("minimum_age"), row.get("maximum_age"))
        clean = run_record(nlp, text, repair=repair, population=population)
        preds = run_record(nlp, corrupt(text), repair=repair, population=population)
        outcome["clean_repaired_from_lost"] += sum(
            c.repaired and ("≥" in c.text or "≤" in c.text) for c in clean
        )
        outcome["clean_repaired_bare_equals"] += sum(c.repaired for c in clean)
        at = {(c.start, c.end): c for c in preds}
        split = split_of(row["#nct_id"])
        for c in clean:
            if c.operator not in (">=", "<=", "between") or not ({"≥", "≤"} & set(c.text)):
                continue
            p = at.get((c.start, c.end))
            if p is None:
                result = "not-extracted"
            elif (p.operator, p.value, p.upper) == (c.operator, c.value, c.upper):
                result = "ok"
            elif p.operator == "==":
                result = "unrepaired"
            else:
                result = "wrong"
            outcome[result] += 1
            by_split[split][result] += 1
            if result != "ok" and len(misses) < max_listed:
                misses.append(
                    {
                        "doc": row["#nct_id"],
                        "sentence": _sentence(text, c.start, c.end),
                        "gold": c.text,
                        "gold_operator": c.operator,
                        "outcome": result,
                        "found": f"{p.text} [{p.operator}] ({p.repair_reason})" if p else None,
                    }
                )
    total = sum(outcome[k] for k in ("ok", "wrong", "unrepaired", "not-extracted"))
    return {
        "records": n_records,
        "lost_operators": total,
        "agree_with_clean_run": outcome["ok"],
        "agree_share": _share(outcome["ok"], total),
        "agree_share_of_extracted": _share(outcome["ok"], total - outcome["not-extracted"]),
        "outcomes": {k: outcome[k] for k in ("ok", "wrong", "unrepaired", "not-extracted")},
        # the context model learns from the 'train' trials of this CSV: 'test' is unseen
        "agree_share_by_model_split": {
            k: {"n": sum(v.values()), "agree_share": _share(v["ok"], sum(v.values()))}
            for k, v in by_split.items()
        },
        "repaired_in_clean_text": outcome["clean_repaired_bare_equals"],
        "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m criteria_nlp.evaluation.repair train [CORPORA_DIR] [OUT_DIR]`` retrains the
    context model; ``... evaluate [LCT_DIR] [REPORT.json]`` runs :func:`evaluate_repair`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in ("train", "evaluate"):
        print(main.__doc__, file=sys.stderr)
        return 2
    try:
        if args[0] == "train":
            corpora = args[1] if len(args) > 1 else SHARED_CORPORA
            out = args[2] if len(args) > 2 else MODEL_DIR
            report = train_operator_model(corpora, out)
        else:
            report = evaluate_repair(args[1] if len(args) > 1 else SHARED_CORPORA / "lct")
            if len(args) > 2:
                Path(args[2]).write_text(json.dumps(report, indent=1, ensure_ascii=False), "utf-8")
                report = {k: v for k, v in report.items() if not isinstance(v, list)}
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"criteria-nlp repair: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

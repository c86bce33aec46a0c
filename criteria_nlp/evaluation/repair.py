"""Measure the operator repair, and train its one learned decision.

Measuring: real criteria text as a registry dump writes it - every "≥" and "≤" turned
into "=" (same length, so offsets hold) - is run through the pipeline with repair, and each
recovered operator is compared with the one written:

- LCT (:func:`evaluate_repair`): against the gold operators, per split part (batches 1-10,
  the training part, and batches 11-14, the validation part). Misses are listed for the
  training part only; the validation part gives aggregate figures.
- CT.gov (:func:`evaluate_repair_ctgov`): the CT.gov CSV and ``ctgov_unlabelled``, per
  part, against the written operator.

Each part also reports the calibration of ``confidence`` (expected calibration error, the
share right at confidence >= 0.9, a reliability table the HTML report draws) and checks
that nothing in the clean text gets repaired and that genuine "=" stay.

Training: ``python -m criteria_nlp.evaluation.repair train`` (see
:mod:`criteria_nlp.evaluation.repair_train`).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from criteria_nlp.evaluation import calibration
from criteria_nlp.evaluation.repair_ctgov import evaluate_repair_ctgov
from criteria_nlp.evaluation.repair_data import (
    CTGOV_CSV,
    CTGOV_JSONL,
    SHARED_CORPORA,
    dump,
    population_of,
)
from criteria_nlp.evaluation.split import part_of
from criteria_nlp.pipeline.repair import harmonize_record
from criteria_nlp.schema import Constraint, Criterion, Population, TrialRecord

PARTS = ("train", "validation")


def corrupt(text: str) -> str:
    """A registry dump's damage: every ≥ and ≤ becomes "=" (same length, offsets hold)."""
    return dump(text)


def _population(min_age: str | None, max_age: str | None) -> Population:
    return population_of(min_age, max_age)


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


def _lct_part(doc) -> str:
    return part_of("lct", doc.doc_id, doc.batch)


def _pair(c: Constraint, ok: bool) -> tuple[float, bool]:
    return (float(c.confidence), ok)


def evaluate_repair(
    lct_dir: str | Path,
    nlp=None,
    limit: int | None = None,
    repair: bool = True,
    ctgov_csv: str | Path | None = None,
    max_listed: int = 300,
    ctgov: bool = True,
) -> dict:
    """Score the repair on LCT (≥/≤ turned into "=") per split part, and on CT.gov (see
    :func:`evaluate_repair_ctgov`). JSON-able; misses are listed for the training part only."""
    from criteria_nlp.evaluation.lct import load_lct

    if nlp is None:
        from criteria_nlp import load

        nlp = load()
    docs = load_lct(lct_dir)[:limit] if limit else load_lct(lct_dir)
    outcome: dict[str, Counter] = {p: Counter() for p in PARTS}
    pairs: dict[str, list[tuple[float, bool]]] = {p: [] for p in PARTS}
    misses: list[dict] = []
    clean_repaired: list[dict] = []
    genuine = {p: {"gold": 0, "changed_clean": 0, "changed_corrupted": 0} for p in PARTS}
    genuine_changed: list[dict] = []
    for doc in docs:
        part = _lct_part(doc)
        listed = part == "train"  # never list the misses of the validation part
        corrupted = corrupt(doc.text)
        preds = run_record(nlp, corrupted, repair=repair)
        clean = run_record(nlp, doc.text, repair=repair)
        for c in clean:
            if c.repaired and listed and len(clean_repaired) < max_listed:
                clean_repaired.append(
                    {
                        "doc": doc.doc_id,
                        "sentence": _sentence(doc.text, c.start, c.end),
                        "found": c.text,
                        "operator": c.operator,
                        "reason": c.repair_reason,
                    }
                )
        outcome[part]["clean_repaired"] += sum(c.repaired for c in clean)
        for g in doc.gold:
            span = doc.text[g.start : g.end]
            if g.operator in ("EQ", None) and "=" in span and g.values:
                genuine[part]["gold"] += 1
                for run, key in ((clean, "changed_clean"), (preds, "changed_corrupted")):
                    hit = [c for c in run if _overlaps(g.start, g.end, c.start, c.end) and c.repaired]
                    genuine[part][key] += bool(hit)
                    if hit and listed:
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
            outcome[part][result] += 1
            decided = [c for c, r in zip(cands, readings, strict=True) if r == result and c.written_operator == "="]
            if decided:
                pairs[part].append(_pair(decided[0], result == "ok"))
            if result != "ok" and listed and len(misses) < max_listed:
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
    report: dict = {"documents": len(docs)}
    for part in PARTS:
        o = outcome[part]
        total = sum(o[k] for k in ("ok", "wrong", "unrepaired", "not-extracted"))
        report[part] = {
            "batches": "1-10" if part == "train" else "11-14",
            "lost_operators": total,
            "recovered": o["ok"],
            "recovered_share": _share(o["ok"], total),
            "recovered_share_of_extracted": _share(o["ok"], total - o["not-extracted"]),
            "outcomes": {k: o[k] for k in ("ok", "wrong", "unrepaired", "not-extracted")},
            "repaired_in_clean_text": o["clean_repaired"],
            "genuine_equals": genuine[part],
            "calibration": calibration.summary(pairs[part]),
        }
    everything = sum((outcome[p] for p in PARTS), Counter())
    total = sum(everything[k] for k in ("ok", "wrong", "unrepaired", "not-extracted"))
    report["recovered_share"] = _share(everything["ok"], total)
    report["repaired_in_clean_text"] = everything["clean_repaired"]
    report["misses (training part)"] = misses
    report["repaired_in_clean_text_list (training part)"] = clean_repaired
    report["genuine_equals_changed (training part)"] = genuine_changed
    if ctgov:
        root = Path(ctgov_csv).resolve().parents[1] if ctgov_csv else Path(lct_dir).resolve().parent
        if (root / CTGOV_CSV).exists() or (root / CTGOV_JSONL).exists():
            report["ctgov"] = evaluate_repair_ctgov(root, nlp, limit=limit, repair=repair)
    return report


def _parser():
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m criteria_nlp.evaluation.repair",
        description="Train the operator repair's learned decision, or measure the repair.",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="fit the decision on the training parts (cached rows under out/)")
    train.add_argument("corpora", nargs="?", default=str(SHARED_CORPORA), help="the corpora folder (../shared/corpora)")
    train.add_argument("out", nargs="?", default=None, help="where weights.json goes (models/operator_repair)")
    train.add_argument("--rebuild", action="store_true", help="re-extract the rows instead of reading the cache")
    ev = sub.add_parser("evaluate", help="LCT and CT.gov, training and validation parts")
    ev.add_argument("lct", nargs="?", default=str(SHARED_CORPORA / "lct"), help="the LCT folder")
    ev.add_argument("report", nargs="?", default=None, help="write the whole report (misses included) here as JSON")
    return ap


def main(argv: list[str] | None = None) -> int:
    """``python -m criteria_nlp.evaluation.repair train [CORPORA_DIR] [OUT_DIR] [--rebuild]``
    fits the decision on the training parts (cached rows under out/; --rebuild re-extracts);
    ``... evaluate [LCT_DIR] [REPORT.json]`` runs :func:`evaluate_repair` (LCT and CT.gov,
    training and validation parts). ``--help`` says so; an unknown option is an error, and
    nothing is trained or written then."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            from criteria_nlp.evaluation.repair_train import MODEL_DIR, train_operator_model

            report = train_operator_model(
                args.corpora, args.out or MODEL_DIR, use_cache=not args.rebuild,
                progress=lambda m: print(m, file=sys.stderr),
            )
        else:
            report = evaluate_repair(args.lct)
            if args.report:
                Path(args.report).write_text(json.dumps(report, indent=1, ensure_ascii=False), "utf-8")
            report = {k: v for k, v in report.items() if not isinstance(v, list)}
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"criteria-nlp repair: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Evaluation against the project's own gold (annotations/*.jsonl).

Gold format: see annotations/README.md. Each line is one record: its source (a path
relative to the repository root, i.e. the parent of the annotations folder), the items
with kind, label, text and offsets, and each item's constraints with operator, value(s),
unit, relative_to, offsets and, for lost operators, whether the record means a repair.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from criteria_nlp.schema import Constraint, TrialRecord


def load_gold(annotations_dir: str | Path) -> list[dict]:
    """Every gold record of every ``*.jsonl`` file in ``annotations_dir``, with its
    ``source`` resolved against the repository root."""
    root = Path(annotations_dir)
    records = []
    for path in sorted(root.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            rec["_gold_file"] = f"{path.name}:{n}"
            rec["_path"] = str((root.parent / rec["source"]).resolve())
            records.append(rec)
    return records


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def _same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a))


def _overlaps(g: dict, c: Constraint) -> bool:
    return c.start < g["end"] and g["start"] < c.end


def _match_constraints(gold: list[dict], found: list[Constraint]) -> list[tuple[dict | None, Constraint | None]]:
    """One-to-one pairs of gold and found constraints: overlapping span, same numbers."""
    pairs: list[tuple[dict | None, Constraint | None]] = []
    used: set[int] = set()
    for g in gold:
        best = None
        for i, c in enumerate(found):
            if i in used or not _overlaps(g, c):
                continue
            if not _same_number(g["value"], c.value):
                continue
            if g.get("upper") is not None and not _same_number(g["upper"], c.upper):
                continue
            # prefer the candidate that also has the gold operator
            if best is None or (c.operator == g["operator"] and found[best].operator != g["operator"]):
                best = i
        if best is None:
            pairs.append((g, None))
        else:
            used.add(best)
            pairs.append((g, found[best]))
    pairs.extend((None, c) for i, c in enumerate(found) if i not in used)
    return pairs


def _strict_equal(g: dict, c: Constraint) -> bool:
    return (
        g["operator"] == c.operator
        and (g.get("unit") or None) == (c.unit or None)
        and (g.get("relative_to") or None) == (c.relative_to or None)
    )


def score_records(gold_records: Iterable[dict], records: Iterable[TrialRecord]) -> dict:
    """Score structured records against gold records (paired in order)."""
    items = {"tp": 0, "fp": 0, "fn": 0}
    kind_right = kind_total = 0
    det = {"tp": 0, "fp": 0, "fn": 0}
    strict = {"tp": 0, "fp": 0, "fn": 0}
    repair = {"gold": 0, "right": 0, "false_repairs": 0}
    variable_agree = variable_total = 0
    misses: list[dict] = []
    false_alarms: list[dict] = []
    per_record = []
    for g, rec in zip(gold_records, records, strict=True):
        gi = {(it["start"], it["end"]): it for it in g["items"]}
        fi = {(c.start, c.end): c for c in rec.criteria}
        matched = gi.keys() & fi.keys()
        items["tp"] += len(matched)
        items["fp"] += len(fi.keys() - matched)
        items["fn"] += len(gi.keys() - matched)
        for key in matched:
            kind_total += 1
            kind_right += gi[key]["kind"] == fi[key].kind
        if not g.get("constraints_annotated", True):
            # a segmentation-only case: its constraints were not annotated
            per_record.append({"source": g["source"], "items_gold": len(gi), "items_found": len(fi)})
            continue
        gold_cons = [c for it in g["items"] for c in it.get("constraints", [])]
        found = [c for crit in rec.criteria for c in crit.constraints]
        rec_tp = 0
        for gc, fc in _match_constraints(gold_cons, found):
            where = {"source": g["source"]}
            if gc is not None and fc is not None:
                det["tp"] += 1
                rec_tp += 1
                variable_total += 1
                variable_agree += gc["variable"].lower() == (fc.variable or "").lower()
                if _strict_equal(gc, fc):
                    strict["tp"] += 1
                else:
                    strict["fp"] += 1
                    strict["fn"] += 1
                    misses.append({**where, "why": "wrong reading", "gold": gc, "found": fc.model_dump()})
                if gc.get("repaired"):
                    repair["gold"] += 1
                    repair["right"] += bool(fc.repaired and fc.operator == gc["operator"])
                elif fc.repaired:
                    repair["false_repairs"] += 1
            elif gc is not None:
                det["fn"] += 1
                strict["fn"] += 1
                repair["gold"] += bool(gc.get("repaired"))
                misses.append({**where, "why": "not found", "gold": gc})
            else:
                det["fp"] += 1
                strict["fp"] += 1
                repair["false_repairs"] += bool(fc.repaired)
                false_alarms.append({**where, "found": fc.model_dump()})
        per_record.append(
            {
                "source": g["source"],
                "items_gold": len(gi),
                "items_found": len(fi),
                "constraints_gold": len(gold_cons),
                "constraints_found": len(found),
                "constraints_matched": rec_tp,
            }
        )
    return {
        "items": _prf(**items),
        "kind_accuracy": round(kind_right / kind_total, 4) if kind_total else None,
        "constraints_detection": _prf(**det),
        "constraints_strict": _prf(**strict),
        "repair": {
            **repair,
            "recovery": round(repair["right"] / repair["gold"], 4) if repair["gold"] else None,
        },
        "variable_agreement": round(variable_agree / variable_total, 4) if variable_total else None,
        "per_record": per_record,
        "misses": misses,
        "false_alarms": false_alarms,
    }


def evaluate_gold(annotations_dir: str | Path, nlp=None, repair: bool = True) -> dict:
    """Structure every gold record's source and score it against the gold."""
    from criteria_nlp import structure

    gold = load_gold(annotations_dir)
    records = [structure(g["_path"], nlp=nlp, repair=repair) for g in gold]
    for g, rec in zip(gold, records, strict=True):
        rec.source = g["source"]
    result = score_records(gold, records)
    result["records"] = len(gold)
    return result

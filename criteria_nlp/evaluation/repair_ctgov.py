"""The operator repair measured on CT.gov text (the CT.gov CSV and ``ctgov_unlabelled``).

Each study with a written ≥/≤ is run twice through the whole record path (segmenter,
pipeline, record pass): as a dump writes it (every ≥/≤ -> "=", same offsets) and clean.
Every lost sign of the dump is scored against the written one:

- a constraint over the sign with ``written_operator`` "=" is the repair's reading:
  ``ok`` when its operator is the written one (a two-sided "a=X=b" read as a range when
  repaired), ``unrepaired`` when kept "==", else ``wrong``;
- otherwise a constraint over the sign that the extractor read with another written form
  is scored as LCT scores it (:func:`criteria_nlp.evaluation.repair._reading`): a range
  ("= 18 to = 75 years" read as between 18 and 75) is ``ok`` when the bound the sign
  stood before is the number after it, ``wrong`` when the other bound is; a sign before
  "3 or more" is ``ok`` when the operator read is the written one. These are counted
  apart (``read_in_a_range_or_other_form``), and ``recovered_share_strict`` gives the share
  without them (the figure of the earlier sessions);
- no constraint over the sign: ``not-extracted``.

Aggregate figures only, per corpus and split part; misses are never listed here.
"""

import re
from collections import Counter
from pathlib import Path

from criteria_nlp.evaluation import calibration
from criteria_nlp.evaluation.repair_data import documents, dump
from criteria_nlp.schema import Constraint, Population, TrialRecord

PARTS = ("train", "validation")
OUTCOMES = ("ok", "wrong", "unrepaired", "not-extracted")
_NUMBER_AFTER = re.compile(r"[ \t]*[-+]?(\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?|\.\d+)")


def _share(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a))


def number_after(text: str, pos: int) -> float | None:
    """The number right after the sign at ``pos`` ("= 1,500" -> 1500.0), or None."""
    m = _NUMBER_AFTER.match(text, pos + 1)
    return float(m.group(1).replace(",", "")) if m else None


def other_form_reading(c: Constraint, value: float | None, gold: str) -> str:
    """How a constraint the extractor read with another written form (a range, "or more")
    reads the lost sign ``gold`` before ``value``: 'ok', 'wrong' or 'not-extracted'."""
    if value is None:
        return "not-extracted"
    if c.operator == "between":
        if gold == ">=" and _close(c.value, value) or gold == "<=" and _close(c.upper, value):
            return "ok"
        return "wrong" if _close(c.value, value) or _close(c.upper, value) else "not-extracted"
    if not _close(c.value, value):
        return "not-extracted"
    up = c.operator in (">=", ">")
    down = c.operator in ("<=", "<")
    if up or down:
        return "ok" if up == (gold == ">=") else "wrong"
    return "unrepaired" if c.operator == "==" else "not-extracted"


def _structure_text(nlp, trial: str, text: str, population: Population, repair: bool) -> TrialRecord:
    from criteria_nlp.readers.base import CriteriaText, RawRecord
    from criteria_nlp.records import structure_raw

    raw = RawRecord(source=trial, source_format="text", trial_id=trial, population=population, criteria=[CriteriaText(text=text)])
    return structure_raw(raw, nlp, repair=repair)


def score_sign(cons: list[Constraint], text: str, pos: int, gold: str) -> tuple[str, Constraint | None, bool]:
    """(outcome, the repair's constraint or None, read through another written form)."""
    c = next((c for c in cons if c.start <= pos < c.end and c.written_operator == "="), None)
    if c is not None:
        if c.operator == "between":
            return ("ok" if c.repaired else "unrepaired"), c, False
        if c.operator == gold:
            return "ok", c, False
        return ("unrepaired" if c.operator == "==" else "wrong"), c, False
    value = number_after(text, pos)
    for o in cons:
        if o.start <= pos < o.end:
            result = other_form_reading(o, value, gold)
            if result != "not-extracted":
                return result, None, True
    return "not-extracted", None, False


def evaluate_repair_ctgov(
    corpora_dir: str | Path,
    nlp=None,
    limit: int | None = None,
    repair: bool = True,
    corpora: tuple[str, ...] = ("ctgov_raw", "ctgov_unlabelled"),
    parts: tuple[str, ...] = PARTS,
) -> dict:
    """The CT.gov CSV and ``ctgov_unlabelled`` as a dump writes them (≥/≤ -> "="), each
    through the whole record path, against the written operator (see the module text).
    The clean text is also run, and none of its written ≥/≤ may come out repaired."""
    if nlp is None:
        from criteria_nlp import load

        nlp = load()
    out: dict = {}
    for corpus in corpora:
        outcome = {p: Counter() for p in parts}
        pairs: dict[str, list] = {p: [] for p in parts}
        n = 0
        for doc in documents(corpora_dir, corpus):
            if doc.part not in parts or not ("≥" in doc.text or "≤" in doc.text):
                continue
            if limit and n >= limit:
                break
            n += 1
            dumped = dump(doc.text)
            record = _structure_text(nlp, doc.trial, dumped, doc.population, repair)
            cons = [c for crit in record.criteria for c in crit.constraints]
            clean = _structure_text(nlp, doc.trial, doc.text, doc.population, repair)
            o = outcome[doc.part]
            o["clean_repaired_written_sign"] += sum(
                c.repaired and ("≥" in c.text or "≤" in c.text) for crit in clean.criteria for c in crit.constraints
            )
            for pos, ch in enumerate(doc.text):
                if ch not in "≥≤":
                    continue
                result, c, other = score_sign(cons, dumped, pos, ">=" if ch == "≥" else "<=")
                o[result] += 1
                if other:
                    o[f"other-form:{result}"] += 1
                if c is not None:
                    pairs[doc.part].append((float(c.confidence), result == "ok"))
        block = {}
        for p in parts:
            o = outcome[p]
            total = sum(o[k] for k in OUTCOMES)
            strict_ok = o["ok"] - o["other-form:ok"]
            block[p] = {
                "lost_operators": total,
                "recovered_share": _share(o["ok"], total),
                "recovered_share_strict": _share(strict_ok, total),
                "recovered_share_of_extracted": _share(o["ok"], total - o["not-extracted"]),
                "outcomes": {k: o[k] for k in OUTCOMES},
                "read_in_a_range_or_other_form": {k: o[f"other-form:{k}"] for k in OUTCOMES if o[f"other-form:{k}"]},
                "clean_written_signs_marked_repaired": o["clean_repaired_written_sign"],
                "calibration": calibration.summary(pairs[p]),
            }
        out[corpus] = block
    # Both corpora together: the CT.gov figure of the targets.
    for p in parts:
        o = Counter()
        strict = 0
        for corpus in corpora:
            o.update(out[corpus][p]["outcomes"])
            strict += out[corpus][p]["read_in_a_range_or_other_form"].get("ok", 0)
        total = sum(o.values())
        out[f"all CT.gov, {p}"] = {
            "lost_operators": total,
            "recovered_share": _share(o["ok"], total),
            "recovered_share_strict": _share(o["ok"] - strict, total),
        }
    return out

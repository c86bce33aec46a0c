"""Evaluate the constraint pipeline against the numeric comparisons of the LCT corpus.

Gold is every ``Eq-Comparison`` event of LCT (Leaf Clinical Trials, brat standoff) that
has a ``Value``. A gold comparison is found when a predicted constraint overlaps the
Eq-Comparison span and has the same number(s); strict matching also asks for the
operator. Gold values without any number ("moderate", "Tuesday") are counted and listed
apart but left out of the scores.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from criteria_nlp.evaluation.attribution import (
    AttributionScore,
    attribution_example,
    mention_hits,
    stray_words,
)
from criteria_nlp.evaluation.brat import BratDoc, read_brat
from criteria_nlp.evaluation.split import is_validation
from criteria_nlp.pipeline.calendar_dates import YEARS, years_of
from criteria_nlp.pipeline.constraint_values import TIME_IN_DAYS
from criteria_nlp.pipeline.numbers import parse_number
from criteria_nlp.pipeline.written_fractions import ACUITY_UNIT, fraction_values

# LCT operator attribute -> criteria-nlp operator; no annotated operator is a bare value.
LCT_OPERATORS = {
    "GT": ">",
    "GTEQ": ">=",
    "LT": "<",
    "LTEQ": "<=",
    "EQ": "==",
    "BETWEEN": "between",
    "PLUS-MINUS": "between",
    None: "==",
}
# A gold value written with a decimal comma ("18,5", "7,8"): LCT keeps European numbers as
# written. Three digits after the comma stay a thousands separator ("1,500").
_DECIMAL_COMMA = re.compile(r"[-−]?\d{1,4},\d{1,2}")

# The role through which an event points to its comparison says what is compared.
_ROLE_CATEGORY = {
    "Temporality": "temporal",
    "Duration": "temporal",
    "Dose": "dose",
    "Minimum-Count": "count",
    "Stage": "stage",
    "Class": "stage",
    "Min-Value": "count",
    "Max-Value": "count",
}
_OBSERVATION_CATEGORY = {
    "lab": "lab",
    "vital": "vital",
    "clinical-score": "score",
    "survey-or-questionnaire": "score",
    "measurement": "measurement",
    "social-habit": "other",
}


@dataclass
class GoldComparison:
    id: str
    start: int
    end: int
    text: str
    operator: str | None  # LCT attribute value (GTEQ, ...) or None
    values: list[float]  # the numbers of Value / Value2, sorted; empty when not numeric
    value_text: list[str]
    unit_text: str | None
    category: str
    # The spans of the entities whose role points to this comparison (what it bounds),
    # and the attribution group: "age", "window" (a Temporality role) or "rest".
    things: list[tuple[int, int]] = field(default_factory=list)
    thing_text: str = ""
    group: str = "rest"

    @property
    def expected_operator(self) -> str:
        return LCT_OPERATORS.get(self.operator, "==")


@dataclass
class LctDoc:
    doc_id: str
    batch: str
    text: str
    gold: list[GoldComparison] = field(default_factory=list)
    # Every Eq-Comparison span, with or without a value: a prediction inside one of these
    # is not a false alarm even when the gold has no number to compare.
    comparison_spans: list[tuple[int, int]] = field(default_factory=list)


def _category(doc: BratDoc, comparison_event: str) -> str:
    for ev in doc.events.values():
        for role, target in ev.args:
            if target != comparison_event:
                continue
            role = role.rstrip("0123456789")
            if ev.type == "Age":
                return "age"
            if role in _ROLE_CATEGORY:
                return _ROLE_CATEGORY[role]
            if ev.type == "Observation" and role == "Numeric-Filter":
                kind = doc.attribute(ev.id, "Observation-Type-Value")
                return _OBSERVATION_CATEGORY.get(kind or "", "observation")
            if role == "Numeric-Filter":
                return ev.type.lower()
    return "other"


def _things(doc: BratDoc, comparison_event: str) -> tuple[list[tuple[int, int]], str, str]:
    spans, texts, group = [], [], "rest"
    for ev in doc.events.values():
        roles = {r.rstrip("0123456789") for r, t in ev.args if t == comparison_event}
        if not roles or ev.type == "Eq-Comparison":
            continue
        trigger = doc.entities.get(ev.trigger)
        if trigger is None:
            continue
        spans.extend(trigger.spans)
        texts.append(trigger.text)
        if ev.type == "Age":
            group = "age"
        elif "Temporality" in roles and group != "age":
            group = "window"
    return spans, " | ".join(texts), group


def _gold_number(text: str) -> float | None:
    text = text.strip()
    return parse_number(text.replace(",", ".") if _DECIMAL_COMMA.fullmatch(text) else text)


def _gold_of(doc: BratDoc) -> tuple[list[GoldComparison], list[tuple[int, int]]]:
    gold: list[GoldComparison] = []
    spans: list[tuple[int, int]] = []
    for ev in doc.events.values():
        if ev.type != "Eq-Comparison":
            continue
        trigger = doc.entities.get(ev.trigger)
        if trigger is None:
            continue
        spans.append((trigger.start, trigger.end))
        value_ids = ev.args_of("Value")
        if not value_ids:
            continue
        values, texts = [], []
        for vid in value_ids:
            ent = doc.entities.get(vid)
            if ent is None:
                continue
            texts.append(ent.text)
            number = _gold_number(ent.text)
            if number is not None:
                values.append(number)
        op_ids = ev.args_of("Operator")
        operator = doc.attribute(op_ids[0], "Eq-Operator-Value") if op_ids else None
        unit_ids = ev.args_of("Unit") + ev.args_of("Temporal-Unit")
        unit = doc.entities[unit_ids[0]].text if unit_ids and unit_ids[0] in doc.entities else None
        gold.append(
            GoldComparison(
                id=ev.id,
                start=trigger.start,
                end=trigger.end,
                text=trigger.text,
                operator=operator,
                values=sorted(values) if len(values) == len(texts) else [],
                value_text=texts,
                unit_text=unit,
                category=_category(doc, ev.id),
            )
        )
        gold[-1].things, gold[-1].thing_text, gold[-1].group = _things(doc, ev.id)
    gold.sort(key=lambda g: (g.start, g.end))
    return gold, sorted(spans)


def load_lct(lct_dir: str | Path) -> list[LctDoc]:
    """All documents of an LCT folder (``batch*/NCT*.txt`` with their ``.ann``), sorted."""
    lct_dir = Path(lct_dir)
    if not lct_dir.is_dir():
        raise FileNotFoundError(f"{lct_dir}: no such LCT folder")
    docs = []
    for txt in sorted(lct_dir.glob("batch*/*.txt")):
        brat = read_brat(txt)
        gold, spans = _gold_of(brat)
        docs.append(LctDoc(doc_id=txt.stem, batch=txt.parent.name, text=brat.text, gold=gold, comparison_spans=spans))
    return docs


# ---------------------------------------------------------------- running the pipeline

_HEADER = re.compile(r"^\s*(inclusion|exclusion)\b[^:\n]{0,40}:?\s*$", re.I)
_LABEL = re.compile(r"^\s*(?:(?:\d{1,3}|[a-zA-Z]|[ivx]{1,4})[.)]|[-*•·])\s+")
_OPS_LOST = str.maketrans({"≥": "=", "≤": "="})


def corrupt_text(text: str) -> str:
    """A registry dump's damage: every ≥ and ≤ becomes "=" (same length, offsets hold)."""
    return text.translate(_OPS_LOST)


def document_items(text: str):
    """Split an LCT document into one item per non-empty line (numbering stripped), with
    the kind of the last header seen. Offsets of each item index ``text``."""
    from criteria_nlp.segment.base import Item

    items = []
    kind = "inclusion"
    pos = 0
    for line in text.split("\n"):
        start = pos
        pos += len(line) + 1
        header = _HEADER.match(line)
        if header:
            kind = header.group(1).lower()
            continue
        label = _LABEL.match(line)
        offset = label.end() if label else len(line) - len(line.lstrip())
        body = line[offset:].rstrip()
        if not body:
            continue
        items.append(Item(kind=kind, label=None, text=body, start=start + offset, end=start + offset + len(body)))
    return items


def predict(nlp, text: str, repair: bool = True):
    """Constraints of an LCT document, offsets indexing ``text``."""
    from criteria_nlp.pipeline import extract_items

    items = document_items(text)
    found = extract_items(nlp, items, repair=repair)
    out = []
    for item, constraints in zip(items, found, strict=False):
        for c in constraints:
            out.append(_shift(c, item.start))
    return out


def _shift(c, delta: int):
    update = {"start": c.start + delta, "end": c.end + delta}
    if c.mention_start is not None:
        update.update(mention_start=c.mention_start + delta, mention_end=c.mention_end + delta)
    if c.alternates:
        update["alternates"] = [a.model_copy(update={"start": a.start + delta, "end": a.end + delta}) for a in c.alternates]
    return c.model_copy(update=update)


def _numbers(c) -> list[float]:
    return sorted([c.value] + ([c.upper] if c.upper is not None else []))


def _same_numbers(gold: list[float], pred: list[float]) -> bool:
    if len(gold) != len(pred):
        # "18 years or older" annotated once per bound but predicted as one range, or the
        # reverse; compare as sets of distinct numbers.
        return sorted(set(gold)) == sorted(set(pred))
    return all(abs(a - b) <= 1e-9 * max(1.0, abs(a)) for a, b in zip(gold, pred, strict=False))


def _same_bound(g: GoldComparison, c) -> bool:
    """Whether prediction ``c`` reads gold ``g``'s numbers. A calendar-date bound is
    compared by its years: LCT's values of a date are whichever numbers it took first
    ("1st of january 2011 to 31 december 2017" has values 1 and 31), its text is exact."""
    if getattr(c, "date", None):
        return years_of(c) == {int(y) for y in YEARS.findall(g.text)}
    if c.unit == ACUITY_UNIT:
        # "20/40 to 20/320": LCT's values are the numerators; the bound holds the fractions' values
        return set(_numbers(c)) == fraction_values(g.text)
    if getattr(c, "scale_max", None) is not None and float(c.scale_max) in g.values:
        # "between 4 and 26 / 30": LCT lists the scale's top among the values
        if _same_numbers(g.values, sorted(_numbers(c) + [float(c.scale_max)])):
            return True
    values = g.values
    power = re.match(r"10\*(\d{1,2})", c.unit or "")
    if power and len(values) > 1 and float("10" + power.group(1)) in values:
        # "<100x109/L": LCT took the flattened power of ten ("109", 10^9) for a value
        values = [v for v in values if v != float("10" + power.group(1))]
        if _same_numbers(values, _numbers(c)):
            return True
    if (
        c.operator == "between" and len(set(g.values)) > 2 and float(c.value).is_integer()
        and c.upper is not None and float(c.upper).is_integer()
    ):
        # "ASA I, II or III": LCT lists every member, the constraint is the range they fill
        return sorted(set(g.values)) == [float(v) for v in range(int(c.value), int(c.upper) + 1)]
    if _same_numbers(g.values, _numbers(c)):
        return True
    if c.operator == "between" and c.unit in TIME_IN_DAYS and g.values:
        # "between 6 months and 2 years" is 0.5 to 2 years; LCT has the numbers as written
        written = [float(n) for n in _WRITTEN_NUMBER.findall(c.text)]
        return _same_numbers(g.values, sorted(written))
    return False


_WRITTEN_NUMBER = re.compile(r"(?<![\d.])\d{1,6}(?:\.\d{1,6})?(?![\d.])")


def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def _sentence(text: str, start: int, end: int) -> str:
    s = text.rfind("\n", 0, start) + 1
    e = text.find("\n", end)
    return text[s : e if e >= 0 else len(text)].strip()


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate_lct(
    lct_dir: str | Path,
    nlp,
    corrupt: bool = False,
    limit: int | None = None,
    docs: list[LctDoc] | None = None,
    batches: list[str] | None = None,
    repair: bool = True,
) -> dict:
    """Score ``nlp`` on LCT comparisons. ``corrupt`` replaces every ≥ / ≤ by "=" before
    extraction (the gold keeps the true operator, so strict scores measure the repair).
    ``docs`` reuses documents already loaded; ``batches`` keeps only those batch folders."""
    if docs is None:
        docs = load_lct(lct_dir)
    if batches:
        docs = [d for d in docs if d.batch in set(batches)]
    if limit is not None:
        docs = docs[:limit]
    n_gold = n_pred = tp = tp_strict = n_nonnumeric = tp_window = window_readings = 0
    # gold whose operator LCT annotated, and the predictions matched to the other gold
    n_gold_annotated = tp_annotated = matched_unannotated = 0
    per_cat: Counter = Counter()
    per_cat_found: Counter = Counter()
    confusion: Counter = Counter()
    misses, false_alarms, wrong_operator, nonnumeric = [], [], [], []
    attribution = AttributionScore()
    stray = stray_words()
    alternate_found: list[GoldComparison] = []
    split_extra = 0  # second bounds of ranges LCT annotated as two comparisons
    part_gold: Counter = Counter()
    part_found: Counter = Counter()
    for doc in docs:
        text = corrupt_text(doc.text) if corrupt else doc.text
        preds = predict(nlp, text, repair=repair)
        part = "validation" if is_validation("lct", doc.doc_id, doc.batch) else "train"
        # examples (misses, false alarms, wrong operators) are listed for training trials
        # only: the validation batches are scored, never read
        listed = part == "train"
        gold = []
        for g in doc.gold:
            if not g.values:
                n_nonnumeric += 1
                if listed:
                    nonnumeric.append({"doc": doc.doc_id, "text": g.text, "value": g.value_text})
            else:
                gold.append(g)
        used: set[int] = set()
        matches: list[tuple[GoldComparison, list[int]]] = []  # gold, the predictions it matched
        # Greedy one-to-one matching, gold in text order.
        for g in gold:
            for k, c in enumerate(preds):
                if k not in used and _overlaps(g.start, g.end, c.start, c.end) and _same_bound(g, c):
                    used.add(k)
                    matches.append((g, [k]))
                    break
        # "BP > 140/90 mmHg" is one gold comparison with two values, read as two bounds
        # (systolic, diastolic) on one span with one operator: together they match it.
        matched_ids = {g.id for g, _ in matches}
        for g in gold:
            if g.id in matched_ids or len(set(g.values)) < 2:
                continue
            group = [k for k, c in enumerate(preds) if k not in used and _overlaps(g.start, g.end, c.start, c.end)]
            ops = {preds[k].operator for k in group}
            numbers = sorted({v for k in group for v in _numbers(preds[k])})
            spans = {(preds[k].start, preds[k].end) for k in group}
            if len(group) < 2 or len(ops) != 1 or len(spans) != 1 or numbers != sorted(set(g.values)):
                continue
            used.update(group)
            matches.append((g, group))
        # "145 mmHg ≤ SBP ≤ 190 mmHg" is one range, LCT annotates each bound on its own:
        # each bound of the range finds its gold, the second counted as a bound of its own
        # (as an alternate is, below), so precision does not gain from the split.
        matched_ids = {g.id for g, _ in matches}
        bound_used: set[tuple[int, float]] = set()
        for g in gold:
            if g.id in matched_ids or len(set(g.values)) != 1:
                continue
            for k, c in enumerate(preds):
                if (
                    k in used or c.operator != "between" or c.date or not _overlaps(g.start, g.end, c.start, c.end)
                    or g.values[0] not in (c.value, c.upper) or (k, g.values[0]) in bound_used
                ):
                    continue
                if any(kk == k for kk, _ in bound_used):
                    split_extra += 1
                bound_used.add((k, g.values[0]))
                matches.append((g, [k]))
                matched_ids.add(g.id)
                break
        used.update(k for k, _ in bound_used)
        # A restatement in another unit ("(1500/uL)") is stored on the constraint it
        # restates; when LCT annotated it as a comparison of its own, the alternate finds it.
        matched_ids = {g.id for g, _ in matches}
        for g in gold:
            if g.id in matched_ids:
                continue
            for c in preds:
                if any(
                    _overlaps(g.start, g.end, a.start, a.end)
                    and _same_numbers(g.values, sorted([a.value] + ([a.upper] if a.upper is not None else [])))
                    for a in c.alternates
                ):
                    alternate_found.append(g)
                    break
        attribution.count_names(part, preds, stray)
        for g, ks in matches:
            if not g.things:
                continue
            right = any(mention_hits(preds[k], g.things) for k in ks)
            c = preds[ks[0]]
            attribution.add(
                part,
                g.group,
                right,
                c.mention is not None,
                attribution_example(doc.doc_id, _sentence(doc.text, g.start, g.end), g, c),
            )
        matched_gold: set[str] = set()
        for g in alternate_found:
            matched_gold.add(g.id)
            tp += 1
            n_pred += 1  # the alternate is a found bound of its own here
        alternate_found.clear()
        n_pred += split_extra
        split_extra = 0
        for g, ks in matches:
            c = preds[ks[0]]  # a group shares its operator and span
            matched_gold.add(g.id)
            tp += 1
            confusion[(g.expected_operator, c.operator)] += 1
            if g.operator is None:
                matched_unannotated += 1
            if c.operator == g.expected_operator:
                tp_strict += 1
                tp_window += 1
                tp_annotated += g.operator is not None
            elif g.operator is None and c.operator == "<=" and c.category == "temporal":
                # LCT leaves "in the past 6 months" without an operator; we read <=.
                tp_window += 1
                window_readings += 1
            elif listed and len(wrong_operator) < 2000:
                wrong_operator.append(
                    {
                        "doc": doc.doc_id,
                        "sentence": _sentence(doc.text, g.start, g.end),
                        "gold": g.text,
                        "gold_operator": g.expected_operator,
                        "gold_operator_annotated": g.operator is not None,
                        "found": c.text,
                        "found_operator": c.operator,
                        "written_operator": c.written_operator,
                    }
                )
        n_gold += len(gold)
        part_gold[part] += len(gold)
        part_found[part] += len(matched_gold)
        n_gold_annotated += sum(g.operator is not None for g in gold)
        for g in gold:
            per_cat[g.category] += 1
            if g.id in matched_gold:
                per_cat_found[g.category] += 1
            elif listed:
                misses.append(
                    {
                        "doc": doc.doc_id,
                        "sentence": _sentence(doc.text, g.start, g.end),
                        "start": g.start,
                        "end": g.end,
                        "gold": g.text,
                        "gold_values": g.values,
                        "gold_operator": g.expected_operator,
                        "category": g.category,
                        "found": [
                            c.text for c in preds if _overlaps(g.start, g.end, c.start, c.end)
                        ],
                    }
                )
        for k, c in enumerate(preds):
            if k in used:
                continue
            hits = [s for s in doc.comparison_spans if _overlaps(s[0], s[1], c.start, c.end)]
            numeric_hit = any(_overlaps(g.start, g.end, c.start, c.end) for g in gold)
            if hits and not numeric_hit:
                continue  # inside a comparison whose gold value has no number: no judgement
            n_pred += 1
            if not listed:
                continue
            false_alarms.append(
                {
                    "doc": doc.doc_id,
                    "sentence": _sentence(doc.text, c.start, c.end),
                    "start": c.start,
                    "end": c.end,
                    "found": c.text,
                    "variable": c.variable,
                    "operator": c.operator,
                    "values": _numbers(c),
                    "overlaps_gold": numeric_hit,
                }
            )
        # a matched group counts as the one prediction that it is
        n_pred += len(used) - sum(len(ks) - 1 for _, ks in matches)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    sp = tp_strict / n_pred if n_pred else 0.0
    sr = tp_strict / n_gold if n_gold else 0.0
    n_pred_annotated = n_pred - matched_unannotated
    ap = tp_annotated / n_pred_annotated if n_pred_annotated else 0.0
    ar = tp_annotated / n_gold_annotated if n_gold_annotated else 0.0
    return {
        "documents": len(docs),
        "corrupt": corrupt,
        "gold": n_gold,
        "gold_without_number": n_nonnumeric,
        "predicted": n_pred,
        "found": tp,
        "detection": {"precision": precision, "recall": recall, "f1": _f1(precision, recall)},
        # Strict over all numeric gold: a comparison LCT annotated without any operator
        # ("in the past 6 months", "0 or 1") is expected as "==".
        "strict": {"precision": sp, "recall": sr, "f1": _f1(sp, sr), "operator_accuracy": tp_strict / tp if tp else 0.0},
        # Strict over the gold whose operator LCT annotated: a comparison without an annotated
        # operator cannot be judged, so it and the prediction matched to it are left out.
        "strict_annotated": {
            "precision": ap,
            "recall": ar,
            "f1": _f1(ap, ar),
            "gold": n_gold_annotated,
            "predicted": n_pred_annotated,
            "correct": tp_annotated,
            "left_out_gold_without_operator": n_gold - n_gold_annotated,
            "left_out_predictions_matched_to_them": matched_unannotated,
            "note": "gold comparisons without an annotated operator are not counted (their operator cannot be judged)",
        },
        # Strict, but a past-time window ("in the last 2 months") read as "<=" counts as right
        # where LCT annotated the comparison without any operator.
        "strict_windows_as_lteq": {
            "f1": _f1(tp_window / n_pred if n_pred else 0.0, tp_window / n_gold if n_gold else 0.0),
            "windows_read_as_lteq": window_readings,
        },
        "recall_by_category": {
            cat: {"gold": n, "found": per_cat_found[cat], "recall": per_cat_found[cat] / n}
            for cat, n in sorted(per_cat.items(), key=lambda kv: -kv[1])
        },
        "recall_by_part": {p: round(part_found[p] / part_gold[p], 4) if part_gold[p] else None for p in ("train", "validation")},
        **attribution.report(),
        "recall_temporal": _group_recall(per_cat, per_cat_found, lambda c: c == "temporal"),
        "recall_not_temporal": _group_recall(per_cat, per_cat_found, lambda c: c != "temporal"),
        "operator_confusion": {f"{g} -> {p}": n for (g, p), n in confusion.most_common()},
        "misses": misses,
        "false_alarms": false_alarms,
        "wrong_operator": wrong_operator,
        "gold_without_number_list": nonnumeric,
    }


def _group_recall(total: Counter, found: Counter, keep) -> float:
    n = sum(v for k, v in total.items() if keep(k))
    f = sum(v for k, v in found.items() if keep(k))
    return f / n if n else 0.0

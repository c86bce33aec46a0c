"""Attribution: does a found constraint name the thing its gold comparison bounds?

A gold comparison that the pipeline found (detection matched it) is *attributed right*
when the constraint's mention span overlaps the gold thing: in LCT the entity whose
Numeric-Filter / Temporality (or other) role points to the comparison, in Chia the entity
linked to the value by ``Has_value``, or, for a time window (a ``Temporal`` span holding a
number), the entity linked to it by ``Has_temporal``. Scores are split by part of the one
validation split (``evaluation/split.py``) and by group: ``age``, ``window`` (a time
window, scored on the event it bounds) and ``rest``. Misses are listed for training
trials only; the validation part gives figures, never sentences.

``named_by_itself`` counts constraints whose variable is their own text or a stray word
(what the issue asked to be null instead).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from criteria_nlp.evaluation.brat import read_brat
from criteria_nlp.evaluation.split import is_validation
from criteria_nlp.pipeline.calendar_dates import years_of
from criteria_nlp.pipeline.numbers import parse_number
from criteria_nlp.pipeline.written_fractions import ACUITY_UNIT

GROUPS = ("age", "window", "rest")
MAX_MISSES = 400


def overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def mention_hits(c, things: list[tuple[int, int]]) -> bool:
    if c.mention_start is None or c.mention_end is None:
        return False
    return any(overlaps(c.mention_start, c.mention_end, s, e) for s, e in things)


def attribution_example(doc: str, sentence: str, gold, c) -> dict:
    """One attribution reading as the report lists it: the gold comparison and its thing
    beside the constraint found for it."""
    return {
        "doc": doc,
        "sentence": sentence,
        "gold": gold.text,
        "gold_thing": gold.thing_text,
        "group": gold.group,
        "found": c.text,
        "mention": c.mention,
        "variable": c.variable,
        "category": c.category,
    }


@dataclass
class AttributionScore:
    """Counts per part ('train', 'validation') and group."""

    total: Counter = field(default_factory=Counter)
    right: Counter = field(default_factory=Counter)
    unnamed: Counter = field(default_factory=Counter)
    misses: list[dict] = field(default_factory=list)
    constraints: Counter = field(default_factory=Counter)
    self_named: Counter = field(default_factory=Counter)

    def add(self, part: str, group: str, right: bool, named: bool, miss: dict | None = None) -> None:
        for g in (group, "all"):
            self.total[(part, g)] += 1
            self.right[(part, g)] += right
            self.unnamed[(part, g)] += not named
        if not right and miss is not None and part == "train" and len(self.misses) < MAX_MISSES:
            self.misses.append(miss)

    def count_names(self, part: str, constraints, stray: set[str]) -> None:
        from criteria_nlp.pipeline.variables import _bundled

        names = set(_bundled())
        for c in constraints:
            self.constraints[part] += 1
            if c.variable is None or c.variable in names:
                continue
            v = c.variable.strip().lower()
            if v == c.text.strip().lower() or v in stray or not re.search(r"[a-z]", v):
                self.self_named[part] += 1

    def report(self) -> dict:
        out: dict = {}
        for part in ("train", "validation"):
            row = {}
            for g in ("all", *GROUPS):
                n = self.total[(part, g)]
                row[g] = round(self.right[(part, g)] / n, 4) if n else None
                row[f"{g}_n"] = n
            row["found_without_mention"] = self.unnamed[(part, "all")]
            row["constraints"] = self.constraints[part]
            row["named_by_own_text_or_stray_word"] = self.self_named[part]
            out[part] = row
        return {"attribution": out, "attribution_misses_train": self.misses}


def stray_words() -> set[str]:
    """The stray words of the shipped attachment data (a variable must not be one)."""
    import json

    from criteria_nlp.pipeline.constraints import RESOURCES

    data = json.loads((RESOURCES / "attachment.json").read_text(encoding="utf-8"))
    return {w.lower() for w in data.get("stray", [])} | {w.lower() for w in data.get("boundary", [])}


# ---------------------------------------------------------------- Chia

_OTHER_UNIT = re.compile(r"(?i)mg|g/|/d?l\b|kg|cm|mm|mol|units?\b|%|iu\b|ml|cp/|lbs?\b|drinks|cigarettes")
_NUMBER = re.compile(r"\d+(?:[.,·]\d+)?")


def _gold_digits(written: str) -> str:
    """A number of a Chia value as digits: "1,000" is a thousand, "1,5" and "7,0" (one or
    two digits after the comma) are decimal commas, as European registrants write them."""
    if re.fullmatch(r"\d+,\d{1,2}", written):
        return written.replace(",", ".")
    return written.replace(",", "")


@dataclass
class ChiaGold:
    start: int
    end: int
    text: str
    numbers: list[float]
    things: list[tuple[int, int]]
    thing_text: str
    group: str
    types: tuple[str, ...] = ()  # the entity types of the things


def _realign(text: str, spans: list[tuple[int, int]], written: str) -> list[tuple[int, int]]:
    """Some Chia files' offsets drift from their text by a few characters: an entity whose
    span does not hold its text is moved to the nearest place that does (within 100)."""
    if len(spans) != 1:
        return spans
    s, e = spans[0]
    if text[s:e] == written or not written:
        return spans
    best = None
    i = text.find(written, max(0, s - 100), e + 100)
    while i >= 0 and i <= e + 100:
        if best is None or abs(i - s) < abs(best - s):
            best = i
        i = text.find(written, i + 1, e + 100 + len(written))
    return [(best, best + len(written))] if best is not None else spans


def _chia_gold(path: Path) -> tuple[str, list[ChiaGold]]:
    doc = read_brat(path)
    ents = doc.entities
    for ent in ents.values():
        ent.spans = _realign(doc.text, ent.spans, ent.text)
    values: dict[str, list[str]] = {}
    temporals: dict[str, list[str]] = {}
    for r in doc.relations:
        if r.arg1 not in ents or r.arg2 not in ents:
            continue
        if r.type == "Has_value":
            values.setdefault(r.arg2, []).append(r.arg1)
        elif r.type == "Has_temporal" and ents[r.arg2].type == "Temporal":
            temporals.setdefault(r.arg2, []).append(r.arg1)
    gold = []
    for table, window in ((values, False), (temporals, True)):
        for vid, thing_ids in table.items():
            v = ents[vid]
            numbers = [n for n in (parse_number(_gold_digits(x)) for x in _NUMBER.findall(v.text)) if n is not None]
            if not numbers:
                continue
            things = [sp for t in thing_ids for sp in ents[t].spans]
            types = {ents[t].type for t in thing_ids}
            # a Person with a value is an age, unless the value has a unit of another kind
            # ("Hb < 11.5 g/dL for women" links the women to a lab value)
            age = "Person" in types and not _OTHER_UNIT.search(v.text)
            group = "window" if window else "age" if age else "rest"
            gold.append(
                ChiaGold(
                    v.start, v.end, v.text, numbers, things, " | ".join(ents[t].text for t in thing_ids), group,
                    tuple(sorted(types)),
                )
            )
    gold.sort(key=lambda g: (g.start, g.end))
    return doc.text, gold


def _line_items(text: str):
    from criteria_nlp.segment.base import Item

    items, pos = [], 0
    for line in text.split("\n"):
        start = pos
        pos += len(line) + 1
        body = line.strip()
        if body:
            offset = start + len(line) - len(line.lstrip())
            items.append(Item(kind="inclusion", label=None, text=body, start=offset, end=offset + len(body)))
    return items


def _shift(c, delta: int):
    update = {"start": c.start + delta, "end": c.end + delta}
    if c.mention_start is not None:
        update.update(mention_start=c.mention_start + delta, mention_end=c.mention_end + delta)
    return c.model_copy(update=update)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a))


def evaluate_chia_attribution(chia_dir: str | Path, nlp, limit: int | None = None, repair: bool = True) -> dict:
    """Attribution on Chia: each Value / Temporal span with a number that a constraint
    overlaps with one of its numbers is found; it is right when the constraint's mention
    overlaps the linked entity."""
    from criteria_nlp.pipeline import extract_items

    chia_dir = Path(chia_dir)
    files = sorted(chia_dir.glob("NCT*_*.txt"))
    if not files:
        raise FileNotFoundError(f"{chia_dir}: no NCT*_inc.txt / NCT*_exc.txt files")
    if limit is not None:
        files = files[:limit]
    score = AttributionScore()
    stray = stray_words()
    found = n_gold = 0
    missed: list[dict] = []
    per_part = Counter()
    found_part = Counter()
    for path in files:
        trial = path.stem.split("_")[0]
        part = "validation" if is_validation("chia", trial) else "train"
        text, gold = _chia_gold(path)
        items = _line_items(text)
        kind = "exclusion" if path.stem.endswith("_exc") else "inclusion"
        for it in items:
            it.kind = kind
        preds = [_shift(c, it.start) for it, cs in zip(items, extract_items(nlp, items, repair=repair), strict=True) for c in cs]
        score.count_names(part, preds, stray)
        used: set[int] = set()
        used_twice: set[int] = set()
        for g in gold:
            n_gold += 1
            per_part[part] += 1
            match = None
            for k, c in enumerate(preds):
                if not overlaps(g.start, g.end, c.start, c.end):
                    continue
                if k in used:
                    # "130mmHg=SBP<180mmHg": one range, two gold values; the second finds the
                    # range by its other bound
                    if not (c.operator == "between" and k not in used_twice and len(g.numbers) == 1):
                        continue
                    if not any(_same(g.numbers[0], b) for b in (c.value, c.upper)):
                        continue
                    used_twice.add(k)
                nums = [c.value] + ([c.upper] if c.upper is not None else [])
                if c.date:
                    # a calendar date is compared by its years ("March 2016" is 2016.16)
                    nums = [float(y) for y in years_of(c)]
                if c.unit == ACUITY_UNIT or c.scale_max is not None:
                    # "20/40 or better", "4/10 or more": Chia's numbers are the written numerals
                    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", c.text)]
                if any(_same(a, b) for a in nums for b in g.numbers):
                    match = k
                    break
            if match is None:
                if part == "train" and len(missed) < 400:  # validation misses are never listed
                    s = text.rfind("\n", 0, g.start) + 1
                    e = text.find("\n", g.end)
                    missed.append({"doc": path.stem, "gold": text[g.start : g.end], "numbers": g.numbers,
                                   "sentence": text[s : e if e >= 0 else len(text)][:200],
                                   "found": [c.text for c in preds if overlaps(g.start, g.end, c.start, c.end)]})
                continue
            used.add(match)
            found += 1
            found_part[part] += 1
            c = preds[match]
            right = mention_hits(c, g.things)
            s = text.rfind("\n", 0, g.start) + 1
            e = text.find("\n", g.end)
            score.add(
                part,
                g.group,
                right,
                c.mention is not None,
                attribution_example(path.stem, text[s : e if e >= 0 else len(text)], g, c),
            )
    out = {
        "documents": len(files),
        "gold_values": n_gold,
        "found": found,
        "found_rate": {p: round(found_part[p] / per_part[p], 4) if per_part[p] else None for p in ("train", "validation")},
    }
    out.update(score.report())
    out["misses_train"] = missed
    return out

"""Features of the operator repair's learned decision: the words around the "=", what
the extractor read, the item's real operators and the rule voices (:func:`decision_features`).
Training (:mod:`criteria_nlp.evaluation.repair_data`) builds its rows with the same functions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from criteria_nlp.pipeline.repair_rules import LOWER_OPS, UPPER_OPS, Vote, _operator_span, find_variable
from criteria_nlp.schema import Constraint

_TOKEN = re.compile(r"[a-z]+|\d+(?:[.,]\d+)?|[^\sa-z\d]")
_NUMBER = re.compile(r"\s*(\d+(?:[.,]\d+)?)")


def _norm(tok: str) -> str:
    return "<num>" if tok[0].isdigit() else tok


def _value_bin(value: float) -> str:
    for edge in (0, 1, 2, 5, 10, 20, 50, 100, 1000):
        if value <= edge:
            return str(edge)
    return "big"


def context_features(
    text: str, op_start: int, op_end: int, kind: str | None, entry: dict | None | bool = True
) -> list[str]:
    """Features of the words around an operator whose sign is unknown. The same function
    builds training rows (operator masked) and run-time rows, so they match exactly.
    ``entry`` is the variable's lexicon entry; True looks it up in the words before."""
    line_start = text.rfind("\n", 0, op_start) + 1
    if entry is True:
        entry = find_variable(text[max(line_start, op_start - 60) : op_start])
    before = [_norm(t) for t in _TOKEN.findall(text[max(line_start, op_start - 120) : op_start].lower())][-8:]
    m = _NUMBER.match(text, op_end)
    value_end = m.end() if m else op_end
    line_end = text.find("\n", value_end)
    after_text = text[value_end : line_end if line_end >= 0 else len(text)][:80].lower()
    after = [_norm(t) for t in _TOKEN.findall(after_text)][:5]
    k = kind or "none"
    feats = ["bias:1", f"kind:{k}"]
    for i, tok in enumerate(reversed(before[-3:]), 1):
        feats.append(f"w-{i}:{tok}")
    for tok in set(before):
        feats.append(f"b:{tok}")
        feats.append(f"k:{k}:b:{tok}")
    for i, tok in enumerate(after[:3], 1):
        feats.append(f"w+{i}:{tok}")
    for tok in set(after):
        feats.append(f"a:{tok}")
    if m:
        value = float(m.group(1).replace(",", "."))
        unit = after[0] if after else "<none>"
        feats.append(f"v:{_value_bin(value)}")
        feats.append(f"vu:{_value_bin(value)}:{unit}")
        feats.append(f"k:{k}:vu:{_value_bin(value)}:{unit}")
    if entry:
        feats.append(f"var:{entry['name']}")
        feats.append(f"k:{k}:var:{entry['name']}")
        feats.append(f"k:{k}:cat:{entry.get('category')}:abn:{entry.get('abnormal')}")
    return feats


VOICE = "voice:"


def written_form(c: Constraint) -> str:
    """The written form of the lost sign, a feature of the decision ("=" here; "*" or
    "deleted" for the other ways exports lose a sign)."""
    return c.written_operator if c.written_operator else "deleted"


def decision_features(
    c: Constraint,
    text: str,
    kind: str | None,
    votes: Sequence[Vote],
    entry: dict | None = None,
    others: Sequence[Constraint] = (),
    near: frozenset[tuple[str, str]] | None = None,
) -> dict[str, float]:
    """Every feature of the one learned decision on ``c``: the context words, value bins,
    variable and category (:func:`context_features`), what the extractor read, the real
    operators of the item's other constraints (``others``), the written form, and each
    rule voice as +1 (points to '>=') or -1 (points to '<='). Training builds its rows
    with this same function."""
    op_start, op_end = _operator_span(c)
    feats = dict.fromkeys(context_features(text, op_start, op_end, kind, entry if entry else True), 1.0)
    feats.update(dict.fromkeys(_reading_features(c, text, kind, op_start, op_end), 1.0))
    near = neighbour_ways(others) if near is None else near
    feats.update(dict.fromkeys(_neighbour_features(c, kind, near), 1.0))
    feats[f"form:{written_form(c)}"] = 1.0
    feats.update(dict.fromkeys(item_features(text, kind, op_start), 1.0))
    feats.update(dict.fromkeys(crossed_item_words(feats), 1.0))
    for v in votes:
        if v.score and v.key and v.key != "model":
            key = VOICE + v.key
            feats[key] = max(-2.0, min(2.0, feats.get(key, 0.0) + (1.0 if v.score > 0 else -1.0)))
    if VOICE + FITNESS_VOICE in feats:
        feats = _fitness_apart(feats)
    return feats


# The voice of the rules' inclusion-side patterns (performance status: ECOG, Karnofsky ...).
FITNESS_VOICE = "lexicon:inclusion:pattern"


def _fitness_apart(feats: dict[str, float]) -> dict[str, float]:
    """The abnormal-side crosses of a fitness scale named apart. ECOG and its kin are most
    of the training's scores that are worse when high, and an inclusion item bounds them from
    above; a disease-activity score (worse when high too) is bounded from below. Shared, the
    crosses learn ECOG's direction for both (grouped CV: lost-sign log-loss 0.2194 -> 0.2192,
    accuracy 0.9145 -> 0.9150)."""
    return {(f.replace(":abn:high", ":abn:high-fitness") if ":abn:high" in f else f): x for f, x in feats.items()}


def _reading_features(c: Constraint, text: str, kind: str | None, op_start: int, op_end: int) -> list[str]:
    """What the extractor read (category, unit, reference limit, the mention's head word,
    negation) and the item's first words, each crossed with the item kind."""
    k = kind or "none"
    feats = [f"k:{k}:cat:{c.category}", f"k:{k}:unit:{c.unit}", f"k:{k}:cat:{c.category}:unit:{c.unit}"]
    if c.relative_to:
        feats.append(f"k:{k}:rel:{c.relative_to}")
    if c.negated:
        feats.append(f"k:{k}:negated")
    if c.mention:
        words = _TOKEN.findall(c.mention.lower())
        if words:
            feats.append(f"k:{k}:head:{_norm(words[-1])}")
    first = [_norm(t) for t in _TOKEN.findall(text[: min(op_start, 60)].lower())[:2]]
    feats += [f"k:{k}:first{i}:{t}" for i, t in enumerate(first)]
    m = _NUMBER.match(text, op_end)
    after = _TOKEN.findall(text[m.end() if m else op_end :][:60].lower())[:4]
    feats += [f"k:{k}:a:{_norm(t)}" for t in set(after)]
    return feats


def neighbour_ways(others: Sequence[Constraint]) -> frozenset[tuple[str, str]]:
    """(direction, category) of every real operator among ``others`` (one item's
    constraints); computed once per item, so reading every '=' stays linear."""
    ways = set()
    for o in others:
        if o.written_operator == "=" and not o.repaired:
            continue
        if o.operator in LOWER_OPS:
            ways.add(("up", o.category))
        elif o.operator in UPPER_OPS:
            ways.add(("down", o.category))
    return frozenset(ways)


def _neighbour_features(c: Constraint, kind: str | None, near: frozenset[tuple[str, str]]) -> list[str]:
    """The directions of the real operators next to ``c`` in its item ("Hb < 9; WBC = 2"
    in an exclusion item lists low values), by the same category or not."""
    k = kind or "none"
    feats = [f"k:{k}:near:{way}" for way in {w for w, _ in near}]
    feats += [f"k:{k}:near:{way}:same-category" for way, cat in near if cat == c.category]
    return feats


_WORD = re.compile(r"[a-z]{3,}")
# Opening and closing brackets: is the '=' inside "( ... )" of its item?
_OPEN, _CLOSE = "([", ")]"


@lru_cache(maxsize=512)
def _item_words(head: str, k: str) -> tuple[str, ...]:
    """The item's words as features, once per item (every '=' of it reads the same)."""
    return tuple(f"k:{k}:item:{w}" for w in sorted(set(_WORD.findall(head.lower()))))


def item_features(text: str, kind: str | None, op_start: int) -> list[str]:
    """The words of the whole item crossed with its kind ("adequate", "defined", "stage"
    far from the '='), and whether the '=' stands inside brackets, after a number and
    unit (a conversion of the bound before: "2 mg/dL (= 34 umol/L)") or after words (a
    window or a grade after an event: "infarction (= 6 months)")."""
    k = kind or "none"
    feats = list(_item_words(text[:400], k))
    line_start = text.rfind("\n", 0, op_start) + 1
    depth = 0
    opened = -1
    for i in range(op_start - 1, max(line_start, op_start - 120) - 1, -1):
        ch = text[i]
        if ch in _CLOSE:
            depth += 1
        elif ch in _OPEN:
            if depth == 0:
                opened = i
                break
            depth -= 1
    if opened >= 0:
        before = text[max(line_start, opened - 20) : opened].rstrip().lower()
        after_number = bool(re.search(r"\d\s*[a-zµ%/^\d.]*$", before)) and any(ch.isdigit() for ch in before[-12:])
        shape = "conversion" if after_number else "words"
        feats += [f"k:{k}:paren", f"k:{k}:paren:{shape}"]
    return feats


def crossed_item_words(feats: dict[str, float]) -> list[str]:
    """The item's words crossed with the variable's abnormal side and with the category
    the extractor read ("adequate" asks for <= of a lab whose high side is abnormal and
    >= of one whose low side is): pairs a logistic regression cannot form itself. A pure
    function of the other features, so training rows and run time agree."""
    abn = next((f.rsplit(":abn:", 1)[1] for f in feats if f.startswith("k:") and ":abn:" in f), "none")
    cat = next(
        (f.split(":cat:", 1)[1] for f in feats if f.startswith("k:") and ":cat:" in f and ":unit:" not in f and ":abn:" not in f),
        "none",
    )
    words = [f for f in feats if ":item:" in f]
    return [f.replace(":item:", f":abn:{abn}:item:") for f in words] + [f.replace(":item:", f":cat:{cat}:item:") for f in words]

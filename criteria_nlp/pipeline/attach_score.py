"""The learned attachment step of ``criteria_constraints``: among the candidate mentions
of a bound (``attach_candidates``: the rules' choice, lexicon matches and noun chunks near
it), keep the one a linear scorer ranks first.

The weights are plain JSON (``models/attachment/weights.json``: ``{"bias": b, "weights":
{feature: w}}``) fitted by ``criteria-nlp train-attachment`` on the training parts of LCT
and Chia; scoring is a sum in pure Python. Without weights the rules' choice stands.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from criteria_nlp.pipeline.attach_candidates import (
    REACH_AFTER,
    REACH_BEFORE,
    ItemWords,
    bound_kind,
    candidates,
    rule_class,
)
from criteria_nlp.pipeline.entity_index import span_entity
from criteria_nlp.pipeline.grammar import WINDOW_UNITS

REL_PATH = Path("models") / "attachment" / "weights.json"
WEIGHTS_FILE = "attachment_weights.json"  # its name inside a saved pipeline's component folder
REPO_ROOT = Path(__file__).resolve().parents[2]
_DOSE_UNIT_KINDS = {"dose", "dose per body mass", "dose rate", "mass rate", "dose per body surface area"}


class AttachmentScorer:
    def __init__(self, data: dict):
        self.data = data
        self.weights: dict[str, float] = {k: float(v) for k, v in data.get("weights", {}).items()}
        self.margin = float(data.get("margin", 0.0))
        # the classes (bound kind / what the rules named) the scorer is asked about
        self.gate = set(data["gate"]) if "gate" in data else None
        self.gate_kinds = {g.split("/")[0] for g in self.gate} if self.gate is not None else None
        # a gate of unnamed bounds only needs no look at the lexicon matches
        self.only_unnamed = self.gate is not None and all(g.endswith("/none") for g in self.gate)

    @classmethod
    def load(cls, path: str | Path) -> AttachmentScorer:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable attachment weights file ({exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("weights"), dict):
            raise ValueError(f"{path}: an attachment weights file needs a 'weights' object")
        return cls(data)

    def score(self, feats: list[str]) -> float:
        get = self.weights.get
        return sum([get(f, 0.0) for f in feats])

    def choose(self, cands):
        """The best candidate, or None to keep the rules' choice: another candidate must
        beat the rules' one by ``margin``."""
        best = best_score = None
        rule_score = None
        for x in cands:
            s = self.score(x.feats)
            if x.rule:
                rule_score = s
            if best_score is None or s > best_score:
                best, best_score = x, s
        if best is None or best.rule:
            return None
        if rule_score is not None and best_score - rule_score < self.margin:
            return None
        return best


def shipped_weights() -> dict | None:
    """The shipped weights (models/ of a source checkout, or criteria_nlp/models/ inside the
    wheel) as data; None when neither exists. A broken file is a clear error."""
    for path in (REPO_ROOT / REL_PATH, Path(__file__).resolve().parents[1] / REL_PATH):
        if path.exists():
            return AttachmentScorer.load(path).data
    return None


def rescore(extractor, scorer: AttachmentScorer, text: str, ents, found: list) -> list:
    """``found`` with each bound's mention re-chosen by ``scorer`` (item offsets).
    Bounds sharing one span (coordinated names, blood pressure pairs) keep theirs."""
    if not found:
        return found
    gate, kinds = scorer.gate, scorer.gate_kinds
    if scorer.only_unnamed:
        asked = [c.mention_start is None and f"{bound_kind(c)}/none" in gate for c in found]
    else:
        asked = [gate is None or (bound_kind(c) in kinds and rule_class(c, ents) in gate) for c in found]
    if not any(asked):
        return found
    bounds = [(c.start, c.end) for c in found]
    shared = {b for b, n in Counter(bounds).items() if n > 1} if len(set(bounds)) < len(bounds) else set()
    lo = max(0, min(c.start for c, a in zip(found, asked, strict=True) if a) - REACH_BEFORE)
    hi = min(len(text), max(c.end for c, a in zip(found, asked, strict=True) if a) + REACH_AFTER)
    words = ItemWords.read(extractor.chunker, text, bounds, lo, hi)
    out = []
    for c, ask in zip(found, asked, strict=True):
        if not ask or (c.start, c.end) in shared:
            out.append(c)
            continue
        cands = candidates(extractor.chunker, text, words, ents, c, bounds)
        best = scorer.choose(cands) if cands else None
        out.append(c if best is None else _renamed(extractor, c, best, text, ents))
    return out


def _renamed(extractor, c, x, text: str, ents):
    """``c`` naming candidate ``x``: its lexicon name when it is a lexicon match, else its
    words; the category follows the new name where it came from the old one."""
    old_ent = span_entity(ents, c.mention_start, c.mention_end)
    category = c.category
    if x.ent is not None and x.ent[2] == "age":
        category, variable = "age", "age"
    else:
        variable = x.ent[3] if x.ent is not None else text[x.start : x.end]
        if category == "age":
            category = "temporal" if c.unit in WINDOW_UNITS else (x.ent[2] if x.ent is not None else "other")
        elif category not in ("temporal", "dose"):
            if x.ent is not None:
                category = x.ent[2]
            elif old_ent is not None and old_ent[2] == category:
                kind = extractor.grammar.unit_kind.get(c.unit or "", "")
                category = "dose" if kind in _DOSE_UNIT_KINDS else "other"
    return c.model_copy(
        update={
            "variable": variable,
            "mention": text[x.start : x.end],
            "mention_start": x.start,
            "mention_end": x.end,
            "category": category,
        }
    )


__all__ = ["WEIGHTS_FILE", "AttachmentScorer", "bound_kind", "rescore", "shipped_weights"]

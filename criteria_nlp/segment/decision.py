"""How the kinds of a headerless list are decided from the classifier's scores.

The classifier (:mod:`criteria_nlp.segment.classifier`) scores every switch point k = 0..n
of a list of n items (items before k are inclusion, from k on exclusion): the items'
summed log-probabilities plus the weighted boundary logit. k = n says the whole list is
inclusion, k = 0 that it is all exclusion (a user may pass just one of the two lists).

Here those scores become a posterior over k, ``softmax(score / temperature)``, with a
bonus on k = 0 and on k = n (how often a list is of one kind only). Each item's probability
of being an exclusion criterion is the posterior mass of the switch points at or before it,
which rises along the list; the ``median`` rule gives each item its likelier kind (the
decision with the fewest expected errors, still one switch), ``argmax`` the single best k.
The item's ``kind_confidence`` is that probability of the kind given. Temperature, bonuses
and rule are chosen by trial-level cross-validation on the Chia training trials
(``python -m criteria_nlp.segment.decision CHIA_DIR``; see the notes of the model).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

RULES = ("median", "argmax")
_EPS = 1e-6


@dataclass(frozen=True)
class Decision:
    temperature: float = 1.0
    rule: str = "argmax"
    start_bonus: float = 0.0  # added to the score of k = 0: the whole list is exclusion
    end_bonus: float = 0.0  # added to the score of k = n: the whole list is inclusion
    min_inclusion: int = 1  # fewest inclusion items a list may open with (0: none needed)

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"decision rule must be one of {', '.join(RULES)}, not {self.rule!r}")
        if not self.temperature > 0:
            raise ValueError(f"decision temperature must be positive, not {self.temperature!r}")
        if self.min_inclusion < 0:
            raise ValueError(f"min_inclusion must be >= 0, not {self.min_inclusion!r}")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict, min_inclusion: int = 1) -> Decision:
        try:
            return cls(
                temperature=float(data.get("temperature", 1.0)),
                rule=str(data.get("rule", "argmax")),
                start_bonus=float(data.get("start_bonus", 0.0)),
                end_bonus=float(data.get("end_bonus", 0.0)),
                min_inclusion=int(data.get("min_inclusion", min_inclusion)),
            )
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"decision needs numbers for temperature and bonuses ({exc})") from None


def switch_scores(p_exc: Sequence[float], boundary: Sequence[float] | None, decision: Decision) -> list[float]:
    """Score of each switch point k = 0..n (-inf where the decision forbids it)."""
    n = len(p_exc)
    if boundary is not None and len(boundary) != n + 1:
        raise ValueError(f"boundary needs {n + 1} scores for {n} items, got {len(boundary)}")
    score = sum(math.log(max(p, _EPS)) for p in p_exc)  # k = 0: every item exclusion
    out = []
    lo = min(decision.min_inclusion, n)
    for k in range(n + 1):
        if k > 0:
            p = p_exc[k - 1]
            score += math.log(max(1.0 - p, _EPS)) - math.log(max(p, _EPS))
        s = score + (boundary[k] if boundary is not None else 0.0)
        if n > 0 and k == 0:
            s += decision.start_bonus
        if n > 0 and k == n:
            s += decision.end_bonus
        out.append(s if k >= lo else -math.inf)
    return out


def exclusion_marginals(scores: Sequence[float], temperature: float) -> list[float]:
    """P(item i is exclusion) = posterior mass of the switch points k <= i, for i < n."""
    top = max(scores)
    weights = [math.exp((s - top) / temperature) if s > -math.inf else 0.0 for s in scores]
    total = sum(weights)
    out, acc = [], 0.0
    for w in weights[:-1]:
        acc += w
        out.append(min(acc / total, 1.0))
    return out


def decide(scores: Sequence[float], decision: Decision) -> list[tuple[str, float]]:
    """(kind, confidence) of each item from the switch-point scores of its list."""
    if len(scores) <= 1:
        return []
    marg = exclusion_marginals(scores, decision.temperature)
    if decision.rule == "median":
        kinds = ["exclusion" if p > 0.5 else "inclusion" for p in marg]
    else:
        best = max(range(len(scores)), key=lambda k: (scores[k], -k))
        kinds = ["inclusion" if i < best else "exclusion" for i in range(len(marg))]
    return [(kind, p if kind == "exclusion" else 1.0 - p) for kind, p in zip(kinds, marg, strict=True)]

"""Where a bound's value sits among the values real criteria bound the same variable by.

Real criteria bound a variable from below near some values and from above near others:
a BMI of 18 is a floor, a BMI of 35 a ceiling; a haemoglobin of 9 g/dL is the low side
whether an inclusion item asks for at least it or an exclusion item leaves out less. The
lexicon's abnormal side cannot say this for a variable that is abnormal on both sides, and
a logistic regression over words cannot cross the variable with its value. This table
can: for each (variable, unit) it counts the written comparisons of the training trials by
the side of the range they mark (``low``: >= in an inclusion item or <= in an exclusion
item; ``high``: the other two), by the natural log of the value. The decision reads the
smoothed log-odds of ``low`` among the comparisons within ``width`` of the value
(:meth:`ValuePrior.features`), crossed with the item kind so the fit learns the sign.

Built by :mod:`criteria_nlp.evaluation.repair_train` from the masked comparisons of the
training parts (cross-fitted by trial fold for the fit, from every training row for the
shipped table) and stored in the operator-repair weights file as ``value_prior``.
"""

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# A value of 0 has no log: it gets a position of its own, far below any positive value.
_ZERO = -30.0
# The log-odds are clipped: the table is evidence among others, never a certainty.
_CLIP = 3.0
# The smoothing of the counts (one count each side) and the support under which the
# log-odds is a feature of its own (the fit weighs a table entry of one or two comparisons
# less). Both, and the width, chosen by the grouped cross-validation of repair_train.
_PRIOR = 1.0
FEW = 3
DEFAULT_WIDTH = 0.1


def side_of(label: int, kind: str | None) -> str | None:
    """'low' or 'high' for a comparison read as >= (label 1) or <= (label 0) in an item of
    ``kind``; None when the kind is unknown (the side cannot be told)."""
    if kind == "inclusion":
        return "low" if label == 1 else "high"
    if kind == "exclusion":
        return "high" if label == 1 else "low"
    return None


def key_of(variable: str | None, unit: str | None) -> str | None:
    if not variable:
        return None
    return f"{variable.lower()}|{unit or ''}"


def _smoothed(low: int, high: int) -> float:
    """The clipped, smoothed log-odds of the low side."""
    return max(-_CLIP, min(_CLIP, math.log((low + _PRIOR) / (high + _PRIOR))))


def position(value: float) -> float:
    return math.log(value) if value > 0 else _ZERO


@dataclass
class ValuePrior:
    """Counts of low- and high-side comparisons per (variable, unit) key, by log value."""

    width: float = DEFAULT_WIDTH
    # key -> (sorted positions, low count at each, high count at each)
    table: dict[str, tuple[list[float], list[int], list[int]]] = field(default_factory=dict)
    # key -> its entry as stored ("position:low:high ..."), read into ``table`` on first use:
    # a process reads only the keys its records ask for (loading every key's lists took
    # 0.05 s of each worker's start)
    packed: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_bounds(cls, bounds: Iterable[tuple[str | None, str | None, float, str]], width: float = DEFAULT_WIDTH) -> "ValuePrior":
        """From (variable, unit, value, side) of real comparisons."""
        counts: dict[str, dict[float, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for variable, unit, value, side in bounds:
            key = key_of(variable, unit)
            if key is None or side not in ("low", "high"):
                continue
            counts[key][round(position(value), 4)][0 if side == "low" else 1] += 1
        table = {}
        for key, by_pos in counts.items():
            pos = sorted(by_pos)
            table[key] = (pos, [by_pos[p][0] for p in pos], [by_pos[p][1] for p in pos])
        return cls(width=width, table=table)

    def counts(self, variable: str | None, unit: str | None, value: float) -> tuple[int, int]:
        """(low, high): the comparisons of the same key within ``width`` of ``value``."""
        key = key_of(variable, unit)
        entry = self._entry(key) if key is not None else None
        if entry is None:
            return 0, 0
        pos, low, high = entry
        x = position(value)
        i, j = bisect_left(pos, x - self.width), bisect_right(pos, x + self.width)
        return sum(low[i:j]), sum(high[i:j])

    def log_odds(self, variable: str | None, unit: str | None, value: float) -> float | None:
        """Smoothed log-odds of the low side near ``value``; None when no comparison is near."""
        lo, hi = self.counts(variable, unit, value)
        return _smoothed(lo, hi) if lo + hi else None

    def features(self, variable: str | None, unit: str | None, value: float, kind: str | None) -> dict[str, float]:
        """The decision's feature: the log-odds crossed with the item kind (and named
        apart when fewer than FEW comparisons stand behind it), or nothing."""
        lo, hi = self.counts(variable, unit, value)
        if lo + hi == 0:
            return {}
        few = ":few" if lo + hi < FEW else ""
        return {f"k:{kind or 'none'}:vprior{few}": round(_smoothed(lo, hi), 4)}

    def _entry(self, key: str) -> tuple[list[float], list[int], list[int]] | None:
        entry = self.table.get(key)
        if entry is None and key in self.packed:
            parts = [cell.split(":") for cell in self.packed[key].split()]
            entry = ([float(x) for x, _, _ in parts], [int(lo) for _, lo, _ in parts], [int(hi) for _, _, hi in parts])
            self.table[key] = entry
        return entry

    def to_dict(self) -> dict:
        keys = sorted(set(self.table) | set(self.packed))
        return {
            "width": self.width,
            "about": "per 'variable|unit': 'log value:low-side count:high-side count' by log value",
            "table": {k: " ".join(f"{x:g}:{lo}:{hi}" for x, lo, hi in zip(*self._entry(k), strict=True)) for k in keys},
        }

    @classmethod
    def from_dict(cls, data: Mapping | None) -> "ValuePrior | None":
        if not data:
            return None
        return cls(width=float(data.get("width", DEFAULT_WIDTH)), packed=dict(data.get("table", {})))

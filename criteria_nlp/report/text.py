"""Plain-text readings of constraints and records (``summarize``, terminal tables)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_OPS = {">=": ">=", ">": ">", "<=": "<=", "<": "<", "==": "="}
# Time units read better in words when the text gave none ("aged 18-70" has unit "a").
_TIME_WORDS = {"a": "years", "mo": "months", "wk": "weeks", "d": "days", "h": "hours", "min": "minutes"}


def _num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def constraint_reading(c: Mapping[str, Any]) -> str:
    """``variable op value unit`` of one constraint (a dict from the JSON output)."""
    unit = c.get("unit_text") or _TIME_WORDS.get(c.get("unit") or "", c.get("unit")) or ""
    rel = f" x {c['relative_to']}" if c.get("relative_to") else ""
    # a calendar-date bound reads as its dates, not as the decimal years it is checked by
    low = c.get("date") or _num(c.get("value"))
    high = c.get("upper_date") or _num(c.get("upper"))
    if c.get("operator") == "between":
        value = f"between {low} and {high}"
    else:
        value = f"{_OPS.get(c.get('operator'), c.get('operator'))} {low}"
    text = f"{c.get('variable') or '(unnamed)'} {value}{rel}"
    if c.get("scale_max") is not None:
        text += f" out of {_num(c['scale_max'])}"  # "pain >= 4 out of 10"
    if unit == "{decimal acuity}":
        unit = "(decimal acuity)"
    if unit:
        text += f" {unit}"
    if c.get("negated"):
        text += " [negated]"
    return text


def repair_mark(c: Mapping[str, Any]) -> str:
    if not c.get("repaired"):
        return ""
    written = c.get("written_operator") or "="
    reason = f": {c['repair_reason']}" if c.get("repair_reason") else ""
    return f" [repaired from '{written}', confidence {float(c.get('confidence', 0)):.2f}{reason}]"


def summarize_record(record: Mapping[str, Any]) -> list[str]:
    """Readable lines for one output record."""
    criteria = record.get("criteria") or []
    n_inc = sum(1 for c in criteria if c.get("kind") == "inclusion")
    n_exc = sum(1 for c in criteria if c.get("kind") == "exclusion")
    head = f"{record.get('trial_id') or '(no trial id)'}  [{record.get('source_format') or 'unknown format'}]  {record.get('source')}"
    lines = [head]
    if record.get("error"):
        lines.append(f"  ERROR: {record['error']}")
        return lines
    lines.append(f"  {n_inc} inclusion, {n_exc} exclusion criteria")
    for crit in criteria:
        for c in crit.get("constraints") or []:
            lines.append(f"  {crit.get('id'):<7} {constraint_reading(c)}{repair_mark(c)}")
    for w in record.get("warnings") or []:
        lines.append(f"  warning: {w}")
    return lines


def table(rows: Iterable[Iterable[Any]], header: Iterable[str]) -> str:
    """A fixed-width text table."""
    header = [str(h) for h in header]
    body = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in header]
    for row in body:
        for i, v in enumerate(row):
            if i < len(widths):
                widths[i] = max(widths[i], len(v))
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), "  ".join("-" * w for w in widths)]
    out += [fmt.format(*(row + [""] * (len(widths) - len(row)))[: len(widths)]) for row in body]
    return "\n".join(line.rstrip() for line in out)


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)

"""Evaluation reports, rendered generically from the dicts the evaluators return.

The renderer knows no evaluator. It reads the shape of each value:

- a number, string or bool            -> a row of the section's summary table
- a dict of scalars                   -> a metric table (and bars for its ratios in [0, 1])
- a dict of dicts of scalars          -> a table with one row per key (e.g. per category)
                                         and a bar chart of its main ratio (f1, recall, ...)
- a list of dicts                     -> examples: each shown in its sentence (``sentence``
                                         or ``text``) with ``gold`` and ``found`` highlighted
                                         (strings, dicts with ``text``, or lists of those)
- a nested dict of other things       -> a sub-section
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from typing import Any

from criteria_nlp.report.html import Span, bar_chart, mark_text, page
from criteria_nlp.report.text import table

RATIO_PREFERENCE = ("f1", "recall", "accuracy", "operator_accuracy", "precision", "recovery")
SENTENCE_KEYS = ("sentence", "text", "context")


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (int, float, str, bool))


def _is_ratio(v: Any) -> bool:
    return isinstance(v, float) and 0.0 <= v <= 1.0


def _is_grid(v: Any) -> bool:
    return (
        isinstance(v, Mapping)
        and bool(v)
        and all(isinstance(x, Mapping) and x and all(_is_scalar(y) for y in x.values()) for x in v.values())
    )


def _is_examples(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)


def _grid_columns(grid: Mapping) -> list[str]:
    cols: dict[str, None] = {}
    for row in grid.values():
        cols.update(dict.fromkeys(row))
    return list(cols)


def _grid_ratio(grid: Mapping, cols: list[str]) -> str | None:
    ratio_cols = [c for c in cols if all(_is_ratio(r.get(c)) or r.get(c) is None for r in grid.values())
                  and any(_is_ratio(r.get(c)) for r in grid.values())]
    for name in RATIO_PREFERENCE:
        if name in ratio_cols:
            return name
    return ratio_cols[0] if ratio_cols else None


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.1f}"
    if v is None:
        return "-"
    return str(v)


def _grouped(section: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """``(key, value, how)`` in order; ``how`` is scalar, grid, metrics, examples, list or nested.
    Sibling metric dicts with the same keys (one per layout, per corpus, ...) are merged
    into one grid, so they share a table and a chart."""
    out: list[tuple[str, Any, str]] = []
    for key, value in section.items():
        if _is_scalar(value):
            how = "scalar"
        elif _is_grid(value):
            how = "grid"
        elif isinstance(value, Mapping) and all(_is_scalar(v) for v in value.values()):
            how = "metrics"
        elif _is_examples(value):
            how = "examples"
        elif isinstance(value, list):
            how = "list"
        elif isinstance(value, Mapping):
            how = "nested"
        else:
            how = "scalar"
        out.append((key, value, how))
    metrics = [(k, v) for k, v, how in out if how == "metrics" and v]
    shapes = {tuple(v) for _, v in metrics}
    if len(metrics) >= 3 and len(shapes) == 1:
        grid = dict(metrics)
        first = next(i for i, (_, _, how) in enumerate(out) if how == "metrics")
        rest = [t for t in out if t[2] != "metrics" or not t[1]]
        rest.insert(min(first, len(rest)), ("breakdown", grid, "grid"))
        return rest
    return out


# ---------------------------------------------------------------- terminal


def render_terminal(report: Mapping[str, Any]) -> str:
    out = [report.get("title", "Evaluation"), ""]
    for name, section in (report.get("sections") or {}).items():
        out.append(f"== {name} ==")
        out.extend(_terminal_section(section, ""))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _terminal_section(section: Any, prefix: str) -> list[str]:
    if not isinstance(section, Mapping):
        return [f"{prefix}{_fmt(section)}"]
    lines: list[str] = []
    parts = _grouped(section)
    scalars = [(k, v) for k, v, how in parts if how == "scalar"]
    if scalars:
        lines.append(table(scalars, ["metric", "value"]))
    for key, value, how in parts:
        if how == "grid":
            cols = _grid_columns(value)
            lines.append(f"\n{prefix}{key}:")
            lines.append(table([[k, *(r.get(c) for c in cols)] for k, r in value.items()], ["", *cols]))
        elif how == "metrics":
            lines.append(f"\n{prefix}{key}:")
            lines.append(table(list(value.items()), ["", "value"]) if value else "(none)")
        elif how in ("examples", "list"):
            lines.append(f"{prefix}{key}: {len(value)} (listed in --html / --json)")
        elif how == "nested":
            lines.append(f"\n{prefix}{key}:")
            lines.extend(_terminal_section(value, prefix + "  "))
    return lines


# ---------------------------------------------------------------- HTML


def _metric_table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(
        f'<tr><th>{escape(str(k))}</th><td class="num">{escape(_fmt(v))}</td></tr>' for k, v in rows
    )
    return f"<table>{body}</table>"


def _grid_html(name: str, grid: Mapping) -> str:
    cols = _grid_columns(grid)
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th>"
        + "".join(f'<td class="num">{escape(_fmt(r.get(c)))}</td>' for c in cols)
        + "</tr>"
        for k, r in grid.items()
    )
    html = f"<h3>{escape(name)}</h3><table><tr><th></th>{head}</tr>{rows}</table>"
    ratio = _grid_ratio(grid, cols)
    if ratio:
        keys = [k for k, r in grid.items() if _is_ratio(r.get(ratio))]
        html += bar_chart([str(k) for k in keys], [grid[k][ratio] for k in keys], title=f"{name}: {ratio}")
    return html


def _texts(v: Any) -> list[str]:
    """The highlightable strings in a ``gold`` / ``found`` value."""
    if isinstance(v, str):
        return [v] if v.strip() else []
    if isinstance(v, Mapping):
        return _texts(v.get("text"))
    if isinstance(v, list):
        return [t for x in v for t in _texts(x)]
    return []


def _describe(v: Any) -> str:
    if isinstance(v, Mapping):
        keys = ("variable", "operator", "value", "upper", "unit", "text")
        picked = {k: v[k] for k in keys if k in v and v[k] is not None}
        return json.dumps(picked or v, ensure_ascii=False, default=str)
    return json.dumps(v, ensure_ascii=False, default=str)


def _spans_in(sentence: str, texts: list[str], css: str, title: str) -> list[Span]:
    spans = []
    for t in texts:
        at = sentence.find(t)
        if at >= 0:
            spans.append(Span(at, at + len(t), css, f"{title}: {t}"))
    return spans


def _example_html(e: Mapping[str, Any]) -> str:
    sentence = next((e[k] for k in SENTENCE_KEYS if isinstance(e.get(k), str)), None)
    gold, found = e.get("gold"), e.get("found")
    skip = {*SENTENCE_KEYS, "gold", "found"}
    meta = ", ".join(f"{k}: {_describe(v) if not _is_scalar(v) else v}" for k, v in e.items() if k not in skip)
    parts = []
    shown: set[int] = set()  # plain strings already marked in the sentence need no second line
    if sentence is not None:
        gold_spans = _spans_in(sentence, _texts(gold), "gold", "gold")
        found_spans = _spans_in(sentence, _texts(found), "found", "found")
        if isinstance(gold, str) and gold_spans:
            shown.add(id(gold))
        if isinstance(found, str) and found_spans:
            shown.add(id(found))
        parts.append(f"<div>{mark_text(sentence, gold_spans + found_spans)}</div>")
    if gold is not None and id(gold) not in shown:
        parts.append(f'<div>gold: <mark class="gold">{escape(_describe(gold))}</mark></div>')
    if found is not None and found != [] and id(found) not in shown:
        parts.append(f'<div>found: <mark class="found">{escape(_describe(found))}</mark></div>')
    if meta:
        parts.append(f'<div class="src">{escape(meta)}</div>')
    return f'<div class="example">{"".join(parts)}</div>'


def _is_reliability(v: Any) -> bool:
    """Bins of a calibration table: dicts with ``confidence``, ``accuracy`` and ``n``."""
    return _is_examples(v) and all({"confidence", "accuracy", "n"} <= set(x) for x in v)


def reliability_diagram(bins: list[Mapping[str, Any]], title: str = "reliability") -> str:
    """Inline SVG: share right against mean confidence per bin (dot area ~ readings), with
    the diagonal of a perfect calibration."""
    size, pad = 260, 36
    total = sum(int(b["n"]) for b in bins) or 1

    def xy(conf: float, acc: float) -> tuple[float, float]:
        return pad + conf * size, pad + (1 - acc) * size

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 2 * pad}" height="{size + 2 * pad}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="{pad}" y="16" font-size="13" font-weight="600" fill="#24466b">{escape(title)}</text>',
        f'<rect x="{pad}" y="{pad}" width="{size}" height="{size}" fill="#f7f9fc" stroke="#99a"/>',
        f'<line x1="{pad}" y1="{pad + size}" x2="{pad + size}" y2="{pad}" stroke="#bbb" stroke-dasharray="4 3"/>',
        f'<text x="{pad + size / 2}" y="{size + 2 * pad - 6}" font-size="11" text-anchor="middle">confidence</text>',
        f'<text x="10" y="{pad + size / 2}" font-size="11" transform="rotate(-90 10 {pad + size / 2})" '
        'text-anchor="middle">share right</text>',
    ]
    for t in (0.0, 0.5, 1.0):
        x, y = xy(t, t)
        parts.append(f'<text x="{x}" y="{pad + size + 13}" font-size="10" text-anchor="middle">{t:g}</text>')
        parts.append(f'<text x="{pad - 4}" y="{y + 3}" font-size="10" text-anchor="end">{t:g}</text>')
    points = [xy(float(b["confidence"]), float(b["accuracy"])) for b in bins]
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#3b6ea5" stroke-width="1.5"/>')
    for b, (x, y) in zip(bins, points, strict=True):
        r = 2.5 + 9 * (int(b["n"]) / total) ** 0.5
        label = f'{b.get("bin", "")}: {b["n"]} readings, confidence {float(b["confidence"]):.3f}, right {float(b["accuracy"]):.3f}'
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="#3b6ea5" fill-opacity="0.7"><title>{escape(label)}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def _section_html(section: Any, level: int = 2) -> str:
    if not isinstance(section, Mapping):
        return f"<p>{escape(_fmt(section))}</p>"
    parts = []
    grouped = _grouped(section)
    scalars = [(k, v) for k, v, how in grouped if how == "scalar"]
    if scalars:
        parts.append(_metric_table(scalars))
    for key, value, how in grouped:
        if how == "grid":
            parts.append(_grid_html(key, value))
        elif how == "metrics":
            parts.append(f"<h3>{escape(key)}</h3>" + (_metric_table(list(value.items())) if value else "<p>(none)</p>"))
            ratios = [(k, v) for k, v in value.items() if _is_ratio(v)]
            if len(ratios) >= 2:
                parts.append(bar_chart([k for k, _ in ratios], [v for _, v in ratios], title=key))
        elif how == "examples" and _is_reliability(value):
            rows = "".join(
                f"<tr><td>{escape(str(b.get('bin', '')))}</td><td class=\"num\">{b['n']}</td>"
                f"<td class=\"num\">{_fmt(b['confidence'])}</td><td class=\"num\">{_fmt(b['accuracy'])}</td></tr>"
                for b in value
            )
            parts.append(
                f"<h3>{escape(key)}</h3>" + reliability_diagram(list(value), f"{key}: share right by confidence")
                + f"<table><tr><th>bin</th><th>readings</th><th>confidence</th><th>right</th></tr>{rows}</table>"
            )
        elif how == "examples":
            items = "".join(_example_html(e) for e in value)
            # Short lists open; long ones (thousands of LCT misses) folded but all there.
            opened = " open" if len(value) <= 30 else ""
            parts.append(f"<details{opened}><summary>{escape(key)} ({len(value)})</summary>{items}</details>")
        elif how == "list":
            text = escape(json.dumps(value, ensure_ascii=False, default=str))
            parts.append(f"<details><summary>{escape(key)} ({len(value)})</summary><pre>{text}</pre></details>")
        elif how == "nested":
            h = min(level + 1, 4)
            parts.append(f"<h{h}>{escape(key)}</h{h}>{_section_html(value, level + 1)}")
    return "\n".join(parts)


def render_html(report: Mapping[str, Any]) -> str:
    body = [
        '<p class="legend"><mark class="gold">gold</mark><mark class="found">found</mark>'
        '<mark class="gold found">both</mark></p>'
    ]
    for name, section in (report.get("sections") or {}).items():
        body.append(f"<h2>{escape(name)}</h2>")
        body.append(_section_html(section))
    return page(report.get("title", "Evaluation"), "\n".join(body))

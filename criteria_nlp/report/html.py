"""Building blocks of the self-contained HTML pages: page shell, marked text, SVG bar charts.

Everything is inline (CSS in a <style>, charts as <svg>): the pages open from a file with
no network and no JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;
 color:#1d2330;background:#fff;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;border-bottom:3px solid #3b6ea5;padding-bottom:.2em}
h2{font-size:1.25em;margin-top:1.6em;color:#24466b}
h3{font-size:1.05em;margin-top:1.2em}
table{border-collapse:collapse;margin:.6em 0}
th,td{border:1px solid #c9d2de;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#eef2f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#555}
.item{margin:.5em 0;padding:.45em .7em;border-left:4px solid #9bb3cf;background:#f7f9fc}
.item.exclusion{border-left-color:#d08a8a;background:#fcf7f7}
.item .id{font-weight:600;margin-right:.5em;color:#445}
.item .label{color:#777;margin-right:.3em}
mark{padding:.05em .15em;border-radius:.25em;background:#cfe3ff;color:inherit}
mark.constraint{background:#cfe3ff;border:1px solid #6d9ad6}
mark.repaired{background:#ffe1b3;border:1px dashed #d2851d}
mark.negated{background:#e6e6e6;border:1px solid #999}
mark.mention{background:#fff3b0;border-bottom:2px solid #b59a00;border-radius:0}
mark.gold{background:none;border-bottom:3px solid #2e9e4f;border-radius:0}
mark.found{background:#ffd6d6}
mark.gold.found{background:#d8f5df}
.tag{display:inline-block;font-size:.78em;font-weight:600;padding:0 .35em;margin-left:.25em;border-radius:.3em;
 vertical-align:.1em;background:#24466b;color:#fff}
.tag.repaired{background:#b8650a}
.reading{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;margin:.2em 0 0 1.4em}
.reading li{margin:.1em 0}
.warn{color:#8a4b00}.err{color:#a40000;font-weight:600}
.example{margin:.4em 0;padding:.35em .6em;background:#fafafa;border:1px solid #e3e3e3}
.example .src{color:#666;font-size:.85em}
details>summary{cursor:pointer;font-weight:600;margin:.5em 0}
.legend mark{margin-right:1em}
"""


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>\n{body}\n</body></html>\n"
    )


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    css: str  # class names of the <mark>
    title: str = ""


def mark_text(text: str, spans: Iterable[Span]) -> str:
    """``text`` escaped, with each span in a <mark>. Spans may overlap (gold vs found): the text
    is cut at every span boundary and each piece carries the classes of all spans over it."""
    spans = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    if not spans:
        return escape(text)
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = escape(text[a:b])
        over = [s for s in spans if s.start <= a and b <= s.end]
        if not over:
            out.append(piece)
            continue
        classes = sorted({c for s in over for c in s.css.split()})
        titles = "; ".join(dict.fromkeys(s.title for s in over if s.title))
        title_attr = f' title="{escape(titles)}"' if titles else ""
        out.append(f'<mark class="{" ".join(classes)}"{title_attr}>{piece}</mark>')
    return "".join(out)


def find_near(haystack: str, needle: str, hint: int) -> int:
    """Start of the occurrence of ``needle`` closest to ``hint`` (or -1). Whitespace runs in
    ``needle`` match one space, since item texts join wrapped lines with single spaces."""
    needle = " ".join(needle.split())
    if not needle:
        return -1
    best = -1
    i = haystack.find(needle)
    while i >= 0:
        if best < 0 or abs(i - hint) < abs(best - hint):
            best = i
        i = haystack.find(needle, i + 1)
    return best


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str = "", maximum: float = 1.0) -> str:
    """Horizontal bars as inline SVG (values in [0, maximum])."""
    row, label_w, bar_w = 22, 230, 560
    height = row * len(labels) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 70}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="14" font-size="13" font-weight="600" fill="#24466b">{escape(title)}</text>',
    ]
    for k, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 24 + k * row
        frac = 0.0 if maximum <= 0 else max(0.0, min(1.0, float(value) / maximum))
        w = round(frac * bar_w, 1)
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" font-size="12" text-anchor="end">{escape(label[:34])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{bar_w}" height="{row - 6}" fill="#eef2f7"/>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w}" height="{row - 6}" fill="#3b6ea5"/>')
        parts.append(f'<text x="{label_w + w + 5}" y="{y + 14}" font-size="12">{float(value):.3f}</text>')
    parts.append("</svg>")
    return "".join(parts)

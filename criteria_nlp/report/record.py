"""One structured record as a self-contained HTML page (``criteria-nlp show --html``)."""

from __future__ import annotations

from html import escape

from criteria_nlp.readers.reading import reading_text
from criteria_nlp.report.html import Span, find_near, mark_text, page
from criteria_nlp.report.text import constraint_reading
from criteria_nlp.schema import Constraint, Criterion, TrialRecord

KIND_TITLES = {"inclusion": "Inclusion criteria", "exclusion": "Exclusion criteria"}


def _label_len(crit: Criterion) -> int:
    return len(crit.label) + 1 if crit.label else 0


def constraint_spans(crit: Criterion) -> list[tuple[Constraint, Span | None]]:
    """Each constraint with its place in ``crit.text`` (None when it cannot be placed).

    Offsets index the source, but the item text joins wrapped lines, so the constraint is
    found by its text, nearest to where its offset says it is.
    """
    out = []
    for c in crit.constraints:
        hint = c.start - crit.start - _label_len(crit)
        shown = c.text
        at = find_near(crit.text, shown, hint)
        if at < 0:  # written with escapes or markup ("\>= 18", "&lt;= 35%"): the item text reads them
            shown = reading_text(c.text, markdown=True, markup=True)[0]
            at = find_near(crit.text, shown, hint)
        if at < 0:
            out.append((c, None))
            continue
        length = len(" ".join(shown.split()))
        css = "repaired" if c.repaired else "negated" if c.negated else "constraint"
        title = constraint_reading(c.model_dump())
        if c.repaired:
            title += f" (repaired from '{c.written_operator or '='}', confidence {c.confidence:.2f})"
        out.append((c, Span(at, at + length, css, title)))
    return out


def mention_spans(crit: Criterion) -> list[Span]:
    """The words each constraint bounds (its mention), placed in ``crit.text`` like the
    constraints themselves; titled with the bound they carry."""
    out = []
    for c in crit.constraints:
        if not c.mention or c.mention_start is None:
            continue
        at = find_near(crit.text, c.mention, c.mention_start - crit.start - _label_len(crit))
        if at < 0:
            continue
        length = len(" ".join(c.mention.split()))
        out.append(Span(at, at + length, "mention", f"bounded by {c.text.strip()}: {constraint_reading(c.model_dump())}"))
    return out


def _reading_item(c: Constraint) -> str:
    text = escape(constraint_reading(c.model_dump()))
    if c.mention:
        text += f' <span class="meta">&larr; <mark class="mention">{escape(c.mention)}</mark></span>'
    else:
        text += ' <span class="meta">&larr; (nothing named)</span>'
    for a in c.alternates:
        text += f' <span class="meta">= {escape(a.text)}</span>'
    extra = f' <span class="meta">[{c.start}:{c.end}] {escape(repr(c.text))}</span>'
    if c.repaired:
        reason = f" - {escape(c.repair_reason)}" if c.repair_reason else ""
        return (
            f'<li>{text} <span class="tag repaired">repaired from &#39;{escape(c.written_operator or "=")}&#39;, '
            f"confidence {c.confidence:.2f}</span>{reason}{extra}</li>"
        )
    return f"<li>{text}{extra}</li>"


def _criterion_html(crit: Criterion) -> str:
    placed = constraint_spans(crit)
    marked = mark_text(crit.text, [s for _, s in placed if s is not None] + mention_spans(crit))
    label = f'<span class="label">{escape(crit.label)}</span>' if crit.label else ""
    readings = "".join(_reading_item(c) for c, _ in placed)
    listing = f'<ul class="reading">{readings}</ul>' if readings else ""
    return (
        f'<div class="item {escape(crit.kind)}" id="{escape(crit.id)}"><span class="id">{escape(crit.id)}</span>'
        f"{label}{marked}{listing}</div>"
    )


def _population(record: TrialRecord) -> str:
    p = record.population
    rows = []
    if p.min_age:
        rows.append(("minimum age", f"{p.min_age.value:g} {p.min_age.unit}"))
    if p.max_age:
        rows.append(("maximum age", f"{p.max_age.value:g} {p.max_age.unit}"))
    if p.sex:
        rows.append(("sex", p.sex))
    if p.healthy_volunteers is not None:
        rows.append(("healthy volunteers", "yes" if p.healthy_volunteers else "no"))
    if not rows:
        return ""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<h2>Population</h2><table>{body}</table>"


def render_record(record: TrialRecord) -> str:
    """The HTML page of one record."""
    title = record.trial_id or record.source
    meta = [
        f"<p class=\"meta\">source: {escape(record.source)} &middot; format: {escape(record.source_format or 'unknown')}"
        f" &middot; schema {escape(record.schema_version)}</p>"
    ]
    if record.title:
        meta.append(f"<p><strong>{escape(record.title)}</strong></p>")
    if record.conditions:
        meta.append(f"<p>Conditions: {escape(', '.join(record.conditions))}</p>")
    parts = meta
    if record.error:
        parts.append(f'<p class="err">Error: {escape(record.error)}</p>')
    parts.extend(f'<p class="warn">Warning: {escape(w)}</p>' for w in record.warnings)
    parts.append(_population(record))
    n_con = sum(len(c.constraints) for c in record.criteria)
    n_rep = sum(1 for c in record.criteria for k in c.constraints if k.repaired)
    parts.append(
        '<p class="legend"><mark class="constraint">constraint</mark><mark class="mention">what it bounds</mark>'
        '<mark class="repaired">repaired operator</mark>'
        f'<mark class="negated">negated</mark> {len(record.criteria)} items, {n_con} constraints, {n_rep} repaired</p>'
    )
    for kind, heading in KIND_TITLES.items():
        crits = [c for c in record.criteria if c.kind == kind]
        if crits:
            parts.append(f"<h2>{heading} ({len(crits)})</h2>")
            parts.extend(_criterion_html(c) for c in crits)
    return page(f"criteria-nlp: {title}", "\n".join(p for p in parts if p))

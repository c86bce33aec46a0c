"""Measure the lost-sign forms by simulation: real "≥" and "≤" of the corpora rewritten as an
export would lose them, then read back.

Each record of the corpora that writes a "≥" or "≤" is rewritten once per form:

* ``entity``: a whole character reference ("&#8805;", "&#x2265;", "&ge;", by a hash of the trial);
* ``numeric_stripped``: its "&#" stripped ("8805;" / "x2265;");
* ``named_stripped``: its "&" stripped ("ge;");
* ``star``: "*", as NL-OMON records write it;
* ``question``: "?", an export's replacement character for a sign it could not write;
* ``symbol_font``: "³" / "£", a Symbol-font "≥" / "≤" exported as Latin-1;
* ``deleted_space``: the sign deleted, its spaces left ("Age  18");
* ``deleted_collapsed``: the sign and one of its spaces deleted ("Age 18").

A lost sign is *recovered* when the rewritten text yields a constraint at the same place
with the same value and the clean reading's operator (``>=`` / ``<=``), marked repaired,
with ``written_operator`` the form as written (null for a deleted sign). The clean run of
every sampled record (with or without signs) gives the false alarms: the clean bare numbers
turned into bounds, and any clean constraint a lost-sign form marked repaired.

Trials are split by :mod:`criteria_nlp.evaluation.split`: ``--part train`` for tuning (misses
may be printed), ``--part validation`` for the figures (aggregates only). ``--estimate``
re-estimates the confidence of the character-reference forms on the training part (how
often such a form before a number is that sign) and prints it for ``lost_signs.json``.

    python -m criteria_nlp.evaluation.lost_signs --part train --limit 400
    python -m criteria_nlp.evaluation.lost_signs --part validation --limit 400
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from criteria_nlp.evaluation.split import is_validation, is_validation_trial

SHARED_CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
FORMS = (
    "entity", "numeric_stripped", "named_stripped", "star", "question", "symbol_font", "deleted_space", "deleted_collapsed"
)
_SYMBOL_FONT = {"≥": "³", "≤": "£"}  # the Symbol font's codes read as Latin-1
_UNDIRECTED = {"star": "*", "question": "?"}  # forms that do not say their direction
_SIGN = re.compile(r"[≥≤](?=\s{0,2}[-−]?\.?\d)")
_ENTITY = {"≥": ("&#8805;", "&#x2265;", "&ge;"), "≤": ("&#8804;", "&#x2264;", "&le;")}
_NUMERIC = {"≥": ("8805;", "x2265;"), "≤": ("8804;", "x2264;")}
_ANY_SIGN = re.compile(r"[≥≤]")
_TYPED = re.compile(r"(?<![<>=])([<>])(?![<>=])(?=\s?\d)")
_NAMED = {"≥": ("ge;",), "≤": ("le;",)}


# --------------------------------------------------------------------------- records


def records(root: str | Path = SHARED_CORPORA, part: str = "train") -> Iterator[tuple[str, str, str]]:
    """(corpus, trial id, criteria text) of every record of one part of the corpora."""
    root = Path(root)
    want_validation = part == "validation"
    for txt in sorted((root / "lct").glob("batch*/*.txt")):
        if is_validation("lct", txt.stem, txt.parent.name) == want_validation:
            yield "lct", txt.stem, txt.read_text(encoding="utf-8")
    chia: dict[str, dict[str, str]] = {}
    for txt in sorted((root / "chia").glob("*.txt")):
        trial, _, kind = txt.stem.partition("_")
        chia.setdefault(trial, {})[kind] = txt.read_text(encoding="utf-8")
    for trial, parts in chia.items():
        if is_validation_trial(trial) == want_validation:
            text = f"Inclusion Criteria:\n{parts.get('inc', '')}\nExclusion Criteria:\n{parts.get('exc', '')}\n"
            yield "chia", trial, text
    csv_path = root / "ctgov_raw" / "chicagopcdc_clinical_trials.csv"
    if csv_path.exists():
        csv.field_size_limit(sys.maxsize)
        with csv_path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if is_validation_trial(row["#nct_id"]) == want_validation:
                    yield "ctgov_raw", row["#nct_id"], row["eligibility_criteria"] or ""
    jsonl = root / "ctgov_unlabelled" / "criteria.jsonl"
    if jsonl.exists():
        with jsonl.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if is_validation_trial(row["nct_id"]) == want_validation:
                    yield "ctgov_unlabelled", row["nct_id"], row["criteria"] or ""


def sample(root, part: str, limit: int) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Up to ``limit`` records with a "≥"/"≤" before a number, and as many without, taken in
    a fixed order spread over the corpora (every k-th record)."""
    every = list(records(root, part))
    signed = [r for r in every if _SIGN.search(r[2])]
    plain = [r for r in every if not _SIGN.search(r[2]) and re.search(r"\d", r[2])]

    def spread(rows):
        if len(rows) <= limit:
            return rows
        step = len(rows) / limit
        return [rows[int(i * step)] for i in range(limit)]

    return spread(signed), spread(plain)


# --------------------------------------------------------------------------- rewriting


def _choice(options: tuple[str, ...], trial: str, n: int) -> str:
    return options[(sum(map(ord, trial)) + n) % len(options)]


def rewrite(text: str, form: str, trial: str = "") -> tuple[str, list[tuple[int, int]], list[str]]:
    """``text`` with every "≥"/"≤" before a number written in ``form``; the offset shift of
    each edit as (original position, shift), and the written form of each sign in order."""
    out: list[str] = []
    shifts: list[tuple[int, int]] = []
    written: list[str] = []
    pos = 0
    # every sign goes (an export rewrites the character wherever it stands); the ones
    # before a number are the lost bounds that are scored
    for n, m in enumerate(_ANY_SIGN.finditer(text)):
        sign = m.group(0)
        start, end = m.span()
        if form == "entity":
            new = _choice(_ENTITY[sign], trial, n)
        elif form == "numeric_stripped":
            new = _choice(_NUMERIC[sign], trial, n)
        elif form == "named_stripped":
            new = _NAMED[sign][0]
        elif form == "star":
            new = "*"
        elif form == "question":
            new = "?"
        elif form == "symbol_font":
            new = _SYMBOL_FONT[sign]
        elif form == "deleted_space":
            new = ""
        elif form == "deleted_collapsed":
            new = ""
            if start > 0 and text[start - 1] == " " and text[end : end + 1] == " ":
                end += 1
        else:
            raise ValueError(f"unknown form {form!r}")
        out.append(text[pos:start])
        out.append(new)
        shifts.append((start, len(new) - (end - start)))
        written.append(new or None)
        pos = end
    out.append(text[pos:])
    return "".join(out), shifts, written


def _moved(pos: int, shifts: list[tuple[int, int]]) -> int:
    return pos + sum(d for p, d in shifts if p < pos)


# --------------------------------------------------------------------------- scoring


def _run(nlp, text: str):
    """Constraints of one criteria text as ``structure`` reads a record (the project's
    segmenter, wrapped lines joined; the record-level repair pass), offsets indexing ``text``."""
    from criteria_nlp.readers.base import CriteriaText, RawRecord
    from criteria_nlp.records import structure_raw

    record = structure_raw(RawRecord(source="<sim>", source_format="text", criteria=[CriteriaText(text=text)]), nlp)
    return [c for crit in record.criteria for c in crit.constraints]


def _gold(clean, text: str) -> list:
    """The clean readings of a "≥"/"≤" before a number (the bounds an export loses)."""
    at = {m.start() for m in _SIGN.finditer(text)}
    return [c for c in clean if c.start in at and c.operator in (">=", "<=") and (c.written_operator or "")[:1] in "≥≤"]


def evaluate(nlp, signed, plain, forms=FORMS, misses: bool = False) -> dict:
    """Recovery of each form on ``signed`` records, false alarms on the clean runs of all."""
    from criteria_nlp.pipeline.lost_sign_decisions import is_deleted_candidate

    per = {f: Counter() for f in forms}
    clean_bare = clean_bound = clean_marked = clean_references = clean_symbol_font = 0
    missed: list[str] = []
    signed_ids = {(corpus, trial) for corpus, trial, _ in signed}
    conf_bins: dict[str, list[tuple[float, bool]]] = {f: [] for f in forms}
    for corpus, trial, text in [*signed, *plain]:
        clean = _run(nlp, text)
        for c in clean:
            if c.repaired and c.written_operator != "=":
                if c.written_operator and "&" in c.written_operator:
                    clean_references += 1  # a reference the source really holds ("\&lt;6")
                    continue
                if c.written_operator in ("³", "£"):
                    clean_symbol_font += 1  # a Symbol-font sign the source really lost ("Age ³ 18")
                    continue
                clean_marked += 1
                if c.written_operator is None:
                    clean_bound += 1
                if misses and len(missed) < 200:
                    line = text[max(0, c.start - 50) : c.end + 30].replace("\n", " ")
                    missed.append(f"CLEAN {c.operator} w={c.written_operator!r} {c.repair_reason} | {line}")
            if is_deleted_candidate(c) or (c.repaired and c.written_operator is None):
                clean_bare += 1
        if (corpus, trial) not in signed_ids:
            continue
        gold = _gold(clean, text)
        if not gold:
            continue
        for form in forms:
            new, shifts, _ = rewrite(text, form, trial)
            got = _run(nlp, new)
            by_end = {}
            for c in got:
                by_end.setdefault(c.end, []).append(c)
            for g in gold:
                per[form]["lost"] += 1
                end = _moved(g.end, shifts)
                cands = [c for c in by_end.get(end, []) if abs(c.value - g.value) < 1e-9 or c.upper == g.value]
                c = cands[0] if cands else None
                sign_at = _moved(g.start, shifts)
                want_written = new[sign_at : sign_at + len(_written_form(new, sign_at, form))] or None
                ok = (
                    c is not None
                    and c.operator == g.operator
                    and c.repaired
                    and c.written_operator == _UNDIRECTED.get(form, want_written)
                )
                if form.startswith("deleted") and c is not None and c.repaired:
                    ok = ok and c.written_operator is None
                per[form]["recovered"] += ok
                if c is not None and c.repaired:
                    per[form]["repaired"] += 1
                    conf_bins[form].append((c.confidence, ok))
                    per[form]["wrong"] += not ok
                if misses and not ok and len(missed) < 60:
                    line = new[max(0, sign_at - 50) : sign_at + 40].replace("\n", " ")
                    how = "none" if c is None else f"{c.operator} rep={c.repaired} w={c.written_operator!r}"
                    missed.append(f"{form} want {g.operator}: {how} | {line}")
    out: dict = {"records_signed": len(signed), "records_plain": len(plain), "forms": {}}
    for form, n in per.items():
        out["forms"][form] = {
            "lost": n["lost"],
            "recovered": n["recovered"],
            "recovered_share": round(n["recovered"] / n["lost"], 3) if n["lost"] else None,
            "repaired": n["repaired"],
            "precision": round((n["repaired"] - n["wrong"]) / n["repaired"], 3) if n["repaired"] else None,
            "ece": _ece(conf_bins[form]),
            "right_at_0.9": _right_at(conf_bins[form], 0.9),
        }
    out["clean"] = {
        "bare_numbers": clean_bare,
        "turned_into_bounds": clean_bound,
        "turned_share": round(clean_bound / clean_bare, 4) if clean_bare else None,
        "marked_repaired_by_lost_sign_forms": clean_marked,
        "references_in_source_read": clean_references,
        "symbol_font_in_source_read": clean_symbol_font,
    }
    if misses:
        out["misses"] = missed
    out["_pairs"] = conf_bins
    return out


def fit_platt(pairs: list[tuple[float, bool]], steps: int = 500) -> tuple[float, float]:
    """Platt scaling p' = sigmoid(a * logit(p) + b) fitted by Newton steps on (p, right)."""
    import math

    xs = [math.log(min(max(p, 1e-6), 1 - 1e-6) / (1 - min(max(p, 1e-6), 1 - 1e-6))) for p, _ in pairs]
    ys = [1.0 if ok else 0.0 for _, ok in pairs]
    a, b = 1.0, 0.0
    for _ in range(steps):
        ga = gb = haa = hab = hbb = 0.0
        for x, y in zip(xs, ys, strict=True):
            q = 1.0 / (1.0 + math.exp(-(a * x + b)))
            ga += (q - y) * x
            gb += q - y
            w = q * (1 - q) + 1e-9
            haa += w * x * x
            hab += w * x
            hbb += w
        haa += 1e-6
        hbb += 1e-6
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) + abs(db) < 1e-9:
            break
    return round(a, 4), round(b, 4)


def _written_form(text: str, at: int, form: str) -> str:
    if form.startswith("deleted"):
        return ""
    m = re.match(r"&#x?\w+;|&\w+;|x?\d+;|\w+;|\*|\?|[³£]", text[at:])
    return m.group(0) if m else ""


def _right_at(pairs: list[tuple[float, bool]], least: float) -> str | None:
    """The share of readings at confidence >= ``least`` that are right, as 'share (n)'."""
    hi = [ok for p, ok in pairs if p >= least]
    return f"{sum(hi) / len(hi):.3f} ({len(hi)})" if hi else None


def _ece(pairs: list[tuple[float, bool]], bins: int = 10) -> float | None:
    if not pairs:
        return None
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [(p, ok) for p, ok in pairs if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if sel:
            conf = sum(p for p, _ in sel) / len(sel)
            acc = sum(ok for _, ok in sel) / len(sel)
            total += len(sel) * abs(conf - acc)
    return round(total / len(pairs), 3)


# --------------------------------------------------------------------------- confidence


def estimate_confidence(root=SHARED_CORPORA, part: str = "train") -> dict:
    """How often a character-reference form before a number is that sign: matches in the
    clean text of the training part are false readings (the corpora hold no stripped
    references), simulated forms (every ≥/≤ rewritten) true ones."""
    from criteria_nlp.pipeline.lost_signs import find_signs

    true = Counter()
    false = Counter()
    for _corpus, trial, text in records(root, part):
        for s in find_signs(text):
            if s.operator != "*":
                false[s.form] += 1
        if _SIGN.search(text):
            for form in ("entity", "numeric_stripped", "named_stripped"):
                new, _, _ = rewrite(text, form, trial)
                true[form] += sum(1 for s in find_signs(new) if s.form == form)
        # the two-digit codes of '>' and '<' ("62;", "60;"): every typed '>' / '<' rewritten
        if _TYPED.search(text):
            new = _TYPED.sub(lambda m: "62;" if m.group(1) == ">" else "60;", text)
            true["short_numeric_stripped"] += sum(1 for s in find_signs(new) if s.form == "short_numeric_stripped")
    est = {}
    for form in ("entity", "numeric_stripped", "named_stripped", "short_numeric_stripped"):
        t, f = true[form], false[form]
        # Jeffreys-smoothed share of the form's matches that are the sign
        est[form] = {"true": t, "false": f, "confidence": round((t + 0.5) / (t + f + 1.0), 4)}
    return est


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpora", default=str(SHARED_CORPORA))
    ap.add_argument("--part", choices=("train", "validation"), default="train")
    ap.add_argument("--limit", type=int, default=300, help="records with a sign (and as many without)")
    ap.add_argument("--forms", default=",".join(FORMS))
    ap.add_argument("--misses", action="store_true", help="print misses (training part only)")
    ap.add_argument("--estimate", action="store_true", help="estimate the reference forms' confidence")
    ap.add_argument("--calibrate", action="store_true", help="fit the Platt scaling of '*' and deleted signs")
    args = ap.parse_args(argv)
    if not Path(args.corpora).is_dir():
        print(f"{args.corpora}: no corpora folder; nothing to measure", file=sys.stderr)
        return 0
    if args.misses and args.part == "validation":
        print("misses are never read on the validation part", file=sys.stderr)
        return 2
    if args.estimate:
        print(json.dumps(estimate_confidence(args.corpora, args.part), indent=1))
        return 0
    from criteria_nlp.pipeline import build_pipeline

    nlp = build_pipeline()
    if args.calibrate:
        # fit on the repair's own confidences (the deleted-sign decision calibrates itself)
        data = nlp.get_pipe("criteria_constraints").lost_sign_data
        data.star.pop("platt", None)
        data.question.pop("platt", None)
    signed, plain = sample(args.corpora, args.part, args.limit)
    report = evaluate(nlp, signed, plain, tuple(args.forms.split(",")), misses=args.misses)
    pairs = report.pop("_pairs")
    report["part"] = args.part
    if args.calibrate:
        if args.part != "train":
            print("calibrate on the training part only", file=sys.stderr)
            return 2
        # the forms whose confidence comes from the repair's votes; the raw confidences are
        # what the fitted scaling is applied to, so they are re-read with the scaling off
        fitted = {}
        for section, forms in (("star", ("star",)), ("question", ("question",))):
            got = [pq for f in forms for pq in pairs.get(f, [])]
            if got:
                fitted[section] = fit_platt(got)
        report["platt"] = fitted
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0



def evaluate_lost_signs(
    lct_dir: str | Path, nlp=None, limit: int | None = None, repair: bool = True, part: str = "validation"
) -> dict:
    """``criteria-nlp evaluate --corrupt``: every lost-sign form simulated on LCT's validation
    batches (11-14), aggregate figures only (``part="train"``: batches 1-10, for the side-by-side
    figure). ``limit`` caps the records with a sign."""
    if not repair:
        return {"error": "the lost-sign forms are read by the repair: run without --no-repair"}
    if nlp is None:
        from criteria_nlp import load

        nlp = load()
    lct_dir = Path(lct_dir)
    signed, plain = [], []
    for txt in sorted(lct_dir.glob("batch*/*.txt")):
        if is_validation("lct", txt.stem, txt.parent.name) != (part == "validation"):
            continue
        row = ("lct", txt.stem, txt.read_text(encoding="utf-8"))
        (signed if _SIGN.search(row[2]) else plain).append(row)
    if limit is not None:
        signed, plain = signed[:limit], plain[:limit]
    report = evaluate(nlp, signed, plain)
    report.pop("_pairs", None)
    report["part"] = "LCT validation batches 11-14" if part == "validation" else "LCT training batches 1-10"
    return report


if __name__ == "__main__":
    raise SystemExit(main())

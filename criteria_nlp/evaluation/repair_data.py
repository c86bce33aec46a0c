"""Training rows of the operator repair: real comparisons masked as a registry dump writes them.

Every comparison before a number whose operator is written - "≥", "≤", ">=", "<=", ">",
"<", "at least", "no more than", "18 years or older", ... - becomes a bare "=" and its
direction (1: a lower bound, ">=" or ">"; 0: an upper bound) is the label. The text is
run through the pipeline (segmenter and extractor, no repair) exactly as at run time, and
every "=" candidate the extractor reads yields the features of the one learned decision
(:func:`criteria_nlp.pipeline.repair.decision_features`), rule voices and the record
voice included.

Each document gives up to three texts: the dump itself (every ≥ and ≤ written "=", the
typed comparisons kept, as real exports do), then the dump with half of the other
comparisons masked too (alternately, so each is masked once and its neighbours keep their
real operators). Only items holding a masked "=" are run.

Corpora: LCT batches, Chia, the CT.gov CSV and ``ctgov_unlabelled`` - the TRAIN part of
each only (:mod:`criteria_nlp.evaluation.split`), unless asked for the validation part.
Rows are cached under ``out/repair_examples/`` (gitignored).
"""

import csv
import gzip
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from criteria_nlp.evaluation.split import part_of
from criteria_nlp.schema import AgeLimit, Population

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_CORPORA = REPO_ROOT.parent / "shared" / "corpora"
CTGOV_CSV = "ctgov_raw/chicagopcdc_clinical_trials.csv"
CTGOV_JSONL = "ctgov_unlabelled/criteria.jsonl"
CACHE_DIR = REPO_ROOT / "out" / "repair_examples"
CORPORA = ("lct", "chia", "ctgov_raw", "ctgov_unlabelled")
# Bump when the rows change (features, masking): the cache of an older version is rebuilt.
DATA_VERSION = 10

LOST = ("≥", "≤")
_UP_SIGNS = {"≥", ">=", "=>", ">", "\\>=", "\\>", "=\\>"}
# A sign before a number; "\>" and "=\<" are API v2 markdown escapes.
SIGN = re.compile(r"(?<![<>=!≥≤\\])(\\?>=|\\?<=|=>|=\\?<|=\\>|\\?>|\\?<|≥|≤)(?![<>=≥≤])(?=[ \t]*[-+]?\.?\d)")
_UP_WORDS = (
    "greater than or equal to|more than or equal to|equal to or greater than|equal to or more than|"
    "at least|no less than|not less than|no fewer than|not fewer than|greater than|more than|higher than|"
    "a minimum of|minimum of"
)
_DOWN_WORDS = (
    "less than or equal to|equal to or less than|no more than|not more than|no greater than|"
    "not greater than|no higher than|not exceeding|not to exceed|at most|up to|less than|fewer than|"
    "lower than|a maximum of|maximum of"
)
WORDS_BEFORE = re.compile(
    rf"(?<![\w=<>≥≤])(?:(?P<up>{_UP_WORDS})|(?P<down>{_DOWN_WORDS}))(?=[ \t]+[-+]?\.?\d)", re.I
)
# "18 years or older", "2 or more": the sign after the number.
WORDS_AFTER = re.compile(
    r"(?<![\w.,=<>≥≤/-])(?<![=<>≥≤] )(?P<num>\d+(?:[.,]\d+)?)(?P<mid>[ \t]*(?:[A-Za-z%/]+[ \t]*){0,2}?)[ \t]*"
    r"(?:or|and)[ \t]+(?:(?P<up>older|more|greater|higher|above|over)|(?P<down>less|fewer|lower|below|under|younger))\b",
    re.I,
)


@dataclass
class Mask:
    """One comparison of the source: its span, the written form, the direction."""

    start: int
    end: int
    written: str
    label: int  # 1: a lower bound ('>=' or '>'), 0: an upper bound
    after: bool = False  # the words follow the number ("18 or older")
    num_start: int = 0
    num_end: int = 0


def comparisons(text: str) -> list[Mask]:
    """Every written comparison before (or, in words, after) a number, in text order,
    without overlaps."""
    found = [Mask(m.start(), m.end(), m.group(1), int(m.group(1) in _UP_SIGNS)) for m in SIGN.finditer(text)]
    found += [Mask(m.start(), m.end(), m.group(0).strip().lower(), int(m.group("up") is not None)) for m in WORDS_BEFORE.finditer(text)]
    for m in WORDS_AFTER.finditer(text):
        found.append(
            Mask(m.start(), m.end(), "after:" + (m.group("up") or m.group("down")).lower(),
                 int(m.group("up") is not None), True, m.start("num"), m.end("num"))
        )
    found.sort(key=lambda k: (k.start, -k.end))
    out: list[Mask] = []
    for k in found:
        if out and k.start < out[-1].end:
            continue
        out.append(k)
    return out


def dump(text: str) -> str:
    """A registry dump's damage: every ≥ and ≤ becomes "=" (same length, offsets hold)."""
    return text.translate(str.maketrans({"≥": "=", "≤": "="}))


def masked(text: str, masks: list[Mask], chosen: list[Mask]) -> tuple[str, dict[int, Mask]]:
    """The dump of ``text`` with the ``chosen`` comparisons also written "=", and each
    masked "=" by its offset in the new text (a ≥/≤ keeps its offset)."""
    base = dump(text)
    labels: dict[int, Mask] = {}
    pieces: list[str] = []
    pos = 0
    shift = 0
    for k in sorted(chosen, key=lambda k: k.start):
        pieces.append(base[pos : k.start])
        new_start = k.start + shift
        if k.after:
            # "18 years or older" -> "= 18 years"
            num = base[k.num_start : k.num_end]
            mid = base[k.num_end : k.end]
            mid = re.sub(r"[ \t]*(?:or|and)[ \t]+\w+$", "", mid, flags=re.I)
            piece = "= " + num + mid
            labels[new_start] = k
        else:
            piece = "="
            labels[new_start] = k
        pieces.append(piece)
        shift += len(piece) - (k.end - k.start)
        pos = k.end
    pieces.append(base[pos:])
    return "".join(pieces), labels


def variants(text: str) -> list[tuple[str, dict[int, Mask]]]:
    """The dump (only when ``text`` has a ≥ or ≤: its offsets are the source's), then the
    dump with every other typed or worded comparison masked."""
    masks = comparisons(text)
    lost = [k for k in masks if k.written in LOST]
    typed = [k for k in masks if k.written not in LOST]
    out = []
    if lost:
        out.append(masked(text, masks, lost))
    for parity in (0, 1):
        chosen = typed[parity::2]
        if chosen:
            out.append(masked(text, masks, chosen))
    return out


# --------------------------------------------------------------------------- documents


@dataclass
class Document:
    trial: str
    corpus: str
    text: str
    kind: str | None  # every item's kind when the corpus says it (Chia files), else None
    population: Population
    part: str  # "train" or "validation"


def population_of(min_age: str | None, max_age: str | None) -> Population:
    def limit(value: str | None, none_if: float) -> AgeLimit | None:
        try:
            v = float(value) if value not in (None, "") else None
        except ValueError:
            return None
        return AgeLimit(value=v, unit="years") if v is not None and v != none_if and v > 0 else None

    return Population(min_age=limit(min_age, 0), max_age=limit(max_age, 999))


def ctgov_rows(csv_path: Path) -> Iterator[dict]:
    csv.field_size_limit(sys.maxsize)
    with csv_path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def documents(root: str | Path, corpus: str) -> Iterator[Document]:
    """Every document of one corpus under ``root`` with its split part."""
    root = Path(root)
    if corpus == "lct":
        for txt in sorted((root / "lct").glob("batch*/*.txt")):
            batch = txt.parent.name
            yield Document(txt.stem, "lct", txt.read_text(encoding="utf-8"), None, Population(), part_of("lct", txt.stem, batch))
    elif corpus == "chia":
        for txt in sorted((root / "chia").glob("*.txt")):
            trial, _, kind = txt.stem.partition("_")
            kind = {"inc": "inclusion", "exc": "exclusion"}.get(kind)
            yield Document(trial, "chia", txt.read_text(encoding="utf-8"), kind, Population(), part_of("chia", trial))
    elif corpus == "ctgov_raw":
        path = root / CTGOV_CSV
        if path.exists():
            for row in ctgov_rows(path):
                trial = row["#nct_id"]
                population = population_of(row.get("minimum_age"), row.get("maximum_age"))
                text = (row.get("eligibility_criteria") or "").replace("\r\n", "\n")
                yield Document(trial, corpus, text, None, population, part_of(corpus, trial))
    elif corpus == "ctgov_unlabelled":
        path = root / CTGOV_JSONL
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    if not line.strip():
                        continue
                    row = json.loads(line)
                    trial = row["nct_id"]
                    text = (row.get("criteria") or "").replace("\r\n", "\n")
                    yield Document(trial, corpus, text, None, Population(), part_of(corpus, trial))
    else:
        raise ValueError(f"unknown corpus {corpus!r} (expected one of {', '.join(CORPORA)})")


# --------------------------------------------------------------------------- rows


def document_rows(nlp, doc: Document, rules=None) -> list[dict]:
    """The training rows of one document (see the module docstring)."""
    from criteria_nlp.pipeline import extract_items
    from criteria_nlp.pipeline.repair import (
        _operator_span,
        decision_features,
        default_rules,
        equality_reason,
        is_candidate,
        item_votes,
        lexicon_entry,
        record_votes,
    )
    from criteria_nlp.readers.base import CriteriaText
    from criteria_nlp.segment import segment

    rules = rules or default_rules()
    rows: list[dict] = []
    has_lost = any(ch in doc.text for ch in LOST)
    for v, (text, labels) in enumerate(variants(doc.text)):
        items = segment(CriteriaText(text=text, kind=doc.kind))
        if doc.kind is not None:
            for it in items:
                it.kind = doc.kind
        found = extract_items(nlp, items, population=doc.population, repair=False)
        for n, (item, constraints) in enumerate(zip(items, found, strict=True)):
            every = None
            for i, c in enumerate(constraints):
                if not is_candidate(c):
                    continue
                op_start, _ = _operator_span(c)
                pos = item.source_offset(op_start)
                mask = labels.get(pos)
                genuine = mask is None and v == 0 and has_lost and doc.text[pos : pos + 1] == "="
                if mask is None and not genuine:
                    continue
                row = {
                    "trial": doc.trial,
                    "corpus": doc.corpus,
                    "label": mask.label if mask else None,
                    "written": mask.written if mask else "=",
                    "variant": v,
                }
                if c.operator == "between":
                    if c.text.count("=") < 2:
                        continue
                    k = c.text.find("=", c.text.find("=") + 1)
                    second = labels.get(item.source_offset(c.start + k))
                    row["two_sided"] = bool(mask and second and mask.label == second.label)
                    rows.append(row)
                    continue
                if every is None:
                    every = item_votes(constraints, item.text, item.kind, doc.population, rules, False)
                votes = every.get(i)
                if votes is None:
                    why = equality_reason(c, item.text, rules)
                    row["equality"] = why or "equality"
                    rows.append(row)
                    continue
                others = [o for m, (it, cs) in enumerate(zip(items, found, strict=True)) if m != n and it.kind == item.kind for o in cs]
                votes = [*votes, *record_votes(c, item.kind, others, rules)]
                row["feats"] = decision_features(c, item.text, item.kind, votes, lexicon_entry(c.variable), constraints)
                # what a table of the values bounded from below and from above is keyed by
                row["bound"] = {"value": c.value, "unit": c.unit, "variable": c.variable, "kind": item.kind}
                # for reading the training part's misses (never the validation part's)
                row["context"] = f"[{item.kind}] {item.text[max(0, op_start - 80) : op_start]}⟦=⟧{item.text[op_start + 1 : op_start + 60]}"
                rows.append(row)
    return rows


def _cache_path(corpus: str, part: str) -> Path:
    return CACHE_DIR / f"{corpus}-{part}-v{DATA_VERSION}.jsonl.gz"


def corpus_rows(
    nlp,
    root: str | Path = SHARED_CORPORA,
    corpora: tuple[str, ...] = CORPORA,
    part: str = "train",
    limit: int | None = None,
    use_cache: bool = True,
    progress=None,
) -> list[dict]:
    """Rows of the ``part`` documents of ``corpora`` (cached per corpus when no ``limit``)."""
    rows: list[dict] = []
    for corpus in corpora:
        cache = _cache_path(corpus, part)
        if use_cache and limit is None and cache.exists():
            with gzip.open(cache, "rt", encoding="utf-8") as fh:
                rows += [json.loads(line) for line in fh]
            continue
        got: list[dict] = []
        n = 0
        for doc in documents(root, corpus):
            if doc.part != part:
                continue
            if limit is not None and n >= limit:
                break
            n += 1
            got += document_rows(nlp, doc)
            if progress is not None and n % 1000 == 0:
                progress(f"{corpus}: {n} documents, {len(got)} rows")
        if use_cache and limit is None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with gzip.open(cache, "wt", encoding="utf-8") as fh:
                for r in got:
                    fh.write(json.dumps(r) + "\n")
        rows += got
    return rows

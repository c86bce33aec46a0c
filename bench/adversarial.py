"""CPU seconds per stage on adversarial text of doubling sizes (run by hand: python bench/adversarial.py).

Every class of tests/adversarial_text.py (long runs of brackets, punctuation, digits,
letters, operators, a seeded mix, very long lines, very many lines, deep numbering, huge
numbers, broken JSON/XML, mojibake) is structured end to end at 16 KB, 32 KB, ... up to
``--max`` and timed per stage: reading (format detection, decoding, ftfy), segmentation,
the tokenizer alone, the rule components of the pipeline, the rest of structuring (abbreviations,
repair), and the JSON output. The last column is the ratio of the total to the total at
half the size: about 2 is linear, about 4 quadratic. A size stops doubling once a run
passes ``--stop`` seconds. The last line per class is the seconds per MB at the largest size.

    .venv/bin/python bench/adversarial.py                  # every class up to 1 MB
    .venv/bin/python bench/adversarial.py -c open_brackets -c digits --max 262144
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from adversarial_text import CLASSES, make  # noqa: E402

STAGES = ("read", "segment", "tokenizer", "pipeline", "rest", "output")


def _cold(nlp) -> None:
    # spaCy's tokenizer caches the tokens of every run it has seen: forget them
    flush = getattr(nlp.tokenizer, "_flush_cache", None)
    if flush is not None:
        flush()


def stage_times(text: str, nlp) -> dict[str, float]:
    """Seconds per stage for one text; ``total`` is one cold end-to-end run (read, structure,
    JSON), the stages come from a second pass (the tokenizer cold again)."""
    from criteria_nlp.pipeline import extract_items
    from criteria_nlp.readers import RawRecord, read_text
    from criteria_nlp.records import structure_raw
    from criteria_nlp.segment import segment

    _cold(nlp)
    t = time.process_time()
    for raw in read_text(text):
        structure_raw(raw, nlp).model_dump_json()
    total = time.process_time() - t

    _cold(nlp)
    out: dict[str, float] = {}
    t = time.process_time()
    raws = list(read_text(text))
    out["read"] = time.process_time() - t
    items = []
    t = time.process_time()
    for raw in raws:
        if isinstance(raw, RawRecord):
            for ct in raw.criteria:
                items.extend(segment(ct))
    out["segment"] = time.process_time() - t
    t = time.process_time()
    for item in items:
        nlp.make_doc(item.text)
    out["tokenizer"] = time.process_time() - t
    t = time.process_time()
    extract_items(nlp, items)  # tokens cached by now: the rule components
    out["pipeline"] = time.process_time() - t
    t = time.process_time()
    records = [structure_raw(raw, nlp) for raw in raws]
    whole = time.process_time() - t
    out["rest"] = max(0.0, whole - out["segment"] - out["pipeline"])
    t = time.process_time()
    for r in records:
        r.model_dump_json()
    out["output"] = time.process_time() - t
    out["total"] = total
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-c", "--cls", action="append", choices=sorted(CLASSES), help="class (repeatable; default all)")
    ap.add_argument("--min", type=int, default=16 * 1024, help="first size in characters")
    ap.add_argument("--max", type=int, default=1024 * 1024, help="last size in characters")
    ap.add_argument("--stop", type=float, default=20.0, help="stop doubling a class after a run this long")
    args = ap.parse_args()
    from criteria_nlp import load

    nlp = load()
    print(f"{'class':<18}{'size':>9}" + "".join(f"{s:>10}" for s in STAGES) + f"{'total':>9}{'x prev':>8}")
    summary = []
    for name in args.cls or list(CLASSES):
        size, prev = args.min, None
        last = None
        while size <= args.max:
            times = stage_times(make(name, size), nlp)
            ratio = f"{times['total'] / prev:.1f}" if prev else ""
            print(
                f"{name:<18}{size:>9,}" + "".join(f"{times[s]:>10.3f}" for s in STAGES)
                + f"{times['total']:>9.2f}{ratio:>8}",
                flush=True,
            )
            prev, last = max(times["total"], 1e-3), (size, times["total"])
            if times["total"] > args.stop:
                break
            size *= 2
        summary.append((name, last))
    print("\nseconds per MB at the largest size run")
    for name, (size, total) in summary:
        print(f"  {name:<18}{total / size * 1024 * 1024:8.2f} s/MB  (at {size:,} characters)")


if __name__ == "__main__":
    main()

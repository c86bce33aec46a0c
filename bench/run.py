"""Throughput of the criteria-nlp pipeline in one process (run by hand: python bench/run.py).

Items are real criteria: one per line from ../shared/corpora/chia (and LCT items when more
are needed); without the corpora, the items of the bundled examples, repeated. Prints
items/s for the full pipeline beside the tokenizer alone (the ceiling), and the share of
items that hold a number (the others skip the rule components).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
sys.path.insert(0, str(ROOT))


def corpus_items(limit: int) -> tuple[list[str], str]:
    items: list[str] = []
    chia = CORPORA / "chia"
    if chia.is_dir():
        for path in sorted(chia.glob("NCT*_*.txt")):
            items.extend(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
            if len(items) >= limit:
                return items[:limit], "chia criteria lines"
    lct = CORPORA / "lct"
    if lct.is_dir():
        from criteria_nlp.evaluation.lct import document_items

        for path in sorted(lct.glob("batch*/*.txt")):
            items.extend(i.text for i in document_items(path.read_text(encoding="utf-8")))
            if len(items) >= limit:
                return items[:limit], "chia lines + LCT items"
    if items:
        return items, "corpus items"
    from criteria_nlp.readers import read_path
    from criteria_nlp.segment import segment

    for path in sorted((ROOT / "examples").glob("*.txt")):
        for raw in read_path(str(path)):
            for ct in getattr(raw, "criteria", []):
                items.extend(i.text for i in segment(ct))
    reps = limit // max(len(items), 1) + 1
    return (items * reps)[:limit], "bundled examples, repeated"


def rate(fn, items, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(items)
        runs.append(time.perf_counter() - t0)
    return len(items) / statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--items", type=int, default=12000)
    ap.add_argument("-r", "--repeats", type=int, default=3)
    args = ap.parse_args()

    from criteria_nlp.pipeline import HAS_NUMBER_CHECK, build_pipeline

    t0 = time.perf_counter()
    nlp = build_pipeline()
    load_s = time.perf_counter() - t0
    items, origin = corpus_items(args.items)
    tokens = [len(nlp.make_doc(t)) for t in items]

    def tokenizer_only(batch):
        for t in batch:
            nlp.make_doc(t)

    def full(batch):
        for _ in nlp.pipe(batch, batch_size=256):
            pass

    def no_repair(batch):
        with nlp.select_pipes(disable=[p for p in ("criteria_repair",) if p in nlp.pipe_names]):
            for _ in nlp.pipe(batch, batch_size=256):
                pass

    full(items[:500])  # warm up
    with_number = sum(1 for t in items if HAS_NUMBER_CHECK(t)) / len(items)
    n_constraints = sum(len(d._.constraints) for d in nlp.pipe(items, batch_size=256))
    rows = [
        ("spaCy tokenizer only (ceiling)", rate(tokenizer_only, items, args.repeats)),
        ("pipeline without criteria_repair", rate(no_repair, items, args.repeats)),
        (f"full pipeline ({', '.join(nlp.pipe_names)})", rate(full, items, args.repeats)),
    ]
    print(f"items: {len(items)} ({origin}); median {statistics.median(tokens):.0f} tokens/item")
    print(f"items with a number: {with_number:.1%}; constraints found: {n_constraints}")
    print(f"pipeline build time: {load_s:.2f} s")
    width = max(len(r[0]) for r in rows)
    print(f"{'what'.ljust(width)}  items/s")
    for name, r in rows:
        print(f"{name.ljust(width)}  {r:>8,.0f}")


if __name__ == "__main__":
    main()

"""Throughput of ``criteria-nlp annotate`` on real criteria (run by hand, not in the tests).

    .venv/bin/python bench/annotate.py [--max-records N] [--workers 1 2]

Input: every public corpus found in ../shared/corpora, as the three kinds of input a
registry-scale run meets: Chia trials as bare criteria texts (inclusion + exclusion lines
under their headers), LCT criteria texts as they are, and the chicagopcdc CSV rows as one
ClinicalTrials.gov API v2 JSON Lines file. Without the corpora, the bundled examples are
repeated. Each worker count runs in a fresh process (peak memory = its own maxrss plus its
largest worker's); the tokenizer-only pass over the same item texts is the ceiling.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"


def build_inputs(folder: Path, max_records: int | None) -> int:
    """Write the benchmark inputs into ``folder``; returns the number of records."""
    n = 0

    def room() -> bool:
        return max_records is None or n < max_records

    chia = CORPORA / "chia"
    if chia.is_dir():
        (folder / "chia").mkdir()
        for inc in sorted(chia.glob("*_inc.txt")):
            if not room():
                break
            exc = inc.with_name(inc.name.replace("_inc.txt", "_exc.txt"))
            parts = ["Inclusion Criteria:"] + [ln.strip() for ln in inc.read_text(encoding="utf-8").splitlines() if ln.strip()]
            if exc.exists():
                parts += ["Exclusion Criteria:"] + [
                    ln.strip() for ln in exc.read_text(encoding="utf-8").splitlines() if ln.strip()
                ]
            (folder / "chia" / inc.name.replace("_inc", "")).write_text("\n".join(parts) + "\n", encoding="utf-8")
            n += 1
    lct = CORPORA / "lct"
    if lct.is_dir():
        (folder / "lct").mkdir()
        for txt in sorted(lct.glob("batch*/*.txt")):
            if not room():
                break
            (folder / "lct" / txt.name).write_text(txt.read_text(encoding="utf-8"), encoding="utf-8")
            n += 1
    raw = CORPORA / "ctgov_raw" / "chicagopcdc_clinical_trials.csv"
    if raw.is_file():
        with open(raw, encoding="utf-8", newline="") as fh, open(folder / "ctgov.jsonl", "w", encoding="utf-8") as out:
            for row in csv.DictReader(fh):
                if not room():
                    break
                study = {
                    "protocolSection": {
                        "identificationModule": {"nctId": row["#nct_id"], "briefTitle": row["title"]},
                        "conditionsModule": {"conditions": [c for c in row["conditions"].split("|") if c]},
                        "eligibilityModule": {
                            "eligibilityCriteria": row["eligibility_criteria"],
                            "minimumAge": row["minimum_age"] or None,
                            "maximumAge": row["maximum_age"] or None,
                        },
                    }
                }
                out.write(json.dumps(study, ensure_ascii=False) + "\n")
                n += 1
    if n == 0:  # no corpora: the bundled examples, repeated
        for k in range(400 if max_records is None else max_records):
            src = sorted((ROOT / "examples").glob("*.txt"))[k % 5]
            (folder / f"{k:05d}_{src.name}").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
            n += 1
    return n


def child(folder: str, workers: int) -> None:
    """One measured run, in its own process (so that maxrss is this run's)."""
    from criteria_nlp.batch import annotate

    out = Path(folder).parent / f"out_{workers}.jsonl"
    started = time.monotonic()
    stats = annotate([folder], out, workers=workers, progress=False)
    elapsed = time.monotonic() - started
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({
        "workers": workers, "records": stats.records, "items": stats.items, "constraints": stats.constraints,
        "repaired": stats.repaired, "errors": stats.errors, "seconds": round(elapsed, 2),
        "pipeline_load_s": round(stats.load_seconds, 2),
        # Rates after the pipeline is loaded (a registry-scale run pays the load once).
        "records_per_s": round(stats.records / (elapsed - stats.load_seconds), 1),
        "items_per_s": round(stats.items / (elapsed - stats.load_seconds), 1),
        "peak_rss_mb": round((self_kb + children_kb) / 1024, 1),
    }))


def tokenizer_ceiling(folder: Path) -> dict:
    """Items/s of the tokenizer alone over the same items (what no rule pipeline can beat)."""
    from criteria_nlp import load
    from criteria_nlp.batch import expand_inputs, iter_raw_records
    from criteria_nlp.readers.base import RawRecord
    from criteria_nlp.segment import segment

    texts = []
    for _, raw in iter_raw_records(expand_inputs([str(folder)])):
        if isinstance(raw, RawRecord):
            texts.extend(item.text for ct in raw.criteria for item in segment(ct))
    nlp = load()
    started = time.monotonic()
    tokens = sum(len(nlp.make_doc(t)) for t in texts)
    elapsed = time.monotonic() - started
    return {"items": len(texts), "tokens": tokens, "seconds": round(elapsed, 2),
            "items_per_s": round(len(texts) / elapsed, 1), "tokens_per_s": round(tokens / elapsed, 1)}


LONG_CRITERION = """
import json, sys, time
from criteria_nlp import structure_many
unit = "12 >= 3 <= 45.6 = 7 < 8 > 9 - 10 "
text = "Inclusion Criteria:\\n1. " + unit * (int(sys.argv[1]) // len(unit)) + "\\n"
started = time.monotonic()
(record,) = structure_many([text])
print(json.dumps({"chars": len(text), "seconds": round(time.monotonic() - started, 2),
                  "constraints": sum(len(c.constraints) for c in record.criteria)}))
"""


def long_criterion_case(size: int, timeout: float) -> dict:
    """One criterion of ``size`` characters of digits, operators and spaces, in a child process
    with a time limit (a super-linear rule shows as a timeout, not a hung benchmark)."""
    try:
        proc = subprocess.run([sys.executable, "-c", LONG_CRITERION, str(size)], capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"chars": size, "seconds": f"> {timeout:.0f} (killed)"}
    if proc.returncode != 0:
        return {"chars": size, "failed": proc.stderr[-500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-records", type=int, default=None)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    with tempfile.TemporaryDirectory(prefix="criteria-nlp-bench-") as tmp:
        folder = Path(tmp) / "inputs"
        folder.mkdir()
        n = build_inputs(folder, args.max_records)
        print(f"inputs: {n} records in {folder} (corpora: {'yes' if CORPORA.is_dir() else 'no, examples repeated'})")
        for w in args.workers:
            proc = subprocess.run([sys.executable, __file__, "--child", str(folder), str(w)],
                                  capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                sys.exit(f"annotate --workers {w} failed:\n{proc.stderr[-3000:]}")
            print("annotate", proc.stdout.strip().splitlines()[-1])
        print("tokenizer only", json.dumps(tokenizer_ceiling(folder)))
        for size in (100_000, 1_000_000):
            print(f"long criterion ({size} chars)", json.dumps(long_criterion_case(size, timeout=120)))


if __name__ == "__main__":
    main()

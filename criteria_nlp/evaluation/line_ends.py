"""Offsets on a brat corpus saved with CRLF line ends (issue 12, class 7).

Every ``.txt`` of a brat folder is written twice into a temporary folder, once as it is
(LF) and once with CRLF line ends (as a corpus edited on Windows is), each beside a copy
of its ``.ann``; both folders go through ``structure_many`` as a user's would. The check:
for every item and constraint of the CRLF copy, ``file[start:end] == text`` for the file
as the user has it, and its offsets are the LF offsets shifted by the CRs before them
(what brat counts), with the same reading. Nothing here is tuned: it is a consistency check.

    python -m criteria_nlp.evaluation.line_ends ../shared/corpora/lct --part training
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
import tempfile
from pathlib import Path

_OFFSETS = ("start", "end", "text", "mention_start", "mention_end", "mention", "alternates")


def _reading(c: dict) -> dict:
    return {k: v for k, v in c.items() if k not in _OFFSETS}


def check(brat_dir: str | Path, part: str = "training", limit: int | None = None) -> dict:
    import criteria_nlp
    from criteria_nlp.evaluation.split import is_validation

    brat_dir = Path(brat_dir)
    texts = sorted(brat_dir.rglob("*.txt"))
    chosen = []
    for txt in texts:
        # LCT is split by batch folder; any other brat corpus by a hash of the trial id
        batch = txt.parent.name if txt.parent.name.startswith("batch") else None
        validation = is_validation("lct" if batch else "brat", txt.stem.split("_")[0], batch)
        if part == "all" or validation == (part == "validation"):
            chosen.append(txt)
    chosen = chosen[:limit] if limit else chosen
    report = {"files": len(chosen), "items": 0, "constraints": 0, "slice_mismatches": 0, "shift_mismatches": 0,
              "reading_mismatches": 0}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        lf_dir, crlf_dir = Path(tmp, "lf"), Path(tmp, "crlf")
        lf_dir.mkdir()
        crlf_dir.mkdir()
        for txt in chosen:
            data = txt.read_bytes().replace(b"\r\n", b"\n")
            (lf_dir / txt.name).write_bytes(data)
            (crlf_dir / txt.name).write_bytes(data.replace(b"\n", b"\r\n"))
            ann = txt.with_suffix(".ann")
            if ann.exists():
                (lf_dir / ann.name).write_bytes(ann.read_bytes())
                (crlf_dir / ann.name).write_bytes(ann.read_bytes())
        nlp = criteria_nlp.load()
        lf = list(criteria_nlp.structure_many([str(lf_dir)], nlp=nlp))
        crlf = list(criteria_nlp.structure_many([str(crlf_dir)], nlp=nlp))
        if len(lf) != len(chosen) or len(crlf) != len(chosen):
            raise SystemExit(f"expected {len(chosen)} records, got {len(lf)} (LF) and {len(crlf)} (CRLF)")
        for a, b in zip(lf, crlf, strict=True):
            src_lf = Path(a.source).read_text(encoding="utf-8")
            with open(b.source, encoding="utf-8", newline="") as f:
                src_crlf = f.read()
            newlines = [i for i, ch in enumerate(src_lf) if ch == "\n"]

            def shift(i: int, newlines=newlines) -> int:
                return i + bisect.bisect_left(newlines, i)

            for ca, cb in zip(a.criteria, b.criteria, strict=True):
                report["items"] += 1
                if (shift(ca.start), shift(ca.end)) != (cb.start, cb.end):
                    report["shift_mismatches"] += 1
                for ka, kb in zip(ca.constraints, cb.constraints, strict=True):
                    report["constraints"] += 1
                    if src_crlf[kb.start : kb.end] != kb.text:
                        report["slice_mismatches"] += 1
                    if (shift(ka.start), shift(ka.end)) != (kb.start, kb.end):
                        report["shift_mismatches"] += 1
                    if _reading(ka.model_dump()) != _reading(kb.model_dump()):
                        report["reading_mismatches"] += 1
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m criteria_nlp.evaluation.line_ends", description=__doc__.split("\n")[0])
    parser.add_argument("brat_dir")
    parser.add_argument("--part", choices=("training", "validation", "all"), default="training")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    if not Path(args.brat_dir).is_dir():
        print(f"{args.brat_dir}: no such folder (the shared corpora are not here); nothing to check", file=sys.stderr)
        return 0
    print(json.dumps(check(args.brat_dir, args.part, args.limit), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Count what eligibility criteria put numbers on, to guide the variable lexicon and unit table.

Reads the shared brat corpora (Chia, LCT) and prints, by frequency, the measured things and
unit spans that real criteria use, and which of them the current resources fail to match.
Run: .venv/bin/python -m criteria_nlp.resources.tools.mine_lexicon [--missing] [--top N]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[1]
CORPORA = Path(__file__).resolve().parents[4] / "shared" / "corpora"


def read_brat(ann: Path) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str]], dict[str, dict]]:
    """Text-bound entities {id: (type, text)}, relations [(type, arg1, arg2)], events {id: roles}."""
    entities: dict[str, tuple[str, str]] = {}
    relations: list[tuple[str, str, str]] = []
    events: dict[str, dict[str, str]] = {}
    for line in ann.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if line.startswith("T") and len(parts) >= 3:
            entities[parts[0]] = (parts[1].split(" ")[0], parts[2])
        elif line.startswith("R") and len(parts) >= 2:
            fields = parts[1].split()
            if len(fields) == 3:
                relations.append((fields[0], fields[1].split(":", 1)[1], fields[2].split(":", 1)[1]))
        elif line.startswith("E") and len(parts) >= 2:
            roles = dict(f.split(":", 1) for f in parts[1].split() if ":" in f)
            events[parts[0]] = roles
    return entities, relations, events


def chia_measurements(root: Path) -> Iterator[tuple[str, str, str]]:
    """(entity type, measured text, value text) for every Has_value relation in Chia."""
    for ann in sorted(root.glob("*.ann")):
        entities, relations, _ = read_brat(ann)
        for rel, a1, a2 in relations:
            if rel == "Has_value" and a1 in entities and a2 in entities:
                yield entities[a1][0], entities[a1][1], entities[a2][1]


def lct_filtered(root: Path) -> Iterator[tuple[str, str]]:
    """(event type, trigger text) of LCT events that carry a Numeric-Filter, and all unit spans."""
    for ann in sorted(root.glob("batch*/*.ann")):
        entities, _, events = read_brat(ann)
        for roles in events.values():
            head = next(iter(roles.items()), None)
            if head and "Numeric-Filter" in roles and head[1] in entities:
                yield head[0], entities[head[1]][1]
        for etype, text in entities.values():
            if etype in ("Eq-Unit", "Eq-Temporal-Unit"):
                yield etype, text


def alias_pattern(aliases: list[str]) -> re.Pattern[str]:
    """One case-insensitive whole-word alternation over all aliases, longest first."""
    alts = sorted({a for a in aliases}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alts) + r")(?!\w)", re.IGNORECASE)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--missing", action="store_true", help="only list spans no alias matches")
    ap.add_argument("--top", type=int, default=150)
    args = ap.parse_args()
    if not (CORPORA / "chia").is_dir() or not (CORPORA / "lct").is_dir():
        raise SystemExit(f"mine_lexicon: corpora not found under {CORPORA} (needs chia/ and lct/)")
    entries = [json.loads(x) for x in (RESOURCES / "variables.jsonl").read_text().splitlines() if x.strip()]
    pattern = alias_pattern([a for e in entries for a in e["aliases"]])

    measured = Counter()
    values = Counter()
    for etype, text, value in chia_measurements(CORPORA / "chia"):
        if etype == "Measurement":
            measured[text.lower()] += 1
        values[re.sub(r"[\d.,]+", "#", value.lower())] += 1
    lct = Counter()
    units = Counter()
    for etype, text in lct_filtered(CORPORA / "lct"):
        if etype.startswith("Eq-"):
            units[text.lower()] += 1
        else:
            lct[(etype, text.lower())] += 1

    total = sum(measured.values())
    hit = sum(n for t, n in measured.items() if pattern.search(t))
    print(f"chia Measurement with Has_value: {total}, matched {hit} ({hit / max(total, 1):.1%})")
    for title, counter in (("chia Measurement", measured), ("lct Numeric-Filter", lct)):
        print(f"\n== {title}")
        for key, n in counter.most_common():
            text = key if isinstance(key, str) else key[1]
            if args.missing and pattern.search(text):
                continue
            print(f"{n:5d}  {key}")
            args.top -= 1
            if args.top <= 0:
                break
        args.top = 150
    if not args.missing:
        print("\n== chia Value shapes")
        for v, n in values.most_common(args.top):
            print(f"{n:5d}  {v}")
        print("\n== lct unit spans")
        for u, n in units.most_common(args.top):
            print(f"{n:5d}  {u}")


if __name__ == "__main__":
    main()

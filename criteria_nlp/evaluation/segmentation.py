"""Segmentation scored on synthetic records built from the Chia corpus.

Chia keeps every trial's inclusion and exclusion criteria in two files, one criterion per
line. Laying those lines out the way registries do gives records whose item offsets and
kinds are known exactly:

  a  ClinicalTrials.gov: "Inclusion Criteria:" / "Exclusion Criteria:" and "* " bullets
  b  WHO ICTRP: numbered items wrapped at 80 columns, blank lines between them
  c  everything on one line: "Inclusion Criteria: 1. ... 2. ... Exclusion Criteria: 1. ..."
  d  "- " bullets with no headers at all: the inclusion list, then the exclusion list
  e  the inclusion list alone, as "- " bullets (a user who passes just that list)
  f  the exclusion list alone, as "- " bullets

Layouts d-f are bare texts structured the way users do it, by ``criteria_nlp.structure_many``
(reader, segmenter, classifier, pipeline), and only on the trials the inclusion/exclusion
classifier did not train on: those not in its model's ``meta.chia_training_trials``, so a
Chia part the project never saw is scored whole. For them the report adds how well the
items' ``kind_confidence`` is calibrated: the mean confidence against the kind accuracy,
and the expected calibration error over ten confidence bins.

An item is found when its (start, end) equals the gold item's: start at the label, end
after the criterion's last character. Kind accuracy is over found items. Layout d also
reports it over the trials for which Chia has both lists: 30 of its 705 trials have "NA" for
exclusion, and several of those filed their exclusion criteria in ``_inc.txt`` too
("Drug abuse", "Heart disease" as inclusion), so their gold says nothing about where
exclusion begins.

    python -m criteria_nlp.evaluation.segmentation ../shared/corpora/chia
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from criteria_nlp.readers.base import CriteriaText
from criteria_nlp.segment import segment
from criteria_nlp.segment.classifier import default_model, is_heldout, is_placeholder, read_chia

LAYOUTS = {
    "a": "ctgov_bullets",
    "b": "who_wrapped_numbered",
    "c": "inline_one_line",
    "d": "headerless_bullets",
    "e": "headerless_inclusion_only",
    "f": "headerless_exclusion_only",
}
# Layouts scored through structure_many, on the trials the classifier never saw.
USER_PATH = frozenset("def")


@dataclass
class GoldItem:
    start: int
    end: int
    kind: str


def _ctgov(inc: list[str], exc: list[str]) -> tuple[CriteriaText, list[GoldItem]]:
    out, gold = [], []
    pos = 0
    for header, kind, lines in (("Inclusion Criteria:", "inclusion", inc), ("Exclusion Criteria:", "exclusion", exc)):
        block = f"{header}\n\n" if not out else f"\n{header}\n\n"
        out.append(block)
        pos += len(block)
        for line in lines:
            entry = f"* {line}"
            gold.append(GoldItem(pos, pos + len(entry), kind))
            out.append(entry + "\n")
            pos += len(entry) + 1
    return CriteriaText("".join(out)), gold


def _who(inc: list[str], exc: list[str]) -> tuple[CriteriaText, list[GoldItem]]:
    out, gold = [], []
    pos = 0
    for header, kind, lines in (("Inclusion Criteria:", "inclusion", inc), ("Exclusion Criteria:", "exclusion", exc)):
        block = f"{header}\n\n"
        out.append(block)
        pos += len(block)
        for n, line in enumerate(lines, 1):
            entry = textwrap.fill(f"{n}. {line}", width=80, break_long_words=False, break_on_hyphens=False)
            gold.append(GoldItem(pos, pos + len(entry), kind))
            out.append(entry + "\n\n")
            pos += len(entry) + 2
    return CriteriaText("".join(out)), gold


def _inline(inc: list[str], exc: list[str]) -> tuple[CriteriaText, list[GoldItem]]:
    out, gold = [], []
    pos = 0
    for header, kind, lines in (("Inclusion Criteria:", "inclusion", inc), ("Exclusion Criteria:", "exclusion", exc)):
        block = f"{header} " if not out else f" {header} "
        out.append(block)
        pos += len(block)
        for n, line in enumerate(lines, 1):
            entry = f"{n}. {' '.join(line.split())}"
            if n > 1:
                out.append(" ")
                pos += 1
            gold.append(GoldItem(pos, pos + len(entry), kind))
            out.append(entry)
            pos += len(entry)
    return CriteriaText("".join(out).rstrip()), gold


def _headerless(inc: list[str], exc: list[str]) -> tuple[CriteriaText, list[GoldItem]]:
    out, gold = [], []
    pos = 0
    for kind, lines in (("inclusion", inc), ("exclusion", exc)):
        for line in lines:
            entry = f"- {line}"
            gold.append(GoldItem(pos, pos + len(entry), kind))
            out.append(entry + "\n")
            pos += len(entry) + 1
    return CriteriaText("".join(out)), gold


def _inclusion_only(inc: list[str], exc: list[str]) -> tuple[CriteriaText, list[GoldItem]]:
    return _headerless(inc, [])


def _exclusion_only(inc: list[str], exc: list[str]) -> tuple[CriteriaText, list[GoldItem]]:
    return _headerless([], exc)


BUILDERS = {"a": _ctgov, "b": _who, "c": _inline, "d": _headerless, "e": _inclusion_only, "f": _exclusion_only}


def _clean(lines: Iterable[str]) -> list[str]:
    # A Chia line may hold tabs or runs of spaces; the layouts write one criterion per item.
    # "NA" is Chia's way of saying a trial has no criteria of a kind: not an item.
    return [" ".join(ln.split()) for ln in lines if ln.strip() and not is_placeholder(ln)]


def _trained_on() -> frozenset[str] | None:
    """The Chia trials the shipped classifier trained on; None when its model file does not
    list them (then the hash split it was made with tells)."""
    model = default_model()
    seen = model.meta.get("chia_training_trials") if model is not None else None
    return frozenset(t.upper() for t in seen) if seen is not None else None


def _unseen(trial_id: str, trained: frozenset[str] | None) -> bool:
    return is_heldout(trial_id) if trained is None else trial_id.strip().upper() not in trained


def _found_by_users_path(texts: list[str]) -> list[dict[tuple[int, int], tuple[str, float]]]:
    """(start, end) -> (kind, kind_confidence) of every criterion ``structure_many`` finds in
    each bare text."""
    import criteria_nlp

    out = []
    for record in criteria_nlp.structure_many(texts):
        out.append({(c.start, c.end): (c.kind, c.kind_confidence) for c in record.criteria})
    return out


def _calibration(pairs: list[tuple[float, bool]], bins: int = 10) -> dict:
    """Mean confidence and expected calibration error of (confidence, correct) pairs."""
    if not pairs:
        return {}
    groups: dict[int, list[tuple[float, bool]]] = {}
    for conf, ok in pairs:
        groups.setdefault(min(int(conf * bins), bins - 1), []).append((conf, ok))
    ece = sum(abs(sum(c for c, _ in g) - sum(o for _, o in g)) for g in groups.values()) / len(pairs)
    return {"mean_kind_confidence": round(sum(c for c, _ in pairs) / len(pairs), 4),
            "kind_confidence_ece": round(ece, 4)}


def evaluate_chia_layouts(
    chia_dir: str | os.PathLike,
    layouts: Iterable[str] = ("a", "b", "c", "d", "e", "f"),
    limit: int | None = None,
    examples: int = 0,
) -> dict:
    """Item precision/recall/F1 and kind accuracy per layout (see the module docstring).
    ``limit`` takes the first N trials (sorted by id) of each layout's pool; ``examples``
    keeps up to N mismatched trials per layout for inspection (layouts a-c only: d-f score
    trials kept for validation, whose misses are not to be read)."""
    trials = read_chia(chia_dir)
    report: dict = {}
    trained = _trained_on()
    for key in layouts:
        if key not in BUILDERS:
            raise ValueError(f"unknown layout {key!r}; choose from {', '.join(BUILDERS)}")
        pool = sorted(tid for tid in trials if key not in USER_PATH or _unseen(tid, trained))
        if limit is not None:
            pool = pool[:limit]
        built = []
        for tid in pool:
            inc, exc = _clean(trials[tid]["inclusion"]), _clean(trials[tid]["exclusion"])
            ct, gold = BUILDERS[key](inc, exc)
            if gold:
                built.append((tid, inc, exc, ct, gold))
        if key in USER_PATH:
            founds = _found_by_users_path([ct.text for _, _, _, ct, _ in built])
        else:
            founds = [{(it.start, it.end): (it.kind, it.kind_confidence) for it in segment(ct)}
                      for _, _, _, ct, _ in built]
        tp = fp = fn = kind_ok = both_ok = both_n = one_list = 0
        confidences: list[tuple[float, bool]] = []
        bad: list[dict] = []
        for (tid, inc, exc, ct, gold), found in zip(built, founds, strict=True):
            gold_spans = {(g.start, g.end): g for g in gold}
            hits = [span for span in gold_spans if span in found]
            tp += len(hits)
            fn += len(gold_spans) - len(hits)
            fp += len(found) - len(hits)
            oks = [found[s][0] == gold_spans[s].kind for s in hits]
            confidences += [(found[s][1], o) for s, o in zip(hits, oks, strict=True)]
            ok = sum(oks)
            kind_ok += ok
            if inc and exc:
                both_ok, both_n = both_ok + ok, both_n + len(hits)
            else:
                one_list += 1
            if key not in USER_PATH and len(bad) < examples and (len(hits) != len(gold_spans) or len(found) != len(hits)):
                bad.append({"trial": tid, "missed": [ct.text[s:e] for s, e in gold_spans if (s, e) not in found][:3],
                            "spurious": [ct.text[s:e] for s, e in found if (s, e) not in gold_spans][:3]})
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        report[f"{key}_{LAYOUTS[key]}"] = {
            "trials": len(built),
            "gold_items": tp + fn,
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "kind_accuracy": round(kind_ok / tp, 4) if tp else 0.0,
            **({"kind_accuracy_trials_with_both_lists": round(both_ok / both_n, 4) if both_n else 0.0,
                "trials_with_one_list": one_list} if key == "d" else {}),
            **(_calibration(confidences) if key in USER_PATH else {}),
            **({"mismatches": bad} if examples and key not in USER_PATH else {}),
        }
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m criteria_nlp.evaluation.segmentation", description=__doc__.split("\n\n")[0])
    ap.add_argument("chia_dir", help="the Chia corpus folder (NCT*_inc.txt, NCT*_exc.txt)")
    ap.add_argument("--layouts", default="abcdef", help="which layouts to score (default: abcdef)")
    ap.add_argument("--limit", type=int, default=None, help="score only the first N trials of each layout")
    ap.add_argument("--examples", type=int, default=0, help="show up to N mismatched trials per layout")
    args = ap.parse_args(argv)
    try:
        report = evaluate_chia_layouts(args.chia_dir, list(args.layouts), args.limit, args.examples)
    except (FileNotFoundError, ValueError) as exc:
        print(f"criteria-nlp: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

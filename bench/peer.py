"""criteria-nlp against the peer (the Go grammar parser users compare it with), side by side.

    .venv/bin/python bench/peer.py                   # 4,060 studies, 3 rounds: ~6 min on 2 idle cores
    .venv/bin/python bench/peer.py --runs 1          # one round: ~2 min
    .venv/bin/python bench/peer.py --copies 1        # 406 studies, a quick look
    .venv/bin/python bench/peer.py --memory          # RSS of `annotate -j 2` over 40,600 studies, sampled
    .venv/bin/python bench/peer.py --corpus distinct # only the 4,060 distinct studies (see below)
    .venv/bin/python bench/peer.py --no-memo-runs    # without the memo-off rows
    .venv/bin/python bench/peer.py --memory --corpus distinct   # memory over the distinct studies

Two corpora, each tool on the same studies:

- ``issue``: the issue's corpus, the 406 chicagopcdc studies ten times over. Whole studies
  recur, so criteria-nlp's item memo (``criteria_nlp.pipeline.memo``) answers ~90% of the
  items of a run: the rows ``--no-memo`` show the speed without it.
- ``distinct``: 4,060 distinct studies of ``../shared/corpora/ctgov_unlabelled`` (its training
  part by ``evaluation.split``, one per trial id and per criteria text, the first 4,060 in the
  order of a hash of the trial id), written as API v2 JSON lines and as the peer's CSV. Only
  the lines registries share recur there: the honest figure for the memo.

The memo's hit rate of each run is read from annotate's summary line.

Both tools get the same studies: ``../shared/peer/speed_corpus.py`` writes N copies of the
chicagopcdc ClinicalTrials.gov CSV as API v2 JSON lines (criteria-nlp's input) and as the
peer's CSV. Each round runs the peer, ``criteria-nlp annotate`` in one process and
``annotate --workers 2``, one after the other, each as a whole fresh process (start-up,
pipeline load, reading and writing included), and prints the ratio of the two times for
that round; the summary gives the medians. Peak memory is sampled from /proc every 0.1 s
over the whole process tree (the workers included). The machine's load average is
printed before and after: on a busy machine absolute times mean nothing and even the
wall-time ratios suffer (the peer's Go runtime runs several threads, so a crowded scheduler
gives it more of the cores); the CPU time of each whole process tree (``wait4``) and its
ratio are printed as well, as the steadier figure there. The targets are wall-time ratios
on a quiet machine.

Without ``../shared/peer`` (or when the peer cannot be built: it needs Go) the peer is
skipped and the studies are written by this script from the same CSV; without the CSV
there is nothing to measure and the script says so.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PEER = SHARED / "peer"
CSV_SOURCE = SHARED / "corpora" / "ctgov_raw" / "chicagopcdc_clinical_trials.csv"
UNLABELLED = SHARED / "corpora" / "ctgov_unlabelled" / "criteria.jsonl"
DISTINCT_STUDIES = 4060
PEER_COLUMNS = ["#nct_id", "title", "has_us_facility", "conditions", "eligibility_criteria"]  # speed_corpus.py's
CLI = Path(sys.executable).parent / "criteria-nlp"


# ---------------------------------------------------------------------------- inputs


def build_studies(copies: int, folder: Path) -> int:
    """studies.jsonl (+ studies.csv for the peer) in ``folder``; returns the number of studies."""
    folder.mkdir(parents=True, exist_ok=True)
    script = PEER / "speed_corpus.py"
    if script.is_file():
        proc = subprocess.run([sys.executable, str(script), str(CSV_SOURCE), str(copies), str(folder)],
                              capture_output=True, text=True, check=True)
        return int(proc.stdout.split()[0])
    # No peer folder: the same JSON lines, written here (no CSV: there is no peer to read it).
    with open(CSV_SOURCE, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(folder / "studies.jsonl", "w", encoding="utf-8") as out:
        for k in range(copies):
            for r in rows:
                nct = r["#nct_id"] if k == 0 else f"{r['#nct_id']}-{k}"
                study = {"protocolSection": {
                    "identificationModule": {"nctId": nct, "briefTitle": r["title"]},
                    "conditionsModule": {"conditions": [r["conditions"]]},
                    "eligibilityModule": {"eligibilityCriteria": r["eligibility_criteria"],
                                          "minimumAge": r.get("minimum_age") or None,
                                          "maximumAge": r.get("maximum_age") or None}}}
                out.write(json.dumps(study, ensure_ascii=False) + "\n")
    return copies * len(rows)


def build_distinct(folder: Path, count: int = DISTINCT_STUDIES) -> int:
    """``count`` distinct studies of ctgov_unlabelled (training part) as studies.jsonl and the
    peer's studies.csv (the columns speed_corpus.py writes; no title, conditions or ages are
    known for these studies: both tools get none). Line ends are written "\n" for both."""
    import hashlib

    sys.path.insert(0, str(ROOT))
    from criteria_nlp.evaluation.split import is_validation

    seen_ids, seen_texts, rows = set(), set(), []
    with open(UNLABELLED, encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            nct, text = d.get("nct_id") or "", (d.get("criteria") or "").replace("\r\n", "\n").replace("\r", "\n")
            key = " ".join(text.split())
            if not nct or not key or nct in seen_ids or key in seen_texts or is_validation("ctgov_unlabelled", nct):
                continue
            seen_ids.add(nct)
            seen_texts.add(key)
            rows.append((hashlib.sha1(nct.encode()).hexdigest(), nct, text))
    rows.sort()
    rows = rows[:count]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "studies.jsonl", "w", encoding="utf-8") as j, \
            open(folder / "studies.csv", "w", newline="", encoding="utf-8") as c:
        w = csv.writer(c)
        w.writerow(PEER_COLUMNS)
        for _, nct, text in rows:
            study = {"protocolSection": {"identificationModule": {"nctId": nct},
                                         "eligibilityModule": {"eligibilityCriteria": text}}}
            j.write(json.dumps(study, ensure_ascii=False) + "\n")
            w.writerow([nct, "", "true", "", text])
    return len(rows)


def build_peer() -> tuple[list[str] | None, str]:
    """The command prefix that runs the peer (input and output paths follow), or None and why."""
    if not (PEER / "build.sh").is_file():
        return None, f"{PEER} is absent"
    proc = subprocess.run([str(PEER / "build.sh")], capture_output=True, text=True)
    if proc.returncode != 0:
        return None, f"the peer did not build: {proc.stderr.strip()[-300:]}"
    binary = proc.stdout.strip().splitlines()[-1]
    resources = PEER / "source" / "src" / "resources"
    # run.sh without its build step: RESOURCE_PATH=... BIN -conf ... -i IN -o OUT
    return [binary, "-conf", str(resources / "config" / "cfg.conf"), "-i"], f"built at {binary}"


# ---------------------------------------------------------------------------- measuring


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return out


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_memory(pid: int, pss: bool = False) -> tuple[int, int]:
    """(RSS summed over ``pid`` and its descendants, PSS summed likewise or 0) in KB. Forked
    workers share the parent's pages, which the RSS sum counts once per process."""
    todo, seen, rss, pss_sum = [pid], set(), 0, 0
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        rss += _status_kb(p, "VmRSS:")
        if pss:
            pss_sum += _pss_kb(p)
        todo.extend(_children(p))
    return rss, pss_sum


def run(cmd: list[str], env: dict | None = None, sample_every: float = 0.1, pss: bool = False,
        trace: list | None = None) -> dict:
    """Run ``cmd`` to the end: wall seconds, peak RSS/PSS of its process tree (MB)."""
    err = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # a pipe could fill up
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **(env or {})}, cwd=ROOT)
    peak_rss = peak_pss = 0
    while True:
        # wait4: the child's CPU time, its waited-for workers included
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        rss, p = tree_memory(proc.pid, pss)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, p)
        if trace is not None:
            trace.append((round(time.monotonic() - started, 1), rss, p))
        time.sleep(sample_every)
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    err.seek(0)
    stderr = err.read()
    err.close()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-2000:]}")
    return {"seconds": seconds, "cpu": cpu, "rss_mb": peak_rss / 1024, "pss_mb": peak_pss / 1024, "stderr": stderr}


def load() -> str:
    try:
        one, five, _ = os.getloadavg()
        return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
    except OSError:
        return "load average unknown"


def ours(studies: Path, out: Path, workers: int, memo: bool = True) -> list[str]:
    cmd = [str(CLI), "annotate", str(studies), "-o", str(out)]
    return cmd + (["--workers", str(workers)] if workers > 1 else []) + ([] if memo else ["--no-memo"])


def memo_rate(stderr: str) -> str:
    """The memo's share of the items, from annotate's summary line ("" when it was off)."""
    m = re.search(r"item memo: ([\d,]+) of ([\d,]+) items", stderr)
    if not m:
        return ""
    hits, items = (int(g.replace(",", "")) for g in m.groups())
    return f"memo {100 * hits / items:.1f}% of {items:,} items"


# ---------------------------------------------------------------------------- modes


def corpora(args) -> list[tuple[str, Path, int]]:
    """(name, folder, studies) of each corpus asked for, built now."""
    out = []
    for name in args.corpus:
        if name == "issue":
            folder = Path(args.out)
            out.append((name, folder, build_studies(args.copies, folder)))
        elif not UNLABELLED.is_file():
            print(f"distinct: skipped ({UNLABELLED} is absent)")
        else:
            folder = Path(args.out).parent / "speed-distinct"
            out.append((name, folder, build_distinct(folder)))
    return out


def side_by_side(args) -> None:
    built = corpora(args)
    peer, why = (None, "skipped (--no-peer)") if args.no_peer else build_peer()
    for name, folder, n in built:
        print(f"{name}: {n:,} studies in {folder}")
    print(f"peer: {why}")
    print(load())
    peer_env = {"RESOURCE_PATH": str(PEER / "source" / "src" / "resources")}
    configs = [(w, True) for w in args.workers]
    if not args.no_memo_runs:
        configs += [(w, False) for w in args.workers]
    rows: dict[tuple[str, str], list[dict]] = {}
    for r in range(1, args.runs + 1):
        for corpus, folder, n in built:
            measured = {}
            if peer is not None:
                measured["peer"] = run([*peer, str(folder / "studies.csv"), "-o", str(folder / "peer.tsv")],
                                       env=peer_env)
            for w, memo in configs:
                label = f"ours -j {w}" + ("" if memo else " --no-memo")
                measured[label] = run(ours(folder / "studies.jsonl", folder / f"ours_{w}.jsonl", w, memo))
            for label, m in measured.items():
                rows.setdefault((corpus, label), []).append({**m, "n": n})
            parts = [f"{label} {m['seconds']:.1f} s, {m['cpu']:.1f} s CPU ({m['rss_mb']:.0f} MB"
                     + (f", {memo_rate(m['stderr'])}" if memo_rate(m["stderr"]) else "") + ")"
                     for label, m in measured.items()]
            if peer is not None:
                parts += [f"{label}: {measured['peer']['seconds'] / m['seconds']:.2f}x the peer "
                          f"(CPU time: {measured['peer']['cpu'] / m['cpu']:.2f}x)"
                          for label, m in measured.items() if label != "peer"]
            print(f"round {r}, {corpus}: " + "; ".join(parts), flush=True)
    print(load())
    print(f"\nmedian of {args.runs} (whole process; ratio = peer time / our time on the same corpus, "
          "per round then median)")
    for (corpus, label), ms in rows.items():
        n = ms[0]["n"]
        wall = statistics.median(m["seconds"] for m in ms)
        line = (f"  {corpus:8s} {label:20s} {wall:7.1f} s  {n / wall:7.1f} studies/s  "
                f"CPU {statistics.median(m['cpu'] for m in ms):7.1f} s  "
                f"peak RSS {max(m['rss_mb'] for m in ms):5.0f} MB")
        peers = rows.get((corpus, "peer"))
        if label != "peer" and peers:
            ratios = [p["seconds"] / m["seconds"] for p, m in zip(peers, ms, strict=True)]
            cpu = [p["cpu"] / m["cpu"] for p, m in zip(peers, ms, strict=True)]
            line += (f"  {statistics.median(ratios):5.2f}x the peer (rounds: {', '.join(f'{x:.2f}' for x in ratios)});"
                     f" CPU time {statistics.median(cpu):.2f}x")
        rate = memo_rate(ms[-1]["stderr"])
        print(line + (f"  [{rate}]" if rate else ""))
    if peer is None:
        print("  (no peer: no ratio)")


def memory(args) -> None:
    if args.corpus == ["distinct"]:  # every item new: the memo fills up to its bound
        folder = Path(args.out).parent / "speed-distinct-memory"
        n = build_distinct(folder)
    else:
        folder = Path(args.out)
        n = build_studies(args.copies, folder)
    (folder / "studies.csv").unlink(missing_ok=True)  # only the peer reads it
    print(f"{n:,} studies in {folder}; annotate --workers {args.workers[-1]}, memory sampled every 0.5 s")
    print(load())
    trace: list = []
    m = run(ours(folder / "studies.jsonl", folder / "ours.jsonl", args.workers[-1]), sample_every=0.5, pss=True,
            trace=trace)
    print(load())
    print(m["stderr"].strip().splitlines()[-1] if m["stderr"].strip() else "")
    print(f"{m['seconds']:.0f} s ({m['cpu']:.0f} s CPU); peak RSS (parent + workers, shared pages counted in each) {m['rss_mb']:.0f} MB, "
          f"peak PSS {m['pss_mb']:.0f} MB")
    steady = [t for t in trace if t[0] >= trace[-1][0] * 0.1] if trace else []
    if steady:
        print("RSS / PSS (MB) over the run, after the first 10%:")
        for q in (0.0, 0.25, 0.5, 0.75, 1.0):
            t = steady[min(int(q * (len(steady) - 1)), len(steady) - 1)]
            print(f"  at {t[0]:6.1f} s: RSS {t[1] / 1024:5.0f}  PSS {t[2] / 1024:5.0f}")
        half = len(steady) // 2
        first = max(t[1] for t in steady[:half] or steady)
        second = max(t[1] for t in steady[half:])
        print(f"  peak RSS first half {first / 1024:.0f} MB, second half {second / 1024:.0f} MB "
              f"({'flat' if second <= first * 1.05 else 'GROWS'})")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds (median reported); default 3")
    parser.add_argument("--copies", type=int, default=10,
                        help="copies of the 406 chicagopcdc studies (default 10 = 4,060; --memory: 100)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="annotate worker counts (1 2)")
    parser.add_argument("--out", default=None, help="where the studies go (default out/speed-COPIES)")
    parser.add_argument("--no-peer", action="store_true", help="measure criteria-nlp only")
    parser.add_argument("--corpus", nargs="+", choices=["issue", "distinct"], default=["issue", "distinct"],
                        help="issue: the chicagopcdc studies COPIES times; distinct: 4,060 distinct "
                             "ctgov_unlabelled studies (default both)")
    parser.add_argument("--no-memo-runs", action="store_true",
                        help="skip the runs with the item memo off (annotate --no-memo)")
    parser.add_argument("--memory", action="store_true",
                        help="sample the memory of one `annotate --workers 2` run over 100 copies instead")
    parser.add_argument("--keep", action="store_true", help="--memory: keep the 200 MB of studies")
    args = parser.parse_args()
    if not CSV_SOURCE.is_file():
        sys.exit(f"{CSV_SOURCE} is absent: nothing to measure (the benchmark needs ../shared/corpora)")
    if not CLI.exists():
        sys.exit(f"{CLI} is absent: run `make install` first")
    if args.memory and args.copies == 10:
        args.copies = 100
    args.out = args.out or str(ROOT / "out" / f"speed-{args.copies}")
    if args.memory:
        args.workers = [max(args.workers)]
        memory(args)
    else:
        side_by_side(args)


if __name__ == "__main__":
    main()

"""Start-up: the first ``criteria_nlp.structure(...)`` in a fresh process, pipeline load included.

    .venv/bin/python bench/startup.py                 # 7 fresh processes, median wall and CPU
    .venv/bin/python bench/startup.py --runs 11
    .venv/bin/python bench/startup.py --floor         # also bare `import spacy; spacy.blank("en")(...)`
    .venv/bin/python bench/startup.py --profile       # where one start goes (cProfile, top 25 by cumulative)
    .venv/bin/python bench/startup.py --against /tmp/base   # alternating with another checkout
        # (e.g. ``git archive COMMIT | tar -x -C /tmp/base``; run through PYTHONPATH, same venv)

Each run is a new interpreter (``sys.executable -c ...``) that imports criteria_nlp and
structures one record: a definition ("(ANC)"), two bare "=" the repair decides (one
for a variable outside the lexicon: its alias patterns are looked at), a range and an
exclusion, so that the tokenizer, the variable matcher, the value grammar, ConText, the
repair (with its alias patterns) and the abbreviation teaching all run once. The
environment is this process's (``PYTHONDONTWRITEBYTECODE=1`` if set: the project's own
modules are then compiled from source in every process, as in a fresh checkout), and the
compiled-pattern cache (``criteria_nlp/compiled.py``) is whatever it holds: the first run after
a change of the patterns fills it, so the first run is reported apart and left out of the
median. The issue's target is a wall time of 1.5 s on a quiet machine; on a busy one the
CPU time (user + sys of the child, ``wait4``) is the steadier figure, and ``--floor`` gives
spaCy's own start on the same machine at the same time for scale.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

RECORD = (
    "Inclusion Criteria:\n"
    "1. Age = 18 years\n"
    "2. Absolute neutrophil count (ANC) >= 1.5 x 10^9/L and ANC < 10 x 10^9/L\n"
    "3. Hemoglobin between 9 and 16 g/dL\n"
    "4. Distance walked unaided = 50 metres\n"
    "Exclusion Criteria:\n"
    "1. QTc > 470 ms\n"
    "2. No history of stroke within 6 months\n"
)
OURS = (
    "import criteria_nlp; r = criteria_nlp.structure({record!r}); "
    "assert sum(len(c.constraints) for c in r.criteria) >= 7, r"
)
FLOOR = "import spacy; spacy.blank('en')('Age >= 18 years')"


def once(code: str, checkout: str | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one fresh interpreter running ``code`` (with ``checkout``'s
    criteria_nlp first on the path, when given)."""
    env = dict(os.environ)
    if checkout is not None:
        env["PYTHONPATH"] = checkout
        code = f"{code}; assert criteria_nlp.__file__.startswith({checkout!r}), criteria_nlp.__file__"
    started = time.monotonic()
    # (-c puts the working folder first on the path: the checkout's own, or this one's)
    cwd = checkout or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"the run failed:\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def series(named: list[tuple[str, str, str | None]], runs: int) -> None:
    """Each (name, code, checkout) once as a warm-up, then ``runs`` rounds, alternating."""
    first = {name: once(code, where) for name, code, where in named}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in named}
    for _ in range(runs):
        for name, code, where in named:
            times[name].append(once(code, where))
    for name, _, _ in named:
        walls, cpus = [t[0] for t in times[name]], [t[1] for t in times[name]]
        print(
            f"{name:28s} median wall {statistics.median(walls):5.2f} s  CPU {statistics.median(cpus):5.2f} s  "
            f"(min {min(walls):.2f} / {min(cpus):.2f}; first run {first[name][0]:.2f} / {first[name][1]:.2f})",
            flush=True,
        )


def profile() -> None:
    code = (
        "import cProfile, pstats; p = cProfile.Profile(); p.enable(); " + OURS.format(record=RECORD)
        + "; p.disable(); pstats.Stats(p).sort_stats('cumulative').print_stats(25)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes measured (median), after one warm-up")
    parser.add_argument("--floor", action="store_true", help="also measure bare spaCy's start")
    parser.add_argument("--profile", action="store_true", help="profile one start instead")
    parser.add_argument("--against", metavar="DIR", help="another checkout's start, measured alternately")
    args = parser.parse_args()
    if args.profile:
        profile()
        return
    try:
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
              f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    except OSError:
        pass
    code = OURS.format(record=RECORD)
    named = [("first structure()", code, None)]
    if args.against:
        named.append((f"  ... {args.against}", code, os.path.abspath(args.against)))
    if args.floor:
        named.append(("spaCy floor (blank en)", FLOOR, None))
    series(named, args.runs)


if __name__ == "__main__":
    main()

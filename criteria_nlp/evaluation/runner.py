"""Glue of ``criteria-nlp evaluate``: find the evaluators, run them, gather one report dict."""

from __future__ import annotations

import importlib
import inspect
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# name -> (module, function). Each returns a dict (see criteria_nlp.evaluation).
EVALUATORS: dict[str, tuple[str, str]] = {
    "gold": ("criteria_nlp.evaluation.gold", "evaluate_gold"),
    "lct": ("criteria_nlp.evaluation.lct", "evaluate_lct"),
    "chia": ("criteria_nlp.evaluation.segmentation", "evaluate_chia_layouts"),
    "repair": ("criteria_nlp.evaluation.repair", "evaluate_repair"),
    "lost_signs": ("criteria_nlp.evaluation.lost_signs", "evaluate_lost_signs"),
    "chia_attribution": ("criteria_nlp.evaluation.attribution", "evaluate_chia_attribution"),
}
CORPORA = ("lct", "chia")


class EvaluationUnavailable(Exception):
    """An evaluator that is not (yet) part of the installed criteria-nlp."""


def resolve(name: str) -> Callable[..., dict]:
    module_name, func_name = EVALUATORS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise EvaluationUnavailable(f"{name} evaluation is not available yet ({module_name} is missing)") from exc
        raise
    func = getattr(module, func_name, None)
    if not callable(func):
        raise EvaluationUnavailable(f"{name} evaluation is not available yet ({module_name}.{func_name} is missing)")
    return func


def _call(func: Callable[..., dict], first: Any, **options: Any) -> dict:
    """Call an evaluator with the options its signature accepts (they differ a little)."""
    params = inspect.signature(func).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    accepted = {k: v for k, v in options.items() if takes_any or k in params}
    return func(first, **accepted)


def plan(
    gold: str | Path | None, corpora: Sequence[tuple[str, str | Path]], corrupt: bool
) -> list[tuple[str, str, Path, dict]]:
    """``(section title, evaluator, directory, options)`` for every evaluation asked for."""
    steps: list[tuple[str, str, Path, dict]] = []
    if gold is not None:
        steps.append((f"gold ({gold})", "gold", Path(gold), {}))
    for name, directory in corpora:
        if name not in CORPORA:
            raise ValueError(f"unknown corpus {name!r}; choose one of {', '.join(CORPORA)}")
        if name == "lct":
            steps.append((f"lct ({directory})", "lct", Path(directory), {}))
            if corrupt:
                steps.append((f"lct, >=/<= written as '=' ({directory})", "lct", Path(directory), {"corrupt": True}))
                steps.append((f"operator repair ({directory})", "repair", Path(directory), {}))
                steps.append((f"lost-sign forms, simulated ({directory})", "lost_signs", Path(directory), {}))
        else:
            steps.append((f"chia layouts ({directory})", "chia", Path(directory), {}))
            steps.append((f"chia attribution ({directory})", "chia_attribution", Path(directory), {}))
    return steps


def run_evaluation(
    gold: str | Path | None = None,
    corpora: Sequence[tuple[str, str | Path]] = (),
    *,
    corrupt: bool = False,
    limit: int | None = None,
    nlp=None,
    repair: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    """Run every evaluation asked for; one section per evaluation in the returned report.
    A missing evaluator or directory (listed in ``unavailable``) or one that raises (listed
    in ``failed``) becomes a section with ``error``; the rest still runs."""
    report: dict[str, Any] = {"title": "criteria-nlp evaluation", "sections": {}, "unavailable": [], "failed": []}
    for title, name, directory, options in plan(gold, corpora, corrupt):
        if on_step:
            on_step(title)
        if not directory.exists():
            report["sections"][title] = {"error": f"{directory}: no such directory"}
            report["unavailable"].append(title)
            continue
        try:
            func = resolve(name)
        except EvaluationUnavailable as exc:
            report["sections"][title] = {"error": str(exc)}
            report["unavailable"].append(title)
            continue
        if nlp is None:
            from criteria_nlp import load

            nlp = load()
        started = time.monotonic()
        try:
            result = _call(func, directory, nlp=nlp, limit=limit, repair=repair, **options)
        except Exception as exc:  # one broken evaluator must not hide the others' scores
            report["sections"][title] = {"error": f"the {name} evaluation failed: {type(exc).__name__}: {exc}"}
            report["failed"].append(title)
            continue
        section = dict(result) if isinstance(result, dict) else {"result": result}
        section["seconds"] = round(time.monotonic() - started, 2)
        report["sections"][title] = section
    return report

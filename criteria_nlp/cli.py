"""The criteria-nlp command line (typer, like spaCy's own CLI)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Structure the eligibility criteria of clinical-trial records.")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"criteria-nlp: {message}", err=True)
    raise typer.Exit(code)


def _write_page(path: str, page: str, command: str) -> None:
    """Write an HTML page (creating its folder), or fail with a message naming the file."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(page, encoding="utf-8")
    except OSError as exc:
        _fail(f"{path}: cannot write: {exc.strerror or exc}")
    typer.echo(f"criteria-nlp {command}: wrote {path}", err=True)


def _pipeline():
    """The default pipeline, or a clear failure (not a traceback) when it cannot be loaded."""
    from criteria_nlp import _default_nlp

    try:
        return _default_nlp()
    except Exception as exc:
        _fail(f"cannot load the pipeline: {type(exc).__name__}: {exc}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of one output record (TrialRecord)."""
    from criteria_nlp.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@app.command()
def structure(
    path: str = typer.Argument(..., help="A record file (text page, CT.gov JSON/XML, WHO ICTRP XML) or '-' for stdin."),
    no_repair: bool = typer.Option(False, "--no-repair", help="Keep a bare '=' as written instead of repairing it."),
) -> None:
    """Print one record's structured JSON."""
    from criteria_nlp.batch import expand_inputs, iter_raw_records
    from criteria_nlp.records import structure_records

    if path != "-" and not Path(path).is_file():
        _fail(f"{path}: no such file")
    nlp = _pipeline()
    # Through the batch reader loop: a reader that raises gives an error record, not a traceback.
    raws = (raw for _, raw in iter_raw_records(expand_inputs([path])))
    for record in structure_records(raws, nlp, repair=not no_repair):
        typer.echo(record.model_dump_json(indent=2))
        break


@app.command()
def annotate(
    paths: Annotated[list[str], typer.Argument(help="Files, directories (walked, sorted), globs, or '-' for stdin.")],
    output: str | None = typer.Option(None, "-o", "--output", help="Output file (default: JSONL on stdout)."),
    fmt: str = typer.Option("jsonl", "--format", "-f", help="jsonl (one TrialRecord per line), csv or parquet."),
    workers: int = typer.Option(1, "--workers", "-j", help="Worker processes, each with its own pipeline."),
    no_repair: bool = typer.Option(False, "--no-repair", help="Keep a bare '=' as written instead of repairing it."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run into the same output."),
    model: str | None = typer.Option(None, "--model", help="A saved pipeline directory (default: the bundled rules)."),
    record_timeout: str = typer.Option(
        "120", "--record-timeout", metavar="SECONDS",
        help="A record that takes longer becomes an error line and the run goes on (0: no limit).",
    ),
    no_memo: bool = typer.Option(
        False, "--no-memo", help="Read every item again, even one already met in the run (same output, slower)."
    ),
) -> None:
    """Structure every record of every input: one output line per record, in input order."""
    from criteria_nlp.batch import BatchError
    from criteria_nlp.batch import annotate as run_batch

    if model is not None and not Path(model).is_dir():
        _fail(f"{model}: no such model directory")
    try:
        stats = run_batch(
            paths, output, fmt=fmt, workers=workers, repair=not no_repair, model=model, resume=resume,
            record_timeout=record_timeout, memo=not no_memo,
        )
    except BatchError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        hint = "; rerun with --resume to continue" if output else ""
        _fail(f"interrupted{hint}", code=130)
    typer.echo(f"criteria-nlp annotate: {stats.summary()}", err=True)


def _read_jsonl(path: str):
    """``(line number, record dict or None, problem)`` for each non-empty line of an annotate output."""
    try:
        fh = sys.stdin if path == "-" else open(path, encoding="utf-8")
    except OSError as exc:
        _fail(f"{path}: cannot read: {exc.strerror or exc}")
    with fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                yield n, None, f"not a JSON line ({exc.msg})"
                continue
            if not isinstance(value, dict) or "source" not in value:
                yield n, None, "not a criteria-nlp record (no 'source')"
                continue
            yield n, value, None


@app.command()
def summarize(path: str = typer.Argument(..., help="An annotate output (JSONL), or '-' for stdin.")) -> None:
    """A readable summary of each record: trial, format, item counts, every constraint."""
    from criteria_nlp.report.text import summarize_record

    if path != "-" and not Path(path).is_file():
        _fail(f"{path}: no such file")
    totals = {"records": 0, "errors": 0, "items": 0, "constraints": 0, "repaired": 0}
    bad = 0
    for n, record, problem in _read_jsonl(path):
        if record is None:
            bad += 1
            typer.echo(f"criteria-nlp: {path}:{n}: {problem}", err=True)
            continue
        typer.echo("\n".join(summarize_record(record)))
        crits = record.get("criteria") or []
        cons = [c for crit in crits for c in crit.get("constraints") or []]
        totals["records"] += 1
        totals["errors"] += bool(record.get("error"))
        totals["items"] += len(crits)
        totals["constraints"] += len(cons)
        totals["repaired"] += sum(1 for c in cons if c.get("repaired"))
    typer.echo(
        f"\n{totals['records']} records ({totals['errors']} with errors), {totals['items']} items, "
        f"{totals['constraints']} constraints, {totals['repaired']} repaired"
    )
    if bad:
        _fail(f"{path}: {bad} line(s) could not be read", code=1)


@app.command()
def show(
    path: str = typer.Argument(..., help="A record file, or '-' for stdin."),
    html: str | None = typer.Option(None, "--html", help="Write the record as a self-contained HTML page here."),
    index: int = typer.Option(1, "--index", help="Which record of a multi-record file (1-based)."),
    no_repair: bool = typer.Option(False, "--no-repair", help="Keep a bare '=' as written instead of repairing it."),
) -> None:
    """Show one record: a text summary, or an HTML page with every constraint marked in its item."""
    import itertools

    from criteria_nlp.batch import expand_inputs, iter_raw_records
    from criteria_nlp.records import structure_records
    from criteria_nlp.report import render_record, summarize_record

    if path != "-" and not Path(path).is_file():
        _fail(f"{path}: no such file")
    if index < 1:
        _fail("--index counts from 1")
    raws = (raw for _, raw in iter_raw_records(expand_inputs([path])))
    record = next(iter(structure_records(itertools.islice(raws, index - 1, index), _pipeline(), repair=not no_repair)), None)
    if record is None:
        _fail(f"{path}: has fewer than {index} records")
    if html is None:
        typer.echo("\n".join(summarize_record(record.model_dump())))
        return
    _write_page(html, render_record(record), "show")


@app.command()
def evaluate(
    gold: str | None = typer.Option(None, "--gold", help="The project's gold folder (default: ./annotations)."),
    corpus: tuple[str, str] | None = typer.Option(
        None, "--corpus", help="NAME DIR: a public corpus (lct or chia) to score against."
    ),
    lct: str | None = typer.Option(None, "--lct", help="Same as --corpus lct DIR (to combine with another corpus)."),
    chia: str | None = typer.Option(None, "--chia", help="Same as --corpus chia DIR (to combine with another corpus)."),
    corrupt: bool = typer.Option(False, "--corrupt", help="Also score LCT with every >=/<= written as '=' (repair)."),
    limit: int | None = typer.Option(None, "--limit", help="Score only the first N documents of each corpus."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON instead of tables."),
    html: str | None = typer.Option(None, "--html", help="Also write the report as a self-contained HTML page."),
    no_repair: bool = typer.Option(False, "--no-repair", help="Run the pipeline without operator repair."),
) -> None:
    """Score criteria-nlp against the gold and public corpora."""
    from criteria_nlp.evaluation.runner import CORPORA, run_evaluation
    from criteria_nlp.report import render_evaluation_html, render_evaluation_terminal

    corpora: list[tuple[str, str]] = [corpus] if corpus else []
    corpora += [(name, d) for name, d in (("lct", lct), ("chia", chia)) if d is not None]
    for name, directory in corpora:
        if name not in CORPORA:
            _fail(f"--corpus {name}: unknown corpus; choose one of {', '.join(CORPORA)}")
        if not Path(directory).is_dir():
            _fail(f"{directory}: no such {name} corpus folder")
    if gold is None and not corpora:
        gold = "annotations"
    if gold is not None and not Path(gold).is_dir():
        _fail(f"{gold}: no such gold folder")
    if limit is not None and limit < 1:
        _fail("--limit must be at least 1")

    def step(title: str) -> None:
        typer.echo(f"criteria-nlp evaluate: {title} ...", err=True)

    report = run_evaluation(gold, corpora, corrupt=corrupt, limit=limit, repair=not no_repair, on_step=step)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    else:
        typer.echo(render_evaluation_terminal(report), nl=False)
    if html is not None:
        _write_page(html, render_evaluation_html(report), "evaluate")
    problems = report["unavailable"] + report["failed"]
    for title in problems:
        typer.echo(f"criteria-nlp evaluate: {title}: {report['sections'][title]['error']}", err=True)
    if problems:
        raise typer.Exit(1)


@app.command("build-model")
def build_model(
    output: str = typer.Argument(..., help="Folder to write the spaCy pipeline to (e.g. models/criteria_pipeline)."),
) -> None:
    """Build the pipeline from the bundled rules and save it (spacy.load reads it back)."""
    from criteria_nlp.pipeline import build_pipeline

    try:
        nlp = build_pipeline()
        nlp.to_disk(output)
    except OSError as exc:
        _fail(f"{output}: cannot write the pipeline ({exc.strerror or exc})")
    typer.echo(f"criteria-nlp build-model: wrote {output} ({', '.join(nlp.pipe_names)})", err=True)


@app.command("train-classifier")
def train_classifier_cmd(
    chia_dir: str = typer.Argument(..., help="The Chia corpus folder (NCT*_inc.txt, NCT*_exc.txt)."),
    output: str = typer.Argument(..., help="Folder to write the model to (e.g. models/inc_exc_classifier)."),
    seed: int = typer.Option(0, help="Random seed of the solver."),
    no_extra: bool = typer.Option(False, "--no-extra", help="Train on Chia only, not on ../lct and ../ctgov_raw too."),
) -> None:
    """Train the inclusion/exclusion classifier for header-less lists (needs scikit-learn)."""
    try:
        from criteria_nlp.segment.classifier import train_classifier
    except ImportError as exc:  # pragma: no cover - the module itself imports nothing optional
        _fail(f"cannot load the trainer: {exc}")
    try:
        metrics = train_classifier(chia_dir, output, seed=seed, extra=not no_extra)
    except ImportError:
        _fail("training needs scikit-learn: pip install 'criteria-nlp[train]'")
    except FileNotFoundError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{output}: cannot write the model ({exc.strerror or exc})")
    typer.echo(json.dumps(metrics, indent=2))
    typer.echo(f"criteria-nlp train-classifier: wrote {Path(output) / 'model.json'}", err=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

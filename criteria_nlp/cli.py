"""The criteria-nlp command line (typer, like spaCy's own CLI)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Structure the eligibility criteria of clinical-trial records.")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"criteria-nlp: {message}", err=True)
    raise typer.Exit(code)


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
    from criteria_nlp import _default_nlp
    from criteria_nlp.readers import read_path, read_text
    from criteria_nlp.structure import structure_records

    if path == "-":
        raws = read_text(sys.stdin.read(), source="<stdin>")
    else:
        if not Path(path).exists():
            _fail(f"{path}: no such file")
        raws = read_path(path)
    for record in structure_records(raws, _default_nlp(), repair=not no_repair):
        typer.echo(record.model_dump_json(indent=2))
        break


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""The flat table form of annotate's output (``--format csv|parquet``).

One row per constraint, with its record and criterion columns beside it; a criterion
without constraints, and a record without criteria (or with an error), still get one row
with the missing columns empty, so nothing disappears from the table.
"""

from __future__ import annotations

import csv
import json
import types
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path

from criteria_nlp.schema import Constraint, Criterion

RECORD_COLUMNS: list[tuple[str, type]] = [
    ("source", str),
    ("source_format", str),
    ("trial_id", str),
    ("title", str),
    ("error", str),
    ("warnings", str),
]
# Criterion fields get a "criterion_" prefix (their start/end/text would clash with the constraint's).
_CRITERION_FIELDS = [f for f in Criterion.model_fields if f != "constraints"]
_CONSTRAINT_FIELDS = list(Constraint.model_fields)


def _base_type(annotation) -> type:
    """The scalar Python type behind a pydantic annotation (``float | None`` -> float, Literal -> str)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0]) if args else str
    return annotation if annotation in (str, int, float, bool) else str


def columns() -> list[tuple[str, type]]:
    """Column names and scalar types of the flat table, in order."""
    cols = list(RECORD_COLUMNS)
    cols += [(f"criterion_{f}", _base_type(Criterion.model_fields[f].annotation)) for f in _CRITERION_FIELDS]
    cols += [(f, _base_type(Constraint.model_fields[f].annotation)) for f in _CONSTRAINT_FIELDS]
    return cols


def _cell(value):
    """A table cell: list fields (a constraint's ``alternates``) as their JSON text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value


def record_rows(record: dict) -> Iterator[dict]:
    """Rows of one output record (a TrialRecord as a dict)."""
    base = {
        "source": record.get("source"),
        "source_format": record.get("source_format"),
        "trial_id": record.get("trial_id"),
        "title": record.get("title"),
        "error": record.get("error"),
        "warnings": "; ".join(record.get("warnings") or []) or None,
    }
    criteria = record.get("criteria") or []
    if not criteria:
        yield dict(base)
        return
    for crit in criteria:
        row = dict(base)
        row.update({f"criterion_{f}": _cell(crit.get(f)) for f in _CRITERION_FIELDS})
        constraints = crit.get("constraints") or []
        if not constraints:
            yield row
            continue
        for con in constraints:
            full = dict(row)
            full.update({f: _cell(con.get(f)) for f in _CONSTRAINT_FIELDS})
            yield full


def _records(jsonl: Path) -> Iterator[dict]:
    with open(jsonl, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _rows(jsonl: Path) -> Iterator[dict]:
    for record in _records(jsonl):
        yield from record_rows(record)


def write_csv(jsonl: Path, target: Path) -> None:
    names = [c for c, _ in columns()]
    with open(target, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        for row in _rows(jsonl):
            writer.writerow(row)


class ParquetUnavailable(Exception):
    pass


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_parquet(jsonl: Path, target: Path, batch_rows: int = 10_000) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except Exception as exc:  # ImportError, or a pyarrow built against another numpy
        raise ParquetUnavailable(
            f"--format parquet needs pyarrow ({type(exc).__name__}: {exc}); "
            "install it with: pip install 'criteria-nlp[parquet]'"
        ) from exc
    arrow_types = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
    schema = pa.schema([(name, arrow_types[t]) for name, t in columns()])
    # Batches of rows keep memory flat however large the run was.
    with pq.ParquetWriter(target, schema) as writer:
        wrote = False
        for batch in _batches(_rows(jsonl), batch_rows):
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
            wrote = True
        if not wrote:
            writer.write_table(schema.empty_table())


def check_parquet_available() -> None:
    """Raise ParquetUnavailable early, before hours of structuring, when pyarrow is missing."""
    try:
        import pyarrow.parquet  # noqa: F401
    except Exception as exc:
        raise ParquetUnavailable(
            f"--format parquet needs pyarrow ({type(exc).__name__}: {exc}); "
            "install it with: pip install 'criteria-nlp[parquet]'"
        ) from exc


WRITERS = {"csv": write_csv, "parquet": write_parquet}

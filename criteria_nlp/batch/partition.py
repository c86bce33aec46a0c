"""Structure a partition of records: the unit of work of Dask, Spark or any other engine.

:func:`structure_partition` takes an iterable of records and returns one output per record,
in order. It is a plain module-level function, so it pickles by reference (also inside
``functools.partial`` with options); the pipeline is loaded on its first call in each worker
process and kept there, so a worker that gets hundreds of partitions loads it once. A
record that cannot be read or structured gives an output with ``error`` set, never an
exception: a partition never loses a record.

A record is any of:

- a ``dict``: a ClinicalTrials.gov API v2 study (``{"protocolSection": ...}``);
- a ``str``: one JSON line of such a study, or any text ``criteria_nlp.structure`` reads
  (a criteria text, a registry page, a WHO ICTRP XML record...);
- ``bytes``: the same, undecoded (the encoding is detected);
- a ``RawRecord`` or ``RecordError`` from ``criteria_nlp.readers``.

Outputs are plain dicts (``output="dict"``, what ``TrialRecord.model_dump(mode="json")``
gives) or JSON lines (``output="json"``, the very lines ``criteria-nlp annotate`` writes).

Dask (bags; local processes, or a cluster through ``dask.distributed``)::

    import dask.bag as db
    from functools import partial
    from criteria_nlp.batch.partition import structure_partition

    studies = db.read_text("studies/*.jsonl", blocksize="16MB")        # one JSON line per element
    lines = studies.map_partitions(partial(structure_partition, output="json"))
    lines.to_textfiles("out/structured-*.jsonl")     # or lines.compute(scheduler="processes")

Spark (``mapPartitions`` gets an iterator and takes an iterable back)::

    from functools import partial
    from criteria_nlp.batch.partition import structure_partition

    rdd = spark.sparkContext.textFile("studies/*.jsonl")
    rdd.mapPartitions(partial(structure_partition, output="json")).saveAsTextFile("out/structured")

Each worker needs criteria-nlp installed (``pip install criteria-nlp``); nothing is
downloaded at run time. A custom pipeline folder is given as ``model=`` (a path every
worker can read), as ``criteria-nlp annotate --model`` takes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from criteria_nlp.readers.base import RawRecord, RecordError

__all__ = ["structure_partition", "worker_pipeline"]

OUTPUTS = ("dict", "json")

_PIPELINES: dict[str | None, Any] = {}
_MEMOS: dict[str | None, Any] = {}  # one item memo per pipeline of this process
LOADS = {"count": 0}  # pipelines loaded in this process (tests check "once per worker")


def worker_pipeline(model: str | os.PathLike | None = None):
    """The pipeline of this process: loaded on first use, then kept (one per ``model``)."""
    key = None if model is None else os.fspath(model)
    nlp = _PIPELINES.get(key)
    if nlp is None:
        from criteria_nlp import _default_nlp, load

        nlp = _default_nlp() if key is None else load(key)
        LOADS["count"] += 1
        _PIPELINES[key] = nlp
    return nlp


def _raws(records: Iterable, source: str):
    """Each element as the RawRecord/RecordError objects it holds (a text may hold several)."""
    from criteria_nlp.readers import read_bytes, read_text
    from criteria_nlp.readers.ctgov_json import FORMAT, json_problem, study_record

    for n, element in enumerate(records, start=1):
        where = f"{source}#{n}"
        if isinstance(element, (RawRecord, RecordError)):
            yield element
        elif isinstance(element, dict):
            yield study_record(element, where)
        elif isinstance(element, str):
            line = element.strip()
            if line.startswith("{") and "\n" not in line:  # one JSON line: the common case
                try:
                    yield study_record(json.loads(line), where)
                except json.JSONDecodeError as exc:
                    yield RecordError(where, json_problem(exc, line), FORMAT)
            else:
                yield from read_text(element, where)
        elif isinstance(element, (bytes, bytearray)):
            yield from read_bytes(bytes(element), where)
        else:
            yield RecordError(where, f"a partition element of type {type(element).__name__} is not a record")


def structure_partition(
    records: Iterable,
    *,
    model: str | os.PathLike | None = None,
    repair: bool = True,
    output: str = "dict",
    source: str = "partition",
    memo: bool = True,
) -> list:
    """One output per record of ``records`` (dicts, or JSON lines with ``output="json"``),
    in order. ``source`` names the records in the outputs (``partition#3`` is the third
    element) when the element itself carries no file name. ``memo``: items already read in
    this process (any earlier partition) are not read again (same output; see
    ``criteria_nlp.pipeline.memo``; ``CRITERIA_NLP_MEMO=off`` turns it off)."""
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, not {output!r}")
    from criteria_nlp.batch.work import structure_line

    nlp = worker_pipeline(model)
    kept = None
    if memo:
        from criteria_nlp.pipeline.memo import new_memo

        key = None if model is None else os.fspath(model)
        kept = _MEMOS.get(key)
        if kept is None or kept.nlp is not nlp:
            kept = _MEMOS[key] = new_memo(nlp)
    out = []
    for raw in _raws(records, source):
        line, _counts = structure_line(raw, nlp, repair, kept)
        out.append(line if output == "json" else json.loads(line))
    return out

"""Structuring records into output lines, in this process or in worker processes.

Workers hand back plain JSON strings: spaCy's own ``n_process`` cannot pickle medSpaCy's
rule objects, and a string is all the writer needs anyway.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from criteria_nlp.readers.base import RawRecord, RecordError
from criteria_nlp.schema import TrialRecord

# (items, constraints, repaired constraints, 1 if the record has an error)
Counts = tuple[int, int, int, int]


@dataclass
class Result:
    index: int  # which input the record came from (for the progress bar)
    line: str
    counts: Counts
    memo: tuple[int, int] = (0, 0)  # item-memo hits and misses of this record


def counts_of(record: TrialRecord) -> Counts:
    constraints = [c for crit in record.criteria for c in crit.constraints]
    return (
        len(record.criteria),
        len(constraints),
        sum(1 for c in constraints if c.repaired),
        int(record.error is not None),
    )


def structure_line(raw: RawRecord | RecordError, nlp, repair: bool, memo=None) -> tuple[str, Counts]:
    """One record -> one JSON line. Never raises: whatever goes wrong becomes the record's ``error``.
    ``memo``: an :class:`~criteria_nlp.pipeline.memo.ItemMemo` of ``nlp`` to use, or None."""
    from criteria_nlp.pipeline.memo import maybe_active
    from criteria_nlp.records import structure_records

    source = str(getattr(raw, "source", None) or "<unknown>")
    try:
        with maybe_active(memo):
            record = next(iter(structure_records([raw], nlp, repair=repair)))
        return record.model_dump_json(), counts_of(record)
    except Exception as exc:
        record = TrialRecord(source=source, error=f"internal error while structuring: {type(exc).__name__}: {exc}")
        return record.model_dump_json(), counts_of(record)


_WORKER_NLP = None
_WORKER_REPAIR = True
_WORKER_MEMO = None


def structure_result(index: int, raw, nlp, repair: bool, memo=None) -> Result:
    """``structure_line`` as a Result, with the memo hits and misses the record made."""
    before = memo.counts() if memo is not None else (0, 0)
    line, counts = structure_line(raw, nlp, repair, memo)
    if memo is None:
        return Result(index, line, counts)
    after = memo.counts()
    return Result(index, line, counts, (after[0] - before[0], after[1] - before[1]))


def share_pipeline(nlp) -> None:
    """Set in the parent before forking: forked workers then use its pipeline as is."""
    global _WORKER_NLP
    _WORKER_NLP = nlp
    if nlp is not None:
        warm_up(nlp)


def warm_up(nlp) -> None:
    """Build now what the pipeline otherwise builds on first need (medspaCy's ConText, the
    repair's alias patterns, scispaCy's abbreviation tokenizer): done once in the parent,
    forked workers inherit it instead of each building its own. Not the inclusion/exclusion
    classifier (50 MB; many runs never meet a list without headers): a worker loads it when
    it needs it."""
    if "criteria_constraints" in nlp.pipe_names:
        getattr(nlp.get_pipe("criteria_constraints"), "context", None)
    if "criteria_repair" in nlp.pipe_names:
        from criteria_nlp.pipeline.repair import _alias_patterns

        _alias_patterns()
    if "criteria_variables" in nlp.pipe_names:
        from criteria_nlp.abbreviations import _detector

        _detector()


def init_worker(model: str | None, repair: bool, memo: bool = True, share: bool = False) -> None:
    """Load the pipeline once per worker process (unless inherited through fork); each
    worker keeps its own item memo (``memo`` False: none), and with ``share`` hands its new
    entries back to the parent for the other workers (``criteria_nlp.batch.shared_memo``)."""
    global _WORKER_NLP, _WORKER_REPAIR, _WORKER_MEMO, _WORKER_APPLIED
    if _WORKER_NLP is None:
        from criteria_nlp import load

        _WORKER_NLP = load(model)
    _WORKER_REPAIR = repair
    from criteria_nlp.pipeline.memo import new_memo

    _WORKER_MEMO = new_memo(_WORKER_NLP, memo)
    _WORKER_APPLIED = 0
    if share and _WORKER_MEMO is not None:
        _WORKER_MEMO.collect_fresh()


_WORKER_APPLIED = 0  # position in the parent's log of shared entries taken in so far


def work_chunk(chunk: list[tuple[int, RawRecord | RecordError]], shared: tuple[int, list] | None = None):
    """The Results of the chunk's records; with ``shared`` (log position, entries of the
    other workers' memos), a :class:`~criteria_nlp.batch.shared_memo.SharedChunk`."""
    global _WORKER_APPLIED
    memo = _WORKER_MEMO
    if shared is not None:
        start, entries = shared
        if memo is not None:
            memo.absorb(entries[max(0, _WORKER_APPLIED - start) :])
        _WORKER_APPLIED = max(_WORKER_APPLIED, start + len(entries))
    results = [structure_result(index, raw, _WORKER_NLP, _WORKER_REPAIR, memo) for index, raw in chunk]
    if shared is None:
        return results
    from criteria_nlp.batch.shared_memo import SharedChunk

    fresh = memo.take_fresh() if memo is not None else []
    return SharedChunk(results, fresh, os.getpid(), _WORKER_APPLIED)

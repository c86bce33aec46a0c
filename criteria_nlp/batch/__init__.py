"""Batch annotation at registry scale: many inputs -> one output line per record, in input order.

>>> from criteria_nlp.batch import annotate
>>> stats = annotate(["examples"], "out/examples.jsonl")        # doctest: +SKIP
>>> stats.summary()                                             # doctest: +SKIP
'5 records, 62 items, 33 constraints (8 repaired), 0 errors in 6.4 s (pipeline load 5.9 s, then 10.0 records/s)'
"""

from __future__ import annotations

import gc
import itertools
import os
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from criteria_nlp.batch.inputs import InputFile, expand_inputs, iter_raw_records
from criteria_nlp.batch.shared_memo import SharedMemoLog
from criteria_nlp.batch.table import WRITERS, ParquetUnavailable, check_parquet_available
from criteria_nlp.batch.work import Counts, Result, init_worker, share_pipeline, structure_result, work_chunk
from criteria_nlp.batch.writer import JsonlWriter, ResumeError, run_fingerprint
from criteria_nlp.budget import DEFAULT as DEFAULT_BUDGET
from criteria_nlp.budget import resolve as resolve_budget
from criteria_nlp.budget import within_budget

__all__ = [
    "BatchError",
    "BatchStats",
    "FORMATS",
    "annotate",
    "expand_inputs",
    "iter_raw_records",
]

FORMATS = ("jsonl", "csv", "parquet")


class BatchError(Exception):
    """A problem with the batch as a whole (bad options, unusable output); worded for the user."""


@dataclass
class BatchStats:
    records: int = 0
    items: int = 0
    constraints: int = 0
    repaired: int = 0
    errors: int = 0
    resumed: int = 0  # records already in the output of the interrupted run, not redone
    seconds: float = 0.0
    load_seconds: float = 0.0  # of ``seconds``, spent loading the pipeline
    memo_hits: int = 0  # items whose result the item memo had (criteria_nlp.pipeline.memo)
    memo_misses: int = 0  # items read by the pipeline while a memo was on

    def add(self, counts: Counts, memo: tuple[int, int] = (0, 0)) -> None:
        self.records += 1
        self.items += counts[0]
        self.constraints += counts[1]
        self.repaired += counts[2]
        self.errors += counts[3]
        self.memo_hits += memo[0]
        self.memo_misses += memo[1]

    @property
    def memo_hit_rate(self) -> float | None:
        lookups = self.memo_hits + self.memo_misses
        return self.memo_hits / lookups if lookups else None

    def summary(self) -> str:
        work = self.seconds - self.load_seconds
        rate = self.records / work if work > 0 else 0.0
        text = (
            f"{self.records} records, {self.items} items, {self.constraints} constraints "
            f"({self.repaired} repaired), {self.errors} errors in {self.seconds:.1f} s "
            f"(pipeline load {self.load_seconds:.1f} s, then {rate:.1f} records/s)"
        )
        if self.memo_hits or self.memo_misses:
            text += (
                f"; item memo: {self.memo_hits:,} of {self.memo_hits + self.memo_misses:,} items with a number "
                f"({100 * (self.memo_hit_rate or 0.0):.1f}%) not read again"
            )
        if self.resumed:
            text += f"; {self.resumed} records kept from the interrupted run"
        return text


class _Progress:
    """tqdm bar over input bytes (that gives an ETA); records/s in the postfix. Only on a terminal."""

    def __init__(self, inputs: list[InputFile], enabled: bool):
        self.bar = None
        if not enabled:
            return
        from tqdm import tqdm

        self.done_before = list(itertools.accumulate([0] + [i.size for i in inputs]))
        self.bar = tqdm(
            total=self.done_before[-1] or None, unit="B", unit_scale=True, file=sys.stderr,
            desc="annotate", dynamic_ncols=True,
        )
        self.start = time.monotonic()
        self.records = 0
        self.position = 0

    def update(self, index: int) -> None:
        if self.bar is None:
            return
        self.records += 1
        # A file counts as read once its next neighbour's records come out.
        target = self.done_before[index]
        if target > self.position:
            self.bar.update(target - self.position)
            self.position = target
        if self.records % 16 == 0:
            elapsed = max(time.monotonic() - self.start, 1e-9)
            self.bar.set_postfix(records=self.records, rate=f"{self.records / elapsed:.1f}/s", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.done_before[-1] - self.position)
            self.bar.close()


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def load_pipeline_for_batch(model: str | None):
    """The pipeline, or a BatchError that says why it cannot be loaded."""
    from criteria_nlp import _default_nlp, load

    try:
        # The default pipeline is cached per process (tests and the API run many batches).
        return load(model) if model else _default_nlp()
    except Exception as exc:
        where = f" from {model}" if model else ""
        raise BatchError(f"cannot load the pipeline{where}: {type(exc).__name__}: {exc}") from exc


def _results_inline(raws, nlp, repair: bool, memo=None) -> Iterator[Result]:
    for index, raw in raws:
        yield structure_result(index, raw, nlp, repair, memo)


MAX_POOL_RESTARTS = 3


def _results_pool(
    raws, nlp, model: str | None, repair: bool, workers: int, chunk_size: int, memo: bool = True
) -> Iterator[Result]:
    """Results in input order from ``workers`` processes. At most a few chunks are in flight,
    so memory stays flat however long the input (Pool.imap would read all input ahead)."""
    # imported here: structure() and structure_many() import this package too, never a pool
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if sys.platform.startswith("linux"):
        # Forked workers inherit the pipeline loaded here: no reload per worker.
        context = multiprocessing.get_context("fork")
        share_pipeline(nlp)
        # The pipeline's objects go to a generation the collector never walks: a worker's
        # collections would otherwise write to (and so copy) every page it shares.
        gc.collect()
        gc.freeze()
    else:
        context = multiprocessing.get_context("spawn")

    # Workers share their memo entries (an item one has read, the other does not read again).
    log = SharedMemoLog(workers) if memo else None

    def new_pool() -> ProcessPoolExecutor:
        if log is not None:
            log.new_workers()
        return ProcessPoolExecutor(
            workers, mp_context=context, initializer=init_worker, initargs=(model, repair, memo, log is not None)
        )

    def submit(chunk: list) -> Future:
        return pool.submit(work_chunk, chunk, log.outgoing() if log is not None else None)

    pool: ProcessPoolExecutor | None = new_pool()
    restarts = 0
    inflight: deque[tuple[list, Future | None]] = deque()
    chunks = _chunks(raws, chunk_size)
    try:
        while True:
            while len(inflight) < workers * 3:
                chunk = next(chunks, None)
                if chunk is None:
                    break
                inflight.append((chunk, submit(chunk) if pool is not None else None))
            if not inflight:
                return
            chunk, future = inflight.popleft()
            if future is None:
                yield from _results_inline(chunk, nlp, repair)
                continue
            try:
                results = future.result()
                if log is not None:
                    results = log.incoming(results)
            except BrokenProcessPool:
                # A worker died (out of memory, a crash in native code). Redo the chunks it took
                # down here in this process, so that no record is lost, then start a fresh pool.
                pool.shutdown(wait=False, cancel_futures=True)
                pending = [chunk] + [c for c, _ in inflight]
                inflight.clear()
                results = [r for c in pending for r in _results_inline(c, nlp, repair)]
                restarts += 1
                if restarts < MAX_POOL_RESTARTS:
                    pool = new_pool()
                else:
                    print("criteria-nlp: worker processes keep dying; going on in one process", file=sys.stderr)
                    pool = None
            yield from results
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        share_pipeline(None)
        gc.unfreeze()


def annotate(
    paths: Iterable[str],
    out: str | os.PathLike | None,
    *,
    fmt: str = "jsonl",
    workers: int = 1,
    repair: bool = True,
    model: str | None = None,
    resume: bool = False,
    chunk_size: int = 8,
    progress: bool | None = None,
    stdout: IO[str] | None = None,
    record_timeout=DEFAULT_BUDGET,
    memo: bool = True,
) -> BatchStats:
    """Structure every record of every input and write one line (or table rows) per record.

    ``out`` None writes JSONL to ``stdout`` (no atomic file, no resume). Raises BatchError
    for problems with the batch itself; problems with single records become error lines,
    among them a record that takes longer than ``record_timeout`` seconds (default 120;
    None: no limit; see ``criteria_nlp.budget``). ``memo``: remember each item's result
    within the run, so that a criterion line met again is not read again (same output;
    ``criteria_nlp.pipeline.memo``; also off with ``CRITERIA_NLP_MEMO=off``).
    """
    started = time.monotonic()
    paths = list(paths)
    if fmt not in FORMATS:
        raise BatchError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if workers < 1:
        raise BatchError("--workers must be at least 1")
    if out is None and (fmt != "jsonl" or resume):
        raise BatchError("--format csv/parquet and --resume need an output file (-o OUT)")
    if fmt == "parquet":
        try:
            check_parquet_available()
        except ParquetUnavailable as exc:
            raise BatchError(str(exc)) from exc
    if paths.count("-") > 1:
        raise BatchError("'-' (stdin) can be given only once")
    try:
        resolve_budget(record_timeout)
    except ValueError as exc:
        raise BatchError(f"--record-timeout: {exc}") from exc
    if memo:
        from criteria_nlp.pipeline.memo import configured_size

        try:
            configured_size()
        except ValueError as exc:
            raise BatchError(str(exc)) from exc

    if out is not None and Path(out).is_dir():
        raise BatchError(f"{out}: is a directory; give a file name for the output")
    # Loaded before any output is touched: a broken pipeline fails the run, not every record.
    nlp = load_pipeline_for_batch(model)
    inputs = expand_inputs(paths)
    stats = BatchStats(load_seconds=time.monotonic() - started)
    writer: JsonlWriter | None = None
    if out is not None:
        out_path = Path(out)
        try:
            fingerprint = run_fingerprint([i.path for i in inputs], repair, model)
            writer = JsonlWriter(out_path, fingerprint, resume=resume)
        except ResumeError as exc:
            raise BatchError(str(exc)) from exc
        except OSError as exc:
            raise BatchError(f"{out_path}: cannot write the output: {exc.strerror or exc}") from exc
        stats.resumed = writer.skip

    raws: Iterator = iter_raw_records(inputs)
    if stats.resumed:
        raws = itertools.islice(raws, stats.resumed, None)
    if progress is None:
        progress = sys.stderr.isatty()
    if workers > 1:
        results = _results_pool(raws, nlp, model, repair, workers, chunk_size, memo)
    else:
        from criteria_nlp.pipeline.memo import new_memo

        results = _results_inline(raws, nlp, repair, new_memo(nlp, memo))
    results = within_budget(results, record_timeout)  # workers started from here on inherit it
    bar = _Progress(inputs, progress)
    sink = stdout if stdout is not None else sys.stdout
    try:
        for result in results:
            if writer is not None:
                writer.write(result.line)
            else:
                sink.write(result.line + "\n")
            stats.add(result.counts, result.memo)
            bar.update(result.index)
    except BaseException:
        if writer is not None:
            writer.close()  # whole lines so far stay in OUT.part for --resume
        raise
    finally:
        bar.close()
    if writer is not None:
        try:
            writer.commit(None if fmt == "jsonl" else WRITERS[fmt])
        except OSError as exc:
            raise BatchError(f"{writer.out}: cannot write the output: {exc.strerror or exc}") from exc
    else:
        sink.flush()
    stats.seconds = time.monotonic() - started
    return stats

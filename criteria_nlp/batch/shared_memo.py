"""Item-memo entries shared between the worker processes of one ``annotate -j N`` run.

Each worker keeps its own :class:`~criteria_nlp.pipeline.memo.ItemMemo`. Without sharing, an
item that recurs is read once by every worker that meets it; with it, a worker hands back
with each chunk's results the entries its memo stored, the parent appends them to one log,
and every chunk it submits carries the part of the log that some worker may still lack. A
worker takes in what it does not hold yet (:meth:`ItemMemo.absorb`). A process pool does
not say which worker will take a chunk, so the part sent starts where the worker that is
furthest behind stands; the log keeps only what some worker has not taken in yet.

Sharing changes no output: an entry is what the pipeline gave for exactly that key, in a
process forked from the same pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SharedChunk:
    """What ``work_chunk`` hands back when memo entries are shared."""

    results: list  # the Results of the chunk's records, in order
    fresh: list  # (key, pickled constraints) entries the worker's memo stored for this chunk
    worker: int  # the worker's process id
    applied: int  # log position up to which the worker has taken in the others' entries


MAX_LOG = 20_000  # entries kept for workers that lag behind; older ones they read again themselves


class SharedMemoLog:
    """The parent's side: the log of entries and how far each worker has taken it in. It
    holds at most ``max_entries`` (a worker that lags further behind misses the oldest: it
    reads those items itself, as without sharing)."""

    def __init__(self, workers: int, max_entries: int = MAX_LOG):
        self.workers = workers
        self.max_entries = max_entries
        self._entries: list = []
        self._base = 0  # log position of self._entries[0]
        self._applied: dict[int, int] = {}

    def outgoing(self) -> tuple[int, list]:
        """(log position, entries) to send with the next chunk."""
        start = self._behind()
        return start, self._entries[start - self._base :]

    def incoming(self, shared: SharedChunk) -> list:
        """Note what a worker handed back; returns its results."""
        self._applied[shared.worker] = max(self._applied.get(shared.worker, 0), shared.applied)
        self._entries.extend(shared.fresh)
        behind = max(self._behind(), self._base + len(self._entries) - self.max_entries)
        if behind > self._base:  # every worker has taken these in (or lags too far behind)
            del self._entries[: behind - self._base]
            self._base = behind
        return shared.results

    def new_workers(self) -> None:
        """A new pool: its workers have taken in nothing."""
        self._applied.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _behind(self) -> int:
        if len(self._applied) < self.workers:
            return self._base  # a worker has not reported yet: it may hold nothing
        return max(self._base, min(self._applied.values()))

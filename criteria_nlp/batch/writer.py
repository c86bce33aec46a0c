"""Crash-safe JSONL output: whole lines only, fsync'd per chunk, renamed into place at the end.

While a run is going, lines go to ``OUT.part`` beside ``OUT``; ``OUT`` itself only ever
appears complete (``os.replace`` at the end). A killed run leaves ``OUT.part`` behind, and
``--resume`` continues it: the complete lines in it are the first records of the input (the
output keeps input order), so the run skips that many records and appends the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

PART_SUFFIX = ".part"
META_SUFFIX = ".part.meta.json"


class ResumeError(Exception):
    """A --resume that cannot safely continue; the message says why."""


def part_path(out: Path) -> Path:
    return out.with_name(out.name + PART_SUFFIX)


def meta_path(out: Path) -> Path:
    return out.with_name(out.name + META_SUFFIX)


def run_fingerprint(inputs: list[str], repair: bool, model: str | None) -> str:
    """What must not change between a killed run and its resumption (else lines would not line up)."""
    payload = json.dumps({"inputs": inputs, "repair": repair, "model": model}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def count_complete_lines(path: Path) -> tuple[int, int]:
    """``(lines, bytes)`` of the complete (newline-terminated) lines at the start of ``path``."""
    lines = 0
    good = 0
    offset = 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            if not block:
                break
            last = block.rfind(b"\n")
            if last >= 0:
                lines += block.count(b"\n")
                good = offset + last + 1
            offset += len(block)
    return lines, good


class JsonlWriter:
    """Appends whole lines to ``OUT.part``; ``commit()`` moves it to ``OUT``."""

    def __init__(self, out: Path, fingerprint: str, resume: bool = False, sync_every: int = 64):
        self.out = out
        self.part = part_path(out)
        self.meta = meta_path(out)
        self.sync_every = max(1, sync_every)
        self.skip = 0
        self._pending: list[str] = []
        out.parent.mkdir(parents=True, exist_ok=True)
        if resume:
            self.skip = self._prepare_resume(fingerprint)
        else:
            self.part.unlink(missing_ok=True)
            self.meta.write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")
        self._fh = open(self.part, "ab")

    def _prepare_resume(self, fingerprint: str) -> int:
        if not self.part.exists():
            if self.out.exists():
                # A finished run: continue from it (new inputs at the end get appended).
                os.replace(self.out, self.part)
            else:
                self.meta.write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")
                return 0
        if self.meta.exists():
            try:
                saved = json.loads(self.meta.read_text(encoding="utf-8")).get("fingerprint")
            except (OSError, ValueError, AttributeError):
                saved = None
            if saved is not None and saved != fingerprint:
                raise ResumeError(
                    f"{self.part}: the interrupted run had other inputs or options; "
                    "rerun with the same ones, or without --resume to start again"
                )
        self.meta.write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")
        lines, good = count_complete_lines(self.part)
        # Drop a half-written last line (the run was killed inside a write).
        with open(self.part, "r+b") as fh:
            fh.truncate(good)
        return lines

    def write(self, line: str) -> None:
        if "\n" in line:
            raise ValueError("a JSONL line must not contain a newline")
        self._pending.append(line)
        if len(self._pending) >= self.sync_every:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        # One write of whole lines, then fsync: a kill leaves at most one partial line, at the end.
        self._fh.write(("\n".join(self._pending) + "\n").encode("utf-8"))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._pending.clear()

    def commit(self, convert: Callable[[Path, Path], None] | None = None) -> None:
        """Publish the output. ``convert(jsonl_path, target)`` writes another format from the lines."""
        self.flush()
        self._fh.close()
        if convert is None:
            os.replace(self.part, self.out)
        else:
            tmp = self.out.with_name(self.out.name + ".tmp")
            try:
                convert(self.part, tmp)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            os.replace(tmp, self.out)
            self.part.unlink()
        self.meta.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop without committing (after an error or interrupt): what was written stays resumable."""
        if not self._fh.closed:
            self.flush()
            self._fh.close()

"""Turn the PATH arguments of ``annotate`` into a stream of raw records, in input order."""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from criteria_nlp.readers.base import InputError, RawRecord, RecordError

STDIN = "-"


@dataclass(frozen=True)
class InputFile:
    """One input after expansion: a file to read, stdin, or a problem to report as one error line."""

    path: str
    problem: str | None = None
    size: int = 0


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


# brat's configuration files: never trial records.
BRAT_CONF = frozenset({"annotation.conf", "visual.conf", "tools.conf", "kb_shortcuts.conf"})


def is_brat_annotation(path: Path, names: frozenset[str] | None = None) -> bool:
    """A brat annotation file: ``X.ann`` beside its ``X.txt``, or a brat configuration file.
    ``names`` (the directory's file names) saves a look at the disk."""
    name = path.name
    if name in BRAT_CONF:
        return True
    if not name.endswith(".ann"):
        return False
    text_name = name[:-4] + ".txt"
    return text_name in names if names is not None else path.with_name(text_name).is_file()


class _Skipped:
    """Counts the brat annotation files a walk leaves out."""

    def __init__(self) -> None:
        self.n = 0


def _walk(directory: Path, skipped: _Skipped | None = None) -> Iterator[Path]:
    # Sorted at every level so that the output order does not depend on the file system.
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not _is_hidden(d))
        names = frozenset(files)
        for name in sorted(files):
            if _is_hidden(name):
                continue
            if is_brat_annotation(Path(root) / name, names):
                if skipped is not None:
                    skipped.n += 1
                continue
            yield Path(root) / name


def _notice(message: str) -> None:
    print(f"criteria-nlp: {message}", file=sys.stderr)


def _file(path: Path) -> InputFile:
    try:
        return InputFile(str(path), size=path.stat().st_size)
    except OSError as exc:
        return InputFile(str(path), problem=f"cannot read: {exc.strerror or exc}")


def expand_inputs(args: Iterable[str], notice=_notice) -> list[InputFile]:
    """Files as given, directories walked (sorted, hidden entries skipped), globs expanded
    (sorted), ``-`` for stdin. A path that names nothing becomes an InputFile with a
    ``problem``, so the batch writes an error line for it instead of dropping it.

    A walked directory or a pattern leaves out brat annotation files (``X.ann`` beside
    ``X.txt``, annotation.conf, visual.conf): ``notice`` gets one line saying how many."""
    out: list[InputFile] = []
    skipped = _Skipped()
    for arg in args:
        if arg == STDIN:
            out.append(InputFile(STDIN))
            continue
        path = Path(arg)
        if path.is_dir():
            found = [_file(p) for p in _walk(path, skipped)]
            if not found:
                out.append(InputFile(arg, problem="directory holds no input files"))
            out.extend(found)
        elif path.exists():
            out.append(_file(path))
        elif glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            files: list[InputFile] = []
            for m in matches:
                if Path(m).is_dir():
                    files.extend(_file(p) for p in _walk(Path(m), skipped))
                elif is_brat_annotation(Path(m)):
                    skipped.n += 1
                elif not _is_hidden(Path(m).name):
                    files.append(_file(Path(m)))
            out.extend(files or [InputFile(arg, problem="no file matches this pattern")])
        else:
            out.append(InputFile(arg, problem="no such file or directory"))
    if skipped.n and notice is not None:
        files = "file" if skipped.n == 1 else "files"
        notice(
            f"skipped {skipped.n:,} brat annotation {files} (.ann beside its .txt, annotation.conf, "
            "visual.conf); give a file by name to read it anyway"
        )
    return out


def _read_one(inp: InputFile) -> Iterator[RawRecord | RecordError]:
    from criteria_nlp.readers import read_bytes, read_path

    if inp.problem is not None:
        yield RecordError(source=inp.path, problem=inp.problem)
        return
    source = "<stdin>" if inp.path == STDIN else inp.path
    n = 0
    try:
        if inp.path == STDIN:
            # raw bytes, so stdin gets the readers' decoding (BOMs, legacy encodings, binary checks)
            records = read_bytes(sys.stdin.buffer.read(), source)
        else:
            records = read_path(inp.path)
        for raw in records:
            n += 1
            yield raw
    except InputError as exc:
        yield RecordError(source=exc.source, problem=exc.problem)
    except Exception as exc:  # a reader that raises is a bug, but the batch still reports it and goes on
        where = source if n == 0 else f"{source}#{n + 1}"
        detail = str(exc) or "(no message)"
        yield RecordError(source=where, problem=f"internal error while reading: {type(exc).__name__}: {detail}")


def iter_raw_records(inputs: Iterable[InputFile]) -> Iterator[tuple[int, RawRecord | RecordError]]:
    """``(input index, record)`` for every record of every input, in input order. Never raises
    for bad input: every problem comes out as a RecordError."""
    for index, inp in enumerate(inputs):
        for raw in _read_one(inp):
            yield index, raw

"""Texts that take long to build (a trie pattern over thousands of aliases), built once,
then read back from the cache folder of :mod:`criteria_nlp.compiled`.

``built(name, inputs, build, sources)`` returns ``build()``; the first call stores the
text under a hash of ``name``, ``inputs`` (everything the text is made from, as one string),
the Python version and the source files of the code that builds it (``sources``: module
files, so that an edit of the builder builds afresh), and later calls read it back. Each
file carries the hash of its own text on its first line: a damaged file is rebuilt. The
folder is the compiled-pattern cache's (``CRITERIA_NLP_CACHE=off`` builds every time); a
folder that cannot be written only costs the build.

``parsed(name, raw, parse)`` does the same for a parsed data file (the repair's 4 MB of
weights: JSON parsing was ~0.13 s of every start), stored in :mod:`marshal` form.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from criteria_nlp.compiled import cache_dir, store

KEEP = 8  # files kept per name: each lexicon edit makes a new one, the oldest go


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()[:32]


def built(name: str, inputs: str, build: Callable[[], str], sources: Iterable[str | os.PathLike] = ()) -> str:
    folder = cache_dir()
    if folder is None:
        return build()
    try:
        code = [Path(s).read_bytes() for s in sources]
    except OSError:
        return build()
    key = _digest(name.encode(), sys.version.encode(), inputs.encode("utf-8", "surrogatepass"), *code)
    path = folder / f"txt-{name}-{key}.txt"
    data = _read_checked(path)
    if data is not None:
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeError:
            pass  # unreadable: build it
    text = build()
    _write_checked(path, text.encode("utf-8", "surrogatepass"), f"txt-{name}-*.txt")
    return text


def parsed(name: str, raw: bytes, parse: Callable[[bytes], dict]) -> dict:
    """``parse(raw)``, a dict of plain values (str, numbers, lists, dicts), read back from
    the cache folder in :mod:`marshal` form the next time (a few times faster than JSON; marshal
    runs no code on load). The file name holds a hash of ``name``, the Python version and
    ``raw`` (a changed source parses afresh); the file carries the hash of its own payload:
    a damaged or foreign file is parsed afresh and rewritten. Errors of ``parse`` propagate."""
    folder = cache_dir()
    if folder is None:
        return parse(raw)
    key = _digest(name.encode(), sys.version.encode(), raw)
    path = folder / f"data-{name}-{key}.marshal"
    data = _read_checked(path)
    if data is not None:
        try:
            value = marshal.loads(data)
            if isinstance(value, dict):
                return value
        except (ValueError, EOFError, TypeError):
            pass  # unreadable: parse it
    value = parse(raw)
    try:
        payload = marshal.dumps(value)
    except ValueError:
        return value  # not marshal-able: nothing to cache
    _write_checked(path, payload, f"data-{name}-*.marshal")
    return value


def _read_checked(path: Path) -> bytes | None:
    """The payload of a cache file whose first line is the hash of the rest, or None when
    the file is absent, unreadable, damaged or foreign."""
    try:
        check, _, data = path.read_bytes().partition(b"\n")  # bytes: no newline translation
        return data if check.decode("ascii") == _digest(data) else None
    except (OSError, UnicodeError):
        return None


def _write_checked(path: Path, data: bytes, siblings: str) -> None:
    """Store ``data`` at ``path`` under the hash line (see :func:`compiled.store`)."""
    store(path, _digest(data).encode("ascii") + b"\n" + data, siblings, KEEP)

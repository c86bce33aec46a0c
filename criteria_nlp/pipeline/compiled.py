"""Large regular expressions compiled once, then loaded in compiled form.

Python's ``re`` compiles a pattern in pure Python: the value grammar (one pattern of about
190,000 characters) and the repair's alias trie take seconds, which was most of the time
of the first ``structure()`` in a fresh process. :func:`compile` stores the compiled
program (what ``re`` hands to the C engine, ``_sre.compile``) in a cache folder and loads it
from there the next time: a few milliseconds. The file name holds a hash of the Python
version, the engine's magic number, the flags and the pattern, so that a changed rule
file or another Python simply compiles afresh; an unreadable or foreign file is ignored
(the engine validates the program it is given). Results are the same ``re.Pattern``.

The folder is ``$CRITERIA_NLP_CACHE`` (``off`` disables the cache), else
``$XDG_CACHE_HOME/criteria-nlp``, else ``~/.cache/criteria-nlp``. A folder that cannot be
written only costs the compile time.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import sys
import tempfile
from pathlib import Path

try:  # CPython 3.11+: the compiler's pieces; elsewhere plain re.compile
    import _sre
    from re import _compiler, _parser
except ImportError:  # pragma: no cover - other Pythons
    _sre = None

_MEMORY: dict[tuple[str, int], re.Pattern] = {}


def cache_dir() -> Path | None:
    where = os.environ.get("CRITERIA_NLP_CACHE")
    if where:
        return None if where.lower() == "off" else Path(where)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "criteria-nlp"


def _key(pattern: str, flags: int) -> str:
    h = hashlib.sha256()
    h.update(f"{sys.version}|{sys.implementation.name}|{_sre.MAGIC}|{_sre.CODESIZE}|{flags}|".encode())
    h.update(pattern.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:32]


def _program(pattern: str, flags: int) -> tuple:
    # as re._compiler.compile does, keeping the arguments of _sre.compile
    parsed = _parser.parse(pattern, flags)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup = [None] * parsed.state.groups
    for name, i in groupindex.items():
        indexgroup[i] = name
    # the opcodes are int subclasses: plain ints marshal
    return (int(flags | parsed.state.flags), [int(c) for c in code], parsed.state.groups - 1, groupindex,
            tuple(indexgroup))


def compile(pattern: str, flags: int = 0) -> re.Pattern:  # noqa: A001 - same name as re.compile on purpose
    """``re.compile(pattern, flags)``, loaded from the cache folder when it was compiled before."""
    memo = _MEMORY.get((pattern, flags))
    if memo is not None:
        return memo
    folder = cache_dir()
    if _sre is None or folder is None or not isinstance(pattern, str):
        compiled = re.compile(pattern, flags)
    else:
        compiled = _cached(pattern, int(flags), folder)
    _MEMORY[(pattern, flags)] = compiled
    return compiled


KEEP = 16  # compiled files kept: each rule edit makes a new one, the oldest go


def _trim(folder: Path) -> None:
    files = sorted(folder.glob("re-*.marshal"), key=lambda f: f.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)


def _cached(pattern: str, flags: int, folder: Path) -> re.Pattern:
    path = folder / f"re-{_key(pattern, flags)}.marshal"
    try:
        args = marshal.loads(path.read_bytes())
        return _sre.compile(pattern, *args)
    except (OSError, EOFError, ValueError, TypeError, RuntimeError):
        pass  # absent, truncated or foreign: compile afresh
    try:
        args = _program(pattern, flags)
        compiled = _sre.compile(pattern, *args)
    except Exception:  # noqa: BLE001 - private API changed: the public one always works
        return re.compile(pattern, flags)
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".re-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(marshal.dumps(args))
        os.replace(tmp, path)  # whole files only, whatever runs at the same time
        _trim(folder)
    except (OSError, ValueError):
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return compiled

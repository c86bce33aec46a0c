"""Large regular expressions compiled once, then loaded in compiled form.

Python's ``re`` compiles a pattern in pure Python: the value grammar (one pattern of about
190,000 characters) and the repair's alias trie take seconds, which was most of the time
of the first ``structure()`` in a fresh process. :func:`compile` stores the compiled
program (what ``re`` hands to the C engine, ``_sre.compile``) in a cache folder and loads it
from there the next time: a few milliseconds. The file name holds a hash of the Python
version, the engine's magic number, the flags and the pattern, so that a changed rule
file or another Python simply compiles afresh; an unreadable or foreign file is ignored
(the engine validates the program it is given). Results are the same ``re.Pattern``.

``compile(..., prefilter=True)`` also puts a look-ahead on the characters a match can start
with in front of the pattern (:func:`first_set`, read from the parse tree, so it follows every
branch): ``re`` tries a pattern at every position of the text, and a big alternation costs
microseconds even where it fails at once; the look-ahead rejects most positions in one step.
Matches are the same (the look-ahead only refuses positions where no match can start). The
look-ahead is stored with the compiled program, so loading it costs nothing more.

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

_MEMORY: dict[tuple[str, int, bool], re.Pattern] = {}


def cache_dir() -> Path | None:
    where = os.environ.get("CRITERIA_NLP_CACHE")
    if where:
        return None if where.lower() == "off" else Path(where)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "criteria-nlp"


def _key(pattern: str, flags: int, prefilter: bool = False) -> str:
    h = hashlib.sha256()
    mode = "|first" if prefilter else ""
    h.update(f"{sys.version}|{sys.implementation.name}|{_sre.MAGIC}|{_sre.CODESIZE}|{flags}{mode}|".encode())
    h.update(pattern.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:32]


class _Anything(Exception):
    """A match may start with any character (or with none): no look-ahead."""


_CATEGORY_TEXT = {"DIGIT": r"\d", "NOT_DIGIT": r"\D", "SPACE": r"\s", "NOT_SPACE": r"\S", "WORD": r"\w",
                  "NOT_WORD": r"\W"}  # fmt: skip
_FLAGS_SEEN = re.IGNORECASE | re.LOCALE | re.UNICODE | re.ASCII


def _first(data, flags: int, items: list) -> bool:
    """Add to ``items`` the set items (LITERAL, RANGE, CATEGORY) a match of the sequence
    ``data`` can start with; True when the sequence can match the empty string."""
    for op, av in data:
        name = str(op)
        if name == "LITERAL":
            items.append((op, av))
            return False
        if name == "IN":
            if any(str(o) not in ("LITERAL", "RANGE", "CATEGORY") for o, _ in av):
                raise _Anything  # a negated set, a locale category, ...
            items.extend(av)
            return False
        if name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # zero width: a superset of the first characters either way
        if name == "BRANCH":
            if not any([_first(branch, flags, items) for branch in av[1]]):
                return False
        elif name == "SUBPATTERN":
            _group, add, _remove, sub = av
            if add & _FLAGS_SEEN & ~flags:
                raise _Anything  # a case-insensitive part of a case-sensitive pattern, ...
            if not _first(sub, flags, items):
                return False
        elif name == "ATOMIC_GROUP":
            if not _first(av, flags, items):
                return False
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = av
            if high and not _first(sub, flags, items) and low:
                return False
        elif name == "GROUPREF_EXISTS":
            _group, yes, no = av
            empty_yes = _first(yes, flags, items)
            empty_no = _first(no, flags, items) if no is not None else True
            if not (empty_yes or empty_no):
                return False
        else:
            raise _Anything  # any character, a back reference, ...
    return True


def _char(c: int) -> str:
    if c < 128 and chr(c).isalnum():
        return chr(c)
    return f"\\U{c:08x}" if c > 0xFFFF else f"\\u{c:04x}"


def first_set(pattern: str, flags: int = 0, parsed=None) -> str | None:
    """The characters a match of ``pattern`` can start with, as the inside of a regex set
    (meant for the same flags), or None when that can be anything or nothing."""
    parsed = _parser.parse(pattern, flags) if parsed is None else parsed
    items: list = []
    try:
        if _first(parsed.data, parsed.state.flags, items):
            return None  # an empty match: every position
    except _Anything:
        return None
    out = []
    for op, av in dict.fromkeys(items):
        if str(op) == "LITERAL":
            out.append(_char(av))
        elif str(op) == "RANGE":
            out.append(f"{_char(av[0])}-{_char(av[1])}")
        else:
            text = _CATEGORY_TEXT.get(str(av).removeprefix("CATEGORY_"))
            if text is None:
                return None
            out.append(text)
    return "".join(out)


_GLOBAL_FLAGS = re.compile(r"\(\?[aiLmsux]+\)")


def with_prefilter(pattern: str, chars: str) -> str:
    """``pattern`` behind the look-ahead ``(?=[chars])`` (global inline flags kept first)."""
    head = _GLOBAL_FLAGS.match(pattern)
    cut = head.end() if head else 0
    return f"{pattern[:cut]}(?=[{chars}])(?:{pattern[cut:]})"


def _program(pattern: str, flags: int, prefilter: bool = False) -> tuple:
    """The arguments of ``_sre.compile`` (as re._compiler.compile makes them) and the
    pattern text they stand for (``pattern`` behind its look-ahead with ``prefilter``)."""
    parsed = _parser.parse(pattern, flags)
    chars = first_set(pattern, flags, parsed) if prefilter else None
    if chars is not None:
        # the look-ahead goes in front of the parse tree: no second parse of a big pattern
        (look,) = _parser.parse(f"(?=[{chars}])", parsed.state.flags).data
        parsed.data.insert(0, look)
        pattern = with_prefilter(pattern, chars)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup = [None] * parsed.state.groups
    for name, i in groupindex.items():
        indexgroup[i] = name
    # the opcodes are int subclasses: plain ints marshal
    args = (int(flags | parsed.state.flags), [int(c) for c in code], parsed.state.groups - 1, groupindex,
            tuple(indexgroup))
    return pattern, args


def compile(pattern: str, flags: int = 0, prefilter: bool = False) -> re.Pattern:  # noqa: A001 - as re.compile
    """``re.compile(pattern, flags)``, loaded from the cache folder when it was compiled before;
    with ``prefilter``, behind a look-ahead on the characters a match can start with."""
    memo = _MEMORY.get((pattern, flags, prefilter))
    if memo is not None:
        return memo
    folder = cache_dir()
    if _sre is None or not isinstance(pattern, str):
        compiled = re.compile(pattern, flags)
    elif folder is None:
        compiled = _fresh(pattern, int(flags), prefilter)[0]
    else:
        compiled = _cached(pattern, int(flags), folder, prefilter)
    _MEMORY[(pattern, flags, prefilter)] = compiled
    return compiled


# Compiled files kept: each rule edit makes a new one, the oldest go. A process loads about
# 30 (tests/test_startup.py checks that one run needs well under this): fewer kept than
# loaded would have every start evict and rewrite its own patterns.
KEEP = 96


def store(path: Path, data: bytes, siblings: str, keep: int) -> None:
    """Write ``data`` to ``path`` atomically (whole files only, whatever runs at the same
    time), then keep only the newest ``keep`` files of its folder matching ``siblings``.
    A folder that cannot be written only costs the cache."""
    folder = path.parent
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".cache-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        files = sorted(folder.glob(siblings), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in files[keep:]:
            old.unlink(missing_ok=True)
    except (OSError, ValueError):
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _fresh(pattern: str, flags: int, prefilter: bool) -> tuple[re.Pattern, tuple | None]:
    try:
        text, args = _program(pattern, flags, prefilter)
        return _sre.compile(text, *args), (text, args)
    except Exception:  # noqa: BLE001 - private API changed: the public one always works
        return re.compile(pattern, flags), None


def _cached(pattern: str, flags: int, folder: Path, prefilter: bool = False) -> re.Pattern:
    path = folder / f"re-{_key(pattern, flags, prefilter)}.marshal"
    try:
        stored = marshal.loads(path.read_bytes())
        # (pattern text, arguments) with a look-ahead, the arguments alone without
        text, args = stored if prefilter else (pattern, stored)
        if not isinstance(text, str):
            raise TypeError("not a pattern")
        return _sre.compile(text, *args)
    except (OSError, EOFError, ValueError, TypeError, RuntimeError):
        pass  # absent, truncated or foreign: compile afresh
    compiled, program = _fresh(pattern, flags, prefilter)
    if program is None:
        return compiled
    try:
        data = marshal.dumps(program if prefilter else program[1])
    except ValueError:
        return compiled  # not marshal-able: nothing to cache
    store(path, data, "re-*.marshal", KEEP)
    return compiled

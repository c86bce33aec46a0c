"""A time budget per record: a record that takes longer becomes an error record, and the run goes on.

Every stage of structuring is meant to run in linear time (tests/test_linear.py), so no
input should need the budget; it is the guard against the case nobody foresaw. The default
(``DEFAULT_RECORD_TIMEOUT``, 120 s) is far above what a megabyte of any text takes.

    with time_budget(5.0):          # raises RecordTimeout after 5 s
        structure_raw(raw, nlp)

How. ``signal.setitimer`` and SIGALRM in the process that structures (with ``-j N``, in each
worker: a worker runs its records on its main thread). Python runs signal handlers between
bytecodes, and the regex engine checks for signals as it runs, so a slow regex or spaCy
loop is interrupted too. Limits, by design:

- no budget off the main thread (Python delivers signals to the main thread only) and on
  platforms without SIGALRM (Windows): there a record runs as long as it takes;
- a timer someone else set (``signal.setitimer``) is suspended during a record and resumed
  afterwards with what was left of it;
- the first record of a process also pays for what is compiled on first use (a few
  seconds): keep budgets well above that.

The budget in force when a caller gives none is ``default_timeout()``: the
``CRITERIA_NLP_RECORD_TIMEOUT`` environment variable (seconds; 0 or "none" turns it off),
else 120 s. ``default_budget(seconds)`` sets it for a block (``annotate`` does, so that its
worker processes, forked or spawned, inherit it).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

DEFAULT_RECORD_TIMEOUT = 120.0
ENV_VAR = "CRITERIA_NLP_RECORD_TIMEOUT"
T = TypeVar("T")


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


# "no value given": use default_timeout() (None means no budget at all)
DEFAULT = _Default()


class RecordTimeout(BaseException):
    """Raised inside a record that ran out of time. A BaseException, so that the stages'
    own ``except Exception`` clauses do not swallow it."""

    def __init__(self, seconds: float):
        super().__init__(f"time budget of {seconds:g} s exceeded")
        self.seconds = seconds


def timeout_message(seconds: float) -> str:
    """The error of a record that ran out of time (the record itself is named by ``source``)."""
    return (
        f"not structured: it took longer than the time budget of {seconds:g} s per record "
        "(--record-timeout); the run went on with the next record"
    )


def parse_timeout(value: str | float | None) -> float | None:
    """Seconds from an option or environment value; None (no budget) for 0, "none", "off"."""
    if value is None:
        return None
    if isinstance(value, str):
        if value.strip().lower() in ("", "none", "off", "0"):
            return None
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"a record timeout is a number of seconds, not {value!r}") from None
    seconds = float(value)
    if seconds != seconds or seconds < 0:  # NaN or negative
        raise ValueError(f"a record timeout is a positive number of seconds, not {value!r}")
    return seconds or None


def default_timeout() -> float | None:
    """The budget used when a caller gives none (see the module docstring)."""
    value = os.environ.get(ENV_VAR)
    if value is None:
        return DEFAULT_RECORD_TIMEOUT
    try:
        return parse_timeout(value)
    except ValueError:
        return DEFAULT_RECORD_TIMEOUT


def resolve(seconds) -> float | None:
    """``seconds`` as given, or the default one for DEFAULT."""
    return default_timeout() if seconds is DEFAULT else parse_timeout(seconds)


@contextmanager
def default_budget(seconds) -> Iterator[None]:
    """Make ``seconds`` the default budget inside the block (DEFAULT: leave it as it is).
    Set through the environment, so that worker processes started in the block inherit it."""
    if seconds is DEFAULT:
        yield
        return
    seconds = parse_timeout(seconds)
    before = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = "none" if seconds is None else repr(seconds)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = before


def within_budget(items: Iterable[T], seconds) -> Iterator[T]:
    """``items`` iterated with ``seconds`` as the default budget (``default_budget``)."""
    with default_budget(seconds):
        yield from items


def can_time() -> bool:
    """Whether a budget can be enforced here (SIGALRM exists and this is the main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise RecordTimeout in the block once it has run ``seconds``; no budget for None or
    where ``can_time()`` is false."""
    if not seconds or not can_time():
        yield
        return

    def on_alarm(signum, frame):  # noqa: ANN001
        raise RecordTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    started = time.monotonic()
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            # someone else's timer was running: let it go on with what was left of it
            left = outer - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))

"""criteria-nlp: structure the eligibility criteria of clinical-trial records.

>>> import criteria_nlp
>>> record = criteria_nlp.structure("examples/NCT04077684_who_ictrp_page.txt")
>>> [c.text for c in criteria_nlp.extract("SLE disease activity index (SLEDAI) >= 8")]
['>= 8']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from criteria_nlp.budget import DEFAULT as _DEFAULT_BUDGET
from criteria_nlp.schema import Constraint, Criterion, Population, TrialRecord, json_schema

__version__ = "0.1.0"
__all__ = [
    "Constraint",
    "Criterion",
    "Population",
    "TrialRecord",
    "extract",
    "json_schema",
    "load",
    "structure",
    "structure_many",
]


def load(path: str | os.PathLike | None = None):
    """The criteria-nlp spaCy pipeline: from ``path`` (a directory written by
    ``nlp.to_disk``) or, by default, built from the rules bundled with the package."""
    from criteria_nlp.pipeline import load_pipeline

    return load_pipeline(path)


@lru_cache(maxsize=1)
def _default_nlp():
    return load()


def _looks_like_path(value: str) -> bool:
    if "\n" in value or len(value) > 4096:
        return False
    try:
        return Path(value).exists()
    except OSError:
        return False


def structure(
    path_or_text: str | os.PathLike, *, repair: bool = True, nlp=None, record_timeout=_DEFAULT_BUDGET
) -> TrialRecord:
    """Structure one trial record, given as a path to a file or as its text.

    A file holding several records (a WHO ICTRP export, a list of studies) gives its
    first; use :func:`structure_many` for all of them. Bad input does not raise: the
    returned record has ``error`` set. ``record_timeout``: see :func:`structure_many`.
    """
    for record in structure_many([path_or_text], repair=repair, nlp=nlp, record_timeout=record_timeout):
        return record
    raise AssertionError("structure_many yields at least one record per input")  # pragma: no cover


def structure_many(
    inputs: Iterable[str | os.PathLike], *, repair: bool = True, nlp=None, record_timeout=_DEFAULT_BUDGET
) -> Iterator[TrialRecord]:
    """Structure many inputs lazily; each input is a path (file or directory) or a text.
    Yields one TrialRecord per record, in input order; errors come as records with
    ``error`` set, never as exceptions. A record that takes longer than ``record_timeout``
    seconds (default 120; None: no limit) becomes such an error record; the budget needs
    the main thread (off it, none is applied; see ``criteria_nlp.budget``)."""
    from criteria_nlp.batch.inputs import expand_inputs, iter_raw_records
    from criteria_nlp.readers import read_text
    from criteria_nlp.records import structure_records

    nlp = nlp if nlp is not None else _default_nlp()

    def raws():
        for item in inputs:
            if isinstance(item, os.PathLike) or (isinstance(item, str) and _looks_like_path(item)):
                # files and directories (walked, sorted) as annotate reads them
                yield from (raw for _, raw in iter_raw_records(expand_inputs([str(item)])))
            else:
                yield from read_text(str(item))

    yield from structure_records(raws(), nlp, repair=repair, record_timeout=record_timeout)


def extract(text: str, *, kind: str | None = None, repair: bool = True, nlp=None) -> list[Constraint]:
    """The numeric constraints of one piece of criteria text (offsets index ``text``).
    ``kind`` ("inclusion" or "exclusion") helps the operator repair decide a lost "="."""
    from criteria_nlp.pipeline import extract_text

    return extract_text(nlp if nlp is not None else _default_nlp(), text, kind=kind, repair=repair)

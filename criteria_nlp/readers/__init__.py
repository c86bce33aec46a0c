"""Readers: turn input files of every supported format into RawRecord objects."""

from criteria_nlp.readers.base import CriteriaText, InputError, RawRecord, RecordError

__all__ = ["CriteriaText", "InputError", "RawRecord", "RecordError", "read_path", "read_text"]


def read_path(path: str):
    """Yield RawRecord (or RecordError) for every record in the file at ``path``.
    TEMPORARY placeholder until the readers land."""
    raise NotImplementedError


def read_text(text: str, source: str = "<text>"):
    """Yield the records of an in-memory text (any supported format). TEMPORARY placeholder."""
    raise NotImplementedError

"""Operator repair: decide whether a bare "=" is a lost >= / <= or a real equality."""

from __future__ import annotations

from criteria_nlp.schema import TrialRecord


def harmonize_record(record: TrialRecord) -> None:
    """Record-level pass over repaired constraints (same variable elsewhere in the record,
    structured population fields). TEMPORARY no-op until issue 4."""
    return None

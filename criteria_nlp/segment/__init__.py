"""Segmentation of eligibility criteria into inclusion and exclusion items."""

from criteria_nlp.segment.base import Item

__all__ = ["Item", "segment"]


def segment(ct) -> list[Item]:
    """Split one CriteriaText into items. TEMPORARY placeholder until the segmenter lands."""
    raise NotImplementedError

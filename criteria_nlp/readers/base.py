"""What a reader hands to the rest of criteria-nlp: raw records before segmentation."""

from __future__ import annotations

from dataclasses import dataclass, field

from criteria_nlp.readers.reading import TextMap
from criteria_nlp.schema import Population


class InputError(Exception):
    """A problem with an input file, worded for the user: names the file and the problem."""

    def __init__(self, source: str, problem: str):
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


@dataclass
class CriteriaText:
    """A piece of text that holds eligibility criteria.

    ``kind`` is set when the record itself says which kind every item in the text is
    (a WHO ICTRP XML ``Exclusion_Criteria`` field); otherwise the segmenter decides from
    headers and content. ``field`` names the record field the offsets index (null for
    text inputs, whose offsets index the whole decoded input). ``start``/``end`` bound
    the region of ``text`` where the criteria are (a page holds much else).

    ``text`` is the *reading* text (line ends "\n", escapes and markup undone; see
    readers/reading.py). When it differs from the field or file as written, ``source``
    holds what was written and ``source_map`` maps reading offsets to it; the output's
    offsets and texts are taken from ``source``.
    """

    text: str
    field: str | None = None
    kind: str | None = None
    start: int = 0
    end: int | None = None
    # A page layout that lists criteria as bullets without any inclusion/exclusion
    # header sets this, so the segmenter knows to decide the kinds from content.
    headerless: bool = False
    source: str | None = None
    source_map: TextMap | None = None

    @property
    def written(self) -> str:
        """The field or file as written: what output offsets index."""
        return self.text if self.source is None else self.source

    def to_source(self, i: int, j: int) -> tuple[int, int]:
        """Offsets ``[i, j)`` of ``text`` as offsets of ``written``."""
        if self.source_map is None:
            return i, j
        return self.source_map.span(i, j)


@dataclass
class RawRecord:
    source: str
    source_format: str
    trial_id: str | None = None
    title: str | None = None
    conditions: list[str] = field(default_factory=list)
    population: Population = field(default_factory=Population)
    criteria: list[CriteriaText] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class RecordError:
    """A record that could not be read; the batch still writes one line for it."""

    source: str
    problem: str
    source_format: str | None = None

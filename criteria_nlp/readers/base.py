"""What a reader hands to the rest of criteria-nlp: raw records before segmentation."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    """

    text: str
    field: str | None = None
    kind: str | None = None
    start: int = 0
    end: int | None = None
    # A page layout that lists criteria as bullets without any inclusion/exclusion
    # header sets this, so the segmenter knows to decide the kinds from content.
    headerless: bool = False


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

"""The output contract of criteria-nlp.

Every JSON object that criteria-nlp writes (``structure``, ``annotate``) is the
``model_dump`` of one of these models, and ``criteria-nlp schema`` prints their JSON
Schema. Change a field here and you change the public format: bump SCHEMA_VERSION.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "2.2"

Operator = Literal[">=", ">", "<=", "<", "==", "between"]
Category = Literal["age", "lab", "score", "vital", "anthropometric", "dose", "temporal", "other"]
Kind = Literal["inclusion", "exclusion"]
# How an item's kind was decided: a header in the text ("Exclusion criteria:"), the record
# field that is one kind by definition (ICTRP's Exclusion_Criteria), the inclusion/exclusion
# classifier on a list without headers, or nothing at all (a list that cannot be scored).
KindSource = Literal["header", "field", "classifier", "default"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Alternate(_Model):
    """The same bound restated in another unit: "ANC >= 1.5 x 10^9/L (1500/uL)"."""

    value: float
    upper: float | None = None
    unit: str | None = Field(None, description="UCUM code of the restatement's unit, or null.")
    unit_text: str | None = None
    start: int
    end: int
    text: str = Field(description="The restatement as written: source[start:end].")


class Constraint(_Model):
    """One numeric constraint found in a criterion, e.g. ``SLEDAI >= 8``."""

    variable: str | None = Field(
        description="Canonical name from the variable lexicon (e.g. 'SLEDAI', 'age', 'ALT'); "
        "for variables outside the lexicon, the mention as written; null when the text names "
        "nothing the bound applies to."
    )
    mention: str | None = Field(
        None, description="The words the constraint bounds, as written: source[mention_start:mention_end]; "
        "null when none was found."
    )
    mention_start: int | None = Field(None, description="Offset of the mention's first character (same frame as start).")
    mention_end: int | None = Field(None, description="Offset just past the mention's last character.")
    category: Category = Field(description="What kind of quantity is constrained.")
    operator: Operator = Field(
        description="Comparison the variable must satisfy; 'between' means value <= x <= upper."
    )
    value: float = Field(description="The (lower, for 'between') bound.")
    upper: float | None = Field(None, description="Inclusive upper bound; only for 'between'.")
    unit: str | None = Field(
        None,
        description="UCUM code of the unit (e.g. 'mg/dL', 'mo', '10*9/L'), or null. Visual acuity "
        "written in Snellen notation ('20/40', '6/60', '1/10') has value in decimal acuity (0.5) and unit "
        "'{decimal acuity}'.",
    )
    unit_text: str | None = Field(None, description="The unit as written, when one was written.")
    date: str | None = Field(
        None,
        description="For a calendar-date bound ('admitted since March 2020'): the (lower) date as written, "
        "ISO 8601 at the precision written ('2020', '2020-03', '2020-03-15'); value then holds it as a "
        "decimal year. Null for every other bound.",
    )
    upper_date: str | None = Field(None, description="The upper date of a 'between' date bound, as date.")
    scale_max: float | None = Field(
        None,
        description="For a score written out of its scale's top ('pain 4/10 or more', 'MMSE 24/30'): "
        "the top (10, 30); value and upper are the points. Null otherwise.",
    )
    relative_to: Literal["ULN", "LLN"] | None = Field(
        None,
        description="Set when the value is a multiple of a reference limit: "
        "'ALT >= 2 x ULN' has value 2 and relative_to 'ULN'.",
    )
    start: int = Field(description="Offset of the expression's first character (see TrialRecord.offsets).")
    end: int = Field(description="Offset just past the expression's last character.")
    text: str = Field(description="The expression exactly as written: source[start:end].")
    negated: bool = Field(False, description="True when ConText found the constraint negated.")
    repaired: bool = Field(
        False, description="True when the operator was inferred because the record lost it (a bare '=')."
    )
    written_operator: str | None = Field(
        None, description="The operator as written ('=', '>=', 'at least', ...), null if none."
    )
    confidence: float = Field(
        1.0, ge=0.0, le=1.0, description="1 for a reading taken as written; below 1 when inferred."
    )
    repair_reason: str | None = Field(
        None, description="The evidence behind a repair, or behind keeping a bare '=' as written."
    )
    alternates: list[Alternate] = Field(
        default_factory=list,
        description="Restatements of the same bound in another unit, e.g. '(1500/uL)' after '1.5 x 10^9/L'.",
    )


class Criterion(_Model):
    """One inclusion or exclusion item."""

    id: str = Field(description="Stable id inside the record: 'inc-1', 'exc-3', ...")
    kind: Kind
    kind_source: KindSource = Field(
        "header", description="What decided the kind: 'header', 'field', 'classifier' or 'default'."
    )
    kind_confidence: float = Field(
        1.0, ge=0.0, le=1.0, description="Estimated probability that the kind is right (1 for a header or field)."
    )
    label: str | None = Field(None, description="The item's own numbering or bullet as written ('1.', 'a)', '-').")
    text: str = Field(description="Item text without its label, wrapped lines joined with single spaces.")
    start: int = Field(description="Offset of the item's first character, label included.")
    end: int = Field(description="Offset just past the item's last character.")
    field: str | None = Field(
        None,
        description="For JSON/XML inputs, the record field whose text the offsets index "
        "(e.g. 'eligibilityCriteria', 'Exclusion_Criteria'); null for text inputs, whose "
        "offsets index the whole decoded input.",
    )
    constraints: list[Constraint] = Field(default_factory=list)


class AgeLimit(_Model):
    value: float
    unit: Literal["years", "months", "weeks", "days", "hours", "minutes"]


class AgeGroup(_Model):
    """An age group of a registry form, e.g. EudraCT's "F.1.2 Adults (18-64 years) yes"."""

    code: str | None = Field(None, description="The form's item code ('F.1.2'), when written.")
    label: str = Field(description="The group as the form names it ('Adults (18-64 years)').")
    min_age: AgeLimit | None = None
    max_age: AgeLimit | None = None
    included: bool | None = Field(None, description="The form's yes/no answer.")
    subjects: int | None = Field(None, description="Planned number of subjects in the group, when given.")


class Population(_Model):
    min_age: AgeLimit | None = None
    max_age: AgeLimit | None = None
    sex: Literal["all", "female", "male"] | None = None
    healthy_volunteers: bool | None = None
    age_groups: list[AgeGroup] = Field(
        default_factory=list, description="Age groups a registry form ticks (EudraCT F.1.x), in form order."
    )


class TrialRecord(_Model):
    """One structured trial record: the unit of output of every command."""

    schema_version: str = SCHEMA_VERSION
    source: str = Field(description="Input path as given; 'path#N' for the Nth record (1-based) of a multi-record file.")
    source_format: str | None = Field(
        None,
        description="Detected format: who_ictrp_page, ctgov_listing_page, ctgov_field_dump, "
        "trial_details_page, ctgov_json, ctgov_xml, who_ictrp_xml, criteria_text.",
    )
    trial_id: str | None = None
    title: str | None = None
    conditions: list[str] = Field(default_factory=list)
    population: Population = Field(default_factory=Population)
    criteria: list[Criterion] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    error: str | None = Field(None, description="Null unless the record could not be structured; then says why.")


_set = object.__setattr__


def is_plain(model: BaseModel) -> bool:
    """Whether a model is all in its ``__dict__`` and fields set (no extra fields, no
    private attributes), so that those two rebuild it (:func:`rebuilt`)."""
    return model.__pydantic_extra__ is None and getattr(model, "__pydantic_private__", None) is None


def rebuilt(cls: type[BaseModel], fields: dict, fields_set) -> BaseModel:
    """A model of ``cls`` from the field values a validated model held, without validating
    them again (pydantic's generic copy and construct steps cost more than the fields)."""
    model = cls.__new__(cls)
    _set(model, "__dict__", fields)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_fields_set__", set(fields_set))
    _set(model, "__pydantic_private__", None)
    return model


def json_schema() -> dict:
    """JSON Schema of one output line (a TrialRecord)."""
    return TrialRecord.model_json_schema()

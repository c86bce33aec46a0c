"""The spaCy component ``criteria_repair`` (:class:`OperatorRepair`): the operator repair
of :mod:`criteria_nlp.pipeline.repair` run on every item's ``doc._.constraints``."""

# No ``from __future__ import annotations`` in this module: see make_operator_repair.
import json
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from criteria_nlp.pipeline.numbers import doc_text, has_number
from criteria_nlp.pipeline.repair_decision import repair_constraints
from criteria_nlp.pipeline.repair_model import OperatorModel
from criteria_nlp.pipeline.repair_rules import RepairRules, default_model, default_rules, is_candidate


def _ensure_extensions() -> None:
    for name, default in (("constraints", None), ("criterion_kind", None), ("population", None)):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)


class OperatorRepair:
    """spaCy component ``criteria_repair``: repairs the '=' constraints in
    ``doc._.constraints`` (put there by ``criteria_constraints``)."""

    def __init__(self, nlp: Language, name: str = "criteria_repair", use_model: bool = True):
        _ensure_extensions()
        self.name = name
        self.use_model = use_model
        self.rules = default_rules()
        self.model = default_model() if use_model else None

    def __call__(self, doc: Doc) -> Doc:
        # Only a bare '=' is weighed; most items have none, and then nothing is done.
        # (no number: no constraint; no "=" in the text: no bare "=")
        if not has_number(doc) or "=" not in doc_text(doc):
            return doc
        constraints = doc._.constraints
        if constraints and any(is_candidate(c) for c in constraints):
            doc._.constraints = repair_constraints(
                constraints,
                doc_text(doc),
                doc._.criterion_kind,
                doc._.population,
                self.rules,
                self.model if self.model is not None else False,
            )
        return doc

    # A saved pipeline carries its own rules and weights.
    def to_disk(self, path, exclude=()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "repair_rules.json").write_text(
            json.dumps(self.rules.data, indent=2, ensure_ascii=False), "utf-8"
        )
        if self.model is not None:
            (path / "weights.json").write_text(json.dumps(self.model.to_dict(), sort_keys=True), "utf-8")

    def from_disk(self, path, exclude=()) -> "OperatorRepair":
        path = Path(path)
        if (path / "repair_rules.json").exists():
            self.rules = RepairRules.load(path / "repair_rules.json")
        if self.use_model and (path / "weights.json").exists():
            self.model = OperatorModel.load(path / "weights.json")
        return self


# No annotations here: spaCy builds a pydantic model from this signature, and the string
# annotations of ``from __future__ import annotations`` would stay unresolved ForwardRefs.
@Language.factory("criteria_repair", default_config={"use_model": True})
def make_operator_repair(nlp, name, use_model):  # noqa: ANN001
    """Factory of the ``criteria_repair`` component (entry point in pyproject.toml)."""
    return OperatorRepair(nlp, name, use_model=bool(use_model))

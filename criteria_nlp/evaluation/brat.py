"""A small reader for brat standoff annotations (``.ann`` next to ``.txt``).

Only what the evaluations need: text-bound annotations (T), events (E), attributes (A)
and binary relations (R). Notes (#) and normalisations (N) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entity:
    id: str
    type: str
    spans: list[tuple[int, int]]
    text: str

    @property
    def start(self) -> int:
        return min(s for s, _ in self.spans)

    @property
    def end(self) -> int:
        return max(e for _, e in self.spans)


@dataclass
class Event:
    id: str
    type: str
    trigger: str
    args: list[tuple[str, str]] = field(default_factory=list)

    def args_of(self, role: str) -> list[str]:
        """Targets of ``role``; brat numbers repeated roles ("Value", "Value2"), so both count."""
        return [t for r, t in self.args if r.rstrip("0123456789") == role]


@dataclass
class Attribute:
    id: str
    name: str
    target: str
    value: str | None


@dataclass
class Relation:
    id: str
    type: str
    arg1: str
    arg2: str


@dataclass
class BratDoc:
    doc_id: str
    text: str
    entities: dict[str, Entity] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    attributes: list[Attribute] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)

    def attribute(self, target: str, name: str) -> str | None:
        for a in self.attributes:
            if a.target == target and a.name == name:
                return a.value
        return None


class BratError(ValueError):
    """A malformed .ann line; the message names the file and the line."""


def _spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for part in text.split(";"):
        a, b = part.split()
        spans.append((int(a), int(b)))
    return spans


def parse_ann(ann: str, text: str, doc_id: str = "<ann>") -> BratDoc:
    doc = BratDoc(doc_id=doc_id, text=text)
    for lineno, line in enumerate(ann.splitlines(), 1):
        if not line.strip() or line[0] in "#N*":
            continue
        parts = line.split("\t")
        try:
            ident = parts[0]
            if ident.startswith("T"):
                kind, _, spans = parts[1].partition(" ")
                doc.entities[ident] = Entity(ident, kind, _spans(spans), parts[2] if len(parts) > 2 else "")
            elif ident.startswith("E"):
                fields = parts[1].split()
                etype, trigger = fields[0].split(":", 1)
                args = [tuple(f.split(":", 1)) for f in fields[1:]]
                doc.events[ident] = Event(ident, etype, trigger, [(r, t) for r, t in args])
            elif ident.startswith(("A", "M")):
                fields = parts[1].split()
                doc.attributes.append(Attribute(ident, fields[0], fields[1], fields[2] if len(fields) > 2 else None))
            elif ident.startswith("R"):
                fields = parts[1].split()
                doc.relations.append(
                    Relation(ident, fields[0], fields[1].split(":", 1)[1], fields[2].split(":", 1)[1])
                )
        except (IndexError, ValueError) as exc:
            raise BratError(f"{doc_id}: line {lineno} is not valid brat standoff: {line!r}") from exc
    return doc


def read_brat(txt_path: str | Path) -> BratDoc:
    """Read ``X.txt`` and its ``X.ann`` (a missing .ann gives a document without annotations)."""
    txt_path = Path(txt_path)
    text = txt_path.read_text(encoding="utf-8")
    ann_path = txt_path.with_suffix(".ann")
    ann = ann_path.read_text(encoding="utf-8") if ann_path.exists() else ""
    return parse_ann(ann, text, doc_id=txt_path.stem)

"""XML inputs, parsed incrementally through defusedxml.

Records (``<Trial>``, ``<clinical_study>``) are handed on as soon as their end tag is read
and then cleared, so a registry export of any size is read in flat memory. defusedxml
refuses entity declarations and external references, so a "billion laughs" file or an
XXE attempt is reported, never expanded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from criteria_nlp.readers import ctgov_xml, detect, ictrp_xml
from criteria_nlp.readers.base import RawRecord, RecordError

# Local tag name (lower case) of a record element -> the function that reads it.
_RECORDS = {"trial": ictrp_xml.trial_record, "clinical_study": ctgov_xml.study_record}
_FORMAT_OF = {"trial": detect.WHO_ICTRP_XML, "clinical_study": detect.CTGOV_XML}


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _problem(exc: Exception) -> str:
    if isinstance(exc, EntitiesForbidden):
        return (
            f"XML declares the entity {exc.name!r}; entity declarations are refused because "
            "expanding them can exhaust memory (a 'billion laughs' file)"
        )
    if isinstance(exc, ExternalReferenceForbidden):
        ref = exc.sysid or exc.pubid
        return f"XML refers to an external resource ({ref}); external references are refused for safety"
    if isinstance(exc, DTDForbidden):
        return "XML has a document type declaration, which is refused for safety"
    if isinstance(exc, ParseError):
        message = str(exc)
        if message.startswith(("no element found", "unclosed token")):
            return f"XML is not well formed (the file looks truncated): {message}"
        return f"XML is not well formed: {message}"
    return f"XML could not be read: {exc}"


def read_xml(stream: IO[str], source: str) -> Iterator[RawRecord | RecordError]:
    """Every record of an XML document read from a text stream.

    A record inside a root (``<Trials><Trial>...``) is ``source#N``; a document whose
    root is itself the record is ``source``. When the XML breaks after some records,
    those records still come out, followed by one RecordError for the rest.
    """
    root: Element | None = None
    root_name = ""
    n = 0
    fmt: str | None = None
    try:
        for event, element in safe_et.iterparse(stream, events=("start", "end")):
            if event == "start":
                if root is None:
                    root, root_name = element, _local(element.tag)
                continue
            name = _local(element.tag)
            reader = _RECORDS.get(name)
            if reader is None:
                continue
            fmt = _FORMAT_OF[name]
            if element is root:
                yield reader(element, source)
                return
            n += 1
            yield reader(element, f"{source}#{n}")
            # Drop the finished record so memory stays flat on a huge export.
            element.clear()
            if root is not None:
                root.clear()
    except (ParseError, DefusedXmlException) as exc:
        problem = _problem(exc)
        if n == 0:
            yield RecordError(source, problem, fmt or _guess_format(root_name))
        else:
            yield RecordError(f"{source}#{n + 1}", f"{problem}; no record after #{n} could be read", fmt)
        return
    if n == 0:
        if root_name.startswith("trial"):
            yield RecordError(source, f"the WHO ICTRP export <{root_name}> holds no <Trial> records", fmt)
        else:
            yield RecordError(
                source,
                f"XML root <{root_name}> is neither a ClinicalTrials.gov <clinical_study> nor a "
                "WHO ICTRP export of <Trial> records",
                None,
            )


def _guess_format(root_name: str) -> str | None:
    if root_name.startswith("trial"):
        return detect.WHO_ICTRP_XML
    if root_name == "clinical_study":
        return detect.CTGOV_XML
    return None

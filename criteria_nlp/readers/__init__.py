"""Readers: turn input files of every supported format into RawRecord objects.

Formats (``source_format``), detected from the content, not the file name:
``who_ictrp_page``, ``ctgov_listing_page``, ``ctgov_field_dump``, ``trial_details_page``
(registry pages saved as text), ``ctgov_json`` (API v2: a study, a list, a
``{"studies": [...]}`` page, or JSON Lines), ``ctgov_xml`` (classic ``<clinical_study>``),
``who_ictrp_xml`` (``<Trials>`` of ``<Trial>``) and ``criteria_text`` (anything else).

Offsets. For text inputs, offsets index the whole input *as decoded*: BOM removed, line
ends as the file has them (what ``open(path, encoding=..., newline="").read()`` gives)
and mojibake repaired ("â‰¥" -> "≥", with a warning that offsets index the repaired
text). For JSON and XML, offsets index one field's value as written (``CriteriaText.field``
names it), mojibake repaired. The segmenter reads ``CriteriaText.text``, a reading text
(CR dropped, markdown escapes and markup undone, see readers/reading.py); records.py maps
every offset back to ``CriteriaText.written``.

Errors. Nothing here raises for bad content: a file that cannot be read yields exactly
one RecordError whose ``problem`` says why ("empty file", "binary file, not text",
"truncated JSON: ...", "XML is not well formed: ..."); a bad record inside a
multi-record file yields a RecordError for that record and reading goes on.

Sources. A record of a multi-record file (JSON list or page, JSON Lines, an XML export
of ``<Trial>`` elements) is ``"path#N"``, N counting records from 1, even when the file
holds just one; a single-record file is ``path`` as given.

Memory. WHO ICTRP/ClinicalTrials.gov XML and JSON Lines are read incrementally (flat
memory, any size). A single JSON document, and every text page, is read whole.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from criteria_nlp.readers import detect, eudract
from criteria_nlp.readers.base import CriteriaText, InputError, RawRecord, RecordError
from criteria_nlp.readers.ctgov_json import read_json_document, read_json_lines
from criteria_nlp.readers.decode import (
    SNIFF_BYTES,
    choose_encoding,
    decode_bytes,
    normalize_newlines,
    repair_mojibake,
)
from criteria_nlp.readers.pages import PAGE_READERS
from criteria_nlp.readers.reading import reading_text
from criteria_nlp.readers.xml_records import read_xml

__all__ = [
    "CriteriaText",
    "InputError",
    "RawRecord",
    "RecordError",
    "detect_format",
    "read_bytes",
    "read_path",
    "read_text",
]

detect_format = detect.detect_format

_XML_FORMATS = (detect.CTGOV_XML, detect.WHO_ICTRP_XML, detect.XML_OTHER)
_STREAMED = (detect.JSON_LINES, *_XML_FORMATS)
_HTML_PROBLEM = "HTML page, not a supported format: save the page as text, or give the registry's JSON or XML"


def _with_warnings(
    records: Iterable[RawRecord | RecordError], warnings: list[str]
) -> Iterator[RawRecord | RecordError]:
    for record in records:
        if warnings and isinstance(record, RawRecord):
            record.warnings[:0] = [w for w in warnings if w not in record.warnings]
        yield record


def _read_decoded(text: str, source: str, warnings: list[str]) -> Iterator[RawRecord | RecordError]:
    """Records of a decoded document (line ends as the file has them)."""
    head = text if len(text) <= 4 * SNIFF_BYTES else text[: 4 * SNIFF_BYTES]
    fmt = detect_format(normalize_newlines(head))
    if fmt == detect.HTML:
        yield RecordError(source, _HTML_PROBLEM)
    elif fmt == detect.JSON_LINES:
        yield from _with_warnings(read_json_lines(text.split("\n"), source), warnings)
    elif fmt == detect.CTGOV_JSON:
        yield from _with_warnings(read_json_document(text, source), warnings)
    elif fmt in _XML_FORMATS:
        yield from _with_warnings(read_xml(io.StringIO(text), source), warnings)
    else:
        text, repaired = repair_mojibake(text)
        yield from _with_warnings([read_page(text, source, fmt)], warnings + ([repaired] if repaired else []))


def read_page(text: str, source: str, fmt: str) -> RawRecord:
    """A text input: the page reader reads the reading text (no CR, markdown escapes
    removed, markup pasted from a registry read as layout); every CriteriaText then maps
    its offsets back to ``text`` as written."""
    reading, tmap = reading_text(text, markdown=True, markup=True)
    record = PAGE_READERS[fmt](reading, source)
    for ct in record.criteria:
        _drop_form_lines(ct, record)
        if not tmap.identity:
            ct.source, ct.source_map = text, tmap
    return record


def _drop_form_lines(ct: CriteriaText, record: RawRecord) -> None:
    """EudraCT form lines inside a page's criteria (an EUCTR record saved from the ICTRP
    portal) go to the population; the segmenter sees blanks in their place."""
    region = ct.text[ct.start : ct.end]
    lines = eudract.form_lines(region)
    if not lines:
        return
    eudract.apply_form(lines, record.population)
    if ct.source is None:
        ct.source = ct.text  # offsets index the text as it was, not the blanked copy
    chars = list(ct.text)
    for line in lines:
        for k in range(ct.start + line.start, ct.start + line.end):
            chars[k] = " "
    ct.text = "".join(chars)


def read_bytes(data: bytes, source: str) -> Iterator[RawRecord | RecordError]:
    """Records of a whole file's bytes (decoded, then read in the detected format)."""
    try:
        decoded = decode_bytes(data, source)
    except InputError as exc:
        yield RecordError(source, exc.problem)
        return
    yield from _read_decoded(decoded.text, source, decoded.warnings)


def read_text(text: str, source: str = "<text>") -> Iterator[RawRecord | RecordError]:
    """Records of an in-memory text, in whatever supported format its content shows."""
    if not text.strip():
        yield RecordError(source, "empty text")
        return
    yield from read_bytes(text.encode("utf-8", errors="replace"), source)


def _stream(f: io.BufferedReader, path: str, head: bytes) -> Iterator[RawRecord | RecordError]:
    """A big file: decide encoding and format from its head, then stream XML/JSON Lines."""
    try:
        encoding, warnings = choose_encoding(head, at_eof=False)
    except InputError as exc:
        yield RecordError(path, exc.problem)
        return
    head_text = normalize_newlines(head.decode(encoding, errors="replace").lstrip("\ufeff"))
    fmt = detect_format(head_text)
    if fmt not in _STREAMED:
        yield from read_bytes(head + f.read(), path)
        return
    f.seek(0)
    stream = io.TextIOWrapper(f, encoding=encoding, newline=None)
    records = read_json_lines(stream, path) if fmt == detect.JSON_LINES else read_xml(stream, path)
    n = 0
    try:
        for record in _with_warnings(records, warnings):
            n += 1
            yield record
    except UnicodeDecodeError as exc:
        yield RecordError(
            f"{path}#{n + 1}" if n else path,
            f"the file is not valid {encoding} after record #{n}: {exc.reason}; the rest could not be read",
        )


def read_path(path: str) -> Iterator[RawRecord | RecordError]:
    """Records of the file at ``path``. Never raises: a missing, unreadable or bad file
    yields one RecordError naming the problem."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed by the with below, after streaming
    except FileNotFoundError:
        yield RecordError(path, "no such file")
        return
    except IsADirectoryError:
        yield RecordError(path, "is a directory, not a file")
        return
    except PermissionError:
        yield RecordError(path, "permission denied")
        return
    except OSError as exc:
        yield RecordError(path, f"cannot open the file: {exc.strerror or exc}")
        return
    with f:
        try:
            head = f.read(SNIFF_BYTES)
            if len(head) < SNIFF_BYTES:
                yield from read_bytes(head, path)
            else:
                yield from _stream(f, path, head)
        except OSError as exc:
            yield RecordError(path, f"cannot read the file: {exc.strerror or exc}")

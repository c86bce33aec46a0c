"""Which format a record is in, decided from its content (the file name is not trusted)."""

from __future__ import annotations

import re

# Format names, as TrialRecord.source_format reports them.
WHO_ICTRP_PAGE = "who_ictrp_page"
CTGOV_LISTING_PAGE = "ctgov_listing_page"
CTGOV_FIELD_DUMP = "ctgov_field_dump"
TRIAL_DETAILS_PAGE = "trial_details_page"
CTGOV_JSON = "ctgov_json"
CTGOV_XML = "ctgov_xml"
WHO_ICTRP_XML = "who_ictrp_xml"
CRITERIA_TEXT = "criteria_text"
# Not formats of a record but of a file: told apart so they can be streamed.
JSON_LINES = "jsonl"
XML_OTHER = "xml"
HTML = "html"

# Each page layout is recognised by two of its own labels, so criteria text that merely
# starts with "Key inclusion & exclusion criteria" or "Eligibility" stays criteria text.
_PAGE_MARKERS = [
    (
        WHO_ICTRP_PAGE,
        re.compile(r"^Main ID:", re.M),
        re.compile(r"^(?:Key inclusion & exclusion criteria|Public title:)", re.M | re.I),
    ),
    (
        CTGOV_LISTING_PAGE,
        re.compile(r"^- Registration Number\s*$", re.M),
        re.compile(r"^Recruitment & Eligibility\s*$", re.M),
    ),
    (CTGOV_FIELD_DUMP, re.compile(r"^Study NCT ID:", re.M), re.compile(r"^(?:Brief|Official) Title:", re.M)),
    (
        TRIAL_DETAILS_PAGE,
        re.compile(r"^NCT number\s+NCT\d{8}", re.M),
        re.compile(r"^(?:Clinical Trial Details|Eligibility\b|Age group\b)", re.M),
    ),
]

_XML_PROLOG = re.compile(r"\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!DOCTYPE(?:[^\[>]|\[.*?\])*>\s*)*", re.S | re.I)
# A start tag with well-formed attributes only, so criteria text that opens with "<18 years"
# or "<ALT 3 x ULN ... >" is never taken for XML.
_ROOT = re.compile(r"""<([A-Za-z_][\w.:-]*)(?:\s+[\w.:-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*/?>""")
# JSON as registries write it: an object with a quoted key, or a list of objects.
_JSON_START = re.compile(r"\s*(?:\{\s*[\"}]|\[\s*[{\]])")


def xml_root(head: str) -> str | None:
    """Name of the root element of an XML document, from its first characters; None when
    the text does not start like XML."""
    m = _XML_PROLOG.match(head)
    rest = head[m.end() if m else 0 :]
    root = _ROOT.match(rest)
    return root.group(1) if root else None


def _looks_like_jsonl(head: str) -> bool:
    """One JSON object per line: most complete lines start with "{" and end with "}"."""
    lines = [ln.strip() for ln in head.split("\n") if ln.strip()]
    if len(lines) < 2:
        return False
    complete = lines if head.endswith("\n") else lines[:-1]  # the sniffed head may cut the last
    objects = sum(1 for ln in complete if len(ln) > 1 and ln.startswith("{") and ln.endswith("}"))
    return objects >= 1 and objects >= len(complete) / 2


def detect_format(head: str) -> str:
    """The format of a document from its first characters (the whole text when small)."""
    stripped = head.lstrip()
    if stripped[:15].lower().startswith(("<!doctype html", "<html")):
        return HTML
    root = xml_root(stripped) if stripped.startswith("<") else None
    if root is not None or stripped.startswith("<?xml"):
        low = (root or "").lower()
        if low == "clinical_study":
            return CTGOV_XML
        if low.startswith("trial"):
            return WHO_ICTRP_XML
        return XML_OTHER
    if _JSON_START.match(stripped):
        return JSON_LINES if stripped.startswith("{") and _looks_like_jsonl(stripped) else CTGOV_JSON
    for name, first, second in _PAGE_MARKERS:
        if first.search(head) and second.search(head):
            return name
    return CRITERIA_TEXT

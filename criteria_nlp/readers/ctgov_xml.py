"""Classic ClinicalTrials.gov XML (``<clinical_study>``, the format of the pre-2024 bulk download)."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from criteria_nlp.readers import detect
from criteria_nlp.readers.base import RawRecord
from criteria_nlp.readers.common import add_criteria, age, clean
from criteria_nlp.readers.values import parse_healthy_volunteers, parse_sex
from criteria_nlp.schema import Population

FORMAT = detect.CTGOV_XML
CRITERIA_FIELD = "eligibility/criteria/textblock"


def study_record(study: Element, source: str) -> RawRecord:
    record = RawRecord(source=source, source_format=FORMAT)
    record.trial_id = clean(record, study.findtext("id_info/nct_id"))
    if record.trial_id:
        record.trial_id = record.trial_id.strip()
    record.title = clean(record, study.findtext("brief_title")) or clean(
        record, study.findtext("official_title")
    )
    if record.title:
        record.title = " ".join(record.title.split())
    for cond in study.findall("condition"):
        text = clean(record, cond.text)
        if text and text.strip() not in record.conditions:
            record.conditions.append(text.strip())
    elig = study.find("eligibility")
    if elig is None:
        return record
    record.population = Population(
        min_age=age(record, clean(record, elig.findtext("minimum_age")), "min"),
        max_age=age(record, clean(record, elig.findtext("maximum_age")), "max"),
        sex=parse_sex(clean(record, elig.findtext("gender"))),
        healthy_volunteers=parse_healthy_volunteers(clean(record, elig.findtext("healthy_volunteers"))),
    )
    add_criteria(record, clean(record, elig.findtext("criteria/textblock")), CRITERIA_FIELD)
    return record

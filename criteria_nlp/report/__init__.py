"""Readable renderings of criteria-nlp output: text summaries and self-contained HTML pages."""

from criteria_nlp.report.evaluation import render_html as render_evaluation_html
from criteria_nlp.report.evaluation import render_terminal as render_evaluation_terminal
from criteria_nlp.report.record import render_record
from criteria_nlp.report.text import constraint_reading, summarize_record

__all__ = [
    "constraint_reading",
    "render_evaluation_html",
    "render_evaluation_terminal",
    "render_record",
    "summarize_record",
]

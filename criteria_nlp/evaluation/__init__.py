"""Evaluation of criteria-nlp: against the project's gold (``gold``), the LCT comparisons
(``lct``), Chia layouts (``segmentation``) and the operator repair (``repair``).

``criteria-nlp evaluate`` (``runner``) calls each evaluator and renders what it returns
with :mod:`criteria_nlp.report.evaluation`, which reads any dict of this shape: scalars,
dicts of metrics, dicts of per-category metric dicts (charted), and lists of example
dicts with ``sentence`` (or ``text``), ``gold`` and ``found`` (shown highlighted).
"""

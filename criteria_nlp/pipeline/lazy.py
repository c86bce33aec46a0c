"""Heavy third-party imports, done when first needed and as light as they can be.

``import medspacy`` imports QuickUMLS (for its optional UMLS component), which imports NLTK,
which imports SciPy and scikit-learn: about 100 MB of memory per process and seconds of
start-up, none of it used by ConText, the one medspaCy part this project runs.
:func:`context_classes` imports ConText with a placeholder standing in for QuickUMLS
during that import only (then removed again), so medspaCy's QuickUMLS factory is simply
not registered. A process that wants medspaCy's QuickUMLS component imports ``medspacy``
itself before criteria-nlp needs ConText: then the real modules are used as they are.
"""

from __future__ import annotations

import sys
import types


def context_classes():
    """medspaCy's ``(ConText, ConTextRule)``."""
    if "medspacy" in sys.modules or "quickumls" in sys.modules:
        from medspacy.context import ConText, ConTextRule

        return ConText, ConTextRule
    placeholder = types.ModuleType("quickumls")
    placeholder.spacy_component = types.ModuleType("quickumls.spacy_component")
    names = ("quickumls", "quickumls.spacy_component")
    sys.modules.update(zip(names, (placeholder, placeholder.spacy_component), strict=True))
    try:
        from medspacy.context import ConText, ConTextRule
    finally:
        for name in names:
            if sys.modules.get(name) in (placeholder, placeholder.spacy_component):
                del sys.modules[name]
    return ConText, ConTextRule

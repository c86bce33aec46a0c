"""Heavy third-party imports, done when first needed and as light as they can be.

``import medspacy`` imports QuickUMLS (for its optional UMLS component), which imports NLTK,
which imports SciPy and scikit-learn: about 100 MB of memory per process and seconds of
start-up, none of it used by ConText, the one medspaCy part this project runs.
:func:`context_classes` imports ConText with a placeholder standing in for QuickUMLS
during that import only (then removed again), so medspaCy's QuickUMLS factory is simply
not registered. It also imports ``medspacy.context`` without running ``medspacy``'s own
``__init__``, which imports every medspaCy component (the PyRuSH sentence splitter alone
was 40 ms of a start): a bare package module stands in while the submodules load, and it
and the submodules are taken out of ``sys.modules`` again, so that a later ``import
medspacy`` imports the real package afresh, as if nothing had been loaded. ConText
registers the extensions it uses itself. A process that wants
medspaCy's QuickUMLS component imports ``medspacy`` itself before criteria-nlp needs
ConText: then the real modules are used as they are.
"""

from __future__ import annotations

import importlib.util
import sys
import types


def context_classes():
    """medspaCy's ``(ConText, ConTextRule)``."""
    if "medspacy" in sys.modules or "quickumls" in sys.modules:
        from medspacy.context import ConText, ConTextRule

        return ConText, ConTextRule
    placeholder = types.ModuleType("quickumls")
    placeholder.spacy_component = types.ModuleType("quickumls.spacy_component")
    package = _bare_package("medspacy")
    names = ("quickumls", "quickumls.spacy_component", "medspacy")
    stand_ins = (placeholder, placeholder.spacy_component, package)
    sys.modules.update((n, m) for n, m in zip(names, stand_ins, strict=True) if m is not None)
    try:
        from medspacy.context import ConText, ConTextRule
    finally:
        for name in names:
            if sys.modules.get(name) in stand_ins:
                del sys.modules[name]
        if package is not None:  # the submodules loaded under the bare package
            for name in [n for n in sys.modules if n.startswith("medspacy.")]:
                del sys.modules[name]
    return ConText, ConTextRule


def _bare_package(name: str) -> types.ModuleType | None:
    """A module for package ``name`` that finds its submodules but runs none of its
    ``__init__``; None when the package cannot be found (the import then fails as usual)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    package = types.ModuleType(name)
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = name
    return package

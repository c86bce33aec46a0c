"""What the attachment tests share: the one bound of a sentence whose value is given."""

from criteria_nlp.pipeline import extract_text


def only_bound(nlp, text, number):
    """The one constraint whose value is ``number``, its mention checked against its offsets."""
    found = [c for c in extract_text(nlp, text, repair=False) if c.value == number]
    assert len(found) == 1, [(c.text, c.mention) for c in extract_text(nlp, text, repair=False)]
    c = found[0]
    if c.mention is not None:
        assert text[c.mention_start : c.mention_end] == c.mention
    return c

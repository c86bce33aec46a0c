"""EntityIndex look-ups return what the full scans over the entity list returned."""

import random

from criteria_nlp.pipeline.entity_index import EntityIndex, first_named_before, span_entity


def _doc_like(rng: random.Random, n: int) -> list[tuple]:
    # ordered, non-overlapping spans, as doc.ents gives them; some empty, some adjacent
    out, pos = [], 0
    for _ in range(n):
        pos += rng.randint(0, 6)
        length = rng.randint(0, 9)
        var = rng.choice(["age", "ALT", "AST", "weight"])
        out.append((pos, pos + length, rng.choice(["age", "lab", "other"]), var, "x"))
        pos += length
    return out


def _unordered(rng: random.Random, n: int) -> list[tuple]:
    out = []
    for _ in range(n):
        s = rng.randint(0, 80)
        out.append((s, s + rng.randint(0, 12), "lab", rng.choice(["ALT", "AST"]), "x"))
    return out


def test_windows_hold_every_entity_the_scans_accept():
    rng = random.Random(7)
    for trial in range(300):
        ents = _doc_like(rng, rng.randint(0, 30)) if trial % 3 else _unordered(rng, rng.randint(0, 30))
        index = EntityIndex(ents)
        assert list(index) == ents
        if trial % 3:
            assert index.ordered
        for _ in range(20):
            a, b = sorted((rng.randint(-5, 200), rng.randint(-5, 200)))
            reach = b + rng.randint(0, 12)
            inside = [e for e in ents if a <= e[0] and e[1] <= b]
            assert [e for e in index.starting_in(a, b) if a <= e[0] and e[1] <= b] == inside
            near = [e for e in ents if (e[0] < b and e[1] > a) or (b <= e[0] <= reach)]
            assert [
                e for e in index.touching(a, b, reach) if (e[0] < b and e[1] > a) or (b <= e[0] <= reach)
            ] == near
            assert span_entity(index, a, b) == span_entity(ents, a, b)
            for var in ("age", "ALT", "AST", "weight", None):
                assert first_named_before(index, var, b) == first_named_before(ents, var, b)


def test_an_unordered_list_falls_back_to_the_whole_list():
    ents = [(10, 14, "lab", "ALT", "ALT"), (2, 5, "lab", "AST", "AST")]
    index = EntityIndex(ents)
    assert not index.ordered
    assert index.starting_in(0, 6) == ents
    assert span_entity(index, 2, 5) == ents[1]
    assert first_named_before(index, "AST", 5) == 1

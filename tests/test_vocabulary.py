"""The models' feature vocabulary: hashes in place of a dict of strings, with the dict's ids."""

from __future__ import annotations

import numpy as np
import pytest

from bot.core.engine import Engine
from bot.core.understand.vocabulary import Vocabulary

NAMES = ["w cramp", "b leg cramp", "c <le", "c leg", "c eg>", "w leg", "c é>", "w b12", "w ça"]


def _as_dict(names: list[str]) -> dict[str, int]:
    """What the models kept before: each name's place in sorted order, from 1."""
    return {name: k + 1 for k, name in enumerate(sorted(set(names)))}


def _dict_ids(mapping: dict[str, int], found: list[str]) -> list[int]:
    return [mapping[f] for f in found if f in mapping]


@pytest.mark.parametrize("hash_", [hash, len], ids=["python's hash", "every name colliding"])
def test_ids_are_the_sorted_dicts_and_unknown_features_are_dropped(hash_) -> None:
    vocabulary = Vocabulary(Vocabulary.of(NAMES).blob, hash_=hash_)
    found = ["w leg", "c zzz", "w cramp", "w leg", "b never seen", "c é>", "w ça"]
    assert vocabulary.ids(found).tolist() == _dict_ids(_as_dict(NAMES), found)
    assert vocabulary.ids([]).tolist() == []
    assert len(vocabulary) == len(set(NAMES))


def test_a_block_of_names_is_the_run_of_ids_with_its_prefix() -> None:
    vocabulary = Vocabulary.of(NAMES)
    mapping = _as_dict(NAMES)
    chars = sorted(mapping[n] for n in NAMES if n.startswith("c "))
    assert vocabulary.span("c ") == (chars[0], chars[-1] + 1)
    assert vocabulary.span("x ") == (0, 0)
    assert Vocabulary.of([]).ids(["w leg"]).tolist() == []


def test_a_long_vocabulary_split_in_chunks_keeps_every_name(monkeypatch) -> None:
    monkeypatch.setattr("bot.core.understand.vocabulary._CHUNK", 7)
    names = [f"w word{k}" for k in range(500)] + [f"c {k:03d}" for k in range(300)]
    vocabulary = Vocabulary.of(names)
    mapping = _as_dict(names)
    assert vocabulary.ids(names).tolist() == [mapping[n] for n in names]
    assert vocabulary.span("c ") == (mapping["c 000"], mapping["c 299"] + 1)


def test_the_shipped_models_find_every_feature_they_were_trained_on(engine: Engine) -> None:
    for model in (engine.safety.second.model, engine.matcher.model):
        vocabulary = model._vocabulary
        names = vocabulary.names()
        assert vocabulary.ids(names).tolist() == list(range(1, len(names) + 1))
        assert np.array_equal(vocabulary.ids(["w never-a-feature", "c <<<<<"]), [])

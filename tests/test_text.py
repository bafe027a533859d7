"""The speller's English word list: packed to save memory, it must answer exactly as the full
list pyspellchecker loads, or real words would start being "corrected" onto content words.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from spellchecker import SpellChecker

from bot.content.model_cache import ModelDirectory
from bot.core.engine import Engine
from bot.core.understand import spelling as text
from bot.core.understand.spelling import Speller, WordList, english_words, read_word_list


@pytest.fixture(scope="module")
def full_list() -> frozenset[str]:
    """What the speller used before the list was packed: every word pyspellchecker knows."""
    return frozenset(SpellChecker(distance=1).word_frequency.keys())


@pytest.fixture(scope="module")
def speller(engine: Engine) -> Speller:
    return engine.matcher._speller


def near_misses(words: list[str]) -> list[str]:
    """Strings next to real words: mostly not words, some of them words."""
    out = ["", "a" * 40, "é", "CRAMPS", "zzzzzzzz"]
    for word in words:
        out += [word + "x", word[:-1], word[:-1] + "q", "q" + word[1:], word.upper()]
    return out


def test_packed_list_answers_exactly_as_the_full_list(full_list: frozenset[str]) -> None:
    words = english_words()
    assert len(words) == len(full_list)
    assert all(word in words for word in full_list)
    sample = sorted(full_list)[::7]
    for probe in near_misses(sample):
        assert (probe in words) == (probe in full_list), probe
    assert 1 not in words  # not a str: never a word


def test_the_packed_list_is_kept_between_runs(tmp_path: Path) -> None:
    """Packing is ~0.3 s of every start; a second process reads it back from the model cache.
    What it reads must be the same list, and a damaged file is rebuilt, never trusted."""
    store = ModelDirectory(tmp_path)
    path = text.english_word_file()
    first = text._stored_english(path, store)
    (kept,) = tmp_path.glob("*words-*")
    again = text._stored_english(path, store)
    assert again.packed == first.packed == english_words().packed
    kept.write_bytes(b'{"3": "abcd"}')  # not whole records
    assert text._stored_english(path, store).packed == first.packed
    assert kept.read_bytes() != b'{"3": "abcd"}'  # written anew
    kept.write_bytes(b"\xff not json")
    assert text._stored_english(path, store).packed == first.packed


def test_packed_list_is_small() -> None:
    """The point of packing: ~1.4 MB of characters, not ~20 MB of str objects and hash table."""
    assert english_words().characters() < 2_000_000


def test_real_words_near_the_content_vocabulary_are_never_corrected(
    speller: Speller, full_list: frozenset[str]
) -> None:
    """Real words one or two edits from a content word: what the word list exists to protect."""
    unguarded = Speller(speller.vocabulary, known=frozenset())
    sample = sorted(full_list)[::11]
    at_risk = [word for word in sample if unguarded.correct(word) != word]
    assert len(at_risk) > 300  # the sample really reaches the words the list must protect
    guarded = Speller(speller.vocabulary, known=full_list)
    for word in [*at_risk, "later", "cramped", "meat"]:
        assert speller.correct(word) == guarded.correct(word) == word, word


@pytest.mark.parametrize(
    ("typo", "fixed"),
    [("crmaps", "cramp"), ("magnesum", "magnesium"), ("suplement", "supplement")],
)
def test_misspellings_are_still_corrected(engine: Engine, typo: str, fixed: str) -> None:
    assert engine.matcher.words(typo) == [fixed]


def test_misspellings_get_the_same_correction_as_with_the_full_list(
    speller: Speller, full_list: frozenset[str]
) -> None:
    guarded = Speller(speller.vocabulary, known=full_list, uses=speller.uses)
    typos = [
        word[:i] + word[i + 1 :]
        for word in sorted(speller.vocabulary)
        if len(word) >= 4 and word.isalpha()
        for i in (1, len(word) // 2)
    ]
    corrected = [typo for typo in typos if guarded.correct(typo) != typo]
    assert len(corrected) > 200
    assert [speller.correct(t) for t in typos] == [guarded.correct(t) for t in typos]


def write_list(path: Path, data: str) -> Path:
    path.write_bytes(gzip.compress(data.encode("utf-8")))
    return path


def test_reader_handles_case_escapes_and_chunk_edges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys are lower-cased and unescaped as pyspellchecker does, whatever the layout."""
    keys = ["Zebra", "apple", "APPLE", "caf\u00e9", "na\u00efve", 'quote"d', "back\\slash"]
    keys += [f"word{n:04d}" for n in range(500)] + ["\u0130stanbul", "\u03a3\u039f\u03a3"]
    expected = {key.lower() for key in keys}
    lined = "{\n" + ",\n".join(f"{json.dumps(k)}: {n}" for n, k in enumerate(keys)) + "\n}"
    one_line = json.dumps(dict.fromkeys(keys, 1), ensure_ascii=False)
    monkeypatch.setattr(text, "_CHUNK", 64)  # many chunks: no key may be cut or lost
    for n, data in enumerate([lined, one_line, json.dumps(dict.fromkeys(keys, 1))]):
        words = read_word_list(write_list(tmp_path / f"{n}.json.gz", data))
        assert set(words) == expected
        assert all(word in words for word in expected)
        assert "Zebra" not in words and "zebr" not in words


def test_word_list_of_plain_words() -> None:
    words = WordList.of(["pear", "fig", "apple", "fig", ""])
    assert list(words) == ["fig", "pear", "apple"]
    assert "fig" in words and "figs" not in words and "" not in words


def test_the_compiled_stemmer_stems_as_the_pure_python_one(full_list: frozenset[str]) -> None:
    """PyStemmer is used for speed; a single stem of its own would silently change what the
    models were trained on, so it must agree with snowballstemmer word for word."""
    ours = text.english_stemmer()
    assert type(ours).__module__ == "Stemmer"  # the compiled one is installed and used
    reference = text.pure_python_stemmer()
    words = [
        *sorted(full_list)[::3],
        "cramping",
        "deficiencies",
        "vitamins",
        "b12",
        "ça",
        "İstanbul",
    ]
    assert [ours.stemWord(w) for w in words] == [reference.stemWord(w) for w in words]


def test_the_pure_python_stemmer_alone_stems_as_the_package_does(
    full_list: frozenset[str],
) -> None:
    """Loading only snowballstemmer's English module must not change a single stem."""
    from snowballstemmer.english_stemmer import EnglishStemmer

    reference = EnglishStemmer()
    ours = text.pure_python_stemmer()
    assert type(ours).__module__.startswith("_b12_snowball_english")  # the light path ran
    words = [*sorted(full_list)[::5], "cramping", "deficiencies", "vitamins", "b12", "ça"]
    assert [ours.stemWord(w) for w in words] == [reference.stemWord(w) for w in words]


def test_without_pystemmer_the_pure_python_stemmer_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(text.sys.modules, "Stemmer", None)  # as if not installed
    stemmer = text.english_stemmer()
    assert type(stemmer).__module__.startswith("_b12_snowball_english")
    assert stemmer.stemWord("cramping") == "cramp"


def test_english_stemmer_falls_back_to_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delitem(text.sys.modules, "_b12_snowball_english", raising=False)
    stemmer = text.pure_python_stemmer()
    assert type(stemmer).__module__ == "snowballstemmer.english_stemmer"
    assert stemmer.stemWord("cramping") == "cramp"


def test_a_tie_between_equally_close_words_goes_the_same_way_in_every_process() -> None:
    """Windows are separate processes with their own hash seed: a correction must not depend
    on set order, or Telegram and the console would answer the same typo differently."""
    code = (
        "from bot.core.understand.spelling import Speller, WordList\n"
        "s = Speller(['book', 'food', 'good', 'hood', 'mood', 'wood', 'blood'], WordList.of([]))\n"
        "print(s.correct('bood'), s.correct('ood'), s.correct('gook'))\n"
    )
    answers = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(8)
    }
    assert len(answers) == 1, answers
    assert answers.pop().split()[0] in {"book", "food", "good", "hood", "mood", "wood", "blood"}

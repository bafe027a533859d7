"""The intent model: a linear classifier learned from the content's phrasings.

Why learned: the old nearest-profile scoring blended two similarities with weights chosen
on the evaluation file, and on messages nobody here wrote it fell behind a plain TF-IDF +
logistic regression trained on the same phrasings (issue 11). This is that standard
small-data pipeline (Rasa's and its peers'): word unigrams and pairs over the corrected,
stemmed tokens, character n-grams of the words as typed (typos and unseen inflections
still share most of their n-grams), sublinear TF-IDF, then a softmax regression.

Why our own ~150 lines instead of scikit-learn: importing scikit-learn's vectoriser and
`LogisticRegression` costs ~115 MB resident and ~2 s, against a 90 MB budget for the whole
bot and 1.5 s from start to first answer; numpy alone costs ~15 MB and 0.2 s. Training is
mini-batch AdaGrad on the sparse rows, deterministic for a given content (fixed seed and
order), ~1 s for ~2,500 phrasings — and skipped when a model trained on the same
phrasings is cached (see `to_bytes`).

`temperature` divides the logits before the softmax. It is chosen by cross-validation
over the content (`python -m bot eval --cv`): the value that makes held-out phrasings'
probabilities honest, so a score of 80 means right about 80% of the time or better.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from bot.core.understand.vocabulary import Vocabulary

MODEL_VERSION = 4  # bump when features or training change: cached models are retrained
# Weights are trained in float32 and kept as int8, each feature's row with its own scale: a
# quarter of the memory of the two models' largest arrays, and unlike float16 (session 8)
# cheap to widen again at run time — numpy converts float16 in software, which took more
# time than the product itself (benchmarks/bench_match.py, safety p99). The logits move by
# about 1e-2 (README "Speed and memory").
WEIGHTS = np.int8
_LEVELS = 127.0
BIAS = 0  # feature index present in every row
WORD_CACHE = 8192  # words whose character n-gram ids are remembered (~1 MB when full)


@dataclass(frozen=True, slots=True)
class ModelParams:
    char_ngrams: tuple[int, ...] = (3, 4, 5)
    char_weight: float = 1.0  # the character block's share against the word block
    epochs: int = 8
    batch: int = 32
    rate: float = 0.5  # AdaGrad's step
    l2: float = 1e-5
    temperature: float = 0.75  # chosen by `python -m bot eval --cv 5` (least held-out log-loss)
    seed: int = 0
    runs: int = 1  # trainings from seeds seed, seed + 1, …, whose weights are averaged


def features(tokens: Sequence[str], words: Sequence[str], params: ModelParams) -> list[str]:
    """`tokens`: the matcher's corrected, stemmed tokens; `words`: the message as typed
    (normalised, uncorrected). Prefixes keep the three kinds of feature apart."""
    found = [f"w {t}" for t in tokens]
    found += [f"b {a} {b}" for a, b in itertools.pairwise(tokens)]
    for word in words:
        padded = f"<{word}>"
        for n in params.char_ngrams:
            found += [f"c {padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    return found


class IntentModel:
    """Probabilities over `labels` for a message's features."""

    def __init__(
        self,
        labels: Sequence[str],
        vocabulary: Vocabulary,
        idf: np.ndarray,
        weights: np.ndarray,
        params: ModelParams,
        scale: np.ndarray | None = None,
    ) -> None:
        """`weights`: float32 (being trained), or int8 with each row's `scale`."""
        self.labels = tuple(labels)
        self.params = params
        self._vocabulary = vocabulary
        self._idf = idf
        self._weights = weights
        self._scale = scale
        # The vocabulary is sorted and prefixed ("b ", "c ", "w "): character n-grams are
        # one run of ids.
        self._chars = vocabulary.span("c ")
        self._word_ids: dict[str, np.ndarray] = {}
        self._tf = (1.0 + np.log(np.arange(1, 65, dtype=np.float32))).astype(np.float32)
        self._tf = np.concatenate(([0.0], self._tf)).astype(np.float32)  # by count; 0 unused

    # -- training ---------------------------------------------------------------------

    @classmethod
    def train(
        cls, examples: Sequence[tuple[list[str], str]], params: ModelParams | None = None
    ) -> IntentModel:
        """`examples`: (features, label) pairs. Deterministic for the same examples."""
        params = params or ModelParams()
        labels = sorted({label for _, label in examples})
        index = {label: k for k, label in enumerate(labels)}
        df = Counter(f for found, _ in examples for f in set(found))
        vocabulary = Vocabulary.of(df)
        n = len(examples)
        idf = np.ones(len(vocabulary) + 1, np.float32)
        for k, f in enumerate(vocabulary.names(), 1):
            idf[k] = math.log((1 + n) / (1 + df[f])) + 1
        model = cls(labels, vocabulary, idf, np.zeros((len(idf), len(labels)), np.float32), params)
        rows = [model._training_row(model._ids(found)) for found, _ in examples]
        y = np.array([index[label] for _, label in examples], np.int64)
        total = np.zeros_like(model._weights)
        for run in range(params.runs):
            model._weights = np.zeros_like(total)
            model._fit(rows, y, params.seed + run)
            total += model._weights
        model._weights, model._scale = _quantised(total / params.runs)
        return model

    def _fit(self, rows: list[tuple[np.ndarray, np.ndarray]], y: np.ndarray, seed: int) -> None:
        p = self.params
        classes = len(self.labels)
        order = np.random.default_rng(seed).permutation(len(rows))
        rows = [rows[i] for i in order]
        y = y[order]
        lengths = np.array([len(cols) for cols, _ in rows])
        starts = np.concatenate([[0], np.cumsum(lengths)])
        all_cols = np.concatenate([cols for cols, _ in rows])
        all_vals = np.concatenate([vals for _, vals in rows])
        span = np.arange(classes)
        batches = []
        for s in range(0, len(rows), p.batch):
            e = min(s + p.batch, len(rows))
            cols = all_cols[starts[s] : starts[e]]
            unique, inverse = np.unique(cols, return_inverse=True)
            batches.append(
                (
                    cols,
                    all_vals[starts[s] : starts[e], None],
                    starts[s:e] - starts[s],
                    np.repeat(np.arange(e - s), lengths[s:e]),
                    unique,
                    inverse,
                    y[s:e],
                )
            )
        w = self._weights
        squares = np.full_like(w, 1e-8)
        for _ in range(p.epochs):
            for cols, vals, row_starts, row_of, unique, inverse, target in batches:
                size = len(target)
                # (feature, class) cells of this batch, made per step: kept for every batch they
                # would cost gigabytes at ten times the content.
                flat = (inverse[:, None] * classes + span).ravel()
                z = np.add.reduceat(w[cols] * vals, row_starts)
                z -= z.max(axis=1, keepdims=True)
                prob = np.exp(z)
                prob /= prob.sum(axis=1, keepdims=True)
                prob[np.arange(size), target] -= 1.0
                grad = np.bincount(
                    flat, weights=(prob[row_of] * vals).ravel(), minlength=len(unique) * classes
                ).reshape(len(unique), classes)
                grad = grad / size + p.l2 * w[unique]
                squares[unique] += grad * grad
                w[unique] -= p.rate * grad / np.sqrt(squares[unique])

    # -- prediction -------------------------------------------------------------------

    def _ids(self, found: Sequence[str]) -> np.ndarray:
        return self._vocabulary.ids(found)

    def encode(self, tokens: Sequence[str], words: Sequence[str]) -> np.ndarray:
        """The feature ids of `features(tokens, words)`, with each word's character n-grams
        looked up once and remembered: most of a message's features, and words repeat."""
        parts = [self._ids(features(tokens, (), self.params))]
        cache = self._word_ids
        for word in words:
            ids = cache.get(word)
            if ids is None:
                if len(cache) >= WORD_CACHE:
                    cache.clear()
                ids = cache[word] = self._ids(features((), (word,), self.params))
            parts.append(ids)
        return np.concatenate(parts)

    def _row(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sparse TF-IDF row (columns, values; the bias not included): the word block and the
        character block each of unit length. Few numpy calls: this runs twice per message."""
        cols, counts = np.unique(ids, return_counts=True)
        vals = self._tf[np.minimum(counts, len(self._tf) - 1)] * self._idf[cols]
        is_char = (cols >= self._chars[0]) & (cols < self._chars[1])
        squares = vals * vals
        chars = float(squares[is_char].sum())
        words = float(squares.sum()) - chars
        char_scale = self.params.char_weight / math.sqrt(chars) if chars > 0 else 0.0
        word_scale = 1.0 / math.sqrt(words) if words > 0 else 0.0
        return cols, vals * np.where(is_char, char_scale, word_scale).astype(np.float32)

    def _training_row(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cols, vals = self._row(ids)
        return np.concatenate(([BIAS], cols)), np.concatenate(([1.0], vals)).astype(np.float32)

    def logits(self, found: Sequence[str] | np.ndarray) -> np.ndarray:
        """`found`: feature strings, or ids from `encode`."""
        ids = found if isinstance(found, np.ndarray) else self._ids(found)
        cols, vals = self._row(ids)
        w, scale = self._weights, self._scale
        if scale is None:
            return vals @ w[cols] + w[BIAS]
        return (vals * scale[cols]) @ w[cols].astype(np.float32) + scale[BIAS] * w[BIAS]

    def probabilities(
        self, found: Sequence[str] | np.ndarray, temperature: float | None = None
    ) -> np.ndarray:
        z = self.logits(found) / (temperature or self.params.temperature)
        z = np.exp(z - z.max())
        return z / z.sum()

    @classmethod
    def from_trained(cls, model: IntentModel, params: ModelParams) -> IntentModel:
        """The same weights under other run-time parameters (the temperature)."""
        return cls(
            model.labels, model._vocabulary, model._idf, model._weights, params, model._scale
        )

    # -- caching ----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        header = {"labels": self.labels}
        np.savez(
            buffer,
            header=np.frombuffer(json.dumps(header).encode(), np.uint8),
            vocabulary=np.frombuffer(self._vocabulary.blob, np.uint8),
            idf=self._idf,
            weights=self._weights,
            scale=self._scale,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, params: ModelParams) -> IntentModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            header = json.loads(arrays["header"].tobytes())
            return cls(
                header["labels"],
                Vocabulary(arrays["vocabulary"].tobytes()),
                arrays["idf"],
                arrays["weights"],
                params,
                arrays["scale"],
            )


def _quantised(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and each row's scale: a row is one feature's weights for every label."""
    scale = np.abs(weights).max(axis=1) / _LEVELS
    scale[scale == 0] = 1.0
    q = np.rint(weights / scale[:, None]).astype(WEIGHTS)
    return q, scale.astype(np.float32)


def fingerprint(labelled: Sequence[tuple[str, str]], params: ModelParams, reading: str = "") -> str:
    """Names a trained model: the same (text, label) examples, read the same way
    (`reading`: whatever turns a text into features) and trained alike, give the same name."""
    digest = hashlib.sha256(f"v{MODEL_VERSION}".encode())
    trained = {k: v for k, v in asdict(params).items() if k != "temperature"}
    digest.update(json.dumps(trained, sort_keys=True).encode() + reading.encode())
    for text, label in labelled:
        digest.update(label.encode() + b"\0" + text.encode() + b"\n")
    return digest.hexdigest()[:24]

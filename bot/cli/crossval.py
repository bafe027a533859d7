"""`python -m bot eval --cv K`: k-fold cross-validation over the content's own phrasings.

Like `rasa test nlu --cross-validation`: each fold's phrasings are held out, a model is
trained on the rest, and the held-out ones are answered through the engine's own
decision rules (thresholds, out-of-scope, did-you-mean). It measures how well the
phrasings teach each other — and it is where the model's temperature is chosen: the one
that gives held-out phrasings the most honest probabilities (least log-loss).

The spelling vocabulary is still built from all phrasings (a small leak: a held-out
phrasing's rare words are known to the speller), so these figures run a little high.
"""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np

from bot.cli.evaluate import Row, Scores, print_calibration, print_per_intent, score
from bot.content import Category
from bot.core.engine import Engine
from bot.core.understand.match import Scored
from bot.core.understand.model import IntentModel, ModelParams

TEMPERATURES = [round(0.2 + 0.05 * k, 2) for k in range(57)]  # 0.2 … 3.0


def folds(labels: list[str], k: int, seed: int = 0) -> list[int]:
    """Each example's fold: stratified (every intent spread over all folds), reproducible."""
    rng = random.Random(seed)  # noqa: S311  # nosec B311  # fold assignment, not a secret
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    fold = [0] * len(labels)
    offset = 0
    for label in sorted(by_label):
        members = by_label[label]
        rng.shuffle(members)
        for j, i in enumerate(members):
            fold[i] = (j + offset) % k
        offset += len(members)
    return fold


def out_of_fold(engine: Engine, k: int, params: ModelParams) -> list[tuple[str, np.ndarray]]:
    """(true label, held-out logits over the engine's labels) for every phrasing."""
    examples = engine.matcher.examples
    fold = folds([label for _, label in examples], k)
    labels = engine.matcher.model.labels
    results: list[tuple[str, np.ndarray]] = [("", np.zeros(0))] * len(examples)
    for f in range(k):
        train = [e for e, g in zip(examples, fold, strict=True) if g != f]
        model = IntentModel.train(train, params)
        position = [model.labels.index(label) for label in labels]
        for i, (found, label) in enumerate(examples):
            if fold[i] == f:
                results[i] = (label, model.logits(found)[position])
    return results


def best_temperature(results: list[tuple[str, np.ndarray]], labels: tuple[str, ...]) -> float:
    index = {label: i for i, label in enumerate(labels)}
    truth = np.array([index[label] for label, _ in results])
    logits = np.stack([z for _, z in results])

    def log_loss(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(truth)), truth].mean())

    return min(TEMPERATURES, key=log_loss)


def cross_validate(engine: Engine, k: int, params: ModelParams | None = None) -> Scores:
    params = params or engine.matcher.params
    results = out_of_fold(engine, k, params)
    labels = engine.matcher.model.labels
    temperature = best_temperature(results, labels)
    decided = {}
    rows = []
    for n, (label, z) in enumerate(results):
        p = np.exp((z - z.max()) / temperature)
        p /= p.sum()
        ranked = sorted(
            (Scored(lab, round(100 * float(v), 1)) for lab, v in zip(labels, p, strict=True)),
            key=lambda s: s.score,
            reverse=True,
        )
        reply = engine.decide(ranked, ())
        text = f"#{n}"
        decided[text] = (reply.intent, reply.score)
        outside = engine.content.intents[label].category is Category.out_of_scope
        rows.append(Row(text, None if outside else label, None))
    result = score(
        rows,
        lambda text: (decided[text][0], None),
        lambda text: decided[text][1],
    )
    print(f"{k}-fold cross-validation over {len(rows)} content phrasings")
    print(f"best temperature (least held-out log-loss): {temperature}")
    print(f"in-scope accuracy      {result.in_scope:.3f}")
    print(f"out-of-scope rejection {result.out_of_scope:.3f}")
    print_per_intent(result)
    print_calibration(result)
    return result

"""Two reference matchers built from the same content, for `python -m bot eval`.

They are what a quick FAQ bot would ship: one fuzzy string match over all
phrasings, and a character n-gram TF-IDF classifier. scikit-learn is a dev
dependency, so the classifier is optional.
"""

from __future__ import annotations

from collections.abc import Callable

from rapidfuzz import fuzz, process, utils

from bot.content import Category, Content, Intent

Predict = Callable[[str], tuple[str | None, str | None]]


def _label(intent: Intent) -> str:
    """Out-of-scope phrasings train the baselines too, and predict "no intent" like the engine."""
    return "" if intent.category is Category.out_of_scope else intent.id


def fuzzy_baseline(content: Content) -> Callable[[float], Predict]:
    phrasings = [(e, _label(i)) for i in content.intents.values() for e in i.examples]
    choices = [p for p, _ in phrasings]

    def best(text: str) -> tuple[str, float]:
        found = process.extractOne(
            text, choices, scorer=fuzz.WRatio, processor=utils.default_process
        )
        return (phrasings[found[2]][1], found[1]) if found else ("", 0.0)

    return _thresholded(best)


def tfidf_baseline(content: Content) -> Callable[[float], Predict] | None:
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
    except ImportError:
        return None
    texts = [e for i in content.intents.values() for e in i.examples]
    labels = [_label(i) for i in content.intents.values() for _ in i.examples]
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True),
        LogisticRegression(max_iter=2000, C=10.0),
    )
    model.fit(texts, labels)

    def best(text: str) -> tuple[str, float]:
        probabilities = model.predict_proba([text])[0]
        index = int(probabilities.argmax())
        return str(model.classes_[index]), float(probabilities[index]) * 100

    return _thresholded(best)


def _thresholded(best: Callable[[str], tuple[str, float]]) -> Callable[[float], Predict]:
    """A predictor per fallback threshold, scoring each text once whatever the threshold."""
    cache: dict[str, tuple[str, float]] = {}

    def at(threshold: float) -> Predict:
        def predict(text: str) -> tuple[str | None, str | None]:
            if text not in cache:
                cache[text] = best(text)
            intent, value = cache[text]
            return (intent if value >= threshold and intent else None), None

        return predict

    return at

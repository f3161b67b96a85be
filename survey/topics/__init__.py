"""Free-text topics and tone: the counties' 20 topics, offline, in fi/sv/en.

`classify(text, lang)` gives a Classification (topic slugs, Tone); MODEL_VERSION is
stored with every label so that the central relabels when the lexicons change.
"""

from survey.topics.analysis import AnalyserUnavailable
from survey.topics.classifier import Classification, Classifier, TopicsError, classify
from survey.topics.lexicon import LexiconError, model_version
from survey.topics.taxonomy import LANGUAGES, TOPIC_BY_SLUG, TOPICS, Tone, Topic

MODEL_VERSION: str = model_version()

__all__ = [
    "LANGUAGES",
    "MODEL_VERSION",
    "TOPICS",
    "TOPIC_BY_SLUG",
    "AnalyserUnavailable",
    "Classification",
    "Classifier",
    "LexiconError",
    "Tone",
    "Topic",
    "TopicsError",
    "classify",
]

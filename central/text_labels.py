"""Topic and tone labels of the free texts the central stores, and relabelling them.

Every text answer of a stored response gets the labels of `survey.topics` (the
counties' topics and a tone) with the model version that made them: one row in
`text_labels` per (response, question) and one row in `text_topics` per topic, so
that the report counts topics in SQL. `relabel` labels again whatever is missing or
was made by another model version (`palaute central relabel`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from survey.response import Answer, Response, decode_answers
from survey.topics import LANGUAGES, MODEL_VERSION, AnalyserUnavailable, Classification, classify

if TYPE_CHECKING:
    from central.store import CentralStore

log = logging.getLogger(__name__)

# The same DDL in SQLite and PostgreSQL (a migration of central.store).
LABELS_DDL = """
CREATE TABLE text_labels (
    response_id TEXT NOT NULL REFERENCES responses (id),
    question TEXT NOT NULL,
    tone TEXT NOT NULL,
    model_version TEXT NOT NULL,
    PRIMARY KEY (response_id, question)
);
CREATE INDEX text_labels_version ON text_labels (model_version);
CREATE TABLE text_topics (
    response_id TEXT NOT NULL,
    question TEXT NOT NULL,
    topic TEXT NOT NULL,
    PRIMARY KEY (response_id, question, topic)
);
CREATE INDEX text_topics_topic ON text_topics (topic, response_id)
"""
RELABEL_BATCH = 500

Classify = Callable[[str, str], Classification]


@dataclass(frozen=True)
class TextLabel:
    """The topics and tone of one text answer, and the model version that gave them."""

    response_id: str
    question: str
    topics: tuple[str, ...]
    tone: str
    model_version: str


def texts_of(answers: Mapping[str, Answer]) -> list[tuple[str, str]]:
    """(question, text) of every non-empty text answer, in question order."""
    return [(question, answer.text.strip()) for question, answer in sorted(answers.items())
            if answer.text is not None and answer.text.strip()]


def labels_for(response_id: str, lang: str, answers: Mapping[str, Answer],
               classifier: Classify = classify, version: str = MODEL_VERSION) -> list[TextLabel]:
    """Labels of a response's texts; none for a language the classifier does not read."""
    if lang not in LANGUAGES:
        return []
    out = []
    for question, text in texts_of(answers):
        result = classifier(text, lang)
        out.append(TextLabel(response_id, question, result.topics, result.tone.value, version))
    return out


def write_labels(cursor: Any, placeholder: str, labels: Sequence[TextLabel]) -> None:
    """Replace the labels of these texts (inside the caller's transaction), a statement
    per table for the whole batch (PostgreSQL sends executemany in one pipeline)."""
    if not labels:
        return
    p = placeholder
    cursor.executemany(f"DELETE FROM text_topics WHERE response_id = {p} AND question = {p}",
                       [(label.response_id, label.question) for label in labels])
    cursor.executemany(
        f"INSERT INTO text_labels (response_id, question, tone, model_version) "
        f"VALUES ({p}, {p}, {p}, {p}) ON CONFLICT (response_id, question) DO UPDATE SET "
        "tone = excluded.tone, model_version = excluded.model_version",
        [(label.response_id, label.question, label.tone, label.model_version)
         for label in labels])
    topics = [(label.response_id, label.question, topic)
              for label in labels for topic in label.topics]
    if topics:
        cursor.executemany(
            f"INSERT INTO text_topics (response_id, question, topic) VALUES ({p}, {p}, {p}) "
            "ON CONFLICT DO NOTHING", topics)


def stored_texts(value: Any) -> Mapping[str, Answer]:
    """The `answers` column read back (JSON text or JSONB); a damaged one has no texts."""
    try:
        answers = decode_answers(json.loads(value) if isinstance(value, str | bytes) else value)
    except ValueError:
        answers = "not JSON"
    if isinstance(answers, str):
        log.warning("stored answers that cannot be read are left unlabelled: %s", answers)
        return {}
    return answers


class _Unavailable:
    """Says once per process that texts are stored unlabelled (relabel fills them in)."""

    said = False


def new_labels(responses: Iterable[Response]) -> list[TextLabel]:
    """The labels of the texts of responses about to be stored (the store writes them in
    the same transaction as the responses).

    Without the Finnish analyser (Voikko) there are none, with a warning: the responses
    are stored unlabelled and `palaute central relabel` labels them once it is installed."""
    try:
        return [label for r in responses for label in labels_for(r.id, r.lang, r.answers)]
    except AnalyserUnavailable as exc:
        if not _Unavailable.said:
            log.warning("free texts stored without topics: %s; then run "
                        "'palaute central relabel'", exc)
            _Unavailable.said = True
        return []


@dataclass(frozen=True)
class RelabelResult:
    """What `relabel` did: responses looked at and texts labelled."""

    responses: int
    texts: int


def _stale(store: CentralStore, after: str, version: str, limit: int) -> list[tuple[Any, ...]]:
    p = store.placeholder
    langs = ", ".join([p] * len(LANGUAGES))
    return store.execute(
        f"SELECT r.id, r.lang, r.answers FROM responses r WHERE r.has_text AND r.id > {p} "
        f"AND r.lang IN ({langs}) AND (NOT EXISTS (SELECT 1 FROM text_labels l "
        f"WHERE l.response_id = r.id) OR EXISTS (SELECT 1 FROM text_labels l "
        f"WHERE l.response_id = r.id AND l.model_version <> {p})) ORDER BY r.id LIMIT {p}",
        (after, *LANGUAGES, version, limit))


def relabel(store: CentralStore, *, classifier: Classify = classify,
            version: str = MODEL_VERSION, batch: int = RELABEL_BATCH,
            progress: Callable[[int], None] | None = None) -> RelabelResult:
    """Label every stored text that has no label or one of another model version.

    Works through the responses in id order, a batch per transaction, so that it can be
    stopped and run again (it goes on where labels are still missing or stale)."""
    after, responses, texts = "", 0, 0
    while rows := _stale(store, after, version, batch):
        labels = [label for rid, lang, answers in rows
                  for label in labels_for(str(rid), str(lang), stored_texts(answers),
                                          classifier, version)]
        with store.write_transaction() as cursor:
            write_labels(cursor, store.placeholder, labels)
        after = str(rows[-1][0])
        responses += len(rows)
        texts += len(labels)
        if progress:
            progress(len(rows))
    return RelabelResult(responses, texts)


def label_counts(store: CentralStore, version: str = MODEL_VERSION) -> tuple[int, int]:
    """(texts labelled by `version`, responses with text still to label by it)."""
    labelled = store.execute(
        f"SELECT COUNT(*) FROM text_labels WHERE model_version = {store.placeholder}",
        (version,))[0][0]
    p = store.placeholder
    langs = ", ".join([p] * len(LANGUAGES))
    pending = store.execute(
        f"SELECT COUNT(*) FROM responses r WHERE r.has_text AND r.lang IN ({langs}) AND "
        f"(NOT EXISTS (SELECT 1 FROM text_labels l WHERE l.response_id = r.id) OR EXISTS "
        f"(SELECT 1 FROM text_labels l WHERE l.response_id = r.id "
        f"AND l.model_version <> {p}))", (*LANGUAGES, version))[0][0]
    return int(labelled), int(pending)

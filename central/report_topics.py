"""The report's free-text topics: per group topic counts and shares (multi-label, top
first), tone shares, each topic's NPS and mean with a few example texts, and the
13-month trend of the top topics, from the labels of central.text_labels.

Suppression follows the rest of the report: a count under MIN_N is SUPPRESSED and
carries no share or NPS; where the total minus the listed groups would give a small
group's count away, the next smallest group shows only its count (`protected`).
Every text a reader sees is an English msgid of the report catalogue (central.i18n)
or a topic's name in the report's language (survey.topics.taxonomy).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from central.report_model import (
    MIN_N,
    SUPPRESSED,
    FreeText,
    ReportParams,
    secondary_suppression,
)
from central.report_sql import Sql
from central.text_labels import stored_texts, texts_of
from survey.redact import redact_text
from survey.scoring import NpsSummary, nps_summary, text_share
from survey.topics import LANGUAGES, MODEL_VERSION, TOPIC_BY_SLUG, Tone

TREND_MONTHS = 13
TREND_TOPICS = 5
EXAMPLES = 3  # example texts per topic (HTML only, as every free text)
TONES = (Tone.POSITIVE, Tone.NEUTRAL, Tone.NEGATIVE, Tone.MIXED)


@dataclass(frozen=True)
class TopicRow:
    """One topic in one group: how many labelled texts name it, their share, the NPS
    answers of their responses; figures None when suppressed or protected."""

    topic: str
    count: int
    share: float | None
    summary: NpsSummary | None
    protected: bool = False

    @property
    def suppressed(self) -> bool:
        return 0 < self.count < MIN_N


@dataclass(frozen=True)
class TopicGroup:
    """The topics (top first) and tone shares (percent, None when hidden) of one group."""

    key: str
    texts: int
    topics: list[TopicRow]
    tones: dict[str, float | None]
    protected: bool = False


@dataclass(frozen=True)
class TopicTrend:
    """Share (percent of labelled texts) of the top topics in each of 13 months."""

    months: list[str]
    texts: list[int]
    shares: dict[str, list[float | None]]


@dataclass
class TopicSection:
    """Everything the report shows of free-text topics."""

    groups: list[TopicGroup]
    total: TopicGroup
    trend: TopicTrend
    examples: dict[str, list[FreeText]] = field(default_factory=dict)
    model_version: str = MODEL_VERSION
    unlabelled: int = 0  # responses with text in the period not labelled by this model


# -- suppression ------------------------------------------------------------------------


def protect(counts: Mapping[str, int], listed: Iterable[str]) -> set[str]:
    """Listed keys to hide as well, so that total minus the listed ones gives no small count
    (the unlisted keys are hidden already): the report's secondary suppression."""
    return secondary_suppression(counts, unlisted=set(counts) - set(listed))


# -- queries ----------------------------------------------------------------------------


def _counts(sql: Sql, params: ReportParams, start: date, end: date, group: str
            ) -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], int]]:
    """(group, topic) -> NPS answer counts 0..10, and (group, topic) -> texts."""
    where, values = sql.where(params, start, end)
    rows = sql.run(
        f"SELECT {group}, t.topic, r.nps, COUNT(*) FROM responses r "
        f"JOIN text_topics t ON t.response_id = r.id WHERE {where} "
        f"GROUP BY {group}, t.topic, r.nps", values)
    nps: dict[tuple[str, str], list[int]] = {}
    texts: dict[tuple[str, str], int] = {}
    for key, topic, score, count in rows:
        k = (str(key), str(topic))
        texts[k] = texts.get(k, 0) + int(count)
        if score is not None and 0 <= int(score) <= 10:
            nps.setdefault(k, [0] * 11)[int(score)] += int(count)
    return nps, texts


def _tones(sql: Sql, params: ReportParams, group: str) -> dict[str, dict[str, int]]:
    where, values = sql.where(params, params.date_from, params.date_to)
    out: dict[str, dict[str, int]] = {}
    for key, tone, count in sql.run(
            f"SELECT {group}, l.tone, COUNT(*) FROM responses r JOIN text_labels l "
            f"ON l.response_id = r.id WHERE {where} GROUP BY {group}, l.tone", values):
        out.setdefault(str(key), {})[str(tone)] = int(count)
    return out


def _unlabelled(sql: Sql, params: ReportParams) -> int:
    where, values = sql.where(params, params.date_from, params.date_to)
    p = sql.p
    rows = sql.run(
        f"SELECT COUNT(*) FROM responses r WHERE r.has_text AND {where} AND r.lang IN "
        f"({p}, {p}, {p}) AND NOT EXISTS (SELECT 1 FROM text_labels l WHERE "
        f"l.response_id = r.id AND l.model_version = {p})",
        [*values, "fi", "sv", "en", MODEL_VERSION])
    return int(rows[0][0])


def _group(key: str, texts: int, tone_counts: Mapping[str, int],
           topic_texts: Mapping[str, int], topic_nps: Mapping[str, list[int]],
           protected_topics: set[str], protected: bool) -> TopicGroup:
    rows = []
    for topic, count in sorted(topic_texts.items(), key=lambda kv: (-kv[1], kv[0])):
        hidden = topic in protected_topics or protected
        shown = count >= MIN_N and not hidden
        counts = topic_nps.get(topic, [0] * 11)
        summary = nps_summary(counts) if shown and sum(counts) >= MIN_N else None
        rows.append(TopicRow(topic, count, text_share(count, texts) if shown else None,
                             summary, hidden and count >= MIN_N))
    tones_shown = texts >= MIN_N and not protected
    tones = {t.value: text_share(tone_counts.get(t.value, 0), texts) if tones_shown else None
             for t in TONES}
    return TopicGroup(key, texts, rows, tones, protected)


def build_topics(sql: Sql, params: ReportParams, shown: set[str]) -> TopicSection:
    """The topic section of a report over `params`, listing the groups in `shown`."""
    group = sql.group(params.by)
    nps, texts = _counts(sql, params, params.date_from, params.date_to, group)
    tone_counts = _tones(sql, params, group)
    group_texts = {k: sum(v.values()) for k, v in tone_counts.items()}
    listed = sorted(k for k in shown if k in group_texts)
    hidden_groups = protect(group_texts, listed)
    by_group: dict[str, dict[str, int]] = {}
    for (key, topic), count in texts.items():
        by_group.setdefault(key, {})[topic] = count
    protected_topics: dict[str, set[str]] = {k: set() for k in listed}
    for topic in {t for _, t in texts}:
        counts = {k: by_group.get(k, {}).get(topic, 0) for k in group_texts}
        for key in protect(counts, [k for k in listed if k not in hidden_groups]):
            protected_topics[key].add(topic)
    groups = [_group(k, group_texts[k], tone_counts[k], by_group.get(k, {}),
                     {t: c for (g, t), c in nps.items() if g == k}, protected_topics[k],
                     k in hidden_groups) for k in listed]
    total_topics: dict[str, int] = {}
    total_nps: dict[str, list[int]] = {}
    for (_, topic), count in texts.items():
        total_topics[topic] = total_topics.get(topic, 0) + count
    for (_, topic), answers in nps.items():
        into = total_nps.setdefault(topic, [0] * 11)
        for i, c in enumerate(answers):
            into[i] += c
    all_tones: dict[str, int] = {}
    for per_tone in tone_counts.values():
        for tone, c in per_tone.items():
            all_tones[tone] = all_tones.get(tone, 0) + c
    total = _group("total", sum(group_texts.values()), all_tones, total_topics, total_nps,
                   set(), False)
    return TopicSection(groups, total, _trend(sql, params, total), {}, MODEL_VERSION,
                        _unlabelled(sql, params))


def _months(end: date) -> list[str]:
    y, m = end.year, end.month
    out = []
    for _ in range(TREND_MONTHS):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _trend(sql: Sql, params: ReportParams, total: TopicGroup) -> TopicTrend:
    months = _months(params.date_to)
    start = date.fromisoformat(months[0] + "-01")
    month = sql.month()
    _, texts = _counts(sql, params, start, params.date_to, month)
    where, values = sql.where(params, start, params.date_to)
    labelled = {str(m): int(n) for m, n in sql.run(
        f"SELECT {month}, COUNT(*) FROM responses r JOIN text_labels l ON l.response_id = r.id "
        f"WHERE {where} GROUP BY {month}", values)}
    top = [row.topic for row in total.topics if row.count >= MIN_N][:TREND_TOPICS]
    n = [labelled.get(m, 0) for m in months]
    shares = {topic: [text_share(texts.get((m, topic), 0), n[i]) if n[i] >= MIN_N else None
                      for i, m in enumerate(months)] for topic in top}
    return TopicTrend(months, n, shares)


def add_examples(sql: Sql, params: ReportParams, section: TopicSection,
                 shown: Sequence[str]) -> None:
    """The newest EXAMPLES texts of each shown topic of the total, from shown groups only,
    redacted (survey.redact) whatever the store holds."""
    groups = [g.key for g in section.groups if not g.protected and g.key in shown]
    if not groups or params.max_texts <= 0:
        return
    where, values = sql.where(params, params.date_from, params.date_to)
    marks = ", ".join([sql.p] * len(groups))
    for row in section.total.topics:
        if row.share is None:
            continue
        found = sql.run(
            f"SELECT r.finished_at, r.answers, r.channel, r.nps, t.question, r.lang "
            f"FROM responses r "
            f"JOIN text_topics t ON t.response_id = r.id WHERE {where} AND t.topic = {sql.p} "
            f"AND {sql.group(params.by)} IN ({marks}) "
            f"ORDER BY r.local_date DESC, r.finished_at DESC, r.id LIMIT {sql.p}",
            [*values, row.topic, *groups, EXAMPLES])
        section.examples[row.topic] = [
            FreeText(sql_time(finished), redact_text(text, lang if lang in LANGUAGES else
                                                     params.lang),
                     str(channel), None if nps is None else int(nps))
            for finished, answers, channel, nps, question, lang in found
            if (text := dict(texts_of(stored_texts(answers))).get(str(question)))]


def sql_time(value: Any) -> Any:
    """A timestamp column as an aware datetime (text in SQLite)."""
    from datetime import datetime

    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


# -- rows for the table, CSV and HTML ----------------------------------------------------


def topic_name(slug: str, lang: str) -> str:
    """A topic's name in the report's language."""
    topic = TOPIC_BY_SLUG.get(slug)
    return topic.name(lang) if topic else slug


def _num(value: float | None, places: int = 1) -> str:
    return "–" if value is None else f"{round(value + 0.0, places) + 0.0:.{places}f}"


PROTECTED_MARK = "†"  # as report_render's: this count is shown, its figures are not


def _count(row: TopicRow) -> str:
    if row.suppressed:
        return SUPPRESSED
    return f"{row.count}{PROTECTED_MARK}" if row.protected else str(row.count)


def topic_table(section: TopicSection, lang: str, label: Any, key_label: Any
                ) -> tuple[list[str], list[list[str]]]:
    """Header and rows: group, topic, texts, share %, NPS, mean (top topics first)."""
    header = [label("group"), label("topic"), label("texts"), label("share %"), "NPS",
              label("mean")]
    rows = []
    for g in [*section.groups, section.total]:
        for r in g.topics:
            s = r.summary
            rows.append([key_label(g.key), topic_name(r.topic, lang), _count(r), _num(r.share),
                         _num(s.nps if s else None), _num(s.mean if s else None, 2)])
    return header, rows


def tone_table(section: TopicSection, label: Any, key_label: Any
               ) -> tuple[list[str], list[list[str]]]:
    """Header and rows: group, labelled texts, share % of each tone."""
    header = [label("group"), label("texts"), *(label(f"{t.value} %") for t in TONES)]
    rows = []
    for g in [*section.groups, section.total]:
        n = SUPPRESSED if 0 < g.texts < MIN_N else (f"{g.texts}{PROTECTED_MARK}" if g.protected
                                                    else str(g.texts))
        rows.append([key_label(g.key), n, *(_num(g.tones[t.value]) for t in TONES)])
    return header, rows


def trend_table(section: TopicSection, lang: str, label: Any, month_label: Any
                ) -> tuple[list[str], list[list[str]]]:
    """Header and rows: topic, then its share % in each of the 13 months."""
    t = section.trend
    header = [label("topic"), *(month_label(m) for m in t.months)]
    rows = [[label("texts"), *(SUPPRESSED if 0 < n < MIN_N else str(n) for n in t.texts)]]
    rows += [[topic_name(topic, lang), *(_num(v) for v in shares)]
             for topic, shares in t.shares.items()]
    return header, rows


def section_json(section: TopicSection) -> dict[str, Any]:
    """The topic section as JSON data (no texts: as elsewhere, texts only in HTML)."""
    def group(g: TopicGroup) -> dict[str, Any]:
        return {
            "key": g.key, "texts": SUPPRESSED if 0 < g.texts < MIN_N else g.texts,
            "tones": g.tones, "protected": g.protected,
            "topics": [{"topic": r.topic, "count": SUPPRESSED if r.suppressed else r.count,
                        "share": r.share, "protected": r.protected,
                        "nps": r.summary.nps if r.summary else None,
                        "mean": r.summary.mean if r.summary else None} for r in g.topics]}
    t = section.trend
    return {"model_version": section.model_version, "unlabelled": section.unlabelled,
            "groups": [group(g) for g in section.groups], "total": group(section.total),
            "trend": {"months": t.months,
                      "texts": [SUPPRESSED if 0 < n < MIN_N else n for n in t.texts],
                      "shares": t.shares}}

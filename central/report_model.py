"""The report as values: what to report (ReportParams) and every row it shows.

The rows carry suppression already applied by central.reports: a figure on fewer than
MIN_N answers is None and shown as SUPPRESSED; `protected` rows show their n but not
their figures (secondary suppression, so a small group cannot be worked out from the
total).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from central.anomalies import Anomaly, AnomalySettings
from survey.errors import PalauteError
from survey.scoring import LikertSummary, NpsSummary, text_share

if TYPE_CHECKING:
    from central.report_topics import TopicSection

LOCAL_ZONE = ZoneInfo("Europe/Helsinki")
MIN_N = 5  # the smallest group whose figures may be shown
SUPPRESSED = "<5"
GROUP_KEYS = ("area", "unit", "device", "channel", "month")
FILTER_KEYS = ("area", "unit", "device", "channel")
# "rested": invitations not sent because the person had one within the gateway's rest
# period (`[sms] rest_days`); gateways from before it report none.
SMS_COUNTERS = ("invited", "sent", "delivered", "answered", "completed", "opted_out", "expired",
                "rested")
ROLLING_DAYS = 30
BASELINE_WEEKS = 8  # weeks before the period that serve as a device's own earlier answers


class ReportError(PalauteError, ValueError):
    """A report that cannot be made: bad options, an empty period, a failing query."""


def secondary_suppression(sizes: Mapping[str, int], min_n: int = MIN_N,
                          unlisted: Collection[str] = ()) -> set[str]:
    """Keys of shown groups to hide as well, so that no small group is total minus the rest.

    `sizes`: n of every group of one table that also shows its total. Groups with
    0 < n < min_n are suppressed already. While the hidden groups are exactly one, or
    hold fewer than min_n answers together, the smallest shown group (ties: by key)
    is hidden too; empty groups hide nothing and are never picked. `unlisted` groups are
    in the total but not in the table (hidden whatever their size, never picked).
    """
    hidden = [k for k, n in sizes.items() if n > 0 and (n < min_n or k in unlisted)]
    shown = sorted((n, k) for k, n in sizes.items() if n >= min_n and k not in unlisted)
    extra: set[str] = set()
    while hidden and shown and (len(hidden) == 1 or sum(sizes[k] for k in hidden) < min_n):
        _, key = shown.pop(0)
        hidden.append(key)
        extra.add(key)
    return extra


TARGET_MEASURES = ("nps", "top", "agree", "mean")
# The range of each measure: NPS in points, shares in percent, a mean on 1-5.
TARGET_RANGES = {"nps": (-100.0, 100.0), "top": (0.0, 100.0), "agree": (0.0, 100.0),
                 "mean": (1.0, 5.0)}


@dataclass(frozen=True)
class Target:
    """A target level (an OKR): `measure` of `question` should reach `value`.

    measure: "nps" (the NPS question), "top" (share of 5s on a statement, %), "agree"
    (share of 4-5, %) or "mean" (1-5). scope: "" (everything), "area" or "unit" with
    `scope_key` naming it. A unit's own target wins over its area's, which wins over
    the general one."""

    measure: str
    question: str
    value: float
    scope: str = ""
    scope_key: str = ""

    @property
    def specificity(self) -> int:
        return {"": 0, "area": 1, "unit": 2}[self.scope]


def parse_targets(data: Mapping[str, Any], where: str = "[targets]") -> tuple[Target, ...]:
    """The `[targets]` table of the central's config as Targets.

    Keys: `nps = 70`, `QUESTION_top = 74`, `QUESTION_agree = 90`, `QUESTION_mean = 4.5`,
    in `[targets]` (all) or `[targets.area.CODE]` / `[targets.unit.CODE]`."""
    out: list[Target] = []

    def read(table: Mapping[str, Any], scope: str, key: str, path: str) -> None:
        for name, value in table.items():
            if scope == "" and name in ("area", "unit") and isinstance(value, dict):
                for code, sub in value.items():
                    if not isinstance(sub, dict):
                        raise ReportError(f"{path}.{name}.{code}: must be a table of targets "
                                          f"(e.g. [targets.{name}.{code}] nps = 50)")
                    read(sub, name, str(code), f"{path}.{name}.{code}")
                continue
            out.append(_target(name, value, scope, key, f"{path} {name}"))

    read(data, "", "", where)
    return tuple(out)


def _target(name: str, value: Any, scope: str, key: str, where: str) -> Target:
    if name == "nps":
        measure, question = "nps", "nps"
    else:
        question, _, measure = name.rpartition("_")
        if not question or measure not in TARGET_MEASURES[1:]:
            raise ReportError(f"{where}: unknown target (use nps, or QUESTION_top, "
                              "QUESTION_agree, QUESTION_mean, e.g. s1_top = 74)")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportError(f"{where}: must be a number, not {value!r}")
    low, high = TARGET_RANGES[measure]
    if not low <= float(value) <= high:
        raise ReportError(f"{where}: {value} is outside {low:g}..{high:g}")
    return Target(measure, question, float(value), scope, key)


def target_for(targets: Sequence[Target], measure: str, question: str,
               area: str | None, unit: str | None) -> Target | None:
    """The most specific target of a measure for a group in `area`/`unit` (None: none)."""
    fitting = [t for t in targets if t.measure == measure and t.question == question
               and (t.scope == "" or (t.scope == "area" and t.scope_key == area)
                    or (t.scope == "unit" and t.scope_key == unit))]
    return max(fitting, key=lambda t: t.specificity, default=None)


@dataclass(frozen=True)
class ReportParams:
    """What to report: the period (local dates, inclusive), grouping, filters and `now`."""

    date_from: date
    date_to: date
    now: datetime
    by: str = "area"
    filters: tuple[tuple[str, str], ...] = ()
    trend_from: date | None = None  # the trend may reach further back than the period
    settings: AnomalySettings = field(default_factory=AnomalySettings)
    max_texts: int = 200  # free texts shown per group, newest first
    lang: str = "fi"  # language of every text of the report, and of the statements' wording
    targets: tuple[Target, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)  # code -> display name
    # Where the report's unit sits (site, area codes), for its title; from the registry.
    origin: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.by not in GROUP_KEYS:
            raise ReportError(f"unknown group key {self.by!r} (use {', '.join(GROUP_KEYS)})")
        if self.date_from > self.date_to:
            raise ReportError(f"the period runs backwards: --from {self.date_from} is after "
                              f"--to {self.date_to}")
        for key, _ in self.filters:
            if key not in FILTER_KEYS:
                raise ReportError(f"unknown filter {key!r} (use {', '.join(FILTER_KEYS)})")

    @property
    def trend_start(self) -> date:
        """First day of the trend: the month of trend_from (or of date_from)."""
        return (self.trend_from or self.date_from).replace(day=1)


@dataclass(frozen=True)
class GroupRow:
    """One row of the main table; `summary` is None when the group is suppressed or
    protected (big enough itself, hidden so that a small group cannot be derived)."""

    key: str
    n: int
    summary: NpsSummary | None
    protected: bool = False

    @property
    def suppressed(self) -> bool:
        """Under MIN_N (but not empty: a group without NPS answers has n 0): shown as "<5"."""
        return self.summary is None and not self.protected and self.n > 0

    def as_json(self) -> dict[str, Any]:
        """The JSON form: key, n, counts (11), mean, nps; "<5" and nulls when suppressed,
        n and nulls when protected."""
        s = self.summary
        return {"key": self.key, "n": SUPPRESSED if self.suppressed else self.n,
                "counts": list(s.counts) if s else None,
                "mean": s.mean if s else None, "nps": s.nps if s else None}


@dataclass(frozen=True)
class TrendPoint:
    """NPS of one period (a month or a 30-day window); nps None when suppressed, protected
    or empty."""

    label: str
    n: int
    nps: float | None
    protected: bool = False

    def as_json(self) -> dict[str, Any]:
        shown = self.n >= MIN_N
        return {"label": self.label, "n": self.n if shown or self.n == 0 else SUPPRESSED,
                "nps": self.nps if shown else None}


@dataclass(frozen=True)
class TrendRow:
    """Monthly NPS of one group, and its rolling 30-day NPS at the end of the period."""

    key: str
    months: list[TrendPoint]
    rolling: TrendPoint


@dataclass(frozen=True)
class StatementRow:
    """One statement of one survey in one group; `summary` None when under MIN_N answered."""

    key: str
    survey: str
    question: str
    label: str  # the statement's wording (from the survey definition), else its id
    n: int
    summary: LikertSummary | None
    protected: bool = False


@dataclass(frozen=True)
class TextShareRow:
    """Share of responses with free text in one group; share None when suppressed or
    protected."""

    key: str
    responses: int
    with_text: int
    share: float | None
    protected: bool = False


@dataclass(frozen=True)
class FreeText:
    """One free text, when it was given, on which channel, and the response's NPS answer."""

    finished_at: datetime
    text: str
    channel: str = ""
    score: int | None = None


@dataclass(frozen=True)
class Figures:
    """n, NPS and mean of one group in one period; the figures are None under MIN_N or
    when protected (so that a small group cannot be worked out from the total)."""

    n: int
    nps: float | None
    mean: float | None
    protected: bool = False

    @property
    def shown(self) -> bool:
        return self.n >= MIN_N and not self.protected and self.nps is not None


@dataclass(frozen=True)
class Comparison:
    """A group's figures now, in the previous period and in the same period a year before."""

    key: str
    now: Figures
    previous: Figures
    last_year: Figures

    @staticmethod
    def change(now: Figures, then: Figures) -> float | None:
        """NPS change in points (None unless both figures are shown)."""
        if not (now.shown and then.shown) or now.nps is None or then.nps is None:
            return None
        return round(now.nps - then.nps, 1)


@dataclass(frozen=True)
class TargetRow:
    """A target and how a group fares against it; `actual` None when suppressed."""

    key: str
    target: Target
    n: int
    actual: float | None

    @property
    def met(self) -> bool | None:
        return None if self.actual is None else self.actual >= self.target.value


@dataclass(frozen=True)
class SmsFunnelRow:
    """The invitation funnel of one SMS gateway (or the total), from its status counters."""

    device: str
    # "period" (daily counters), "from YYYY-MM-DD" (daily counters that begin inside the
    # period: the gateway no longer reports its earlier days) or "cumulative" (since start)
    basis: str
    counts: dict[str, int]
    protected: bool = False  # completed hidden so that a small gateway cannot be derived

    @property
    def suppressed(self) -> bool:
        """Fewer than MIN_N answered: answered, completed and both rates are not shown."""
        return 0 < self.counts["answered"] < MIN_N

    @property
    def response_rate(self) -> float | None:
        """Answered invitations in percent of those sent (None when suppressed)."""
        if self.suppressed:
            return None
        return text_share(min(self.counts["answered"], self.counts["sent"]), self.counts["sent"])

    @property
    def completion_rate(self) -> float | None:
        """Completed surveys in percent of those answered (None when suppressed/protected)."""
        if self.suppressed or self.protected:
            return None
        return text_share(min(self.counts["completed"], self.counts["answered"]),
                          self.counts["answered"])


@dataclass
class Report:
    """Everything one report shows, already suppressed where needed."""

    params: ReportParams
    groups: list[GroupRow]
    total: GroupRow
    months: list[str]
    trend: list[TrendRow]
    trend_total: TrendRow
    rolling: list[TrendPoint]  # the total's rolling 30-day NPS, one point a day
    statements: list[StatementRow]
    text_shares: list[TextShareRow]
    texts: dict[str, list[FreeText]]
    sms: list[SmsFunnelRow]
    sms_total: SmsFunnelRow | None
    anomalies: list[Anomaly] = field(default_factory=list)
    faces: list[StatementRow] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    previous_period: tuple[date, date] | None = None
    last_year_period: tuple[date, date] | None = None
    target_rows: list[TargetRow] = field(default_factory=list)
    # Texts of groups hidden in the tables, pooled without their group's name; shown only
    # when they come from at least two hidden groups with MIN_N responses together.
    pooled_texts: list[FreeText] = field(default_factory=list)
    # Topics and tone of the free texts (central.report_topics); None when not asked for.
    topics: TopicSection | None = None


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period just before: the previous calendar month(s) when the period is whole
    months, else as many days just before."""
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        y, m = start.year, start.month - months
        while m < 1:
            y, m = y - 1, m + 12
        first = date(y, m, 1)
        return first, start - timedelta(days=1)
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def year_before(start: date, end: date) -> tuple[date, date]:
    """The same dates a year earlier (29 February becomes the 28th)."""
    def back(d: date) -> date:
        try:
            return d.replace(year=d.year - 1)
        except ValueError:
            return d.replace(year=d.year - 1, day=28)
    return back(start), back(end)

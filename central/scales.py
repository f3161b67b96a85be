"""Answers checked against the scales of the surveys the central knows.

The wire protocol can only check that an integer answer lies on some survey's
scale (0-10): it does not know which question is a Likert statement. The central
knows the shipped surveys (and reads them for its reports): for their questions
a Likert or face answer must be 1-5 and a free-text question carries no value.
A question the central does not know (a survey of a newer version) is left to
the protocol's checks.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping

from survey.definition import SHIPPED_SURVEYS, load_survey, shipped_survey_path
from survey.model import Survey
from survey.response import Response

log = logging.getLogger(__name__)

# (survey id, question id) → (lowest, highest) value, or None for a free-text question
Scales = Mapping[tuple[str, str], tuple[int, int] | None]


def survey_scales(surveys: Iterable[Survey]) -> dict[tuple[str, str], tuple[int, int] | None]:
    """The scale of each question of each survey."""
    return {(s.id, q.id): q.scale for s in surveys for q in s.questions.values()}


@functools.cache
def shipped_scales() -> Scales:
    """The scales of the surveys shipped with palaute (read once)."""
    surveys = []
    for name in SHIPPED_SURVEYS:
        try:
            surveys.append(load_survey(shipped_survey_path(name)))
        except Exception:  # a broken shipped file must not stop the receiver
            log.exception("cannot read the shipped survey %s", name)
    return survey_scales(surveys)


def scale_problems(resp: Response, scales: Scales) -> list[str]:
    """One line for each answer off its question's scale (none when all fit)."""
    problems = []
    for question, answer in sorted(resp.answers.items()):
        key = (resp.survey, question)
        if answer.value is None or key not in scales:
            continue
        scale = scales[key]
        if scale is None:
            problems.append(f"answers.{question}: a free-text question of survey "
                            f"{resp.survey} carries no value")
        elif not scale[0] <= answer.value <= scale[1]:
            problems.append(f"answers.{question}: {answer.value} is off its scale "
                            f"{scale[0]}-{scale[1]} in survey {resp.survey}")
    return problems

"""Face-button answers as their own scale, also those that arrived as NPS values.

Older button kiosks stored each face as an NPS value (their `[kiosk] buttons.values`,
e.g. 0, 4, 7, 9, 10), so the report averaged faces into NPS. A face scale is its own
question, `faces` (1 saddest … 5 happiest; four faces use 1, 2, 4, 5). The mapping is
the device's own configuration, so an operator names the device and its values:

    palaute central move-faces --config central.toml --device tays-lobby-3 --values 0,4,7,9,10

moves that device's NPS answers to `faces` in one transaction (value i of the list ->
face i), leaves a row in the device audit, and rebuilds the report aggregates. A device
with an NPS answer outside the list is refused: it was not a face kiosk, or the list is
wrong. Running it again finds nothing to move.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime

from central import report_daily
from central.store import CentralStore, iso_utc, stored_answers
from survey.errors import PalauteError
from survey.response import FACES_QUESTION, NPS_QUESTION, Answer, encode_answers

log = logging.getLogger(__name__)

FACE_SHAPES = {5: (1, 2, 3, 4, 5), 4: (1, 2, 4, 5)}


class FacesError(PalauteError, ValueError):
    """A face mapping or a move that cannot be made."""


def face_mapping(values: Sequence[int]) -> dict[int, int]:
    """The stored NPS value of each face, saddest first -> the face (1..5)."""
    if len(values) not in FACE_SHAPES:
        raise FacesError(f"--values: a face kiosk has 4 or 5 faces, not {len(values)} values")
    if any(not 0 <= v <= 10 for v in values):
        raise FacesError("--values: NPS values are 0-10")
    if list(values) != sorted(set(values)):
        raise FacesError("--values: must rise from the saddest face to the happiest, each once")
    return dict(zip(values, FACE_SHAPES[len(values)], strict=True))


def _moved(answers: object, face: int) -> str:
    """The stored answers with the NPS answer moved to the face question, as stored."""
    moved = {q: a for q, a in stored_answers(answers).items() if q != NPS_QUESTION}
    moved[FACES_QUESTION] = Answer(value=face)
    return json.dumps(encode_answers(moved), ensure_ascii=False, sort_keys=True)


def move_to_faces(store: CentralStore, device: str, values: Sequence[int], *, actor: str,
                  at: datetime) -> int:
    """Move `device`'s NPS answers to the face scale; how many moved (0 when done before)."""
    mapping = face_mapping(values)
    p = store.placeholder
    with store.transaction() as c:
        rows = c.execute(f"SELECT id, nps, answers FROM responses WHERE device = {p} "
                         "AND nps IS NOT NULL", (device,)).fetchall()
        others = sorted({int(nps) for _, nps, _ in rows} - set(mapping))
        if others:
            raise FacesError(
                f"device {device} has NPS answers {', '.join(map(str, others))} that are not "
                f"among --values {','.join(map(str, values))}: it was not a face kiosk with "
                "these values; nothing was changed")
        for rid, nps, answers in rows:
            face = mapping[int(nps)]
            c.execute(f"UPDATE responses SET nps = NULL, answers = {p} WHERE id = {p}",
                      (_moved(answers, face), rid))
            c.execute("INSERT INTO statement_answers (response_id, question, value) "
                      f"VALUES ({p}, {p}, {p}) ON CONFLICT DO NOTHING",
                      (rid, FACES_QUESTION, face))
        if rows:
            c.execute(
                "INSERT INTO device_audit (at, device, action, actor, old_origin, new_origin) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
                (iso_utc(at), device, "move-faces", actor, None,
                 json.dumps({"faces": " ".join(f"{k}->{v}" for k, v in mapping.items()),
                             "responses": str(len(rows))})))
    if rows and report_daily.installed(store):
        report_daily.install(store)  # the aggregates were built from the NPS values
    log.info("device %s: %d NPS answers moved to the face scale", device, len(rows))
    return len(rows)

"""Raw wire data for tests that send what a device might (good or not) past the typed model."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def raw_batch(batch_id: str, device: str, sent_at: datetime,
              responses: list[Any]) -> dict[str, Any]:
    """A batch envelope around raw wire objects (protocol.make_batch takes Responses only)."""
    return {"v": 1, "batch": batch_id, "device": device,
            "sent_at": sent_at.isoformat(timespec="seconds"), "responses": responses}

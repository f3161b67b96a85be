"""The batches a device has sent and not yet seen acknowledged (pure: `now` is passed in).

At most `max_inflight` batches wait for an ack at once, so memory stays bounded
however long the device was offline. A batch without an ack is re-sent with the
same id after a timeout that doubles on each attempt (with jitter so that a fleet
coming back after an outage does not re-send in lockstep), up to `backoff_max`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from sync.protocol import Ack


@dataclass
class InFlight:
    """One sent batch waiting for its ack."""

    batch_id: str
    ids: tuple[str, ...]
    last_seq: int
    payload: bytes
    attempts: int
    due: float


class Outbox:
    """Bounded set of unacknowledged batches with resend times."""

    def __init__(
        self,
        max_inflight: int = 2,
        ack_timeout: float = 30.0,
        backoff_max: float = 600.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if max_inflight < 1:
            raise ValueError("max_inflight must be at least 1")
        self.max_inflight = max_inflight
        self.ack_timeout = ack_timeout
        self.backoff_max = backoff_max
        self._rand = rand
        self._batches: dict[str, InFlight] = {}

    def __len__(self) -> int:
        return len(self._batches)

    def __contains__(self, batch_id: str) -> bool:
        return batch_id in self._batches

    @property
    def capacity(self) -> int:
        """How many more batches may be sent before an ack arrives."""
        return self.max_inflight - len(self._batches)

    def after_seq(self) -> int:
        """The highest sequence number already in flight (0 when none)."""
        return max((b.last_seq for b in self._batches.values()), default=0)

    def wait_for(self, attempts: int) -> float:
        """Seconds to wait for an ack after the n-th sending (exponential, jittered)."""
        base = min(self.ack_timeout * 2 ** max(0, attempts - 1), self.backoff_max)
        # "Equal jitter": at least half the base, so a slow central is never hammered.
        return base / 2 + self._rand() * base / 2

    def add(self, batch_id: str, ids: tuple[str, ...], last_seq: int, payload: bytes,
            now: float) -> InFlight:
        """Record a batch that has just been sent for the first time."""
        if self.capacity <= 0:
            raise RuntimeError("outbox is full")
        batch = InFlight(batch_id, ids, last_seq, payload, 1, now + self.wait_for(1))
        self._batches[batch_id] = batch
        return batch

    def due(self, now: float) -> list[InFlight]:
        """Batches whose ack is overdue, oldest first."""
        return sorted((b for b in self._batches.values() if b.due <= now), key=lambda b: b.last_seq)

    def resent(self, batch: InFlight, now: float) -> None:
        """Note that `batch` was sent again."""
        batch.attempts += 1
        batch.due = now + self.wait_for(batch.attempts)

    def resend_all_soon(self, now: float) -> None:
        """After a reconnect: whatever was in flight may be lost, send it again now."""
        for batch in self._batches.values():
            batch.due = min(batch.due, now)

    def next_due(self) -> float | None:
        """The earliest resend time, or None when nothing is in flight."""
        return min((b.due for b in self._batches.values()), default=None)

    def on_ack(self, ack: Ack) -> tuple[list[str], InFlight | None]:
        """Ids the central has taken (stored or refused for good) and the batch it closes.

        An ack for a batch we no longer hold (sent before a restart, or answered
        twice) still names ids the central has committed, so they count too.
        """
        batch = self._batches.pop(ack.batch, None)
        ids = list(dict.fromkeys([*ack.accepted, *(rid for rid, _ in ack.rejected)]))
        return ids, batch

    def clear(self) -> None:
        self._batches.clear()

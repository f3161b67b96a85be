"""Limits the central holds every device to, shared by the config and the wire.

A device whose id, site, area or unit the central would refuse must be refused
where the technician types it (provision, config load), not found out later when
the central quarantines every answer the device believes it synced.
"""

from __future__ import annotations

# The response model's own checks: MAX_NAME_CHARS for area and unit, valid_segment for
# site and device ids (at most MAX_ID_CHARS).
from survey.response import MAX_NAME_CHARS, valid_segment

MAX_ID_CHARS = 64        # a site or device id: a segment of every MQTT topic
ID_CHARS = "letters, digits, . _ -"

# A batch on the wire (bytes of uncompressed JSON).
MAX_BATCH_RESPONSES = 1000
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024      # a whole batch, uncompressed
GZIP_MIN_BYTES = 512                     # below this gzip cannot pay for its header


def valid_id(value: object) -> bool:
    """Whether `value` may be a site or device id (a topic segment)."""
    return valid_segment(value)


def id_problem(value: str) -> str | None:
    """Why `value` cannot be a site or device id, or None when it can."""
    if len(value) > MAX_ID_CHARS:
        return f"is {len(value)} characters; at most {MAX_ID_CHARS}"
    if not valid_id(value):
        return f"{value!r} is not a valid id ({ID_CHARS}; starting with a letter or digit)"
    return None


def name_problem(value: str) -> str | None:
    """Why `value` cannot be an area or unit name, or None when it can."""
    if not value.strip():
        return "must not be empty"
    if len(value) > MAX_NAME_CHARS:
        return f"is {len(value)} characters; at most {MAX_NAME_CHARS}"
    return None

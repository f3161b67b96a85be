"""Errors of the SMS gateway: one root, small classes that carry their data."""

from __future__ import annotations

from survey.errors import PalauteError


class SmsGatewayError(PalauteError):
    """Root of the SMS gateway's errors."""


class PduError(SmsGatewayError, ValueError):
    """A PDU that cannot be decoded or a text that cannot be encoded."""


class ModemError(SmsGatewayError):
    """The modem or its port failed."""


class PortError(ModemError, OSError):
    """The serial port cannot be opened, or vanished."""


class AtTimeout(ModemError, TimeoutError):
    """A command got no final result code in time."""

    def __init__(self, command: str, timeout: float) -> None:
        self.command = command
        self.timeout = timeout
        super().__init__(f"{command}: no answer from the modem within {timeout:g} s")


class AtCommandError(ModemError):
    """A command ended in ERROR (or a coded error, in the subclasses)."""

    def __init__(self, command: str, code: int | None = None, text: str = "ERROR") -> None:
        self.command = command
        self.code = code
        self.text = text
        super().__init__(f"{command}: {text}")


class CmeError(AtCommandError):
    """+CME ERROR: <code> (mobile equipment / SIM errors, TS 27.007 §9.2)."""


class CmsError(AtCommandError):
    """+CMS ERROR: <code> (message service errors, TS 27.005 §3.2.5)."""


class PinRequired(ModemError):
    """The SIM wants a PIN that is not configured, refused the one given, or wants a PUK."""


class SendError(ModemError):
    """A message did not (fully) go out. `sent_refs`: message references of the parts
    that did; `unknown`: the last part may have gone out too (never repeat it blindly)."""

    def __init__(self, message: str, sent_refs: list[int], *, unknown: bool = False) -> None:
        self.sent_refs = sent_refs
        self.unknown = unknown
        super().__init__(message)

"""Sms port: what the service needs from an SMS gateway, in our vocabulary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class SmsError(Exception):
    """Sending failed. ``retryable`` tells whether the same request may be tried again."""

    retryable = False

    def __init__(self, message: str, *, code: str = "", retryable: bool | None = None):
        super().__init__(message)
        self.code = code
        if retryable is not None:
            self.retryable = retryable


class SmsRateLimited(SmsError):
    """The gateway refused because of per-number flow control (final for this request)."""


@dataclass(frozen=True)
class SmsResult:
    provider_ref: str  # the gateway's id of the message (Aliyun BizId)


class SmsGateway(Protocol):
    def send_code(self, *, mobile: str, code: str, request_id: str) -> SmsResult:
        """Send a verification code (template with one ``code`` parameter) to an
        11-digit mainland mobile number."""
        ...

    def send_notice(self, *, mobile: str, notice: str, params: Mapping[str, str], request_id: str) -> SmsResult:
        """Send a notice (not a code) by its name, e.g. ``"mobile_changed"``, with the
        template's string parameters; an unknown or unconfigured notice raises ``SmsError``."""
        ...

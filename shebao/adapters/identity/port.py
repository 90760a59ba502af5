"""IdentityCheck port (实名核验): do a name, a resident ID number and a mobile number
belong together according to the carriers' records (运营商手机号三要素核验)?

In our vocabulary, never the vendor's: an outcome, which element disagreed (for logs
only), and the vendor's request id (kept for disputes over a billed call). Nothing
else of the vendor's answer, and none of the values sent, leaves the adapter."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class IdentityOutcome(StrEnum):
    CONSISTENT = "consistent"  # the three elements belong together
    INCONSISTENT = "inconsistent"  # the carrier knows the number, under someone else's name or ID
    NO_RECORD = "no_record"  # the carrier has no real-name record for the number


class Mismatch(StrEnum):
    """Which element the carrier disagrees on (only for INCONSISTENT; never shown to the person)."""

    NONE = ""
    NAME = "name"  # ID number matches the number's owner, the name does not
    ID_NUMBER = "id_number"  # the name matches, the ID number does not
    BOTH = "both"  # neither matches
    OTHER = "other"


@dataclass(frozen=True)
class IdentityVerdict:
    outcome: IdentityOutcome
    mismatch: Mismatch = Mismatch.NONE
    provider_ref: str = ""  # the vendor's request id

    @property
    def consistent(self) -> bool:
        return self.outcome is IdentityOutcome.CONSISTENT


class IdentityCheckUnavailable(Exception):
    """No verdict: the vendor could not be reached, refused the call (throttled, service
    not activated, bad credentials) or answered something we cannot read. ``retryable``
    tells whether trying again later may help; ``code`` is the vendor's error code."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = True):
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class IdentityCheck(Protocol):
    def supports(self, id_type: str) -> bool:
        """Whether the carriers' records can be asked about this document type (our IdType code)."""
        ...

    def check_mobile(self, *, name: str, id_type: str, id_number: str, mobile: str, request_id: str = "") -> IdentityVerdict:
        """The carrier three-element check of (name, ID number, 11-digit mainland mobile).
        Raises ``IdentityCheckUnavailable`` when there is no verdict."""
        ...

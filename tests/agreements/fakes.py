"""A BankGateway for the agreement tests that must not depend on a server (the race on
PostgreSQL): it answers what it is told and counts the checks."""

from __future__ import annotations

import threading

from shebao.adapters.bank.port import AgreementCheck, AgreementVerdict, BankUnavailable, FailReason


class FakeBank:
    name = "fake"

    def __init__(self, *, reason: FailReason | None = None, unavailable: bool = False):
        self.reason, self.unavailable = reason, unavailable
        self.checks: list[AgreementCheck] = []
        self._lock = threading.Lock()

    def verify_agreement(self, check: AgreementCheck, *, on) -> AgreementVerdict:
        with self._lock:
            self.checks.append(check)
            number = len(self.checks)
        if self.unavailable:
            raise BankUnavailable("test: the bank is down", code="timeout")
        return AgreementVerdict(passed=self.reason is None, reason=self.reason, check_no=f"FAKE{number:04d}")

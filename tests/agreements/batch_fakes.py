"""A BankGateway for the batch tests that need no server (the races on PostgreSQL): every
deduction succeeds, once per idempotency key, and is counted."""

from __future__ import annotations

import threading

from shebao.adapters.bank.port import Deduction, DeductionState


class FakeDeductBank:
    name = "fake"

    def __init__(self):
        self.keys: list[str] = []
        self._answers: dict[str, Deduction] = {}
        self._lock = threading.Lock()

    def deduct(self, *, idempotency_key: str, amount_fen: int, **_fields) -> Deduction:
        with self._lock:
            if idempotency_key not in self._answers:
                self.keys.append(idempotency_key)
                self._answers[idempotency_key] = Deduction(idempotency_key=idempotency_key, state=DeductionState.SUCCEEDED,
                                                           amount_fen=amount_fen, bank_ref=f"FAKE{len(self.keys):08d}")
            return self._answers[idempotency_key]

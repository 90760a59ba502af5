"""Claim-by-unique-insert idempotency for form posts and callbacks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from shebao.common import clock
from shebao.common.models import IdempotencyKey


class IdempotencyConflict(Exception):
    """The key was used before with a different request."""


@dataclass(frozen=True)
class Claim:
    row: IdempotencyKey
    fresh: bool  # True: this request owns the key and must do the work


def fingerprint(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def idempotency_claim(*, scope: str, key: str, request_hash: str) -> Claim:
    """Insert the key or return the existing row. Call inside the business transaction."""
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(scope=scope, key=key, request_hash=request_hash, created_at=clock.now())
            return Claim(row=row, fresh=True)
    except IntegrityError:
        row = IdempotencyKey.objects.select_for_update().get(scope=scope, key=key)
        if row.request_hash != request_hash:
            raise IdempotencyConflict(scope) from None
        return Claim(row=row, fresh=False)


def idempotency_complete(claim: Claim, *, result: str) -> None:
    claim.row.result = result
    claim.row.save(update_fields=["result"])

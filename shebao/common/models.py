"""Shared persistence: idempotency keys for retried form posts and callbacks."""

from __future__ import annotations

from django.db import models


class IdempotencyKey(models.Model):
    """One row per (scope, key): the first request claims it by unique insert;
    a retry with the same fingerprint gets the stored result, a different
    fingerprint is refused (security.md §6.2 invariant 4)."""

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    result = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


from shebao.common.states import StateTransition  # noqa: E402,F401 - registered with the app

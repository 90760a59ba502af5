"""The one writer of the audit log (REQUIREMENTS §7; DESIGN "every read of
personal data by staff, and every staff action, is in an audit log")."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

from shebao.archive.integrity import canonical_json, iso_utc
from shebao.audit.models import AuditEvent, Outcome
from shebao.common import crypto
from shebao.common.actor import Actor, mask_ip
from shebao.common.logging import request_id_var

logger = logging.getLogger("shebao.audit")

_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


class AuditError(Exception):
    """audit_record was called wrongly (a programming error, not a user error)."""


def _request_id(actor: Actor) -> str:
    rid = actor.request_id or request_id_var.get()
    return "" if rid == "-" else rid[:64]


def _clean_changes(changes: dict[str, Any] | None) -> dict[str, Any]:
    """``{field: {"old": masked, "new": masked}}`` in its canonical JSON form."""
    changes = changes or {}
    for name, change in changes.items():
        if not isinstance(change, dict) or set(change) != {"old", "new"}:
            raise AuditError(f"changes[{name!r}] 必须是 {{'old': 已脱敏值, 'new': 已脱敏值}}")
    return json.loads(canonical_json(changes))


def event_link_parts(event: AuditEvent) -> list[Any]:
    """What an audit chain hash covers, in order (shared with verify)."""
    return [
        event.seq,
        iso_utc(event.created_at),
        event.actor_id,
        event.actor_kind,
        event.action,
        event.subject_type,
        event.subject_ref,
        event.outcome,
        canonical_json(event.changes),
        event.ip or "",
        event.request_id,
        event.prev_hash,
        # added with the actor: only when set, so rows written before hash as they did
        *([event.actor_ref, event.door] if (event.actor_ref or event.door) else []),
    ]


def audit_record(
    *,
    actor: Actor,
    action: str,
    subject_type: str = "",
    subject_ref: str = "",
    outcome: str = Outcome.SUCCESS,
    changes: dict[str, Any] | None = None,
    now: dt.datetime,
) -> AuditEvent:
    """Append one event to the audit log (REQUIREMENTS §7 traceability; 等保
    2.0 level 3 security audit) and emit one "shebao.audit" log line.

    ``actor`` (shebao.common.actor) says who -- the account of a citizen or staff
    member, a partner channel, a job, an anonymous visitor --, the door, the masked
    client address and the request id (without one, the logging context's).
    ``action`` is dotted lower case ("account.login.failed",
    "staff.view_personal_data"). ``subject_ref`` is an opaque id, never personal
    data. ``changes`` values must already be masked.

    Works inside or outside a transaction: inside, the event commits or rolls
    back with the caller's write (so record failures outside the transaction
    that is rolled back). It is one INSERT and reads or locks no shared row;
    the returned event has no ``seq`` or chain hash yet -- the sealer
    (``seal_pending("audit")``, run by a job) gives them after commit."""
    if now.tzinfo is None:
        raise AuditError("now 必须带时区")
    if not _ACTION.fullmatch(action) or len(action) > 64:
        raise AuditError(f"action {action!r} 应为小写点分名称")
    if not isinstance(actor, Actor):
        raise AuditError("actor 必须是 shebao.common.actor.Actor")
    event = AuditEvent(
        created_at=now.astimezone(dt.UTC),
        actor=actor.account,
        actor_kind=str(actor.kind),
        actor_ref=actor.ref[:64],
        door=str(actor.door),
        action=action,
        subject_type=subject_type,
        subject_ref=subject_ref,
        outcome=Outcome(outcome).value,
        changes=_clean_changes(changes),
        ip=actor.masked_ip,
        request_id=_request_id(actor),
        digest_algorithm=crypto.digest_algorithm(),
    )
    event.save()
    # The log line carries the event's request id even when the caller's
    # context has none (the handler's RequestIdFilter reads the context var).
    token = request_id_var.set(event.request_id or "-")
    try:
        logger.info(
            "audit %s %s",
            action,
            event.outcome,
            extra={"action": action, "outcome": event.outcome, "subject_ref": subject_ref, "audit_id": event.pk,
                   "actor_kind": event.actor_kind, "door": event.door},
        )
    finally:
        request_id_var.reset(token)
    return event


__all__ = ["AuditError", "audit_record", "event_link_parts", "mask_ip"]

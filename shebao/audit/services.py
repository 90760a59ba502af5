"""The one writer of the audit log (REQUIREMENTS §7; DESIGN "every read of
personal data by staff, and every staff action, is in an audit log")."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from shebao.archive.integrity import canonical_json, iso_utc
from shebao.audit.models import ActorKind, AuditEvent, Outcome
from shebao.common import crypto
from shebao.common.client_ip import client_ip
from shebao.common.logging import request_id_var

if TYPE_CHECKING:
    from shebao.accounts.models import Account

logger = logging.getLogger("shebao.audit")

_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


class AuditError(Exception):
    """audit_record was called wrongly (a programming error, not a user error)."""


def mask_ip(value: str | None) -> str | None:
    """IPv4 with the last octet zeroed, IPv6 kept to its /48; None if not an address."""
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def _masked_client_ip(request: HttpRequest | None) -> str | None:
    """The person's address as the trusted proxies report it (TRUSTED_PROXY_COUNT), masked;
    None without a request or a peer address."""
    if request is None or not request.META.get("REMOTE_ADDR"):
        return None
    return mask_ip(client_ip(request))


def _request_id(request: HttpRequest | None) -> str:
    rid = getattr(request, "request_id", "") or request_id_var.get()
    return "" if rid == "-" else rid[:64]


def _actor_kind(actor: Account | None, requested: str | None) -> str:
    if actor is None:
        kind = requested or ActorKind.ANONYMOUS
        if kind not in (ActorKind.ANONYMOUS, ActorKind.SYSTEM):
            raise AuditError("没有操作人时 actor_kind 只能是 anonymous 或 system")
        return kind
    kind = ActorKind.STAFF if actor.is_staff else ActorKind.CITIZEN
    if requested and requested != kind:
        raise AuditError(f"actor_kind {requested} 与操作人不符")
    return kind


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
    ]


def audit_record(
    *,
    actor: Account | None,
    action: str,
    subject_type: str = "",
    subject_ref: str = "",
    outcome: str = Outcome.SUCCESS,
    changes: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime,
    actor_kind: str | None = None,
) -> AuditEvent:
    """Append one event to the audit log (REQUIREMENTS §7 traceability; 等保
    2.0 level 3 security audit) and emit one "shebao.audit" log line.

    ``actor`` None means anonymous (or pass ``actor_kind="system"`` for jobs);
    an account's kind (citizen/staff) follows ``is_staff``. ``action`` is dotted
    lower case ("account.login.failed", "staff.view_personal_data").
    ``subject_ref`` is an opaque id, never personal data. ``changes`` values
    must already be masked. ``request`` gives the (masked) IP and request id;
    without it the request id comes from the logging context.

    Works inside or outside a transaction: inside, the event commits or rolls
    back with the caller's write (so record failures outside the transaction
    that is rolled back). It is one INSERT and reads or locks no shared row;
    the returned event has no ``seq`` or chain hash yet -- the sealer
    (``seal_pending("audit")``, run by a job) gives them after commit."""
    if now.tzinfo is None:
        raise AuditError("now 必须带时区")
    if not _ACTION.fullmatch(action) or len(action) > 64:
        raise AuditError(f"action {action!r} 应为小写点分名称")
    if actor is not None and not actor.is_authenticated:
        actor = None  # request.user of an anonymous visitor
    event = AuditEvent(
        created_at=now.astimezone(dt.UTC),
        actor=actor,
        actor_kind=_actor_kind(actor, actor_kind),
        action=action,
        subject_type=subject_type,
        subject_ref=subject_ref,
        outcome=Outcome(outcome).value,
        changes=_clean_changes(changes),
        ip=_masked_client_ip(request),
        request_id=_request_id(request),
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
            extra={"action": action, "outcome": event.outcome, "subject_ref": subject_ref, "audit_id": event.pk},
        )
    finally:
        request_id_var.reset(token)
    return event

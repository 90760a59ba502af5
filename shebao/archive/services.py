"""The one writer of the archive (REQUIREMENTS §6 资料自动归档)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import connection

from shebao.archive.integrity import canonical_json, iso_utc, seal_log
from shebao.archive.models import ArchiveRecord, ArchiveSeal, BusinessType
from shebao.common import crypto

# subject_ref is an opaque public id; a resident ID number or a mobile number never is.
_PERSONAL_SHAPE = re.compile(r"\d{17}[\dXx]|1\d{10}")


class ArchiveError(Exception):
    """archive_append was called wrongly (a programming error, not a user error)."""


def _check_refs(*, business_ref: str, subject_ref: str) -> None:
    if not business_ref or not subject_ref:
        raise ArchiveError("business_ref 与 subject_ref 不能为空")
    if _PERSONAL_SHAPE.fullmatch(subject_ref):
        raise ArchiveError("subject_ref 是证件号码或手机号码的样子：请传账号或缴费人的公开编号")


def archive_append(
    *,
    business_type: str,
    business_ref: str,
    subject_ref: str,
    data: dict[str, Any],
    payer_signature: str = "",
    now: dt.datetime,
) -> ArchiveRecord:
    """Archive one completed business (REQUIREMENTS §6; DESIGN: archived
    append-only, a canonical snapshot linked into an SM3 hash chain, signed).

    Must be called inside the caller's ``transaction.atomic`` -- the same one
    that writes the business -- so the business and its archive commit or roll
    back together; it raises :class:`ArchiveError` otherwise. It is one INSERT
    and reads or locks no shared row, so payers never wait for each other here;
    the record gets its ``seq``, chain hash and (batch) signature from the
    sealer, :func:`seal_pending`, a few seconds after commit.

    ``data`` is the business's electronic data (may hold personal data: it is
    stored SM4-encrypted). ``subject_ref`` is the account or payer public id,
    never an ID number. ``payer_signature`` is the payer's electronic signature
    where the business has one (e.g. ``sm2:...`` or a signature image digest);
    it is bound into the chain hash."""
    if not connection.in_atomic_block:
        raise ArchiveError("archive_append 必须在业务写入的 transaction.atomic 内调用")
    if now.tzinfo is None:
        raise ArchiveError("now 必须带时区")
    kind = BusinessType(business_type)  # ValueError for an unknown business
    _check_refs(business_ref=business_ref, subject_ref=subject_ref)
    snapshot = canonical_json(data)
    algorithm = crypto.digest_algorithm()
    digest = crypto.digest(snapshot.encode("utf-8"))
    created_at = now.astimezone(dt.UTC)

    record = ArchiveRecord(
        public_id=crypto.random_token(),
        business_type=kind.value,
        business_ref=business_ref,
        subject_ref=subject_ref,
        snapshot=snapshot,
        digest=digest,
        payer_signature=payer_signature,
        digest_algorithm=algorithm,
        created_at=created_at,
    )
    record.save()
    return record


def record_link_parts(
    *,
    seq: int,
    business_type: str,
    business_ref: str,
    subject_ref: str,
    digest: str,
    payer_signature: str,
    prev_hash: str,
    created_at: dt.datetime,
) -> list[Any]:
    """What an archive chain hash covers, in order (shared with verify)."""
    return [seq, business_type, business_ref, subject_ref, digest, payer_signature, prev_hash, iso_utc(created_at)]


def archive_link_parts(row: ArchiveRecord) -> list[Any]:
    return record_link_parts(
        seq=row.seq,
        business_type=row.business_type,
        business_ref=row.business_ref,
        subject_ref=row.subject_ref,
        digest=row.digest,
        payer_signature=row.payer_signature,
        prev_hash=row.prev_hash,
        created_at=row.created_at,
    )


SEAL_LOCK_KEYS = {"archive": 0x5EA1_0001, "audit": 0x5EA1_0002}
"""PostgreSQL advisory lock keys: one sealer per log at a time."""


def seal_pending(kind: str, *, now: dt.datetime | None = None) -> int:
    """Seal the committed, unsealed entries of one log (``"archive"`` or
    ``"audit"``): seq, SM3 chain, a Merkle root and an SM2-signed head per batch
    of at most :data:`~shebao.archive.integrity.SEAL_BATCH`. Returns how many
    entries were sealed (0 when another sealer holds the log). Called by the
    ``seal_logs`` command (and later by a background job), never on the hot path;
    see :func:`~shebao.archive.integrity.seal_log` for which rows it takes."""
    from shebao.audit.models import AuditEvent, AuditSeal
    from shebao.audit.services import event_link_parts
    from shebao.common import clock

    logs = {
        "archive": (ArchiveRecord, ArchiveSeal, archive_link_parts),
        "audit": (AuditEvent, AuditSeal, event_link_parts),
    }
    if kind not in logs:
        raise ValueError(f"未知日志 {kind!r}：应为 archive 或 audit")
    log_model, seal_model, parts = logs[kind]
    return seal_log(log_model=log_model, seal_model=seal_model, link_parts=parts, lock_key=SEAL_LOCK_KEYS[kind], now=now or clock.now())

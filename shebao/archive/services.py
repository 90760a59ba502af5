"""The one writer of the archive (REQUIREMENTS §6 资料自动归档)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import connection

from shebao.archive.integrity import canonical_json, iso_utc, link_hash, lock_head
from shebao.archive.models import ArchiveHead, ArchiveRecord, BusinessType
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
    back together; it raises :class:`ArchiveError` otherwise. It locks the
    archive head row until that transaction ends, so call it late in the
    transaction, and before ``audit_record`` when both are used (lock order:
    archive head, then audit head).

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

    head = lock_head(ArchiveHead, ArchiveRecord)
    seq = head.last_seq + 1
    chain_hash = link_hash(
        record_link_parts(
            seq=seq,
            business_type=kind.value,
            business_ref=business_ref,
            subject_ref=subject_ref,
            digest=digest,
            payer_signature=payer_signature,
            prev_hash=head.last_chain_hash,
            created_at=created_at,
        ),
        algorithm=algorithm,
    )
    record = ArchiveRecord(
        seq=seq,
        public_id=crypto.random_token(),
        business_type=kind.value,
        business_ref=business_ref,
        subject_ref=subject_ref,
        snapshot=snapshot,
        digest=digest,
        prev_hash=head.last_chain_hash,
        chain_hash=chain_hash,
        service_signature=crypto.sign(chain_hash.encode("ascii")),
        payer_signature=payer_signature,
        digest_algorithm=algorithm,
        created_at=created_at,
    )
    record.save()
    ArchiveHead.objects.filter(pk=head.pk).update(last_seq=seq, last_chain_hash=chain_hash)
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

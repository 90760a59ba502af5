"""Verification of the archive (DESIGN: "archived append-only ... hash chain
(SM3) ... verifiable by a command"): every digest recomputed from the decrypted
snapshot, every link and chain hash recomputed, every service signature checked."""

from __future__ import annotations

from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from shebao.archive.integrity import ChainWalker, Problem, Reason, link_hash, suite_for, verify_chain
from shebao.archive.models import ArchiveHead, ArchiveRecord
from shebao.archive.services import record_link_parts
from shebao.common import crypto
from shebao.common.crypto import DecryptionError


def _check_record(row: ArchiveRecord, walker: ChainWalker) -> None:
    """Decrypt and digest the snapshot, check the links, check the signature."""
    seq = row.seq
    try:
        suite = suite_for(row.digest_algorithm)
    except ValueError:
        walker.problems.append(Problem(seq, Reason.DIGEST_MISMATCH, f"未知摘要算法 {row.digest_algorithm}"))
        walker.step(seq=seq, prev_hash=row.prev_hash, chain_hash=row.chain_hash, recomputed=None)
        return
    field = ArchiveRecord._meta.get_field("snapshot")
    try:
        snapshot = field.open(field.from_db_value(row.snapshot_ciphertext, None, connection), field.row_id(row))
    except DecryptionError as exc:
        walker.problems.append(Problem(seq, Reason.DECRYPTION_FAILED, str(exc)))
    else:
        if crypto.digest((snapshot or "").encode("utf-8"), suite=suite) != row.digest:
            walker.problems.append(Problem(seq, Reason.DIGEST_MISMATCH, "快照摘要重算不符"))
    parts = record_link_parts(
        seq=seq,
        business_type=row.business_type,
        business_ref=row.business_ref,
        subject_ref=row.subject_ref,
        digest=row.digest,
        payer_signature=row.payer_signature,
        prev_hash=row.prev_hash,
        created_at=row.created_at,
    )
    walker.step(seq=seq, prev_hash=row.prev_hash, chain_hash=row.chain_hash, recomputed=link_hash(parts, algorithm=row.digest_algorithm))
    if not crypto.verify(row.chain_hash.encode("utf-8"), row.service_signature):
        walker.problems.append(Problem(seq, Reason.SIGNATURE_INVALID, "服务签名验证失败"))


def verify_archive() -> ChainWalker:
    """Check the whole archive; ``.ok``, ``.checked`` and ``.problems`` (by seq).

    The ciphertext is read as plain text (not through the field) so that one
    undecryptable row is reported as 解密失败 instead of stopping the walk."""
    rows = ArchiveRecord.objects.defer("snapshot").annotate(snapshot_ciphertext=Cast("snapshot", output_field=TextField()))
    return verify_chain(log_model=ArchiveRecord, head_model=ArchiveHead, check_row=_check_record, rows=rows)

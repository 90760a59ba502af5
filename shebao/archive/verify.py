"""Verification of the archive (DESIGN: "archived append-only ... hash chain
(SM3) ... verifiable by a command"): every digest recomputed from the decrypted
snapshot, every link and chain hash recomputed, every service signature checked."""

from __future__ import annotations

from pathlib import Path

from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from shebao.archive.heads import heads_check
from shebao.archive.integrity import ChainWalker, Problem, Reason, link_hash, merkle_root, suite_for, verify_chain
from shebao.archive.models import ArchiveRecord, ArchiveSeal
from shebao.archive.services import archive_link_parts
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
    recomputed = link_hash(archive_link_parts(row), algorithm=row.digest_algorithm)
    walker.step(seq=seq, prev_hash=row.prev_hash, chain_hash=row.chain_hash, recomputed=recomputed)
    if row.service_signature and not crypto.verify(row.chain_hash.encode("utf-8"), row.service_signature):
        # Only rows written before the sealer carry their own signature.
        walker.problems.append(Problem(seq, Reason.SIGNATURE_INVALID, "服务签名验证失败"))


def verify_archive(*, heads: Path | None = None) -> ChainWalker:
    """Check the whole archive; ``.ok``, ``.checked`` and ``.problems`` (by seq).

    Then every signed head exported outside the database (``heads``, by default the
    archive's file in ``SEAL_HEAD_EXPORT_DIR`` when there is one) must still be in it
    unchanged: deleting the newest batches with their rows is named by the head.

    The ciphertext is read as plain text (not through the field) so that one
    undecryptable row is reported as 解密失败 instead of stopping the walk."""
    rows = ArchiveRecord.objects.defer("snapshot").annotate(snapshot_ciphertext=Cast("snapshot", output_field=TextField()))
    walker = verify_chain(log_model=ArchiveRecord, seal_model=ArchiveSeal, check_row=_check_record, rows=rows)
    walker.problems.extend(heads_check("archive", path=heads))
    walker.problems.sort(key=lambda p: p.seq)
    return walker


def record_is_sealed_intact(record: ArchiveRecord) -> bool | None:
    """For one record's page: None while it waits for the sealer; else True only
    if its chain hash recomputes, its batch's Merkle root over the stored chain
    hashes holds and the batch's SM2 signature is valid."""
    if record.seq is None:
        return None
    seal = ArchiveSeal.objects.filter(first_seq__lte=record.seq, last_seq__gte=record.seq).first()
    if seal is None:
        return False
    leaves = list(ArchiveRecord.objects.filter(seq__gte=seal.first_seq, seq__lte=seal.last_seq).order_by("seq").values_list("chain_hash", flat=True))
    try:
        recomputed = link_hash(archive_link_parts(record), algorithm=record.digest_algorithm)
        root = merkle_root(leaves, algorithm=seal.digest_algorithm)
    except ValueError:
        return False
    return (
        recomputed == record.chain_hash
        and len(leaves) == seal.last_seq - seal.first_seq + 1
        and root == seal.merkle_root
        and crypto.verify(seal.signed_text().encode("utf-8"), seal.signature)
    )

"""Verification of the audit log's SM3 hash chain (REQUIREMENTS §7: every
access to personal data is traceable, so the trace itself must be intact)."""

from __future__ import annotations

from pathlib import Path

from shebao.archive.heads import heads_check
from shebao.archive.integrity import ChainWalker, Problem, Reason, link_hash, verify_chain
from shebao.audit.models import AuditEvent, AuditSeal
from shebao.audit.services import event_link_parts


def _check_event(event: AuditEvent, walker: ChainWalker) -> None:
    try:
        recomputed: str | None = link_hash(event_link_parts(event), algorithm=event.digest_algorithm)
    except (TypeError, ValueError) as exc:  # unknown algorithm, or changes no longer canonical-encodable
        walker.problems.append(Problem(event.seq, Reason.DIGEST_MISMATCH, str(exc)))
        recomputed = None
    walker.step(seq=event.seq, prev_hash=event.prev_hash, chain_hash=event.chain_hash, recomputed=recomputed)


def verify_audit(*, heads: Path | None = None) -> ChainWalker:
    """Check the whole audit log: seqs without gaps, links, recomputed hashes,
    every batch's Merkle root and SM2 signature; ``pending`` = waiting for a seal.
    Then every signed head exported outside the database (``heads``, by default the
    audit log's file in ``SEAL_HEAD_EXPORT_DIR`` when there is one) must still be in it."""
    walker = verify_chain(log_model=AuditEvent, seal_model=AuditSeal, check_row=_check_event)
    walker.problems.extend(heads_check("audit", path=heads))
    walker.problems.sort(key=lambda p: p.seq)
    return walker

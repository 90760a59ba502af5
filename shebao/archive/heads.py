"""Signed heads kept outside the database (Certificate Transparency's witness idea, simplified).

The seals prove every row up to the newest seal, but someone who can write the database
can delete the newest seals together with their rows: what is left is still a consistent,
signed, shorter log. Against that, :func:`heads_export` copies the latest seal of each log
(its size, Merkle root, last chain hash, time and SM2 signature, and our public key) as one
JSON line to an append-only file per log under ``settings.SEAL_HEAD_EXPORT_DIR`` -- in
production a path on other storage than the database's. :func:`heads_check` then requires
every exported head to be still in the database, unchanged: a truncated log or a
rewritten seal is named by the head it contradicts.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from shebao.archive.integrity import LogSeal, Problem, Reason, canonical_json, iso_utc
from shebao.common import crypto

LOG_KINDS = ("archive", "audit")

# The seal fields a head carries and must find unchanged in the database.
_SEAL_FIELDS = ("first_seq", "merkle_root", "chain_hash", "digest_algorithm", "signature")


def heads_dir() -> Path:
    return Path(settings.SEAL_HEAD_EXPORT_DIR)


def heads_path(kind: str, directory: Path | None = None) -> Path:
    """The append-only file of one log's exported heads (``<kind>-heads.jsonl``)."""
    if kind not in LOG_KINDS:
        raise ValueError(f"未知日志 {kind!r}：应为 archive 或 audit")
    return (directory or heads_dir()) / f"{kind}-heads.jsonl"


def _seal_model(kind: str) -> type[LogSeal]:
    from shebao.archive.models import ArchiveSeal
    from shebao.audit.models import AuditSeal

    return {"archive": ArchiveSeal, "audit": AuditSeal}[kind]


def head_of(seal: LogSeal) -> dict[str, Any]:
    """One seal as an exported head: everything needed to check it without the database."""
    return {
        "log": seal.LOG_NAME,
        "first_seq": seal.first_seq,
        "last_seq": seal.last_seq,
        "merkle_root": seal.merkle_root,
        "chain_hash": seal.chain_hash,
        "sealed_at": iso_utc(seal.sealed_at),
        "digest_algorithm": seal.digest_algorithm,
        "signature": seal.signature,
        "signature_algorithm": seal.signature.partition(":")[0],
        "public_key": crypto.public_key_hex(),
    }


def _last_line(handle: Any) -> str:
    handle.seek(0)
    last = ""
    for line in handle:
        if line.strip():
            last = line
    return last


def _parsed(line: str) -> Any:
    """A line of a heads file as JSON; None for an empty or damaged one (a new head is appended)."""
    try:
        return json.loads(line) if line.strip() else None
    except ValueError:
        return None


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def head_export(kind: str, *, directory: Path | None = None) -> dict[str, Any] | None:
    """Append the latest seal of log ``kind`` to its heads file, fsync'd; the head written,
    or None when there is no seal yet or the file already ends with this head.

    The file is locked (``flock``) while its last line is read and the head appended, so
    two exporters at once write it once; it is opened for appending only."""
    seal = _seal_model(kind).objects.order_by("-last_seq").first()
    if seal is None:
        return None
    head = head_of(seal)
    path = heads_path(kind, directory)
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if _parsed(_last_line(handle)) == head:
            return None
        handle.write(canonical_json(head) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    if created:
        _fsync_dir(path.parent)
    return head


def heads_export(*, directory: Path | None = None) -> dict[str, int]:
    """Export both logs' latest heads (the periodic job ``export_signed_heads``): last_seq
    written per log, 0 when unchanged."""
    written = {kind: head_export(kind, directory=directory) for kind in LOG_KINDS}
    return {kind: head["last_seq"] if head else 0 for kind, head in written.items()}


@dataclass(frozen=True)
class HeadsRead:
    heads: list[dict[str, Any]]
    problems: list[Problem]


def heads_read(path: Path) -> HeadsRead:
    """The heads in ``path``, with a problem for each line that is not a head (line number as seq 0)."""
    heads, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            head = json.loads(line)
            int(head["last_seq"])
        except (ValueError, KeyError, TypeError):
            problems.append(Problem(0, Reason.HEAD_MISMATCH, f"{path.name} 第 {number} 行不是签名头"))
            continue
        heads.append(head)
    return HeadsRead(heads, problems)


def _head_problem(head: dict[str, Any], seals: dict[int, LogSeal], size: int) -> Problem | None:
    last_seq = int(head["last_seq"])
    name = f"外部签名头 {head.get('log')} last_seq={last_seq}（签名时间 {head.get('sealed_at')}）"
    seal = seals.get(last_seq)
    if seal is None:
        if size < last_seq:
            return Problem(last_seq, Reason.HEAD_MISMATCH, f"{name}：日志被截断，数据库中的日志长度只有 {size}")
        return Problem(last_seq, Reason.HEAD_MISMATCH, f"{name}：数据库中没有以该序号结束的签名批次（批次被改写）")
    changed = [f for f in _SEAL_FIELDS if str(getattr(seal, f)) != str(head.get(f))]
    if iso_utc(seal.sealed_at) != head.get("sealed_at"):
        changed.append("sealed_at")
    if changed:
        return Problem(last_seq, Reason.HEAD_MISMATCH, f"{name}：数据库中的签名批次与之不符（{', '.join(changed)}）")
    return None


def heads_check(kind: str, *, path: Path | None = None) -> list[Problem]:
    """Every head exported for log ``kind`` against the database: the seal ending at its
    ``last_seq`` exists with the same first seq, root, chain hash, time and signature (and so
    the log is at least that long). No file (never exported here) means nothing to check.
    A matching seal's signature, root and rows are then checked by verify_chain, so
    everything up to the newest exported head is covered."""
    path = path or heads_path(kind)
    if not path.exists():
        return []
    read = heads_read(path)
    model = _seal_model(kind)
    wanted = {int(h["last_seq"]) for h in read.heads}
    seals = {s.last_seq: s for s in model.objects.filter(last_seq__in=wanted)}
    size = model.objects.order_by("-last_seq").values_list("last_seq", flat=True).first() or 0
    problems = list(read.problems)
    for head in read.heads:
        if head.get("log") != kind:
            problems.append(Problem(int(head["last_seq"]), Reason.HEAD_MISMATCH, f"{path.name} 中有 {head.get('log')} 的签名头，不是 {kind} 的"))
            continue
        problem = _head_problem(head, seals, size)
        if problem:
            problems.append(problem)
    return problems


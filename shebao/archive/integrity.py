"""Tamper-evident, append-only logs: the pieces the archive and the audit log share.

DESIGN "Data rules": completed business is archived append-only, linked into a
hash chain (SM3), verifiable by a command; the audit log uses the same chain.
Here: the canonical JSON encoding, the link hash, the append-only model base,
the signed batch (seal) model, the Merkle tree hash, the sealer and the chain
walker used by the verify commands. Nothing here knows about a business.

The design is that of Certificate Transparency logs (RFC 6962 / RFC 9162) and
Trillian's sequencer: an append is one INSERT inside the business transaction
with no seq and no chain hash, locking no shared row; :func:`seal_log`, one at
a time, later gives committed entries their seq, links the chain and signs
each batch (a Merkle root and a signed head with size and time)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction

from shebao.common import crypto

GENESIS_HASH = "0" * 64  # the prev_hash of seq 1

_SUITES = {"SM3": "sm", "SHA256": "intl"}


class Reason:
    """The reasons a verify command names (user-facing, Chinese)."""

    DIGEST_MISMATCH = "摘要不符"
    CHAIN_BROKEN = "链断裂"
    SIGNATURE_INVALID = "签名无效"
    DECRYPTION_FAILED = "解密失败"
    HEAD_MISMATCH = "与外部签名头不符"


class AppendOnlyError(Exception):
    """A row of an append-only log was about to be changed or deleted."""


# ---------------------------------------------------------------- encoding
def _plain(value: Any) -> Any:
    """JSON-native form of ``value``; refuses what has no single canonical text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return str(value)  # TextChoices members become their plain value
    if isinstance(value, float):
        raise TypeError("规范化 JSON 不接受浮点数：金额请用 Decimal")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("规范化 JSON 不接受无时区的时间")
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("规范化 JSON 的键必须是字符串")
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    raise TypeError(f"规范化 JSON 不支持的类型：{type(value).__name__}")


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, UTF-8 (no \\u escapes), no spaces,
    Decimal as its string, aware datetimes as UTC ISO 8601, dates as ISO."""
    return json.dumps(_plain(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def link_hash(parts: Sequence[Any], *, algorithm: str) -> str:
    """Chain hash over ``parts`` (seq, type, ref, digest, prev_hash, created_at...).

    The parts are framed as a canonical JSON array rather than joined with "|",
    so a reference that contains the separator cannot shift a field boundary."""
    return crypto.digest(canonical_json(list(parts)).encode("utf-8"), suite=suite_for(algorithm))


def suite_for(algorithm: str) -> str:
    """The crypto suite that produced a stored ``digest_algorithm`` ("SM3"/"SHA256")."""
    try:
        return _SUITES[algorithm]
    except KeyError:
        raise ValueError(f"未知摘要算法 {algorithm}") from None


def iso_utc(value: dt.datetime) -> str:
    """The timestamp text that enters a chain hash (same on SQLite and PostgreSQL)."""
    return value.astimezone(dt.UTC).isoformat()


# ---------------------------------------------------------------- persistence integrity
class AppendOnlyQuerySet(models.QuerySet):
    """Bulk ``update()``/``delete()`` are refused; raw SQL is what verify catches."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model._meta.verbose_name}只能追加，不能修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model._meta.verbose_name}只能追加，不能删除")


class AppendOnlyModel(models.Model):
    """Rows are inserted once: ``save()`` on an existing row and ``delete()`` raise.

    This is persistence integrity (the table is a ledger), not business logic."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.verbose_name}只能追加，不能修改")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self._meta.verbose_name}只能追加，不能删除")


class LogSeal(AppendOnlyModel):
    """One signed batch of a log (the signed tree head of RFC 6962 / RFC 9162).

    The sealer gives the committed, unsealed entries their ``seq`` and chain
    hash, then signs with SM2 the text of :meth:`signed_text`: the log's name,
    the batch's first seq, the log's size after it (``last_seq``), the Merkle
    root over the batch's chain hashes, the batch's last chain hash and the
    time. Seals are contiguous (each ``first_seq`` is the previous
    ``last_seq`` + 1), so a verifier knows every seq that must exist."""

    LOG_NAME = ""

    first_seq = models.PositiveBigIntegerField("首个序号", unique=True)
    last_seq = models.PositiveBigIntegerField("日志长度", unique=True)
    merkle_root = models.CharField("默克尔根", max_length=64)
    chain_hash = models.CharField("末条链哈希", max_length=64)
    sealed_at = models.DateTimeField("签名时间")
    digest_algorithm = models.CharField("摘要算法", max_length=16)
    signature = models.CharField("服务签名", max_length=256)

    class Meta:
        abstract = True
        ordering = ["last_seq"]

    def __str__(self) -> str:
        return f"批次 {self.first_seq}–{self.last_seq}"

    def signed_text(self) -> str:
        return canonical_json(
            {
                "log": self.LOG_NAME,
                "first_seq": self.first_seq,
                "tree_size": self.last_seq,
                "merkle_root": self.merkle_root,
                "chain_hash": self.chain_hash,
                "timestamp": iso_utc(self.sealed_at),
                "digest_algorithm": self.digest_algorithm,
            }
        )


def merkle_root(leaves: Sequence[str], *, algorithm: str) -> str:
    """RFC 6962 §2.1 Merkle tree hash over ``leaves`` (the entries' chain hashes,
    ASCII): leaf = H(0x00 || leaf), node = H(0x01 || left || right), split at the
    largest power of two below n; H is SM3 (or SHA-256 for the intl suite)."""
    suite = suite_for(algorithm)

    def h(data: bytes) -> bytes:
        return bytes.fromhex(crypto.digest(data, suite=suite))

    def mth(items: Sequence[str]) -> bytes:
        if not items:
            return h(b"")
        if len(items) == 1:
            return h(b"\x00" + items[0].encode("ascii"))
        k = 1
        while k * 2 < len(items):
            k *= 2
        return h(b"\x01" + mth(items[:k]) + mth(items[k:]))

    return mth(list(leaves)).hex()


class SealError(Exception):
    """The sealer refused to sign (rows it would adopt do not form a chain)."""


SEAL_BATCH = 1000
"""At most this many entries per signed batch (one transaction each)."""


def seal_log(
    *,
    log_model: type[models.Model],
    seal_model: type[LogSeal],
    link_parts: Callable[[Any], list[Any]],
    lock_key: int,
    now: dt.datetime,
) -> int:
    """Seal every committed, unsealed entry of one log; returns how many.

    One sealer at a time: on PostgreSQL a transaction-level advisory lock
    (``pg_try_advisory_xact_lock``; a second sealer returns 0 at once instead of
    queueing), on SQLite the database write lock that ``transaction_mode
    IMMEDIATE`` takes at BEGIN. The unique ``seq`` and seal ``first_seq`` /
    ``last_seq`` make a fork impossible even if that were bypassed.

    Which rows: ``seq IS NULL`` in id order, through a partial index. Ids come
    from a sequence and can commit out of order (a transaction that took id 7
    may commit after one that took id 8 was sealed), but the sealer keeps no
    high-water id: a row that commits late is simply still ``seq IS NULL`` and
    is taken by the next run, with the next seq. So no safety window or
    snapshot-xmin guard is needed -- what such a guard protects against (a
    cursor skipping a late row for ever) cannot happen here; sealed order is
    the order rows were taken, not id order, and rolled-back ids leave gaps in
    ids only, never in seqs. The sealer reads only committed rows (READ
    COMMITTED) and updates only rows it just read, so it never waits for a
    business transaction and never makes one wait: an INSERT and an UPDATE of
    another row do not conflict.

    Rows that already have a seq but no seal (written by the earlier,
    head-locking version) are adopted by the first seal, after their chain is
    recomputed -- only while no seal exists at all, so a row forged behind a
    seal is never adopted; :class:`SealError` if that chain is broken."""
    total = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key])
                    if not cursor.fetchone()[0]:
                        return total
            last = seal_model.objects.order_by("-last_seq").first()
            seq, prev_hash = (last.last_seq, last.chain_hash) if last else (0, GENESIS_HASH)
            leaves = [] if last else _adopt_legacy(log_model, link_parts)
            if leaves:
                seq, prev_hash = len(leaves), leaves[-1]
            rows = list(log_model.objects.filter(seq__isnull=True).order_by("id")[: SEAL_BATCH])
            if not rows and not leaves:
                return total
            first_seq = (last.last_seq if last else 0) + 1
            for row in rows:
                seq += 1
                row.seq, row.prev_hash = seq, prev_hash
                row.chain_hash = prev_hash = link_hash(link_parts(row), algorithm=row.digest_algorithm)
                leaves.append(row.chain_hash)
            _fill_seal_columns(log_model, rows)
            algorithm = crypto.digest_algorithm()
            seal = seal_model(
                first_seq=first_seq,
                last_seq=seq,
                merkle_root=merkle_root(leaves, algorithm=algorithm),
                chain_hash=prev_hash,
                sealed_at=now.astimezone(dt.UTC),
                digest_algorithm=algorithm,
            )
            seal.signature = crypto.sign(seal.signed_text().encode("utf-8"))
            seal.save()
            total += len(rows)


def _fill_seal_columns(log_model: type[models.Model], rows: list[Any]) -> None:
    """The sealer's one write to log rows (AppendOnlyQuerySet refuses update()), where still unsealed:
    one UPDATE per row in a pipelined ``executemany`` (``bulk_update``'s CASE WHEN cost ~9/10 of the time)."""
    sql = f"UPDATE {connection.ops.quote_name(log_model._meta.db_table)} SET seq = %s, prev_hash = %s, chain_hash = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql + " WHERE id = %s AND seq IS NULL", [(r.seq, r.prev_hash, r.chain_hash, r.pk) for r in rows])
        if rows and cursor.rowcount != len(rows):
            raise SealError(f"签名时有 {len(rows) - cursor.rowcount} 条记录已被其他进程写入序号，本批次已回滚")


def _adopt_legacy(log_model: type[models.Model], link_parts: Callable[[Any], list[Any]]) -> list[str]:
    """Chain hashes of the rows sealed by seq before seals existed, after checking their chain."""
    leaves: list[str] = []
    prev = GENESIS_HASH
    for expected, row in enumerate(log_model.objects.filter(seq__isnull=False).order_by("seq").iterator(), start=1):
        if row.seq != expected or row.prev_hash != prev or link_hash(link_parts(row), algorithm=row.digest_algorithm) != row.chain_hash:
            raise SealError(f"seq {row.seq}：已有记录的链不完整，拒绝签名，请先运行校验命令")
        prev = row.chain_hash
        leaves.append(prev)
    return leaves


# ---------------------------------------------------------------- verification
@dataclass(frozen=True)
class Problem:
    """One broken row: its seq, one of :class:`Reason`, and a short detail."""

    seq: int
    reason: str
    detail: str = ""

    def __str__(self) -> str:
        return f"seq {self.seq}：{self.reason}" + (f"（{self.detail}）" if self.detail else "")


@dataclass
class ChainWalker:
    """Walks rows in seq order: seqs 1..N without gaps, each ``prev_hash`` equal
    to the stored ``chain_hash`` before it, each ``chain_hash`` recomputable.
    ``pending`` counts entries committed but not yet sealed (waiting, not a problem)."""

    checked: int = 0
    pending: int = 0
    problems: list[Problem] = field(default_factory=list)
    _expected_seq: int = field(default=1, init=False, repr=False)
    _prev_hash: str = field(default=GENESIS_HASH, init=False, repr=False)

    def step(self, *, seq: int, prev_hash: str, chain_hash: str, recomputed: str | None) -> None:
        """Check one row's links; ``recomputed`` is None when it could not be computed."""
        for missing in range(self._expected_seq, seq):
            self.problems.append(Problem(missing, Reason.CHAIN_BROKEN, "记录缺失"))
        if seq < self._expected_seq:
            self.problems.append(Problem(seq, Reason.CHAIN_BROKEN, "序号重复或乱序"))
        if prev_hash != self._prev_hash:
            self.problems.append(Problem(seq, Reason.CHAIN_BROKEN, "prev_hash 与上一条的链哈希不符"))
        if recomputed is not None and recomputed != chain_hash:
            self.problems.append(Problem(seq, Reason.CHAIN_BROKEN, "链哈希重算不符"))
        self.checked += 1
        self._expected_seq = max(self._expected_seq, seq + 1)
        self._prev_hash = chain_hash

    @property
    def ok(self) -> bool:
        return not self.problems


def check_seal(seal: LogSeal, *, leaves: Sequence[str], problems: list[Problem], expected_first: int) -> None:
    """One seal against the stored chain hashes of its seqs (in order)."""
    if seal.first_seq != expected_first:
        problems.append(Problem(expected_first, Reason.CHAIN_BROKEN, f"签名批次不连续（下一批次从 {seal.first_seq} 开始）"))
    if not crypto.verify(seal.signed_text().encode("utf-8"), seal.signature):
        problems.append(Problem(seal.last_seq, Reason.SIGNATURE_INVALID, f"批次 {seal.first_seq}–{seal.last_seq} 签名验证失败"))
    try:
        root = merkle_root(leaves, algorithm=seal.digest_algorithm)
    except ValueError as exc:
        problems.append(Problem(seal.last_seq, Reason.DIGEST_MISMATCH, str(exc)))
        return
    if root != seal.merkle_root:
        problems.append(Problem(seal.first_seq, Reason.CHAIN_BROKEN, f"批次 {seal.first_seq}–{seal.last_seq} 默克尔根不符"))
    if leaves and leaves[-1] != seal.chain_hash:
        problems.append(Problem(seal.last_seq, Reason.CHAIN_BROKEN, "与签名批次记录的链哈希不符"))


def verify_chain(
    *,
    log_model: type[models.Model],
    seal_model: type[LogSeal],
    check_row: Callable[[Any, ChainWalker], None],
    rows: models.QuerySet | None = None,
) -> ChainWalker:
    """Walk a whole log in seq order, calling ``check_row(row, walker)`` for each,
    and check every seal: contiguous, signature valid, Merkle root and last chain
    hash equal to the rows it covers -- so a row changed, removed or inserted
    anywhere up to the last seal is named.

    Rows are read up to the last seal as it was at the start, so a seal made
    while verifying is neither checked nor reported; a row with a seq beyond the
    last seal as it is at the end cannot come from the sealer and is reported.
    Rows without a seq are counted in ``pending``: committed, waiting for the sealer."""
    seals = list(seal_model.objects.order_by("last_seq"))
    size = seals[-1].last_seq if seals else 0
    queryset = (rows if rows is not None else log_model.objects.all()).filter(seq__isnull=False, seq__lte=size)
    walker = ChainWalker()
    seal_index, leaves, expected_first = 0, [], 1

    def close_seals(upto: int) -> None:
        nonlocal seal_index, leaves, expected_first
        while seal_index < len(seals) and seals[seal_index].last_seq < upto:
            seal = seals[seal_index]
            check_seal(seal, leaves=leaves, problems=walker.problems, expected_first=expected_first)
            seal_index, leaves, expected_first = seal_index + 1, [], seal.last_seq + 1

    for row in queryset.order_by("seq").iterator(chunk_size=500):
        close_seals(row.seq)
        check_row(row, walker)
        leaves.append(row.chain_hash)
    for missing in range(walker._expected_seq, size + 1):
        walker.problems.append(Problem(missing, Reason.CHAIN_BROKEN, "末尾记录缺失"))
    close_seals(size + 1)
    end = seal_model.objects.order_by("-last_seq").values_list("last_seq", flat=True).first() or 0
    for seq in log_model.objects.filter(seq__gt=max(size, end)).values_list("seq", flat=True):
        walker.problems.append(Problem(seq, Reason.CHAIN_BROKEN, "不在任何签名批次内的记录"))
    walker.pending = log_model.objects.filter(seq__isnull=True).count()
    walker.problems.sort(key=lambda p: p.seq)
    return walker

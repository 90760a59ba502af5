"""Tamper-evident, append-only logs: the pieces the archive and the audit log share.

DESIGN "Data rules": completed business is archived append-only, linked into a
hash chain (SM3), verifiable by a command; the audit log uses the same chain.
Here: the canonical JSON encoding, the link hash, the append-only model base,
the singleton head row that serialises appends, and the chain walker used by
the verify commands. Nothing here knows about a business."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models

from shebao.common import crypto

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of seq 1."""

_SUITES = {"SM3": "sm", "SHA256": "intl"}


class Reason:
    """The reasons a verify command names (user-facing, Chinese)."""

    DIGEST_MISMATCH = "摘要不符"
    CHAIN_BROKEN = "链断裂"
    SIGNATURE_INVALID = "签名无效"
    DECRYPTION_FAILED = "解密失败"


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


class ChainHead(models.Model):
    """The singleton row (pk 1) holding the last seq and chain hash of one log.

    Appends take it with ``select_for_update`` so they serialise and the chain
    never forks; verify compares it with the last row to catch a cut-off tail."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_chain_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        abstract = True
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="%(app_label)s_%(class)s_singleton")]


def lock_head(head_model: type[ChainHead], log_model: type[models.Model]) -> ChainHead:
    """Lock (creating it if missing) the head row of ``log_model``; call inside atomic.

    A missing head (fresh database, or a flushed test database) is seeded from
    the last row of the log. ``ignore_conflicts`` makes concurrent first appends
    safe on PostgreSQL: the losers wait for the winner's row, then lock it."""
    head = head_model.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    last = log_model.objects.order_by("-seq").values_list("seq", "chain_hash").first()
    seq, chain_hash = last if last else (0, GENESIS_HASH)
    head_model.objects.bulk_create([head_model(pk=1, last_seq=seq, last_chain_hash=chain_hash)], ignore_conflicts=True)
    return head_model.objects.select_for_update().get(pk=1)


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
    to the stored ``chain_hash`` before it, each ``chain_hash`` recomputable."""

    checked: int = 0
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

    def finish(self, head: ChainHead | None) -> None:
        """Compare the head row with the last row: a cut-off tail leaves it ahead."""
        last_seq = self._expected_seq - 1
        if head is None:
            if last_seq:
                self.problems.append(Problem(last_seq, Reason.CHAIN_BROKEN, "链头记录缺失"))
            return
        for missing in range(last_seq + 1, head.last_seq + 1):
            self.problems.append(Problem(missing, Reason.CHAIN_BROKEN, "末尾记录缺失"))
        if head.last_seq == last_seq and last_seq > 0 and head.last_chain_hash != self._prev_hash:
            self.problems.append(Problem(last_seq, Reason.CHAIN_BROKEN, "与链头记录的哈希不符"))

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(
    *,
    log_model: type[models.Model],
    head_model: type[ChainHead],
    check_row: Callable[[Any, ChainWalker], None],
    rows: models.QuerySet | None = None,
) -> ChainWalker:
    """Walk a whole log in seq order, calling ``check_row(row, walker)`` for each.

    Rows are read up to the head as it was at the start, so appends made while
    verifying are neither checked nor reported; rows beyond the head as it is
    at the end cannot come from an append and are reported."""
    head = head_model.objects.filter(pk=1).first()
    queryset = rows if rows is not None else log_model.objects.all()
    if head is not None:
        queryset = queryset.filter(seq__lte=head.last_seq)
    walker = ChainWalker()
    for row in queryset.order_by("seq").iterator(chunk_size=500):
        check_row(row, walker)
    walker.finish(head)
    if head is not None:
        end_head = head_model.objects.filter(pk=1).first() or head
        for seq in log_model.objects.filter(seq__gt=end_head.last_seq).values_list("seq", flat=True):
            walker.problems.append(Problem(seq, Reason.CHAIN_BROKEN, "链头之后多出的记录"))
    walker.problems.sort(key=lambda p: p.seq)
    return walker

"""``manage.py rotate_field_keys``: move every encrypted field and blind index to the current kid.

Rotation, step by step (shebao.common.crypto, "Keys and rotation"):

1. add the new key to ``SHEBAO_PII_KEYS`` / ``SHEBAO_INDEX_KEYS`` and make it
   current; deploy. New writes use it; old values stay readable, lookups
   match rows indexed under either key.
2. run this command. It walks each model with an :class:`EncryptedTextField`
   or a :class:`BlindIndexField` in primary-key order, ``--batch-size`` rows
   a transaction, the rows locked (``SELECT ... FOR UPDATE``) so a
   concurrent edit is not overwritten; it re-encrypts each ciphertext that is
   not under the current kid (first-version ones included: they get the kid
   and the row binding) and recomputes each index that has a source. Only
   rows still to do are selected, so it is idempotent and a second run
   resumes where an interrupted one stopped.
3. ``--check`` (changes nothing) lists what is still not under the current
   kid and exits non-zero while anything is; when it passes, remove the old
   key (and set ``SHEBAO_CRYPTO_LEGACY_READABLE=0``).

Rows are written with ``_base_manager.update()``: the archive's append-only
queryset refuses updates, and rightly for its content, but re-encryption
changes only the envelope -- the archive's digests and hash chain are over the
plain snapshot, not the ciphertext bytes, so ``verify_archive`` still passes.
A row whose ciphertext fails its check (tampered, swapped between rows) is
left as it is and reported; the command then exits non-zero.

Indexes without a source (SMS challenges, login throttles) cannot be
recomputed; they live minutes: remove the old index key only after
``OTP_TTL_SECONDS`` and ``LOGIN_LOCK_SECONDS`` have passed since step 1."""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from shebao.common import crypto
from shebao.common.crypto import DecryptionError
from shebao.common.fields import BlindIndexField, EncryptedTextField, Sealed


def _targets():
    """(model, encrypted fields, blind-index fields) for every concrete model that has one."""
    for model in apps.get_models():
        if model._meta.proxy or model._meta.abstract:
            continue
        enc = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        idx = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
        if enc or idx:
            yield model, enc, idx


def _not_current(field: models.Field, prefix: str) -> models.Q:
    return models.Q(**{f"{field.attname}__isnull": False}) & ~models.Q(**{field.attname: ""}) & ~models.Q(**{f"{field.attname}__startswith": prefix})


def _pending(enc, idx, *, sourced_only: bool) -> models.Q | None:
    pii_prefix = f"v2:{crypto.pii_keyring().current}:"
    index_prefix = f"{crypto.index_keyring().current}:"
    q = None
    for f in enc:
        q = _not_current(f, pii_prefix) if q is None else q | _not_current(f, pii_prefix)
    for f in idx:
        if f.purpose or not sourced_only:
            q = _not_current(f, index_prefix) if q is None else q | _not_current(f, index_prefix)
    return q


class Command(BaseCommand):
    help = "把所有加密字段和盲索引改用当前密钥（分批、可重复执行、可断点续跑）"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200, help="每个事务处理的行数（默认 200）")
        parser.add_argument("--check", action="store_true", help="只检查：列出仍未使用当前密钥的行数，有则返回非零")

    def handle(self, *args, batch_size: int, check: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size 须为正整数")
        self.stdout.write(f"当前密钥：字段加密 {crypto.pii_keyring().current}，盲索引 {crypto.index_keyring().current}")
        if check:
            return self._check()
        failed = 0
        for model, enc, idx in _targets():
            failed += self._rotate(model, enc, idx, batch_size)
        if failed:
            raise CommandError(f"{failed} 行数据校验失败，未改动；请核查后再删除旧密钥")
        self.stdout.write(self.style.SUCCESS("密钥轮换完成"))

    def _check(self):
        left = 0
        for model, enc, idx in _targets():
            q = _pending(enc, idx, sourced_only=False)
            count = model._base_manager.filter(q).count() if q is not None else 0
            sourceless = [f.name for f in idx if not f.purpose]
            note = f"（其中 {'、'.join(sourceless)} 无来源值，过期后自然消失）" if count and sourceless else ""
            self.stdout.write(f"{model._meta.label}: 未使用当前密钥 {count} 行{note}")
            if not sourceless:
                left += count
        if left:
            raise CommandError(f"仍有 {left} 行未使用当前密钥，请先运行 rotate_field_keys")
        self.stdout.write(self.style.SUCCESS("全部使用当前密钥"))

    def _rotate(self, model, enc, idx, batch_size: int) -> int:
        label = model._meta.label
        pending = _pending(enc, idx, sourced_only=True)
        if pending is None:
            self.stdout.write(f"{label}: 盲索引无来源值，跳过（短期数据，过期后自然消失）")
            return 0
        manager = model._base_manager
        total = manager.filter(pending).count()
        pii_kid, index_kid = crypto.pii_keyring().current, crypto.index_keyring().current
        done = rewritten = failed = 0
        last_pk = None
        while True:
            with transaction.atomic():
                qs = manager.filter(pending).order_by("pk")
                if last_pk is not None:
                    qs = qs.filter(pk__gt=last_pk)
                rows = list(qs.select_for_update()[:batch_size])
                if not rows:
                    break
                for row in rows:
                    try:
                        changes = self._changes(row, enc, idx, pii_kid, index_kid)
                    except DecryptionError as exc:
                        failed += 1
                        self.stderr.write(f"{label} pk={row.pk}: {exc}")
                        continue
                    if changes:
                        manager.filter(pk=row.pk).update(**changes)
                        rewritten += 1
                last_pk = rows[-1].pk
            done += len(rows)
            self.stdout.write(f"{label}: {done}/{total} 行（已改写 {rewritten}，失败 {failed}）")
        if not total:
            self.stdout.write(f"{label}: 已全部使用当前密钥")
        return failed

    @staticmethod
    def _changes(row, enc, idx, pii_kid: str, index_kid: str) -> dict:
        changes = {}
        for f in enc:
            stored = row.__dict__.get(f.attname)
            if isinstance(stored, Sealed) and crypto.ciphertext_kid(stored.token) != pii_kid:
                plain = getattr(row, f.attname)  # opened against this row: a swapped ciphertext raises here
                changes[f.attname] = f.seal(plain, f.row_id(row, strict=True))
        for f in idx:
            stored = getattr(row, f.attname)
            if stored and crypto.blind_index_kid(stored) != index_kid:
                fresh = f.compute(row)
                if fresh is not None:
                    changes[f.attname] = str(fresh)
        return changes

"""资料自动归档 (REQUIREMENTS §6): the electronic data of every completed business.

DESIGN "Data rules": completed business is archived append-only -- a canonical
snapshot of the data, linked into a hash chain (SM3) and signed in batches by
the sealer (``manage.py seal_logs``), verifiable by a command
(``manage.py verify_archive``).
Rows are written only by :func:`shebao.archive.services.archive_append`."""

from __future__ import annotations

from django.db import models

from shebao.archive.integrity import AppendOnlyModel, LogSeal
from shebao.common.fields import EncryptedTextField


class BusinessType(models.TextChoices):
    """Businesses whose data is archived; add a member when a business is added."""

    REGISTRATION = "registration", "用户实名注册"
    INFO_UPDATE = "info_update", "信息维护"
    PAYMENT = "payment", "缴费"
    REFUND = "refund", "退费"
    REFUND_DECISION = "refund_decision", "退费决定"
    PAYMENT_REFUND = "payment_refund", "重复缴费原路退款"
    AGREEMENT = "agreement", "委托扣款协议"
    AMOUNT_SETTING = "amount_setting", "应缴费额确定"
    VOIDING = "voiding", "待批扣清册作废"
    WECHAT_BINDING = "wechat_binding", "微信绑定"


class ArchiveRecord(AppendOnlyModel):
    """One archived business. The sealer sets ``seq``, ``prev_hash`` and
    ``chain_hash`` = SM3 over (seq, business_type, business_ref, subject_ref,
    digest, payer_signature, prev_hash, created_at) and signs the batch with SM2
    (:class:`ArchiveSeal`). ``service_signature`` (SM2 over ``chain_hash``) is
    only on rows written before the sealer existed."""

    seq = models.PositiveBigIntegerField("序号", unique=True, null=True, editable=False, help_text="签名时给出；空表示等待签名")
    public_id = models.CharField("归档编号", max_length=32, unique=True, editable=False)
    business_type = models.CharField("业务类型", max_length=32, choices=BusinessType.choices)
    business_ref = models.CharField("业务编号", max_length=128, db_index=True)
    subject_ref = models.CharField("缴费人编号", max_length=64, db_index=True, help_text="账号或缴费人的公开编号，从不存证件号码")
    snapshot = EncryptedTextField("业务数据", help_text="规范化 JSON，国密 SM4 加密存储")
    digest = models.CharField("数据摘要", max_length=64)
    prev_hash = models.CharField("上一条链哈希", max_length=64, null=True, editable=False)  # noqa: DJ001 -- NULL until sealed
    chain_hash = models.CharField("链哈希", max_length=64, unique=True, null=True, editable=False)  # noqa: DJ001 -- NULL until sealed (many unsealed rows, one unique column)
    service_signature = models.CharField("服务签名（旧）", max_length=256, blank=True, help_text="仅旧记录：现由签名批次签名")
    payer_signature = models.TextField("缴费人电子签名", blank=True)
    digest_algorithm = models.CharField("摘要算法", max_length=16)
    created_at = models.DateTimeField("归档时间", db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "归档记录"
        ordering = ["id"]
        indexes = [models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="archive_unsealed_idx")]

    def __str__(self) -> str:
        return f"归档 {self.seq or '待签名'}（{self.get_business_type_display()} {self.business_ref}）"


class ArchiveSeal(LogSeal):
    """A signed batch of the archive (see :class:`~shebao.archive.integrity.LogSeal`)."""

    LOG_NAME = "archive"

    class Meta(LogSeal.Meta):
        verbose_name = verbose_name_plural = "归档签名批次"

"""资料自动归档 (REQUIREMENTS §6): the electronic data of every completed business.

DESIGN "Data rules": completed business is archived append-only -- a canonical
snapshot of the data, linked into a hash chain (SM3), signed where the business
has a signature, verifiable by a command (``manage.py verify_archive``).
Rows are written only by :func:`shebao.archive.services.archive_append`."""

from __future__ import annotations

from django.db import models

from shebao.archive.integrity import AppendOnlyModel, ChainHead
from shebao.common.fields import EncryptedTextField


class BusinessType(models.TextChoices):
    """Businesses whose data is archived; add a member when a business is added."""

    REGISTRATION = "registration", "用户实名注册"
    INFO_UPDATE = "info_update", "信息维护"
    PAYMENT = "payment", "缴费"
    REFUND = "refund", "退费"
    AGREEMENT = "agreement", "委托扣款协议"
    AMOUNT_SETTING = "amount_setting", "应缴费额确定"
    VOIDING = "voiding", "待批扣清册作废"
    WECHAT_BINDING = "wechat_binding", "微信绑定"


class ArchiveRecord(AppendOnlyModel):
    """One archived business. ``chain_hash`` = SM3 over (seq, business_type,
    business_ref, subject_ref, digest, payer_signature, prev_hash, created_at);
    ``service_signature`` = SM2 by the service key over ``chain_hash``."""

    seq = models.PositiveBigIntegerField("序号", unique=True, editable=False)
    public_id = models.CharField("归档编号", max_length=32, unique=True, editable=False)
    business_type = models.CharField("业务类型", max_length=32, choices=BusinessType.choices)
    business_ref = models.CharField("业务编号", max_length=128, db_index=True)
    subject_ref = models.CharField("缴费人编号", max_length=64, db_index=True, help_text="账号或缴费人的公开编号，从不存证件号码")
    snapshot = EncryptedTextField("业务数据", help_text="规范化 JSON，国密 SM4 加密存储")
    digest = models.CharField("数据摘要", max_length=64)
    prev_hash = models.CharField("上一条链哈希", max_length=64)
    chain_hash = models.CharField("链哈希", max_length=64, unique=True)
    service_signature = models.CharField("服务签名", max_length=256)
    payer_signature = models.TextField("缴费人电子签名", blank=True)
    digest_algorithm = models.CharField("摘要算法", max_length=16)
    created_at = models.DateTimeField("归档时间", db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "归档记录"
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"归档 {self.seq}（{self.get_business_type_display()} {self.business_ref}）"


class ArchiveHead(ChainHead):
    """Singleton: the archive chain's last seq and hash, locked by each append."""

    class Meta(ChainHead.Meta):
        verbose_name = verbose_name_plural = "归档链头"

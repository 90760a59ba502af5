"""审计日志 (REQUIREMENTS §7; DESIGN "every read of personal data by staff,
and every staff action, is in an audit log"): who did what to which object,
when, from where, with what result -- append-only; the sealer
(``manage.py seal_logs``) links the rows into an SM3 hash chain and signs them
in batches, so that a changed, removed or inserted row is found by
``manage.py verify_audit``. Rows are written only by
:func:`shebao.audit.services.audit_record`, one INSERT without seq or chain hash."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shebao.archive.integrity import AppendOnlyModel, LogSeal


class ActorKind(models.TextChoices):
    CITIZEN = "citizen", "缴费人"
    STAFF = "staff", "工作人员"
    PARTNER = "partner", "合作渠道"
    SYSTEM = "system", "系统"
    ANONYMOUS = "anonymous", "匿名"


class Outcome(models.TextChoices):
    SUCCESS = "success", "成功"
    FAILURE = "failure", "失败"


class AuditEvent(AppendOnlyModel):
    """One audited action. ``changes`` maps a field name to
    ``{"old": <masked>, "new": <masked>}``: callers pass values already masked
    with :mod:`shebao.common.masking` -- the log never holds clear personal data.
    ``ip`` is stored masked (IPv4 last octet zeroed, IPv6 kept to /48)."""

    seq = models.PositiveBigIntegerField("序号", unique=True, null=True, editable=False, help_text="签名时给出；空表示等待签名")
    created_at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        # An account with audit history is never deleted (it would rewrite the chain).
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_kind = models.CharField("操作人类型", max_length=16, choices=ActorKind.choices)
    # Since the actor (shebao.common.actor): who when there is no account (partner:<channel>,
    # system:<job>) and the door; both are in the chain hash when set (empty on older rows).
    actor_ref = models.CharField("操作人标识", max_length=64, blank=True, default="", db_default="")
    door = models.CharField("渠道", max_length=16, blank=True, default="", db_default="")
    action = models.CharField("动作", max_length=64, db_index=True)
    subject_type = models.CharField("对象类型", max_length=32, blank=True)
    subject_ref = models.CharField("对象编号", max_length=128, blank=True, db_index=True)
    outcome = models.CharField("结果", max_length=16, choices=Outcome.choices)
    changes = models.JSONField("变更（已脱敏）", default=dict, blank=True)
    ip = models.GenericIPAddressField("来源地址（已脱敏）", null=True, blank=True)
    request_id = models.CharField("请求编号", max_length=64, blank=True, db_index=True)
    prev_hash = models.CharField("上一条链哈希", max_length=64, null=True, editable=False)  # noqa: DJ001 -- NULL until sealed
    chain_hash = models.CharField("链哈希", max_length=64, unique=True, null=True, editable=False)  # noqa: DJ001 -- NULL until sealed (many unsealed rows, one unique column)
    digest_algorithm = models.CharField("摘要算法", max_length=16)

    class Meta:
        verbose_name = verbose_name_plural = "审计事件"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_ref"], name="audit_subject_idx"),
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_unsealed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.get_outcome_display()}（{self.seq or '待签名'}）"


class AuditSeal(LogSeal):
    """A signed batch of the audit log (see :class:`~shebao.archive.integrity.LogSeal`)."""

    LOG_NAME = "audit"

    class Meta(LogSeal.Meta):
        verbose_name = verbose_name_plural = "审计签名批次"

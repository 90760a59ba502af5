"""Refund applications (社保费退费申请, REQUIREMENTS §2.3) as the service keeps them: what
was asked, where the money goes, and each step of the way; the core holds the refund
itself (FeeCore ``refund_submit`` / ``refund_get``).

Money safety (issue "Refunds"): per paid item (registration × insurance type × period) one
``RefundItemBalance`` row, locked while an application takes its amount, whose
``committed`` may never exceed ``paid`` (a database CHECK); at most one live application
per item (a partial unique index); every movement of money is an append-only
``RefundLedgerEntry``."""

from __future__ import annotations

from django.db import models

from shebao.archive.integrity import AppendOnlyModel
from shebao.common.fields import EncryptedTextField
from shebao.rules.periods import FeePeriod


class RefundKind(models.TextChoices):
    NORMAL = "normal", "正常缴费退费"
    SPECIAL = "special", "特殊缴费退费"


class RefundState(models.TextChoices):
    ACCEPTED = "accepted", "已受理"
    SUBMITTED = "submitted", "已提交"
    SUCCEEDED = "succeeded", "退库成功"
    FAILED = "failed", "退库失败"


LIVE_REFUND_STATES = (RefundState.ACCEPTED, RefundState.SUBMITTED)


def period_label(period: str, *, yearly: bool) -> str:
    """"202603" as people say it: 2026年3月; a yearly item (no base) is 2026年度."""
    return f"{period[:4]}年度" if yearly else FeePeriod.parse(period).label()


class RefundApplication(models.Model):
    TRANSITIONS = {
        RefundState.ACCEPTED: {RefundState.SUBMITTED, RefundState.FAILED},
        RefundState.SUBMITTED: {RefundState.SUCCEEDED, RefundState.FAILED},
        RefundState.SUCCEEDED: set(),
        RefundState.FAILED: set(),
    }

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    application_no = models.CharField("退费申请编号", max_length=24, unique=True)
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="refunds")
    idempotency_key = models.CharField(max_length=64)
    registration_no = models.CharField("登记序号", max_length=20)
    kind = models.CharField("退费类型", max_length=16, choices=RefundKind.choices)
    insurance_type_code = models.CharField("险种代码", max_length=16)
    insurance_type = models.CharField("险种", max_length=64)
    period = models.CharField("费款所属期", max_length=6)
    base_amount = models.DecimalField("缴费基数", max_digits=14, decimal_places=2, null=True, blank=True)
    paid_amount = models.DecimalField("实缴金额", max_digits=14, decimal_places=2)
    amount = models.DecimalField("退费金额", max_digits=14, decimal_places=2)
    receipt_nos = models.JSONField("电子缴款凭证号", default=list)
    virtual_account_id = models.CharField("虚拟户识别号", max_length=20, blank=True)
    virtual_account_name = models.CharField("虚拟户名称", max_length=100, blank=True)
    sheet_no = models.CharField("核定退费单号", max_length=24, blank=True)
    sheet = models.JSONField("核定退费单", default=dict, blank=True)  # every field as the person entered it
    bank_code = models.CharField("开户银行", max_length=8)
    bank_name = models.CharField("开户银行名称", max_length=32)
    account_number = EncryptedTextField("银行账号")
    account_masked = models.CharField("银行账号（脱敏）", max_length=32)
    holder_name = EncryptedTextField("账户名称")
    state = models.CharField("状态", max_length=16, choices=RefundState.choices, default=RefundState.ACCEPTED)
    core_refund_no = models.CharField("核心退费序号", max_length=24, blank=True)
    failure_reason = models.CharField("退库失败原因", max_length=100, blank=True)
    accepted_at = models.DateTimeField("受理时间")
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    decided_at = models.DateTimeField("退库时间", null=True, blank=True)
    next_expected_at = models.DateTimeField("下一步预计时间", null=True, blank=True)
    verify_code = models.CharField("验证码", max_length=16, unique=True)  # the decision letter's public check

    class Meta:
        verbose_name = verbose_name_plural = "退费申请"
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=models.Q(amount__lte=models.F("paid_amount")), name="refund_not_above_paid"),
            models.UniqueConstraint(fields=["registration_no", "insurance_type_code", "period"],
                                    condition=models.Q(state__in=["accepted", "submitted"]), name="refund_one_live_per_item"),
            models.UniqueConstraint(fields=["account", "idempotency_key"], name="refund_idempotency_once"),
        ]
        indexes = [models.Index(fields=["account", "-accepted_at"], name="refund_account_idx"),
                   models.Index(fields=["state"], name="refund_state_idx")]

    def __str__(self) -> str:
        return f"退费申请 {self.application_no}"

    @property
    def decided(self) -> bool:
        return self.state in (RefundState.SUCCEEDED, RefundState.FAILED)

    @property
    def decision_label(self) -> str:
        """The decision as the letter says it: 同意退费 / 不予退费 (once decided)."""
        return {RefundState.SUCCEEDED: "同意退费", RefundState.FAILED: "不予退费"}.get(self.state, "")

    @property
    def period_label(self) -> str:
        return period_label(self.period, yearly=self.base_amount is None)


class RefundItemBalance(models.Model):
    """What of one paid item is taken by refunds under way or done (``committed``), never
    above what was paid (database CHECK); the row applications lock, one item at a time."""

    registration_no = models.CharField(max_length=20)
    insurance_type_code = models.CharField(max_length=16)
    period = models.CharField(max_length=6)
    paid = models.DecimalField(max_digits=14, decimal_places=2)
    committed = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["registration_no", "insurance_type_code", "period"], name="refund_balance_per_item"),
            models.CheckConstraint(condition=models.Q(committed__gte=0) & models.Q(committed__lte=models.F("paid")),
                                   name="refund_committed_within_paid"),
        ]

    def __str__(self) -> str:
        return f"{self.registration_no} {self.insurance_type_code} {self.period}: {self.committed}/{self.paid}"


class LedgerEntryKind(models.TextChoices):
    RESERVE = "reserve", "申请占用"
    REFUND = "refund", "退库成功"
    RELEASE = "release", "退库失败释放"


class RefundLedgerEntry(AppendOnlyModel):
    """One movement of refund money: append-only (no update, no delete, also not in bulk)."""

    application = models.ForeignKey(RefundApplication, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=16, choices=LedgerEntryKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    reference = models.CharField(max_length=64)  # the application no, the core refund no
    actor_ref = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = "退费台账"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

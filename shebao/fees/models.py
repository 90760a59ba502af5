"""Our side of paying (缴费): the bill a person pays (PaymentOrder), each attempt
at the payment channel (PaymentAttempt, one out_trade_no each), and every
notification received (PaymentNotification), kept for reconciliation and alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OrderState(models.TextChoices):
    OPEN = "open", "待缴费"
    PAID = "paid", "已缴费"
    CANCELLED = "cancelled", "已取消"


class PaymentOrder(models.Model):
    """A bill: the declarations a person pays together, and their total."""

    TRANSITIONS = {OrderState.OPEN: {OrderState.PAID, OrderState.CANCELLED}, OrderState.PAID: set(), OrderState.CANCELLED: set()}

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payment_orders")
    registration_no = models.CharField("登记序号", max_length=20)
    declaration_nos = models.JSONField("申报", default=list)
    description = models.CharField("缴费内容", max_length=127)
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2)
    state = models.CharField("状态", max_length=16, choices=OrderState.choices, default=OrderState.OPEN)
    receipt_no = models.CharField("电子缴款凭证号", max_length=24, blank=True)
    created_at = models.DateTimeField("创建时间")
    paid_at = models.DateTimeField("缴费时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "缴费单"
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_order_amount_positive")]

    def __str__(self) -> str:
        return f"缴费单 {self.public_id}"


class AttemptState(models.TextChoices):
    CREATED = "created", "待支付"
    PAID = "paid", "支付成功"
    FAILED = "failed", "支付失败"
    CLOSED = "closed", "已关闭"
    DUPLICATE = "duplicate", "重复支付待退款"


class PaymentAttempt(models.Model):
    """One order at the payment channel (our ``out_trade_no``). Before a new
    attempt for the same bill, the previous one is queried and closed, so a
    bill is never paid twice by design; if a channel still reports two
    payments, the second is kept as DUPLICATE for refund (never credited)."""

    TRANSITIONS = {
        AttemptState.CREATED: {AttemptState.PAID, AttemptState.FAILED, AttemptState.CLOSED, AttemptState.DUPLICATE},
        AttemptState.FAILED: {AttemptState.CLOSED, AttemptState.PAID, AttemptState.DUPLICATE},
        AttemptState.CLOSED: {AttemptState.PAID, AttemptState.DUPLICATE},  # a late success still counts
        AttemptState.PAID: set(),
        AttemptState.DUPLICATE: set(),
    }

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, related_name="attempts")
    channel = models.CharField("支付渠道", max_length=32)
    out_trade_no = models.CharField("商户订单号", max_length=32, unique=True)
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2)
    state = models.CharField("状态", max_length=16, choices=AttemptState.choices, default=AttemptState.CREATED)
    # NULL until paid: the unique (channel, transaction_id) must allow many unpaid attempts.
    transaction_id = models.CharField("渠道交易号", max_length=64, null=True, blank=True)  # noqa: DJ001
    failure_reason = models.CharField("失败原因", max_length=128, blank=True)
    expire_at = models.DateTimeField("支付截止")
    created_at = models.DateTimeField("创建时间")
    paid_at = models.DateTimeField("支付时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "支付记录"
        constraints = [
            models.UniqueConstraint(fields=["channel", "transaction_id"], name="attempt_channel_txn_once"),
            models.UniqueConstraint(fields=["order"], condition=models.Q(state="paid"), name="attempt_one_paid_per_order"),
        ]

    def __str__(self) -> str:
        return self.out_trade_no


class NotificationOutcome(models.TextChoices):
    CREDITED = "credited", "已入账"
    DUPLICATE = "duplicate", "重复通知"
    REJECTED = "rejected", "验签失败"
    MALFORMED = "malformed", "报文无效"
    WRONG_AMOUNT = "wrong_amount", "金额不符"
    MISMATCH = "mismatch", "账单不符"
    UNKNOWN_ORDER = "unknown_order", "订单不存在"
    NOT_SUCCESS = "not_success", "非成功状态"
    DOUBLE_PAYMENT = "double_payment", "重复支付"


class PaymentNotification(models.Model):
    """Every notification that reached us, with what we did (alerts come from here)."""

    channel = models.CharField(max_length=32)
    out_trade_no = models.CharField(max_length=32, blank=True, db_index=True)
    transaction_id = models.CharField(max_length=64, blank=True)
    amount_fen = models.BigIntegerField(null=True)
    outcome = models.CharField(max_length=16, choices=NotificationOutcome.choices)
    detail = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "支付通知"

    def __str__(self) -> str:
        return f"{self.channel} {self.out_trade_no} {self.outcome}"

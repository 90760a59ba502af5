"""Our side of paying (缴费): the bill a person pays (PaymentOrder), each attempt
at the payment channel (PaymentAttempt, one out_trade_no each), and every
notification received (PaymentNotification), kept for reconciliation and alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from shebao.archive.integrity import AppendOnlyModel


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
    # SHA-256 of the sorted declaration numbers: the database allows one OPEN bill per set
    # (concurrent taps on 缴费 for the same assessed declarations make one bill). NULL on
    # bills made before the constraint existed.
    declaration_key = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001

    class Meta:
        verbose_name = verbose_name_plural = "缴费单"
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_order_amount_positive"),
            models.UniqueConstraint(fields=["declaration_key"], condition=models.Q(state="open"), name="order_one_open_per_declarations"),
        ]

    def __str__(self) -> str:
        return f"缴费单 {self.public_id}"


class AttemptState(models.TextChoices):
    CREATED = "created", "待支付"
    PAID = "paid", "支付成功"
    FAILED = "failed", "支付失败"
    CLOSED = "closed", "已关闭"
    DUPLICATE = "duplicate", "重复支付待退款"
    UNKNOWN = "unknown", "处理中"  # the channel timed out or answered 5xx: resolved by a later query
    REFUND_DUE = "refund_due", "已扣款未入账待退款"  # charged, but the core refused the credit (declarations voided/paid)
    REFUNDED = "refunded", "已原路退回"  # a DUPLICATE or REFUND_DUE payment, refunded through the channel (PaymentRefund)


LIVE_ATTEMPT_STATES = ("created", "failed", "unknown")  # may still be (or become) paid at the channel


class PaymentAttempt(models.Model):
    """One order at the payment channel (our ``out_trade_no``). Before a new
    attempt for the same bill, the previous one is queried and closed, so a
    bill is never paid twice by design; if a channel still reports two
    payments, the second is kept as DUPLICATE for refund (never credited)."""

    TRANSITIONS = {
        AttemptState.CREATED: {AttemptState.PAID, AttemptState.FAILED, AttemptState.CLOSED, AttemptState.DUPLICATE,
                               AttemptState.UNKNOWN, AttemptState.REFUND_DUE},
        AttemptState.FAILED: {AttemptState.CLOSED, AttemptState.PAID, AttemptState.DUPLICATE, AttemptState.REFUND_DUE},
        # unknown → what a query finds: NOTPAY (created), PAYERROR or no such order (failed), closed, paid
        AttemptState.UNKNOWN: {AttemptState.CREATED, AttemptState.PAID, AttemptState.FAILED, AttemptState.CLOSED,
                               AttemptState.DUPLICATE, AttemptState.REFUND_DUE},
        AttemptState.CLOSED: {AttemptState.PAID, AttemptState.DUPLICATE, AttemptState.REFUND_DUE},  # a late success still counts
        AttemptState.PAID: set(),
        AttemptState.DUPLICATE: {AttemptState.REFUNDED},
        AttemptState.REFUND_DUE: {AttemptState.REFUNDED},
        AttemptState.REFUNDED: set(),
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


class PaymentRefundState(models.TextChoices):
    PENDING = "pending", "待退款"  # committed before the channel hears of it: a crash leaves it here, resolved by query
    PROCESSING = "processing", "退款处理中"
    SUCCEEDED = "succeeded", "已原路退回"
    ABNORMAL = "abnormal", "退款异常"  # the payer's card or account cannot take it: staff handle it at the channel
    CLOSED = "closed", "退款关闭"
    REFUSED = "refused", "渠道拒绝退款"


class PaymentRefund(models.Model):
    """The refund, back the way it was paid (原路退回), of money the channel charged that no bill
    keeps: a second payment of a paid bill (DUPLICATE) or a payment the core refused to credit
    (REFUND_DUE). One per attempt (a unique key), always the whole amount (a CHECK: never above
    what was charged). ``out_refund_no`` is the idempotency key at the channel, fixed when the row
    is committed and before the channel is asked, so a retry or a crash recovery can only ever
    find or send this same refund."""

    TRANSITIONS = {
        PaymentRefundState.PENDING: {PaymentRefundState.PROCESSING, PaymentRefundState.SUCCEEDED, PaymentRefundState.ABNORMAL,
                                     PaymentRefundState.CLOSED, PaymentRefundState.REFUSED},
        PaymentRefundState.PROCESSING: {PaymentRefundState.SUCCEEDED, PaymentRefundState.ABNORMAL, PaymentRefundState.CLOSED},
        PaymentRefundState.ABNORMAL: {PaymentRefundState.SUCCEEDED, PaymentRefundState.CLOSED},  # handled by staff at the channel
        PaymentRefundState.SUCCEEDED: set(),
        PaymentRefundState.CLOSED: set(),
        PaymentRefundState.REFUSED: set(),
    }

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    attempt = models.OneToOneField(PaymentAttempt, on_delete=models.PROTECT, related_name="refund")
    out_refund_no = models.CharField("商户退款单号", max_length=64, unique=True)
    amount = models.DecimalField("退款金额", max_digits=14, decimal_places=2)
    charged_amount = models.DecimalField("扣款金额", max_digits=14, decimal_places=2)
    reason = models.CharField("退款原因", max_length=80)
    state = models.CharField("状态", max_length=16, choices=PaymentRefundState.choices, default=PaymentRefundState.PENDING)
    refund_id = models.CharField("渠道退款单号", max_length=64, blank=True)
    received_account = models.CharField("退款入账账户", max_length=64, blank=True)  # as the channel words it, e.g. 招商银行信用卡0403
    failure_reason = models.CharField("失败原因", max_length=128, blank=True)
    created_at = models.DateTimeField("创建时间")
    succeeded_at = models.DateTimeField("退款成功时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "原路退款"
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0) & models.Q(amount__lte=models.F("charged_amount")),
                                   name="payment_refund_within_charged"),
        ]

    def __str__(self) -> str:
        return self.out_refund_no


class PaymentLedgerKind(models.TextChoices):
    REFUND_DUE = "refund_due", "待退款"
    REFUNDED = "refunded", "已原路退回"


class PaymentLedgerEntry(AppendOnlyModel):
    """One movement of money charged but not kept: append-only. A refund's entries sum to what is
    still owed to the payer (due +amount, refunded -amount)."""

    refund = models.ForeignKey(PaymentRefund, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=16, choices=PaymentLedgerKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    reference = models.CharField(max_length=64)  # the channel's transaction id, then its refund id
    actor_ref = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = "退款台账"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


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
    REFUND_DUE = "refund_due", "已扣款未入账待退款"
    REPLAYED = "replayed", "重放通知"
    REFUND = "refund", "退款结果"
    UNKNOWN_REFUND = "unknown_refund", "退款单不存在"


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


class NotificationNonce(models.Model):
    """The ``Wechatpay-Nonce`` of every authentic notification, kept while its timestamp can
    still pass the signature check (5 minutes; pruned after ``NONCE_KEEP``): the unique
    constraint makes a replayed copy fail to claim it, race-free across processes. ``outcome``
    is what the original got, so a replay is answered the same and changes nothing."""

    channel = models.CharField(max_length=32)
    nonce = models.CharField(max_length=64)
    signed_at = models.DateTimeField()  # the notification's Wechatpay-Timestamp
    outcome = models.CharField(max_length=16, choices=NotificationOutcome.choices, blank=True)
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "支付通知随机串"
        constraints = [models.UniqueConstraint(fields=["channel", "nonce"], name="notification_nonce_once")]

    def __str__(self) -> str:
        return f"{self.channel} {self.nonce}"

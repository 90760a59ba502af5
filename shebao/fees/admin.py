"""Back office: bills, channel attempts and notifications (read-only, no personal data shown)."""

from django.contrib import admin

from shebao.common.admin_base import ReadOnlyAdmin
from shebao.fees.models import PaymentAttempt, PaymentLedgerEntry, PaymentNotification, PaymentOrder, PaymentRefund


class AttemptInline(admin.TabularInline):
    model = PaymentAttempt
    fields = ("out_trade_no", "channel", "amount", "state", "transaction_id", "failure_reason", "created_at", "paid_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PaymentOrder)
class PaymentOrderAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "description", "amount", "state", "receipt_no", "created_at", "paid_at")
    list_filter = ("state",)
    search_fields = ("public_id", "receipt_no", "registration_no")
    fields = ("public_id", "registration_no", "declaration_nos", "description", "amount", "state", "receipt_no", "created_at", "paid_at")
    inlines = [AttemptInline]


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    list_display = ("out_trade_no", "channel", "amount", "state", "transaction_id", "created_at", "paid_at")
    list_filter = ("state", "channel")
    search_fields = ("out_trade_no", "transaction_id")
    exclude = ("order",)


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "channel", "out_trade_no", "transaction_id", "amount_fen", "outcome", "detail")
    list_filter = ("outcome", "channel")
    search_fields = ("out_trade_no", "transaction_id")


class PaymentLedgerInline(admin.TabularInline):
    model = PaymentLedgerEntry
    fields = ("kind", "amount", "reference", "actor_ref", "at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PaymentRefund)
class PaymentRefundAdmin(ReadOnlyAdmin):
    """Double payments refunded back the way they came (原路退回): their state at the channel, and
    their ledger. ABNORMAL / CLOSED / REFUSED ones are handled at the channel's merchant console."""

    list_display = ("out_refund_no", "amount", "reason", "state", "refund_id", "created_at", "succeeded_at")
    list_filter = ("state", "reason")
    search_fields = ("out_refund_no", "refund_id")
    fields = ("out_refund_no", "amount", "charged_amount", "reason", "state", "refund_id", "failure_reason", "created_at", "succeeded_at")
    inlines = [PaymentLedgerInline]

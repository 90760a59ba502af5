"""Payment-channel callbacks (JSON API, OpenAPI via django-ninja).

WeChat Pay v3 notification contract (interfaces.md §4.6): success = HTTP 204
with no body; failure = 4XX/5XX with {"code":"FAIL","message":"失败"} so the
channel retries. A duplicate answers success again and changes nothing.

A signed notification that contradicts the bill (currency, amount, out_trade_no;
appid/mchid are refused by the adapter) or cannot be read (over 64 KiB, nested
too deep) is recorded and answered 400 FAIL, a bad signature 401 FAIL: WeChat Pay
retries, each retry is recorded and alerted again, nothing is ever credited.

A copy of an already handled notification (same Wechatpay-Nonce within the timestamp
window) is refused as a replay: recorded, nothing done, answered 204."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from ninja import Router

from shebao.common import clock
from shebao.fees import channel_refunds, services
from shebao.fees.models import NotificationOutcome

router = Router(tags=["支付通知"])

# REFUND_DUE: charged but not credited (kept as money to refund); REPLAYED: a copy of a message
# already handled (its nonce was seen) — both are accounted for, so WeChat Pay need not retry.
_ACK = {NotificationOutcome.REFUND, NotificationOutcome.UNKNOWN_REFUND, NotificationOutcome.CREDITED, NotificationOutcome.DUPLICATE, NotificationOutcome.NOT_SUCCESS, NotificationOutcome.DOUBLE_PAYMENT,
        NotificationOutcome.REFUND_DUE, NotificationOutcome.REPLAYED}


def _handled(request, channel: str, handle):
    """The channel contract around a handler: 204 for what is accounted for, 401 for a bad
    signature, 400 for the rest (the channel retries), an unknown channel refused."""
    if channel != "wechatpay":
        return JsonResponse({"code": "FAIL", "message": "未知渠道"}, status=400)
    headers = {k.lower(): v for k, v in request.headers.items()}
    outcome = handle(channel_name=channel, headers=headers, body=request.body, now=clock.now())
    if outcome in _ACK:
        return HttpResponse(status=204)
    status = 401 if outcome == NotificationOutcome.REJECTED else 400
    return JsonResponse({"code": "FAIL", "message": "失败"}, status=status)


@router.post("/pay/{channel}/notify", summary="支付结果通知", response={204: None, 400: dict, 401: dict})
def payment_notify(request, channel: str):
    """Verify, decrypt and credit a payment notification exactly once."""
    return _handled(request, channel, services.notification_handle)


@router.post("/pay/{channel}/refund-notify", summary="退款结果通知", response={204: None, 400: dict, 401: dict})
def refund_notify(request, channel: str):
    """Verify and decrypt a refund notification, and take its word on our refund (idempotent).
    A refund we do not know is recorded and acknowledged: retrying would not make it ours."""
    return _handled(request, channel, channel_refunds.refund_notification_handle)

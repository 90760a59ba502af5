"""The partner API, version 1 (issue 13): JSON under ``/api/v1/``, described by the OpenAPI
document at ``/api/openapi.json``. Every request is signed by the partner (``api_auth``);
writes carry an ``Idempotency-Key``; every error is ``{code, message, request_id}``.
Thin handlers: authenticate, call one service or selector, answer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from ninja import Field, Header, Router, Schema, Status

from shebao.common import clock
from shebao.sso import exchange, selectors
from shebao.sso.api_auth import ApiError, idempotent, partner_authenticate
from shebao.sso.errors import SsoRefused

router = Router(tags=["合作渠道接口 v1"])

class ErrorOut(Schema):
    code: str
    message: str = Field(description="中文说明")
    request_id: str


class TicketIn(Schema):
    ticket: str = Field(min_length=1, max_length=8192, description="合作渠道签发的单点登录票据")


class ArrivalOut(Schema):
    arrival_url: str = Field(description="一次性进入地址（60 秒内有效，不含身份信息）")
    expires_in: int
    login_id: str


class SessionIn(Schema):
    partner_session: str = Field(min_length=1, max_length=128, description="合作渠道的会话标识")


class CheckOut(Schema):
    partner_session: str
    active: bool


class LogoutOut(Schema):
    partner_session: str
    ended: int


class PaymentOut(Schema):
    order_no: str
    state: str
    state_label: str
    amount: Decimal
    paid_at: dt.datetime | None


class AgreementOut(Schema):
    agreement_no: str
    kind: str = Field(description="three_party（三方协议）或 two_party（两两协议）")
    state: str
    state_label: str


IDEMPOTENCY_KEY = r"^[A-Za-z0-9_-]{8,64}$"


def _errors(*codes: int) -> dict:
    return {code: ErrorOut for code in codes}


Signed = dict(
    x_partner_id=Header(..., alias="X-Partner-Id", max_length=32, description="渠道标识"),
    x_timestamp=Header(..., alias="X-Timestamp", max_length=12, description="请求时间（秒级时间戳）"),
    x_nonce=Header(..., alias="X-Nonce", max_length=64, description="一次性随机串"),
    x_signature=Header(..., alias="X-Signature", max_length=200, description="签名（Base64）"),
)


def _refused(exc: SsoRefused) -> ApiError:
    return ApiError(400, exc.code, exc.message)


@router.post("/v1/sso/tickets", summary="单点登录票据兑换", response={200: ArrivalOut, **_errors(400, 401, 409, 422)})
def ticket_exchange(request, body: TicketIn, x_partner_id: str = Signed["x_partner_id"], x_timestamp: str = Signed["x_timestamp"],
                    x_nonce: str = Signed["x_nonce"], x_signature: str = Signed["x_signature"],
                    idempotency_key: str = Header(..., alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY)):
    """Verify a ticket the partner issued and get a one-time arrival URL for the person's browser."""
    now = clock.now()
    channel, actor = partner_authenticate(request, now=now)

    def work():
        try:
            login = exchange.sso_ticket_exchange(channel=channel, token=body.ticket, actor=actor, now=now)
        except SsoRefused as exc:
            raise _refused(exc) from None
        url = f"{settings.SELF_URL}/sso/arrive/{exchange.arrival_code(login)}"
        return 200, {"arrival_url": url, "expires_in": exchange.ARRIVAL_SECONDS, "login_id": login.public_id}

    return Status(*idempotent(request, channel=channel, scope="sso.tickets", work=work))


@router.post("/v1/sso/check", summary="会话状态查询（反向核验）", response={200: CheckOut, **_errors(401, 409, 422)})
def session_check(request, body: SessionIn, x_partner_id: str = Signed["x_partner_id"], x_timestamp: str = Signed["x_timestamp"],
                  x_nonce: str = Signed["x_nonce"], x_signature: str = Signed["x_signature"]):
    """Whether the person of a partner session is still signed in here (read-only)."""
    channel, _ = partner_authenticate(request, now=clock.now())
    return Status(200, {"partner_session": body.partner_session,
                        "active": selectors.partner_session_active(channel=channel, partner_session=body.partner_session)})


@router.post("/v1/sso/logout", summary="合作渠道通知退出", response={200: LogoutOut, **_errors(400, 401, 409, 422)})
def partner_logout(request, body: SessionIn, x_partner_id: str = Signed["x_partner_id"], x_timestamp: str = Signed["x_timestamp"],
                   x_nonce: str = Signed["x_nonce"], x_signature: str = Signed["x_signature"],
                   idempotency_key: str = Header(..., alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY)):
    """The partner signed the person out: end our sessions bound to that partner session."""
    now = clock.now()
    channel, actor = partner_authenticate(request, now=now)
    return Status(*idempotent(request, channel=channel, scope="sso.logout", work=lambda: (200, {
        "partner_session": body.partner_session,
        "ended": exchange.sso_partner_logout(channel=channel, partner_session=body.partner_session, actor=actor, now=now)})))


@router.get("/v1/payments/{order_no}", summary="缴费单状态", response={200: PaymentOut, **_errors(401, 404, 409, 422)})
def payment_state(request, order_no: str, x_partner_id: str = Signed["x_partner_id"], x_timestamp: str = Signed["x_timestamp"],
                  x_nonce: str = Signed["x_nonce"], x_signature: str = Signed["x_signature"]):
    """The state of a bill of a person who came through this partner."""
    channel, _ = partner_authenticate(request, now=clock.now())
    order = selectors.payment_order_for_partner(channel=channel, order_no=order_no[:32])
    if order is None:
        raise ApiError(404, "not_found", "未找到该缴费单")
    return Status(200, {"order_no": order.public_id, "state": order.state, "state_label": order.get_state_display(),
                        "amount": order.amount, "paid_at": order.paid_at})


@router.get("/v1/agreements/{agreement_no}", summary="委托扣款协议状态", response={200: AgreementOut, **_errors(401, 404, 409, 422)})
def agreement_state(request, agreement_no: str, x_partner_id: str = Signed["x_partner_id"], x_timestamp: str = Signed["x_timestamp"],
                    x_nonce: str = Signed["x_nonce"], x_signature: str = Signed["x_signature"]):
    """The state of a three-party or two-party agreement of a person who came through this partner."""
    channel, _ = partner_authenticate(request, now=clock.now())
    found = selectors.agreement_for_partner(channel=channel, agreement_no=agreement_no[:32])
    if found is None:
        raise ApiError(404, "not_found", "未找到该协议")
    kind, agreement = found
    return Status(200, {"agreement_no": agreement.agreement_no, "kind": kind, "state": agreement.state,
                        "state_label": agreement.get_state_display()})

"""Partner API plumbing: the one JSON error shape ``{code, message, request_id}``, the request
signature check (``wire.api_signing_string``: method, path, timestamp, nonce, SHA-256 of the
body, signed with the channel's key; timestamp within the skew window; nonce once) and
idempotency keys on writes."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse

from shebao.adapters import partner as wire
from shebao.common import partner_crypto
from shebao.common.actor import Actor
from shebao.common.client_ip import client_ip
from shebao.common.idempotency import IdempotencyConflict, idempotency_claim, idempotency_complete
from shebao.sso.errors import SsoRefused
from shebao.sso.models import NonceScope, PartnerChannel
from shebao.sso.services import nonce_claim

logger = logging.getLogger("shebao.sso.api")
_NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(request, *, status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "request_id": getattr(request, "request_id", "")}, status=status,
                        json_dumps_params={"ensure_ascii": False})


def install_error_handlers(api) -> None:
    """Every error of the API in the one shape (the payment-callback routes keep answering
    their channel's own contract in their handlers)."""
    from django.http import Http404
    from ninja.errors import AuthenticationError, HttpError, ValidationError

    api.add_exception_handler(ApiError, lambda r, e: error_response(r, status=e.status, code=e.code, message=e.message))
    api.add_exception_handler(ValidationError, lambda r, e: error_response(r, status=422, code="invalid_request", message="请求参数不符合接口定义"))
    api.add_exception_handler(AuthenticationError, lambda r, e: error_response(r, status=401, code="unauthorized", message="未通过身份验证"))
    api.add_exception_handler(Http404, lambda r, e: error_response(r, status=404, code="not_found", message="未找到"))
    api.add_exception_handler(HttpError, lambda r, e: error_response(r, status=e.status_code, code="http_error", message="请求无法处理"))

    def _unexpected(request, exc):
        logger.exception("partner api error")
        return error_response(request, status=500, code="internal_error", message="系统错误，请稍后再试")

    api.add_exception_handler(Exception, _unexpected)


def partner_authenticate(request, *, now: dt.datetime) -> tuple[PartnerChannel, Actor]:
    """The channel that signed this request, and its actor; :class:`ApiError` otherwise."""
    unauthorized = ApiError(401, "unauthorized", "合作渠道未登记、已停用或请求签名无效")
    channel = PartnerChannel.objects.filter(identifier=request.headers.get("X-Partner-Id", "")[:32], enabled=True).first()
    timestamp, nonce = request.headers.get("X-Timestamp", ""), request.headers.get("X-Nonce", "")
    if channel is None or not timestamp.isdigit() or len(timestamp) > 12 or not _NONCE.fullmatch(nonce):
        raise unauthorized
    skew = settings.SSO["CLOCK_SKEW_SECONDS"]
    if abs(now.timestamp() - int(timestamp)) > skew:
        raise ApiError(401, "clock_skew", "请求时间与本服务时间相差过大")
    try:
        signature = base64.b64decode(request.headers.get("X-Signature", ""), validate=True)
    except (binascii.Error, ValueError):
        raise unauthorized from None
    signed = wire.api_signing_string(method=request.method, path=request.path, timestamp=timestamp, nonce=nonce, body=request.body)
    if not partner_crypto.partner_verify(channel.signature_algorithm, channel.public_key, signed, signature):
        raise unauthorized
    try:
        nonce_claim(channel=channel, scope=NonceScope.API, nonce=nonce, now=now,
                    expires_at=dt.datetime.fromtimestamp(int(timestamp) + skew, tz=dt.UTC))
    except SsoRefused:
        raise ApiError(409, "replayed", "该请求已收到过（nonce 重复）") from None
    actor = Actor.partner(channel.identifier, client_address=client_ip(request), request_id=getattr(request, "request_id", ""))
    return channel, actor


def idempotent(request, *, channel: PartnerChannel, scope: str, work: Callable[[], tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, Any]]:
    """Run a write once per ``Idempotency-Key``: a retry with the same body gets the first
    answer; the same key with another body is refused; a failed write frees the key."""
    key = request.headers.get("Idempotency-Key", "")
    if not _KEY.fullmatch(key):
        raise ApiError(400, "idempotency_key_required", "写操作须带 Idempotency-Key（8-64 位字母、数字、_ 或 -）")
    try:
        with transaction.atomic():
            claim = idempotency_claim(scope=f"partner:{channel.identifier}:{scope}"[:64], key=key, request_hash=wire.body_digest(request.body))
    except IdempotencyConflict:
        raise ApiError(409, "idempotency_conflict", "该 Idempotency-Key 已用于另一请求") from None
    if not claim.fresh:
        if not claim.row.result:
            raise ApiError(409, "in_progress", "该 Idempotency-Key 的请求正在处理")
        status, data = json.loads(claim.row.result)
        return status, data
    try:
        status, data = work()
    except BaseException:
        claim.row.delete()
        raise
    with transaction.atomic():
        idempotency_complete(claim, result=json.dumps([status, data], ensure_ascii=False))
    return status, data

"""Arrival from WeChat (snsapi_base web authorisation) and openid binding."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from shebao.accounts import services
from shebao.accounts.views import citizen_required
from shebao.adapters.wechat import get_wechat_oauth
from shebao.adapters.wechat.port import WechatError
from shebao.common import clock, crypto
from shebao.common.actor import request_actor

STATE_KEY = "wechat_oauth_state"
PAY_OPENID = "pay_openid"
# {"order": public_id, "at": unix time}: set when the identification that a tap on 去支付
# started comes back, read (once, within PAY_RESUME_SECONDS) by that bill's page, which
# then goes straight on to the payment: one tap, not two
PAY_RESUME = "pay_resume"
PAY_RESUME_SECONDS = 300


def _authorise(request, *, purpose: str, next_url: str, resume: str = ""):
    """Send the browser to WeChat's authorise page; ``state`` is bound to this session."""
    state = crypto.random_token(16).replace("-", "a").replace("_", "b")
    request.session[STATE_KEY] = {"state": state, "purpose": purpose, "next": next_url, "resume": resume}
    oauth = get_wechat_oauth()
    redirect_uri = settings.SELF_URL + reverse("accounts:wechat_callback")
    return redirect(oauth.authorize_url(redirect_uri=redirect_uri, state=state))


@citizen_required
@require_POST
def wechat_bind_start(request):
    return _authorise(request, purpose="bind", next_url=reverse("accounts:me"))


@citizen_required
@require_GET
def wechat_identify_start(request):
    """Before a JSAPI payment: the payer's openid under our appid (snsapi_base,
    silent inside WeChat), kept in the session only."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("fees:index")
    return _authorise(request, purpose="pay", next_url=next_url)


def authorise_for_payment(request, *, order_url: str, order_ref: str):
    """去支付 pressed (a POST, CSRF-checked) without the payer's openid: identify them
    (silent snsapi_base), then come back to ``order_url`` and go on to pay ``order_ref``.
    Safe to go on without a second tap: only this session's single-use ``state``,
    created by that POST, can set the resume mark."""
    return _authorise(request, purpose="pay", next_url=order_url, resume=order_ref)


def pay_resume_take(request, order_ref: str) -> bool:
    """True once if the identification for paying ``order_ref`` has just come back."""
    mark = request.session.get(PAY_RESUME)
    if not mark:
        return False
    del request.session[PAY_RESUME]
    return mark.get("order") == order_ref and 0 <= clock.now().timestamp() - mark.get("at", 0) <= PAY_RESUME_SECONDS


@citizen_required
@require_GET
def wechat_callback(request):
    pending = request.session.pop(STATE_KEY, None) or {}
    state = request.GET.get("state", "")
    if not pending.get("state") or not hmac.compare_digest(pending["state"], state):
        messages.error(request, "微信授权已失效，请重新操作")
        return redirect("accounts:me")
    code = request.GET.get("code")
    if not code:
        messages.error(request, "您未同意微信授权" + ("，未绑定微信" if pending["purpose"] == "bind" else "，无法使用微信支付"))
        return redirect(pending["next"])
    oauth = get_wechat_oauth()
    try:
        token = oauth.exchange_code(code=code)
        if pending["purpose"] == "pay":
            request.session[PAY_OPENID] = token.openid
            if pending.get("resume"):  # straight on to the payment (the bill's page starts it)
                request.session[PAY_RESUME] = {"order": pending["resume"], "at": int(clock.now().timestamp())}
            else:
                messages.success(request, "已确认微信身份，请点击“去支付”完成缴费")
            return redirect(pending["next"])
        services.wechat_bind(actor=request_actor(request), appid=oauth.appid, openid=token.openid, now=clock.now())
    except WechatError as exc:
        messages.error(request, "微信授权失败，请稍后重试" if exc.retryable else f"微信授权失败：{exc}")
        return redirect("accounts:me")
    except services.AccountError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:me")
    messages.success(request, "已绑定微信，办理结果和通知公告将通过“12366”公众号提醒您")
    return redirect("accounts:me")


@citizen_required
@require_POST
def wechat_unbind(request):
    services.wechat_unbind(actor=request_actor(request), now=clock.now())
    messages.success(request, "已解除微信绑定")
    return redirect("accounts:me")

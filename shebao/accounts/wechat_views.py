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

STATE_KEY = "wechat_oauth_state"
PAY_OPENID = "pay_openid"


def _authorise(request, *, purpose: str, next_url: str):
    """Send the browser to WeChat's authorise page; ``state`` is bound to this session."""
    state = crypto.random_token(16).replace("-", "a").replace("_", "b")
    request.session[STATE_KEY] = {"state": state, "purpose": purpose, "next": next_url}
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
            messages.success(request, "已确认微信身份，请点击“去支付”完成缴费")
            return redirect(pending["next"])
        services.wechat_bind(account=request.user, appid=oauth.appid, openid=token.openid, now=clock.now(), request=request)
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
    services.wechat_unbind(account=request.user, now=clock.now(), request=request)
    messages.success(request, "已解除微信绑定")
    return redirect("accounts:me")

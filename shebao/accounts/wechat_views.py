"""Arrival from WeChat (snsapi_base web authorisation) and openid binding."""

from __future__ import annotations

import hmac

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from shebao.accounts import services
from shebao.accounts.views import citizen_required
from shebao.adapters.wechat import get_wechat_oauth
from shebao.adapters.wechat.port import WechatError
from shebao.common import clock, crypto

STATE_KEY = "wechat_oauth_state"


@citizen_required
@require_POST
def wechat_bind_start(request):
    """Send the browser to WeChat's authorise page; ``state`` is bound to this session."""
    state = crypto.random_token(16).replace("-", "a").replace("_", "b")
    request.session[STATE_KEY] = state
    oauth = get_wechat_oauth()
    redirect_uri = request.build_absolute_uri(reverse("accounts:wechat_callback"))
    return redirect(oauth.authorize_url(redirect_uri=redirect_uri, state=state))


@citizen_required
@require_GET
def wechat_callback(request):
    expected = request.session.pop(STATE_KEY, None)
    state = request.GET.get("state", "")
    if not expected or not hmac.compare_digest(expected, state):
        messages.error(request, "微信授权已失效，请重新点击“绑定微信”")
        return redirect("accounts:me")
    code = request.GET.get("code")
    if not code:
        messages.error(request, "您未同意微信授权，未绑定微信")
        return redirect("accounts:me")
    oauth = get_wechat_oauth()
    try:
        token = oauth.exchange_code(code=code)
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

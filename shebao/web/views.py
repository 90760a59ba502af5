"""Site-wide pages: home, health and readiness, elderly-mode switch, CSRF failure."""

from __future__ import annotations

import ipaddress

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

ELDERLY_COOKIE = "elderly"


def home(request):
    return render(request, "web/home.html")


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: send them to the static icon
    (its URL read at request time, so the hashed name of the manifest storage is used)."""
    return redirect(static("web/favicon.ico"), permanent=True)


def healthz(request):
    return JsonResponse({"status": "ok"})


# Headers a reverse proxy adds: a request carrying one came through a proxy, even from loopback.
PROXY_HEADERS = (
    "HTTP_FORWARDED", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_REAL_IP", "HTTP_VIA", "HTTP_TRUE_CLIENT_IP", "HTTP_X_CLIENT_IP",
)


def readyz_details_allowed(request) -> bool:
    """Which check failed (a missing secret, a broken key) is for operators only: a probe
    on the host itself (loopback, no proxy header) or one carrying ``X-Readyz-Token``
    equal to ``READYZ_TOKEN`` (compared in constant time; an empty setting matches nothing)."""
    from django.conf import settings
    from django.utils.crypto import constant_time_compare

    token = getattr(settings, "READYZ_TOKEN", "")
    sent = request.headers.get("X-Readyz-Token", "")
    if token and sent and constant_time_compare(sent, token):
        return True
    try:
        loopback = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False
    return loopback and not any(request.META.get(h) for h in PROXY_HEADERS)


def readyz(request):
    """200 when the database and every adapter are usable, else 503. Everyone gets the
    status; only ``readyz_details_allowed`` callers get the checks."""
    checks = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure
        checks["database"] = f"error: {type(exc).__name__}"
    from shebao.web.readiness import adapter_checks

    checks.update(adapter_checks())
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ready else "unavailable"}
    if readyz_details_allowed(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if ready else 503)


@require_POST
def toggle_elderly(request):
    """Switch 大字版 on or off; remembered for a year in a cookie (no personal data)."""
    nxt = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = "/"
    response = redirect(nxt)
    on = request.COOKIES.get(ELDERLY_COOKIE) != "1"
    response.set_cookie(ELDERLY_COOKIE, "1" if on else "0", max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def csrf_failure(request, reason=""):
    return render(request, "web/error.html", {"title": "页面已过期", "message": "页面停留时间过长或已在别处提交，请返回后刷新页面再试。"}, status=403)


SOON = "暂未开通"


def _user_module(citizen) -> dict:
    """用户中心: for a visitor, 注册 and 登录 first; for a logged-in person, their own
    entries (信息查看, 信息维护, 办理记录) and 退出登录 instead (issue 8)."""
    from django.urls import reverse

    if citizen is None:
        return {
            "title": "用户中心",
            "desc": "实名注册、登录、查看和维护本人信息。",
            "items": [
                {"name": "用户实名注册", "url": reverse("accounts:register"), "note": "城乡居民 / 灵活就业"},
                {"name": "登录", "url": reverse("accounts:login"), "note": "证件号码或手机号码"},
                {"name": "信息查看", "url": reverse("accounts:me"), "note": "基础信息、参保信息"},
                {"name": "更换手机号码", "url": reverse("accounts:change_mobile"), "note": "短信验证新号码"},
                {"name": "维护联系地址", "url": reverse("accounts:change_address"), "note": ""},
            ],
        }
    return {
        "title": "用户中心",
        "desc": f"您好，{citizen.name}（{citizen.get_person_type_display()}），您已登录。",
        "items": [
            {"name": "信息查看", "url": reverse("accounts:me"), "note": "基础信息、参保信息"},
            {"name": "信息维护：更换手机号码", "url": reverse("accounts:change_mobile"), "note": "短信验证新号码"},
            {"name": "信息维护：联系地址", "url": reverse("accounts:change_address"), "note": ""},
            {"name": "办理记录", "url": reverse("accounts:records"), "note": "本人办理的业务"},
        ],
        "logout": True,
    }


def _modules(citizen=None):
    from django.urls import reverse

    return {
        "user": _user_module(citizen),
        "fees": {
            "title": "涉费业务",
            "desc": "社保费申报缴纳及相关业务。标注“暂未开通”的业务请暂到办税服务厅或银行办理。",
            "items": [
                {"name": "申报及缴纳", "url": reverse("fees:declare"), "note": "按年度和档次缴费"},
                {"name": "缴费记录与缴费回单", "url": reverse("fees:payments"), "note": "回单下载、真伪验证"},
                {"name": "社保费退费申请", "url": reverse("refunds:index"), "note": "正常缴费退费、特殊缴费退费、虚拟户"},
                {"name": "委托扣款缴费协议", "url": reverse("agreements:list"), "note": "三方协议、两两协议"},
                {"name": "城乡居民应缴费额确定", "url": reverse("agreements:payable_amount"), "note": "批量扣款的缴费档次"},
                {"name": "待批扣清册作废", "url": reverse("agreements:batch_void"), "note": "扣款前可作废"},
            ],
        },
        "query": {
            "title": "查询业务",
            "desc": "按本人姓名、证件类型和证件号码查询。",
            "items": [
                {"name": "灵活就业参保信息查询", "url": reverse("query:insured", args=["flexible"]), "note": ""},
                {"name": "城乡居民参保信息查询", "url": reverse("query:insured", args=["resident"]), "note": ""},
                {"name": "虚拟户申报结果查询", "url": reverse("query:virtual"), "note": "城乡居民（自主模式）"},
                {"name": "待批扣清册查询", "url": reverse("agreements:batch_query"), "note": "批量扣款的日期、金额和结果"},
                {"name": "委托扣款协议查询", "url": reverse("agreements:list"), "note": "两两协议、三方协议"},
            ],
        },
        "public": {
            "title": "公众服务",
            "desc": "通知公告和操作手册，无需登录。",
            "items": [
                {"name": "操作手册", "url": reverse("manual"), "note": "在线阅读"},
                {"name": "通知公告", "url": reverse("notices:list"), "note": "政策法规、业务通知"},
            ],
        },
    }


def module(request, key: str):
    from django.http import Http404

    user = request.user
    modules = _modules(user if user.is_authenticated and getattr(user, "person_type", "") else None)
    if key not in modules:
        raise Http404
    return render(request, "web/module.html", {"module": modules[key]})


"""涉费业务 pages: declare and pay, bills, receipts, public receipt verification.
Thin: parse, call one service or selector, render."""

from __future__ import annotations

from urllib.parse import quote as quote_filename
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from shebao.accounts import services as account_services
from shebao.accounts.models import SmsPurpose
from shebao.accounts.views import citizen_required, send_sms_code
from shebao.accounts.wechat_views import PAY_OPENID, authorise_for_payment, pay_resume_take
from shebao.adapters.core import get_core
from shebao.adapters.payment import get_payment_channel
from shebao.common import clock, crypto
from shebao.common.actor import remember_step_up, request_actor
from shebao.fees import selectors, services
from shebao.fees.forms import DeclareForm
from shebao.fees.models import AttemptState, OrderState
from shebao.fees.quotes import declare_options, default_periods, months_overview, quote
from shebao.reference.selectors import insurance_type_names
from shebao.rules.periods import FeePeriod


@citizen_required
def index(request):
    account = request.user
    profile = selectors.payer_profile_for(account)
    pending = get_core().declarations_pending(registration_no=profile.registration_no) if profile else []
    assessed = [d for d in pending if d.mode == "assessed"]
    open_orders = selectors.order_list(account=account).filter(state=OrderState.OPEN)[:5]
    return render(request, "fees/index.html", {"profile": profile, "assessed": assessed, "open_orders": open_orders})


def _declare_form(request, profile, today, data=None):
    opts = declare_options(profile=profile, today=today, asked_year=(data or {}).get("contribution_year", ""))
    names = insurance_type_names()
    year = opts.year
    # the months of the year already paid or declared: shown, never the default, refused in the quote
    taken = get_core().periods_taken(registration_no=profile.registration_no, contribution_year=year)
    months = months_overview(opts=opts, names=names, taken=taken, today=today)
    start, end = default_periods(months, year=year, today=today)
    form = DeclareForm(
        data, type_choices=[(code, names[code]) for code in opts.type_codes], year_choices=[(y, f"{y}年度") for y in opts.years],
        period_choices=[(f"{year}-{m:02d}", f"{year}年{m}月") for m in range(1, 13)],
        grade_choices=[(str(g), f"{g}元") for g in opts.grades], base_hint=opts.base_grades[0] if opts.base_grades else None,
        initial={"idem": crypto.random_token(), "contribution_year": year, "period_from": str(start), "period_to": str(end)},
    )
    return form, {"names": names, "base_grades": opts.base_grades, "has_base": opts.has_base, "has_grade": bool(opts.grades),
                  "rules": opts.rules, "year": year, "months": months, "taken": taken}


@citizen_required
@require_http_methods(["GET", "POST"])
def declare(request):
    """申报及缴纳: pick insurance, year, periods and base/grade; see the amount; confirm with SMS; pay."""
    account = request.user
    profile = selectors.payer_profile_for(account)
    if profile is None:
        return render(request, "fees/no_record.html")
    now = clock.now()
    today = clock.today()
    data = request.POST if request.method == "POST" else None
    form, ctx = _declare_form(request, profile, today, data)
    actor = request_actor(request)
    ctx.update({"form": form, "profile": profile, "step_up_fresh": actor.step_up_fresh(now)})
    if data is None:
        return render(request, "fees/declare.html", ctx)
    action = request.POST.get("action", "quote")
    if not form.is_valid():  # nothing is sent for a form that cannot be declared
        return render(request, "fees/declare.html", ctx, status=400 if action in ("confirm", "send_code") else 200)
    d = form.cleaned_data
    q = quote(profile=profile, insurance_type_codes=d["insurance_types"], names=ctx["names"], contribution_year=d["contribution_year"],
              period_from=FeePeriod.parse(d["period_from"]) if d["period_from"] else None,
              period_to=FeePeriod.parse(d["period_to"]) if d["period_to"] else None, base=d["base"], grade=d["grade"], today=today,
              taken=ctx["taken"])
    ctx["quote"] = q
    if action == "confirm" and not q.allowed and (done := selectors.order_for_declare_key(account=account, key=d["idem"])):
        return redirect("fees:order", public_id=done.public_id)  # a double tap: its months are now declared, by this form
    if action == "send_code":  # the code for 确认: only for a declaration that may be made (a paid month is named first)
        if not q.allowed:
            return render(request, "fees/declare.html", ctx, status=400)
        sms = send_sms_code(request, mobile=account.mobile, purpose=SmsPurpose.STEP_UP)
        ctx["sms_wait"] = sms.wait
        return sms.apply(render(request, "fees/declare.html", ctx))
    if action != "confirm" or not q.allowed:  # a refusal (e.g. a month already paid) comes before any SMS code
        return render(request, "fees/declare.html", ctx, status=400 if action == "confirm" else 200)
    if not ctx["step_up_fresh"]:
        try:
            actor = account_services.step_up_verify(actor=actor, code=d["sms_code"], now=now)
        except account_services.AccountError as exc:
            form.add_error("sms_code", "请先获取并输入短信验证码" if not d["sms_code"] else str(exc))
            return render(request, "fees/declare.html", ctx, status=400)
        remember_step_up(request.session, actor.step_up_at)
    try:
        order = services.declaration_submit(actor=actor, registration_no=profile.registration_no, quote=q,
                                            idempotency_key=d["idem"], now=now)
    except services.FeeError as exc:
        form.add_error(None, str(exc))
        return render(request, "fees/declare.html", ctx, status=400)
    return redirect("fees:order", public_id=order.public_id)


@citizen_required
@require_POST
def pay_assessed(request):
    account = request.user
    profile = selectors.payer_profile_for(account)
    if profile is None:
        raise Http404
    try:
        order = services.order_for_assessed(actor=request_actor(request), registration_no=profile.registration_no,
                                            declaration_nos=request.POST.getlist("declaration"), now=clock.now())
    except services.StepUpRequired:
        return _step_up_first(reverse("fees:index"))
    except services.FeeError as exc:
        messages.error(request, str(exc))
        return redirect("fees:index")
    return redirect("fees:order", public_id=order.public_id)


def _step_up_first(back: str):
    """A money service refused without a recent step-up: confirm by SMS, then come back."""
    return redirect(f"{reverse('accounts:step_up')}?{urlencode({'next': back})}")


def _order_or_404(request, public_id):
    order = selectors.order_get(account=request.user, public_id=public_id)
    if order is None:
        raise Http404
    return order


def _order_page(request, order, status=200):
    declarations = selectors.in_item_order(
        get_core().declarations_get(registration_no=order.registration_no, declaration_nos=list(order.declaration_nos)))
    return render(request, "fees/order.html", {"order": order, "declarations": declarations, "attempt": selectors.attempt_latest(order),
                                               "channel_label": get_payment_channel().label,
                                               "refunds": selectors.charged_not_kept(order)}, status=status)


@citizen_required
@require_http_methods(["GET", "POST"])
def order(request, public_id: str):
    order = _order_or_404(request, public_id)
    resume = pay_resume_take(request, order.public_id)  # back from the WeChat identification that 去支付 started
    if request.method == "GET":
        latest = selectors.attempt_latest(order)
        if latest is not None and latest.state == AttemptState.UNKNOWN:  # 处理中: ask the channel again
            order = services.payment_refresh(order=order, now=clock.now())
        return _start_payment(request, order) if resume and order.state == OrderState.OPEN else _order_page(request, order)
    if request.POST.get("action") == "cancel":
        try:
            services.order_cancel(actor=request_actor(request), order=order, now=clock.now())
            messages.success(request, "已取消本次缴费")
        except services.FeeError as exc:
            messages.error(request, str(exc))
        return redirect("fees:order", public_id=order.public_id)
    return _start_payment(request, order)


def _openid(request) -> str | None:
    """The payer's openid under our appid: the one identified in this browser's session
    (JSAPI pays as the WeChat user who is looking at the page), else the bound one."""
    identified = request.session.get(PAY_OPENID)
    if identified:
        return identified
    binding = request.user.wechat_bindings.first()
    return binding.openid if binding else None


def _start_payment(request, order):
    openid = _openid(request)
    if openid is None:  # JSAPI needs the payer's openid under our appid: silent snsapi_base in WeChat
        return authorise_for_payment(request, order_url=reverse("fees:order", args=[order.public_id]), order_ref=order.public_id)
    try:
        start = services.payment_start(actor=request_actor(request), order=order, openid=openid, now=clock.now())
    except services.StepUpRequired:
        return _step_up_first(reverse("fees:order", args=[order.public_id]))
    except services.PaymentPending as exc:
        messages.info(request, str(exc))
        return redirect("fees:order", public_id=order.public_id)
    except services.FeeError as exc:
        messages.error(request, str(exc))
        return redirect("fees:order", public_id=order.public_id)
    return_url = settings.SELF_URL + reverse("fees:order_return", args=[order.public_id])
    if start.launch.cashier_url:
        parts = urlsplit(start.launch.cashier_url)
        query = f"{parts.query}&" if parts.query else ""
        return redirect(urlunsplit(parts._replace(query=query + urlencode({"return_url": return_url}))))
    return render(request, "fees/pay_bridge.html", {"order": order, "params": start.launch.params, "return_url": return_url})


@citizen_required
def order_return(request, public_id: str):
    """Query-on-return: the channel's answer decides, never the browser's."""
    order = services.payment_refresh(order=_order_or_404(request, public_id), now=clock.now())
    if order.state == OrderState.PAID:
        return redirect("fees:receipt", public_id=order.public_id)
    attempt = selectors.attempt_latest(order)
    if attempt and attempt.state == AttemptState.REFUND_DUE:
        messages.error(request, "本次支付已扣款，但所缴申报已缴费或已作废，未能入账；款项将原路退回，请留意退款通知。")
    elif attempt and attempt.state == AttemptState.UNKNOWN:
        messages.info(request, "支付处理中，请稍候刷新本页查看结果，请勿重复支付。")
    elif attempt and attempt.state == "failed":
        reason = (attempt.failure_reason or "").removeprefix("支付失败：").removeprefix("支付失败") or "请稍后重试"
        messages.error(request, f"支付失败：{reason}。您可以重新支付。")
    else:
        messages.error(request, "您尚未完成支付。如已付款，请稍候刷新本页；也可以重新支付。")
    return redirect("fees:order", public_id=order.public_id)


def _receipt_or_404(request, public_id: str):
    """The person's paid order and its receipt as the core says now, or 404."""
    order = _order_or_404(request, public_id)
    view = selectors.receipt_view(account=request.user, order=order, now=clock.now(), channel_label=get_payment_channel().label)
    if view is None:
        raise Http404
    return order, view


@citizen_required
def receipt(request, public_id: str):
    order, view = _receipt_or_404(request, public_id)
    return render(request, "fees/receipt.html", {"order": order, "r": view})


@citizen_required
def receipt_pdf(request, public_id: str):
    from shebao.receipts.pdf import render_receipt_pdf

    _order, view = _receipt_or_404(request, public_id)
    response = HttpResponse(render_receipt_pdf(view), content_type="application/pdf")
    name = quote_filename(f"缴费回单-{view.receipt_no}.pdf")
    response["Content-Disposition"] = f"attachment; filename=\"receipt-{view.receipt_no}.pdf\"; filename*=UTF-8''{name}"
    return response


@citizen_required
def payments(request):
    return render(request, "fees/payments.html", {"orders": selectors.order_list(account=request.user)[:50]})


def receipt_verify(request, code: str):
    """Public verification reached by the QR code: genuine or not, no personal data."""
    info = get_core().tax_receipt_by_verify_code(verify_code=code, now=clock.now()) if 6 <= len(code) <= 16 else None
    return render(request, "fees/verify.html", {"info": info, "code": code}, status=200 if info else 404)

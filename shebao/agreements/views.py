"""城乡居民应缴费额确定: the resident's yearly items paid by grade, the grades with their
yearly cost, the one in force; choosing one (after the SMS step-up). Thin."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from shebao.accounts.views import citizen_required
from shebao.agreements import services
from shebao.common import clock
from shebao.common.actor import request_actor
from shebao.fees.selectors import payer_profile_for
from shebao.rules.selectors import rules_open
from shebao.rules.snapshot import FIXED_GRADE


def _items(profile, today):
    """(rule, the choice in force) for every fixed-grade item the resident is enrolled in, open now."""
    out = []
    for code in profile.enrolled_types:
        for rule in rules_open(city_code=profile.city_code, insurance_type_code=code, today=today):
            if rule.calculation == FIXED_GRADE:
                current = services.payable_amount_current(registration_no=profile.registration_no, insurance_type_code=code,
                                                          contribution_year=rule.contribution_year)
                out.append((rule, current))
    return out


@citizen_required
@require_http_methods(["GET", "POST"])
def payable_amount(request):
    profile = payer_profile_for(request.user)
    now = clock.now()
    items = _items(profile, now.date()) if profile and profile.person_type == "resident" else []
    ctx = {"profile": profile, "items": items, "error": ""}
    if request.method == "GET":
        return render(request, "agreements/payable_amount.html", ctx)
    key, raw = request.POST.get("item", ""), request.POST.get("grade", "")
    rule = next((r for r, _ in items if f"{r.insurance_type_code}:{r.contribution_year}" == key), None)
    try:
        grade = Decimal(raw)
    except InvalidOperation:
        grade = None
    if rule is None or grade is None:
        ctx["error"] = "请选择险种、年度和缴费档次"
        return render(request, "agreements/payable_amount.html", ctx, status=400)
    try:
        services.payable_amount_set(actor=request_actor(request), profile=profile, rule=rule, grade=grade, now=now)
    except services.StepUpRequired:
        return redirect(f"{reverse('accounts:step_up')}?{urlencode({'next': reverse('agreements:payable_amount')})}")
    except services.PayableAmountError as exc:
        ctx["error"] = str(exc)
        return render(request, "agreements/payable_amount.html", ctx, status=400)
    messages.success(request, f"已确定{rule.contribution_year}年度{rule.insurance_type_name}按每年{grade:.2f}元缴费，下次批量扣款按此金额扣缴")
    return redirect("agreements:payable_amount")

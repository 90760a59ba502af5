"""待批扣清册作废 and 待批扣清册查询: the person's pending batch deduction items with date and
amount, each voidable (作废) or voided with a step on to paying another way (作废并立即缴费,
to 申报及缴纳); and every item with its outcome. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from shebao.accounts.views import citizen_required
from shebao.agreements import batch_services, selectors
from shebao.common import clock
from shebao.common.actor import request_actor


@citizen_required
@require_http_methods(["GET", "POST"])
def batch_void(request):
    error = ""
    if request.method == "POST":
        try:
            item = batch_services.batch_item_void(actor=request_actor(request), public_id=request.POST.get("item", ""), now=clock.now())
        except batch_services.BatchError as exc:
            error = str(exc)
        else:
            if request.POST.get("then") == "pay":
                messages.success(request, "已作废待批扣记录，请选择险种和期间立即缴费")
                return redirect("fees:declare")
            messages.success(request, f"已作废{item.task.deduction_on:%Y年%m月%d日}的批量扣款{item.amount}元，本次不再从银行账户扣缴")
            return redirect("agreements:batch_void")
    items = selectors.batch_items_list(account=request.user, pending_only=True)
    return render(request, "agreements/batch_void.html", {"items": items, "error": error},
                  status=400 if error else 200)


@citizen_required
def batch_query(request):
    return render(request, "agreements/batch_query.html", {"items": selectors.batch_items_list(account=request.user)})

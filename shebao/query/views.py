"""查询业务: insured-information queries by the logged-in person's three elements."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from shebao.accounts.selectors import insured_info_for
from shebao.accounts.views import citizen_required
from shebao.common.masking import mask_id_number
from shebao.fees.selectors import payer_profile_for

KINDS = {"flexible": "灵活就业参保信息查询", "resident": "城乡居民参保信息查询"}


@citizen_required
def insured(request, kind: str):
    if kind not in KINDS:
        raise Http404
    account = request.user
    info = insured_info_for(account, person_type=kind)
    return render(
        request,
        "query/insured.html",
        {"title": KINDS[kind], "kind": kind, "info": info, "name": account.name, "id_type": account.get_id_type_display(),
         "id_number": mask_id_number(account.id_number)},
    )


@citizen_required
def virtual_results(request):
    """城乡居民虚拟户申报结果查询（自主模式）: what virtual accounts declared for the logged-in
    resident, found by their own three elements; never another resident's lines."""
    from shebao.refunds.selectors import virtual_lines

    account = request.user
    profile = payer_profile_for(account)
    lines = virtual_lines(registration_no=profile.registration_no) if profile else []
    return render(request, "query/virtual.html", {"profile": profile, "lines": lines, "name": account.name,
                                                  "id_number": mask_id_number(account.id_number)})


def index(request):
    return render(request, "query/index.html", {"kinds": KINDS})

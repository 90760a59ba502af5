"""通知公告 pages (REQUIREMENTS §4.1): open to everyone; a notice aimed at a group or named
persons is shown to them only (404 to anyone else, the same as no notice). Thin: the
selectors decide who sees what, the services write the read state."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from shebao.common import clock
from shebao.common.actor import request_actor
from shebao.notices.models import Notice
from shebao.notices.selectors import SORTS, attachment_get, notice_get, notice_list
from shebao.notices.services import notice_acknowledge, notice_mark_read
from shebao.notices.viewer import is_citizen, remember_shown, request_viewer

SORT_LABELS = {"time": "发布时间", "number": "发文字号", "level": "重要程度", "category": "类别"}


def _notice_or_404(request, public_id: str) -> Notice:
    notice = notice_get(public_id=public_id, viewer=request_viewer(request), now=clock.now())
    if notice is None:
        raise Http404
    return notice


@require_GET
def notice_list_view(request):
    sort = request.GET.get("sort", "time")
    sort = sort if sort in SORTS else "time"
    notices = notice_list(viewer=request_viewer(request), sort=sort, now=clock.now())
    return render(request, "notices/list.html", {"notices": notices, "sort": sort, "sorts": SORT_LABELS.items()})


@require_GET
def notice_detail(request, public_id: str):
    notice = _notice_or_404(request, public_id)
    read = None
    if is_citizen(request):
        read = notice_mark_read(notice=notice, actor=request_actor(request), now=clock.now())
    return render(request, "notices/detail.html", {"notice": notice, "read": read})


def _back(request) -> str:
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return nxt
    return reverse("home")


@require_POST
def notice_close(request, public_id: str):
    """Close the popup: read, and not shown again in this login. A 非常重要 notice closes
    only by 我已阅读并知晓."""
    notice = _notice_or_404(request, public_id)
    if is_citizen(request) and not notice.is_critical:
        notice_mark_read(notice=notice, actor=request_actor(request), now=clock.now())
        remember_shown(request, notice.public_id)
    return redirect(_back(request))


@require_POST
def notice_acknowledge_view(request, public_id: str):
    notice = _notice_or_404(request, public_id)
    if is_citizen(request):
        notice_acknowledge(notice=notice, actor=request_actor(request), now=clock.now())
        remember_shown(request, notice.public_id)
    return redirect(_back(request))


@require_GET
def attachment_download(request, public_id: str, file_id: str):
    notice = _notice_or_404(request, public_id)
    attachment = attachment_get(notice=notice, public_id=file_id)
    if attachment is None:
        raise Http404
    response = HttpResponse(bytes(attachment.data), content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=attachment.file_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Length"] = str(attachment.size)
    return response


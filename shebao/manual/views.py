"""The operation manual online (searchable), as a PDF, and its check ("is this manual genuine?")."""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from shebao.common import clock
from shebao.common.masking import mask_name
from shebao.manual import services
from shebao.manual.content import SEARCH_MAX, load_manual, manual_search


class VerifyForm(forms.Form):
    file = forms.FileField(label="选择操作手册PDF文件", error_messages={"required": "请选择要验证的PDF文件"})

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > services.UPLOAD_MAX_BYTES:
            raise forms.ValidationError("文件过大：操作手册PDF不超过10MB")
        return upload


def _page(request, *, form=None, verdict=None, status=200):
    manual = load_manual()
    query = request.GET.get("q", "")[:SEARCH_MAX]
    return render(request, "manual/manual.html", {
        "manual": manual, "query": query, "hits": manual_search(query) if query.strip() else None,
        "form": form or VerifyForm(), "verdict": verdict,
    }, status=status)


def manual(request):
    return _page(request)


def _downloader(request) -> str:
    user = request.user
    name = getattr(user, "name", "") if user.is_authenticated else ""
    return mask_name(name) if name else "访客"


def manual_pdf(request):
    content, record = services.manual_download(downloader=_downloader(request), now=clock.now())
    response = HttpResponse(content, content_type="application/pdf")
    name = f"操作手册-{record.version}.pdf"
    response["Content-Disposition"] = f"attachment; filename=\"manual-{record.version}.pdf\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["POST"])
def manual_verify(request):
    form = VerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    verdict = services.manual_verify(content=form.cleaned_data["file"].read())
    return _page(request, verdict=verdict, status=200 if verdict.genuine else 400)

"""Back office: a staff member opening one person's record is itself an audit event
(REQUIREMENTS §7: every access to personal data is traceable; issue 12)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse

from shebao.audit.services import audit_record
from shebao.common import clock
from shebao.common.actor import request_actor


class AuditedDetailMixin:
    """For a ``ModelAdmin`` whose detail page shows a person's data: each successful GET of
    the page writes ``staff.view_personal_data`` with the record's opaque ``public_id``
    (``audit_subject_type`` names the kind of record)."""

    audit_subject_type = ""

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        if request.method == "GET" and response.status_code == 200:
            record = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
            if record is not None:
                audit_record(actor=request_actor(request), action="staff.view_personal_data",
                             subject_type=self.audit_subject_type, subject_ref=record.public_id, now=clock.now())
        return response

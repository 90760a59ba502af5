"""Back office: a staff member opening one person's record is itself an audit event
(REQUIREMENTS §7: every access to personal data is traceable; issue 12)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from shebao.audit.services import audit_record
from shebao.common import clock
from shebao.common.actor import request_actor


class AuditedDetailMixin:
    """For a ``ModelAdmin`` whose detail page shows a person's data: each time the page is
    shown for a GET, ``staff.view_personal_data`` is written with the record's opaque
    ``public_id`` (``audit_subject_type`` names the kind of record). It hooks
    ``render_change_form``, which receives the record the admin already loaded."""

    audit_subject_type = ""

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], add: bool = False, change: bool = False,
                           form_url: str = "", obj: Any = None) -> HttpResponse:
        response = super().render_change_form(request, context, add, change, form_url, obj)  # type: ignore[misc]
        if obj is not None and request.method == "GET":
            audit_record(actor=request_actor(request), action="staff.view_personal_data",
                         subject_type=self.audit_subject_type, subject_ref=obj.public_id, now=clock.now())
        return response

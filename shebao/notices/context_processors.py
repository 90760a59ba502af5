"""The popup of the notice due now (REQUIREMENTS §4.1 "users get the notices due to them on
login or on opening a function"): worked out only when a page that shows it (base.html) asks."""

from __future__ import annotations

from functools import cached_property

from shebao.common import clock
from shebao.notices.selectors import LiveNotice, live_notices, notices_due
from shebao.notices.viewer import is_citizen, request_viewer, shown_in_login

SKIP_PREFIXES = ("/notices/",)  # a notice's own pages, and the close/acknowledge posts


class NoticePopup:
    def __init__(self, request):
        self.request = request

    @cached_property
    def notice(self) -> LiveNotice | None:
        request = self.request
        if request.method != "GET" or not is_citizen(request) or request.path.startswith(SKIP_PREFIXES):
            return None
        now = clock.now()
        live = live_notices(now=now)
        if not live:  # one statement (the version) when nothing is live
            return None
        due = notices_due(viewer=request_viewer(request, live=live), shown=shown_in_login(request), now=now, live=live,
                          limit=1)
        return due[0] if due else None  # the live copy carries what the dialog shows: no further statement


def notice_popup(request) -> dict:
    return {"notice_popup": NoticePopup(request)}

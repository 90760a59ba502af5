"""``PartnerRecheckMiddleware``: asks the partner again when a person signed on through it
opens a business function or switches to another (``recheck``), and ends the session when
the partner says no (or does not answer: fails closed)."""

from __future__ import annotations

from django.contrib.auth import logout
from django.shortcuts import render

from shebao.common import clock
from shebao.common.actor import Door, request_actor
from shebao.sso.recheck import SSO_SESSION_KEY, function_of, is_hub


class PartnerRecheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        data = request.session.get(SSO_SESSION_KEY) if user is not None and user.is_authenticated else None
        if not data:
            return None
        function = function_of(request.resolver_match)
        if function is None:
            if is_hub(request.resolver_match) and data.get("fn") is not None:
                request.session[SSO_SESSION_KEY] = {**data, "fn": None}
            return None
        if function == data.get("fn"):
            return None
        from shebao.sso.services import sso_recheck

        if sso_recheck(login_id=data["login"], function=function, actor=request_actor(request, door=Door.SSO), now=clock.now()):
            request.session[SSO_SESSION_KEY] = {**data, "fn": function}
            return None
        logout(request)
        response = render(request, "sso/ended.html", {"return_url": data.get("return_url", "")}, status=403)
        response["Referrer-Policy"] = "no-referrer"
        return response

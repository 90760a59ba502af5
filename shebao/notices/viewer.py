"""The person looking at notices, from the request: a citizen's Viewer is worked out once per
login (the city needs the core) and kept in the session with the notices closed in this login."""

from __future__ import annotations

from collections.abc import Iterable

from shebao.notices.selectors import LiveNotice, Viewer, needs_city, viewer_for

VIEWER_KEY = "notices.viewer"
SHOWN_KEY = "notices.shown"


def is_citizen(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and getattr(user, "person_type", ""))


def request_viewer(request, *, live: Iterable[LiveNotice] | None = None) -> Viewer | None:
    """None for a visitor (or staff): they see the notices for everyone only. With ``live``
    (the live notices) and none of them aimed at a city, the core is not asked for the city."""
    if not is_citizen(request):
        return None
    user = request.user
    kept = request.session.get(VIEWER_KEY)
    if kept and kept[0] == user.public_id and kept[1] == user.person_type:
        return Viewer(account_id=user.pk, person_type=kept[1], city_code=kept[2])
    if live is not None and not needs_city(live):
        return Viewer(account_id=user.pk, person_type=user.person_type, city_code="")
    viewer = viewer_for(user)
    request.session[VIEWER_KEY] = [user.public_id, viewer.person_type, viewer.city_code]
    return viewer


def shown_in_login(request) -> list[str]:
    return list(request.session.get(SHOWN_KEY, []))


def remember_shown(request, public_id: str) -> None:
    shown = shown_in_login(request)
    if public_id not in shown:
        request.session[SHOWN_KEY] = [*shown, public_id][-200:]

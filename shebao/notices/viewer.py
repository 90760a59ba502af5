"""The person looking at notices, from the request. The city needs the core: it is asked once
and kept in the cache (Redis in production, this process's memory otherwise) for
``NOTICE_CITY_CACHE_SECONDS`` (default an hour), and only while some live notice is aimed at
a city. The every-login notices closed in this login are kept in the session."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

from shebao.notices.selectors import LiveNotice, Viewer, needs_city, viewer_for

SHOWN_KEY = "notices.shown"
DEFAULT_CITY_SECONDS = 3600


def is_citizen(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and getattr(user, "person_type", ""))


def city_cache_key(account) -> str:
    return f"notices:city:{account.public_id}"


def request_viewer(request, *, live: Iterable[LiveNotice] | None = None) -> Viewer | None:
    """None for a visitor (or staff): they see the notices for everyone only. With ``live``
    (the live notices) and none of them aimed at a city, the core is not asked for the city."""
    if not is_citizen(request):
        return None
    user = request.user
    if live is not None and not needs_city(live):
        return Viewer(account_id=user.pk, person_type=user.person_type, city_code="")
    key = city_cache_key(user)
    city = cache.get(key)
    if city is None:
        city = viewer_for(user).city_code
        cache.set(key, city, getattr(settings, "NOTICE_CITY_CACHE_SECONDS", DEFAULT_CITY_SECONDS))
    return Viewer(account_id=user.pk, person_type=user.person_type, city_code=city)


def shown_in_login(request) -> list[str]:
    return list(request.session.get(SHOWN_KEY, []))


def remember_shown(request, public_id: str) -> None:
    shown = shown_in_login(request)
    if public_id not in shown:
        request.session[SHOWN_KEY] = [*shown, public_id][-200:]

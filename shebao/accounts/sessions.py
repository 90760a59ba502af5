"""Ending an account's sessions (after a mobile change; ASVS v5.0.0-7.4.3).

Django keeps no index from an account to its sessions, so the live session rows are read and
decoded: a session belongs to the account when it is logged in as it (``_auth_user_id``) or is
half-way through its login (``login_pending``). Each is ended through the configured engine's
own ``delete``, which for ``cached_db`` (REDIS_URL set) removes the Redis copy as well as the
row, so no process can read it back. The scan is linear in live sessions (8-hour lifetime);
a mobile change is rare enough for that to be cheap.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.utils import timezone

PENDING_LOGIN = "login_pending"  # shebao.accounts.views.PENDING_LOGIN


def _belongs(data: dict, account) -> bool:
    pending = data.get(PENDING_LOGIN)
    return data.get("_auth_user_id") == str(account.pk) or (isinstance(pending, dict) and pending.get("account") == account.public_id)


def end_other_sessions(account, *, keep: str | None) -> int:
    """End every session of ``account`` except the one keyed ``keep``; how many were ended."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    model = store_class.get_model_class()
    decoder = store_class()
    ended = 0
    rows = model.objects.filter(expire_date__gt=timezone.now()).exclude(session_key=keep or "").only("session_key", "session_data")
    for row in rows.iterator(chunk_size=500):
        if _belongs(decoder.decode(row.session_data), account):
            store_class(session_key=row.session_key).delete()
            ended += 1
    return ended

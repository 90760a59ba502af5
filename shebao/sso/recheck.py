"""Re-verification of SSO sessions with the partner (REQUIREMENTS §1.4: "each time the user
opens a business function, identity is verified with the integrated system again, and again
when they switch functions").

A *business function* is a namespace of pages (申报缴费 ``fees``, 退费 ``refunds``, 协议
``agreements``, 查询 ``query``, and the user centre's 信息查看 / 信息维护 / 办理记录). The
answer is kept for the function the person is in: the pages, forms and polls inside one
function ask nothing more; entering another function asks again; and going back to the home
page or a menu (the "hub" pages) leaves the function, so opening one again asks again. The
check itself is ``services.sso_recheck``; when the partner says no, the session ends.
"""

from __future__ import annotations

SSO_SESSION_KEY = "sso"  # {"login", "channel", "fn" (the function last verified), "return_url"}

FUNCTION_NAMESPACES = {"fees": "fees", "refunds": "refunds", "agreements": "agreements", "query": "query"}
USER_CENTRE_FUNCTIONS = {"me": "user.info", "change_mobile": "user.maintain", "change_address": "user.maintain",
                         "records": "user.records", "record_detail": "user.records"}
HUB_URL_NAMES = {"home", "module"}


def function_of(match) -> str | None:
    """The business function a resolved URL belongs to, or None."""
    if match is None:
        return None
    namespace = match.namespaces[0] if match.namespaces else ""
    if namespace in FUNCTION_NAMESPACES:
        return FUNCTION_NAMESPACES[namespace]
    if namespace == "accounts":
        return USER_CENTRE_FUNCTIONS.get(match.url_name)
    return None


def is_hub(match) -> bool:
    return match is not None and not match.namespaces and match.url_name in HUB_URL_NAMES

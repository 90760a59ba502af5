"""JS-SDK ``wx.config`` signature (official JS-SDK doc, appendix 1 "签名算法").

The page that calls ``wx.config`` must carry a signature computed on the server
from the cached ``jsapi_ticket``; the ticket never reaches the browser.
"""

from __future__ import annotations

import hashlib


def jsapi_signature(ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """SHA-1 signature for ``wx.config``.

    Rule: the four fields ``jsapi_ticket``, ``noncestr``, ``timestamp`` and ``url``
    (lower-case names) are sorted by name in ASCII order, written as raw ``k=v``
    (no URL-escaping) and joined with ``&``; the ``url`` is the page's full URL
    without the ``#fragment``. The result is the lower-case hex SHA-1 of that string.
    ``noncestr`` and ``timestamp`` must be the exact values later passed to
    ``wx.config`` as ``nonceStr`` and ``timestamp``.
    """
    if not ticket or not noncestr or not url:
        raise ValueError("jsapi_signature needs a ticket, a noncestr and a url")
    fields = {
        "jsapi_ticket": ticket,
        "noncestr": noncestr,
        "timestamp": str(timestamp),
        "url": url.split("#", 1)[0],
    }
    to_sign = "&".join(f"{key}={fields[key]}" for key in sorted(fields))
    return hashlib.sha1(to_sign.encode("utf-8")).hexdigest()  # SHA-1 is WeChat's rule, not our choice

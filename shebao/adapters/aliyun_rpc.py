"""Alibaba Cloud RPC signature v1 (HMAC-SHA1), the client side.

The identity check (Cloudauth ``Mobile3MetaDetailVerify``) speaks it; the SMS client moved
to signature v3 (``shebao.adapters.sms.aliyun``). The simulators check v1 with their own
code (``shebao.adapters.sms.sim_auth``), so a mistake here cannot agree with itself.
Hand-written: Alibaba's SDKs bring their own HTTP stacks and runtimes; this is four lines
of documented arithmetic over our own ``OutgoingHttp``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote


def percent_encode(value: str) -> str:
    """Aliyun RPC percent-encoding: UTF-8, RFC 3986 unreserved characters
    (``A-Z a-z 0-9 - _ . ~``) kept, everything else ``%XY`` in upper-case hex —
    so a space is ``%20`` (not ``+``), ``*`` is ``%2A`` and ``~`` stays."""
    return quote(value.encode("utf-8"), safe="~")


def canonicalized_query(params: Mapping[str, str]) -> str:
    """Every parameter except ``Signature``, sorted by name, each ``pe(name)=pe(value)``, joined with ``&``."""
    items = sorted((k, v) for k, v in params.items() if k != "Signature")
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in items)


def string_to_sign(params: Mapping[str, str], *, method: str = "POST") -> str:
    """``METHOD & pe("/") & pe(canonicalized query)``."""
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonicalized_query(params))}"


def rpc_signature(params: Mapping[str, str], secret: str, *, method: str = "POST") -> str:
    """Base64 of HMAC-SHA1 over the StringToSign, keyed with the AccessKey secret followed by ``&``."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(params, method=method).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")

"""The HTTP side of an OpenID Connect partner: the token request (built by Authlib in
``shebao.sso.oidc``) and the JWKS, through ``OutgoingHttp`` (timeout, logging)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from shebao.adapters.http import OutgoingHttp, ProviderUnavailable
from shebao.adapters.partner.port import PartnerUnavailable


@lru_cache(maxsize=4)
def _http(timeout: float) -> OutgoingHttp:
    return OutgoingHttp(provider="partner-oidc", timeout=timeout)


def oidc_token_and_keys(*, token_url: str, jwks_url: str, token_request: str, timeout: float,
                        request_id: str = "") -> tuple[str, dict[str, Any]]:
    """(ID token, JWKS) for an authorisation code's token request; :class:`PartnerUnavailable`
    when either endpoint fails or answers something else than expected."""
    http = _http(timeout)
    try:
        answer = http.request("POST", token_url, content=token_request.encode(), request_id=request_id,
                              headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
        id_token = answer.json().get("id_token") if answer.status_code == 200 else None
        keys = http.request("GET", jwks_url, request_id=request_id).json()
    except (ProviderUnavailable, ValueError, AttributeError):
        raise PartnerUnavailable("oidc") from None
    if not isinstance(id_token, str) or not isinstance(keys, dict):
        raise PartnerUnavailable("oidc")
    return id_token, keys

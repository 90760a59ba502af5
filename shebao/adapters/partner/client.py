"""The back-channel check client: asks a partner whether a person is still signed in there
(REQUIREMENTS §1.4: identity verified again each time a business function is opened).

Fails closed: no answer in time, a malformed or unsigned answer, another session's answer, a
stale one or our nonce not echoed all count as "no" -- the session ends and the person signs
in again through the partner."""

from __future__ import annotations

import base64
import binascii
import json
import time
from functools import lru_cache

from shebao.adapters.http import OutgoingHttp, ProviderUnavailable
from shebao.adapters.partner.port import CheckVerdict
from shebao.common import crypto, partner_crypto


@lru_cache(maxsize=8)
def _http(timeout: float) -> OutgoingHttp:
    return OutgoingHttp(provider="partner-check", timeout=timeout)


def partner_check(*, check_url: str, sig_alg: str, public_key: str, partner_session: str, function: str,
                  timeout: float, skew_seconds: int, request_id: str = "") -> CheckVerdict:
    """Ask ``check_url`` about ``partner_session`` (see ``wire`` for the protocol)."""
    nonce = crypto.random_token(16)
    body = json.dumps({"sid": partner_session, "function": function, "ts": int(time.time()), "nonce": nonce},
                      separators=(",", ":")).encode()
    try:
        response = _http(timeout).request("POST", check_url, content=body, request_id=request_id,
                                          headers={"Content-Type": "application/json", "X-Shebao-Signature": crypto.sign(body)})
    except ProviderUnavailable:
        return CheckVerdict(False, "unavailable")
    if response.status_code != 200:
        return CheckVerdict(False, "unavailable" if response.status_code >= 500 else "bad_answer")
    try:
        signature = base64.b64decode(response.headers.get("X-Partner-Signature", ""), validate=True)
        answer = json.loads(response.content)
    except (binascii.Error, ValueError, RecursionError):
        return CheckVerdict(False, "bad_answer")
    if not partner_crypto.partner_verify(sig_alg, public_key, response.content, signature):
        return CheckVerdict(False, "bad_answer")
    if not isinstance(answer, dict) or answer.get("sid") != partner_session or answer.get("nonce") != nonce:
        return CheckVerdict(False, "bad_answer")
    ts = answer.get("ts")
    if not isinstance(ts, int) or abs(time.time() - ts) > skew_seconds:
        return CheckVerdict(False, "bad_answer")
    return CheckVerdict(True, "active") if answer.get("active") is True else CheckVerdict(False, "revoked")

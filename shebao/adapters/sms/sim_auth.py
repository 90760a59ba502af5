"""Aliyun's side of request authentication, for the SMS simulator. Both signatures the
official SDKs send are checked:

* **v1** (RPC signature, ``aliyun-python-sdk-core`` and our own client): HMAC-SHA1 keyed
  ``secret + "&"`` over ``METHOD&%2F&pe(sorted parameters)``, in the ``Signature`` parameter,
  with ``AccessKeyId``, ``SignatureMethod=HMAC-SHA1``, ``SignatureNonce``, ``Timestamp``.
* **v3** (``ACS3-HMAC-SHA256``, the default of ``alibabacloud_dysmsapi20170525``):
  ``Authorization: ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`` over the
  canonical request ``METHOD\\nURI\\nQUERY\\nHEADERS\\nSIGNED_HEADERS\\nsha256hex(body)``, the
  string to sign being ``ACS3-HMAC-SHA256\\n`` + sha256hex(canonical request); ``host`` and every
  ``x-acs-*`` header present must be signed; action, version, nonce and date come in
  ``x-acs-action``, ``x-acs-version``, ``x-acs-signature-nonce``, ``x-acs-date``.

The canonical URI is the path as the client sees it, relative to the simulator's mount
point. Written again here on purpose (not imported from the client), so a mistake in
the client cannot agree with itself. A bad signature is answered like Aliyun does: HTTP 400
``SignatureDoesNotMatch`` whose message ends in ``server string to sign is:<string>`` —
the legacy SDK reads the part after the ``:`` (and crashes without one).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

MAX_SKEW = dt.timedelta(minutes=15)
V3_ALGORITHM = "ACS3-HMAC-SHA256"
_V3_HEADER = re.compile(r"(\S+) Credential=([^,]*),SignedHeaders=([^,]*),Signature=([0-9a-fA-F]*)")
_V3_REQUIRED = ("x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256")
_MISMATCH = "Specified signature does not match our calculation. server string to sign is:"


class AuthRefused(Exception):
    """An Aliyun authentication error: ``Code``, ``Message`` and the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Caller:
    """What a well-signed request says about itself."""

    nonce: str
    action: str
    version: str
    signature_version: str  # "v1" or "v3"


def pe(value: str) -> str:
    """Aliyun percent-encoding: UTF-8, RFC 3986 unreserved characters kept, ``%XY`` upper-case."""
    return quote(value.encode("utf-8"), safe="~")


def v1_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """RPC signature v1 StringToSign: ``METHOD&%2F&pe(sorted pe(name)=pe(value) but Signature)``."""
    query = "&".join(f"{pe(k)}={pe(params[k])}" for k in sorted(params) if k != "Signature")
    return f"{method.upper()}&%2F&{pe(query)}"


def v1_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """RPC signature v1: base64 HMAC-SHA1 keyed ``secret + "&"`` over ``v1_string_to_sign``."""
    digest = hmac.new(f"{secret}&".encode(), v1_string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def authenticate(environ: Mapping[str, Any], params: Mapping[str, str], body: bytes, *, access_key_id: str, secret: str,
                 now: dt.datetime) -> Caller:
    """The caller of one request, or ``AuthRefused``: v3 when an ``ACS3-`` ``Authorization``
    header is present, else v1 (``params``: query and form parameters merged)."""
    header = str(environ.get("HTTP_AUTHORIZATION", ""))
    if header.startswith("ACS3-"):
        return _v3(environ, header, body, access_key_id=access_key_id, secret=secret, now=now)
    return _v1(str(environ.get("REQUEST_METHOD", "GET")), params, access_key_id=access_key_id, secret=secret, now=now)


def _check_time(value: str, now: dt.datetime) -> None:
    try:
        sent = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise AuthRefused("InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.") from None
    if abs(now - sent) > MAX_SKEW:
        raise AuthRefused("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")


def _v1(method: str, params: Mapping[str, str], *, access_key_id: str, secret: str, now: dt.datetime) -> Caller:
    for name in ("AccessKeyId", "Signature", "SignatureNonce", "Timestamp"):
        if not params.get(name):
            raise AuthRefused(f"Missing{name}", f"{name} is mandatory for this action.")
    if not hmac.compare_digest(params["AccessKeyId"], access_key_id):
        raise AuthRefused("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
    if params.get("SignatureMethod") != "HMAC-SHA1":
        raise AuthRefused("InvalidSignatureMethod", "Specified signature method is not valid.")
    if not hmac.compare_digest(v1_signature(method, params, secret), params["Signature"]):
        raise AuthRefused("SignatureDoesNotMatch", _MISMATCH + v1_string_to_sign(method, params))
    _check_time(params["Timestamp"], now)
    return Caller(params["SignatureNonce"], params.get("Action", ""), params.get("Version", ""), "v1")


def _header(environ: Mapping[str, Any], name: str) -> str | None:
    key = name.upper().replace("-", "_")
    value = environ.get(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key)
    return None if value is None or value == "" else str(value)


def _v3(environ: Mapping[str, Any], header: str, body: bytes, *, access_key_id: str, secret: str, now: dt.datetime) -> Caller:
    match = _V3_HEADER.fullmatch(header.strip())
    if match is None or match.group(1) != V3_ALGORITHM:
        raise AuthRefused("IncompleteSignature", "The request signature does not conform to Aliyun standards.")
    _, credential, signed_list, signature = match.groups()
    for name in _V3_REQUIRED:
        if _header(environ, name) is None:
            raise AuthRefused("MissingParameter", f'The input parameter "{name}" that is mandatory for processing this request is not supplied.')
    if not hmac.compare_digest(credential, access_key_id):
        raise AuthRefused("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
    signed = signed_list.split(";")
    # (content-type is not demanded: a WSGI server may report one the client never sent)
    present = {"host", *_V3_REQUIRED} | {k[5:].lower().replace("_", "-") for k in environ if k.startswith("HTTP_X_ACS_")}
    if signed != sorted(set(signed)) or not present <= set(signed):
        raise AuthRefused("IncompleteSignature", "The request signature does not conform to Aliyun standards.")
    canonical_query = "&".join(f"{pe(k)}={pe(v)}" for k, v in sorted(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)))
    canonical_headers = "".join(f"{name}:{(_header(environ, name) or '').strip()}\n" for name in signed)
    path = quote(str(environ.get("PATH_INFO") or "/").encode("latin-1"), safe="/~")
    canonical_request = "\n".join([str(environ.get("REQUEST_METHOD", "GET")).upper(), path, canonical_query, canonical_headers,
                                   signed_list, hashlib.sha256(body).hexdigest()])
    to_sign = f"{V3_ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise AuthRefused("SignatureDoesNotMatch", _MISMATCH + to_sign)
    _check_time(str(_header(environ, "x-acs-date")), now)
    return Caller(str(_header(environ, "x-acs-signature-nonce")), str(_header(environ, "x-acs-action")),
                  str(_header(environ, "x-acs-version")), "v3")

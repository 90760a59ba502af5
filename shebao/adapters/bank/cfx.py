"""CFX messages (interfaces.md §5): ``<CFX><HEAD>…</HEAD><MSG>…</MSG></CFX>`` in UTF-8,
built and read here for the client and the simulator alike.

Reading is always through ``defusedxml``: a document with a DTD, an entity declaration or
an external reference is refused (``CfxMalformed``) before anything in it is looked at,
and so is one over ``MAX_BYTES``.

Messages used, as we read the TIPS documents (interfaces.md §5.1–5.2, §12 item 4):

* ``9114`` ``ProveInfo9114`` agreement check → ``9115`` ``ProveReturn9115`` (``VCResult``
  ``0`` passed, ``1`` failed, ``AddWord`` the bank's words).
* ``1001`` ``RealHead1001`` + ``TurnAccount1001`` + ``Payment1001`` real-time deduction →
  ``2001`` ``RealHead2001`` + ``TraRes2001`` (``Result``, ``AddWord``, the bank's serial).
  The transaction is identified by ``TaxOrgCode`` + ``TraNo``.
* ``9130`` ``TraQuery9130``: status of an earlier 1001 by its ``TraNo``, answered by the
  same ``2001``. Not a published TIPS number: the stand-in until the core names its own.
* ``9120`` ``ErrInfo9120``: the other side could not process a message (``Result``,
  ``AddWord``); nothing was done.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - building only; reading goes through defusedxml
from collections.abc import Mapping
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

MAX_BYTES = 64 * 1024
VERSION = "1.0"
APP = "TIPS"

# ``Result`` of 2001 and 9120 (the simulator's list; a real bank's goes in this one table)
SUCCESS = "90000"
NAME_MISMATCH = "94001"
ACCOUNT_NOT_FOUND = "94002"
ACCOUNT_CLOSED = "94003"
AGREEMENT_NOT_FOUND = "94004"
INSUFFICIENT_BALANCE = "94005"
DUPLICATE_TRA_NO = "94010"  # the TraNo was used with other content
FORMAT_ERROR = "94020"
NOT_FOUND = "94040"  # 9130: no such transaction
SYSTEM_BUSY = "94999"

VC_PASSED, VC_FAILED = "0", "1"
VC_SIGN_ELECTRONIC, VC_SIGN_PAPER = "0", "1"  # 验证标志: how the agreement was signed


class CfxMalformed(Exception):
    """Not a CFX message we can read (not XML, a DTD or entities, too big, fields missing)."""


@dataclass(frozen=True)
class CfxMessage:
    """A message: its ``HEAD`` fields and its ``MSG`` parts, each a flat dict of text fields."""

    head: dict[str, str]
    parts: dict[str, dict[str, str]]

    @property
    def msg_no(self) -> str:
        return self.head.get("MsgNo", "")

    def part(self, name: str) -> dict[str, str]:
        try:
            return self.parts[name]
        except KeyError:
            raise CfxMalformed(f"MSG/{name} missing") from None


def build(*, head: Mapping[str, str], parts: Mapping[str, Mapping[str, str]]) -> bytes:
    """The message as UTF-8 bytes with an XML declaration; fields in the order given."""
    root = ET.Element("CFX")
    head_el = ET.SubElement(root, "HEAD")
    for key, value in {"VER": VERSION, "APP": APP, **head}.items():
        ET.SubElement(head_el, key).text = value
    msg_el = ET.SubElement(root, "MSG")
    for name, fields in parts.items():
        part_el = ET.SubElement(msg_el, name)
        for key, value in fields.items():
            ET.SubElement(part_el, key).text = value
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def parse(data: bytes) -> CfxMessage:
    """Read a CFX message safely (module docstring); ``CfxMalformed`` if it is not one."""
    if len(data) > MAX_BYTES:
        raise CfxMalformed(f"message over {MAX_BYTES} bytes")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError) as exc:
        raise CfxMalformed(f"not a readable XML message ({type(exc).__name__})") from None
    head_el, msg_el = root.find("HEAD"), root.find("MSG")
    if root.tag != "CFX" or head_el is None or msg_el is None:
        raise CfxMalformed("not CFX/HEAD + CFX/MSG")
    head = {child.tag: (child.text or "").strip() for child in head_el}
    parts = {part.tag: {child.tag: (child.text or "").strip() for child in part} for part in msg_el}
    if not head.get("MsgNo") or not head.get("MsgID"):
        raise CfxMalformed("HEAD/MsgNo or HEAD/MsgID missing")
    return CfxMessage(head=head, parts=parts)


def yuan_text(amount_fen: int) -> str:
    """``TraAmt``: fen as yuan with two decimals, without floats (12345 → "123.45")."""
    if amount_fen < 0:
        raise ValueError("amount must not be negative")
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def fen_of(text: str) -> int:
    """``TraAmt`` back to fen: "123.45" → 12345; anything else than digits with at most
    two decimals raises ``CfxMalformed``."""
    whole, _, cents = text.strip().partition(".")
    if not whole.isascii() or not whole.isdigit() or len(cents) > 2 or (cents and (not cents.isascii() or not cents.isdigit())):
        raise CfxMalformed(f"TraAmt {text!r} is not an amount")
    return int(whole) * 100 + int(cents.ljust(2, "0") or 0)

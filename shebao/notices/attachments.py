"""Attachments of notices: PDF, images and Office files, the type decided by the content
(puremagic; for the Office Open XML formats also the parts inside the zip), never by the
name or the browser's word, and the size capped (``NOTICE_ATTACHMENT_MAX_BYTES``). What is
refused is refused with a Chinese message and nothing is stored."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

import puremagic
from django.conf import settings
from django.core.exceptions import ValidationError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
ALLOWED_TEXT = "PDF、图片（JPG、PNG、GIF）或 Office 文件（Word、Excel、PowerPoint）"

# extension -> (content type served, the puremagic extensions that confirm it)
KINDS: dict[str, tuple[str, frozenset[str]]] = {
    "pdf": ("application/pdf", frozenset({".pdf"})),
    "jpg": ("image/jpeg", frozenset({".jpg", ".jpeg", ".jfif", ".jpe"})),
    "jpeg": ("image/jpeg", frozenset({".jpg", ".jpeg", ".jfif", ".jpe"})),
    "png": ("image/png", frozenset({".png"})),
    "gif": ("image/gif", frozenset({".gif"})),
    "doc": ("application/msword", frozenset({".doc", ".xls", ".ppt"})),  # one OLE2 signature for the three
    "xls": ("application/vnd.ms-excel", frozenset({".doc", ".xls", ".ppt"})),
    "ppt": ("application/vnd.ms-powerpoint", frozenset({".doc", ".xls", ".ppt"})),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", frozenset({".docx"})),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", frozenset({".xlsx"})),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", frozenset({".pptx"})),
}
# A zip is an Office Open XML file of a kind only with its content types and main part.
OOXML_PARTS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|;]+')


@dataclass(frozen=True)
class CheckedFile:
    file_name: str
    content_type: str
    data: bytes


def max_bytes() -> int:
    return int(getattr(settings, "NOTICE_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def safe_file_name(name: str) -> str:
    """The last path part, NFC, without control or shell/HTTP-significant characters, at most
    100 characters (keeping the extension); never empty."""
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE_NAME.sub("_", base).strip(" ._") or "附件"
    if len(base) > 100:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 100 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 8 else base[:100]
    return base


def _extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def _ooxml_ok(data: bytes, kind: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False
    return "[Content_Types].xml" in names and any(n.startswith(OOXML_PARTS[kind]) for n in names)


def attachment_check(*, file_name: str, data: bytes) -> CheckedFile:
    """The attachment as it will be stored and served, or a ValidationError in Chinese."""
    name = safe_file_name(file_name)
    if not data:
        raise ValidationError(f"附件“{name}”是空文件", code="empty")
    limit = max_bytes()
    if len(data) > limit:
        raise ValidationError(f"附件“{name}”超过大小上限 {limit // (1024 * 1024)} MB", code="too_large")
    ext = _extension(name)
    if ext not in KINDS:
        raise ValidationError(f"附件“{name}”的类型不允许，只能上传{ALLOWED_TEXT}", code="type")
    content_type, confirming = KINDS[ext]
    try:
        found = {m.extension.lower() for m in puremagic.magic_string(data)}
    except puremagic.PureError:
        found = set()
    if not (found & confirming) or (ext in OOXML_PARTS and not _ooxml_ok(data, ext)):
        raise ValidationError(f"附件“{name}”的内容与文件类型不符，只能上传{ALLOWED_TEXT}", code="disguised")
    return CheckedFile(file_name=name, content_type=content_type, data=data)

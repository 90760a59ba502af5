"""Handing out the manual as a PDF, and telling whether an uploaded PDF is one we handed out."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from shebao.common import crypto
from shebao.manual.content import load_manual
from shebao.manual.models import ManualDownload
from shebao.manual.pdf import KEYWORD_PREFIX, render_manual_pdf

UPLOAD_MAX_BYTES = 10 * 1024 * 1024
_CODE = re.compile(re.escape(KEYWORD_PREFIX).encode() + rb"([A-Z0-9]{16})")


@dataclass(frozen=True)
class Verdict:
    genuine: bool
    message: str
    download: ManualDownload | None = None


def manual_download(*, downloader: str, now: dt.datetime) -> tuple[bytes, ManualDownload]:
    """The manual's PDF for ``downloader`` (already masked, or 访客), watermarked with them and the
    moment; its verification code and the SHA-256 of its bytes are kept to verify it later."""
    manual = load_manual()
    code = crypto.random_code(16)
    content = render_manual_pdf(manual, downloader=downloader, at=now, verify_code=code)
    record = ManualDownload.objects.create(verify_code=code, sha256=hashlib.sha256(content).hexdigest(), version=manual.version,
                                           downloader=downloader[:32], downloaded_at=now)
    return content, record


def manual_verify(*, content: bytes) -> Verdict:
    """Is ``content`` a manual PDF this service handed out, byte for byte? A file whose code we
    know but whose bytes differ was changed after download."""
    if not content.startswith(b"%PDF-"):
        return Verdict(False, "上传的文件不是PDF文件，请上传从本服务下载的操作手册PDF")
    record = ManualDownload.objects.filter(sha256=hashlib.sha256(content).hexdigest()).first()
    if record is not None:
        return Verdict(True, f"验证通过：这是本服务生成的操作手册（版本 {record.version}），下载后未被修改", record)
    match = _CODE.search(content)
    if match and ManualDownload.objects.filter(verify_code=match.group(1).decode()).exists():
        return Verdict(False, "验证未通过：该手册由本服务生成，但下载后已被修改，请以在线手册或重新下载的版本为准")
    return Verdict(False, "验证未通过：未找到该手册的下载记录，它不是本服务生成的操作手册")

"""What the service remembers of each manual PDF it handed out: enough to say, when one is
uploaded again, whether it is genuine and unchanged ("is this manual genuine?")."""

from __future__ import annotations

from django.db import models


class ManualDownload(models.Model):
    """One downloaded PDF: its verification code (printed on every page and in the metadata) and
    the SHA-256 of its bytes. Nothing personal beyond the masked name the watermark shows."""

    verify_code = models.CharField("验证码", max_length=16, unique=True)
    sha256 = models.CharField("文件摘要（SHA-256）", max_length=64, unique=True)
    version = models.CharField("手册版本", max_length=16)
    downloader = models.CharField("下载人（部分隐藏）", max_length=32)
    downloaded_at = models.DateTimeField("下载时间")

    class Meta:
        verbose_name = verbose_name_plural = "操作手册下载记录"

    def __str__(self) -> str:
        return f"{self.version} {self.verify_code}"

"""Poppler and zbar (Debian's poppler-utils and zbar-tools) read back what we render:
pdftotext for the text, pdftoppm for the raster a printer or phone would show,
zbarimg for the QR code. Rendered samples are kept in test-artifacts/receipts/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "receipts"
INSTALL = "apt-get install -y poppler-utils zbar-tools"


def run_tool(*args: str | Path) -> str:
    """Run a poppler/zbar command and return its stdout; fail with the install hint if missing."""
    if shutil.which(str(args[0])) is None:
        pytest.fail(f"{args[0]} is not installed: {INSTALL} (make test installs it)")
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{args[0]} failed ({result.returncode}): {result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class Rendered:
    """A rendered receipt saved as an artefact, with what poppler reads back."""

    pdf: bytes
    path: Path

    def text(self) -> str:
        return run_tool("pdftotext", "-enc", "UTF-8", self.path, "-")

    def compact_text(self) -> str:
        """The text with all whitespace removed (wrapping inserts line breaks)."""
        return re.sub(r"\s+", "", self.text())

    def png(self, dpi: int = 150) -> Path:
        """Page 1 rasterised as the sample PNG next to the PDF."""
        stem = self.path.with_suffix("")
        run_tool("pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", "-singlefile", self.path, stem)
        return stem.with_suffix(".png")

    def word_boxes(self) -> list[tuple[float, float, float, float, str]]:
        """Every word's (xMin, yMin, xMax, yMax, text) in points, from ``pdftotext -bbox``."""
        html = run_tool("pdftotext", "-bbox", self.path, "-")
        pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
        return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(pattern, html)]


def save_artifact(name: str, pdf: bytes) -> Rendered:
    """Write PDF bytes to test-artifacts/receipts/<name>.pdf (atomically: parallel
    workers may write the same sample)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.pdf"
    tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
    tmp.write_bytes(pdf)
    os.replace(tmp, path)
    return Rendered(pdf=pdf, path=path)

"""The receipt font is found without settings, and its absence is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from shebao.receipts.fonts import FAMILY_NAME, ReceiptFontMissing, find_receipt_fonts


def test_finds_the_simplified_chinese_faces() -> None:
    fonts = find_receipt_fonts()
    for face, subfamily in ((fonts.regular, "Regular"), (fonts.bold, "Bold")):
        font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
        assert font["name"].getDebugName(1) == FAMILY_NAME
        assert font["name"].getDebugName(2) == subfamily
        assert "CFF " in font  # OpenType/CFF: embedded as FontFile3
        assert ord("缴") in font.getBestCmap() and ord("¥") in font.getBestCmap()
        font.close()


def test_a_missing_font_names_the_package_to_install(tmp_path: Path) -> None:
    with pytest.raises(ReceiptFontMissing) as excinfo:
        find_receipt_fonts(dirs=(tmp_path,))
    message = str(excinfo.value)
    assert "apt-get install -y fonts-noto-cjk" in message and str(tmp_path) in message

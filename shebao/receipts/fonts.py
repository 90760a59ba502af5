"""Where the receipt's CJK font lives on this machine.

The receipt embeds a subset of Noto Sans CJK SC (SIL Open Font License 1.1), which
Debian ships in ``fonts-noto-cjk`` as OpenType collections (CFF outlines; fpdf2 embeds
them as CIDFontType0C, ``/FontFile3``). No setting is needed: the files are looked for
in the places Debian, Ubuntu, Fedora, Arch and Alpine put them, and the face is picked
by its name inside the collection, not by a hard-coded index."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar

from fontTools.ttLib import TTCollection, TTFont

FAMILY_NAME = "Noto Sans CJK SC"
INSTALL_HINT = "apt-get install -y fonts-noto-cjk"
PLACEHOLDER = "□"  # shown instead of a character the font has no glyph for
FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/opentype/noto"),  # Debian, Ubuntu (fonts-noto-cjk)
    Path("/usr/share/fonts/noto-cjk"),  # Arch (noto-fonts-cjk), Alpine (font-noto-cjk)
    Path("/usr/share/fonts/google-noto-sans-cjk-fonts"),  # Fedora
    Path("/usr/share/fonts/google-noto-cjk"),  # older Fedora
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/local/share/fonts"),
)
_FILES = {"regular": "NotoSansCJK-Regular.ttc", "bold": "NotoSansCJK-Bold.ttc"}


T = TypeVar("T")


class ReceiptFontMissing(RuntimeError):
    """The CJK font the receipt needs is not installed."""


@dataclass(frozen=True)
class CollectionFace:
    """One face of a font collection: the file and the face's index inside it."""

    path: Path
    index: int


@dataclass(frozen=True)
class ReceiptFonts:
    regular: CollectionFace
    bold: CollectionFace


def _face_index(path: Path, family: str) -> int:
    """Index of the face whose family name (name ID 1) is ``family`` in a collection."""
    collection = TTCollection(str(path), lazy=True)
    try:
        for index, font in enumerate(collection.fonts):
            if font["name"].getDebugName(1) == family:
                return index
    finally:
        collection.close()
    raise ReceiptFontMissing(f"{path} has no face named {family!r}; reinstall it with: {INSTALL_HINT}")


def _find(file_name: str, dirs: tuple[Path, ...]) -> Path:
    for directory in dirs:
        candidate = directory / file_name
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(d) for d in dirs)
    raise ReceiptFontMissing(
        f"The receipt PDF needs the font {file_name} ({FAMILY_NAME}), not found in: {looked}. Install it with: {INSTALL_HINT}"
    )


def find_receipt_fonts(dirs: tuple[Path, ...] = FONT_DIRS) -> ReceiptFonts:
    """Locate the regular and bold Noto Sans CJK SC faces, or raise ``ReceiptFontMissing``
    naming the directories searched and the package to install."""
    faces = {}
    for weight, file_name in _FILES.items():
        path = _find(file_name, dirs)
        faces[weight] = CollectionFace(path=path, index=_face_index(path, FAMILY_NAME))
    return ReceiptFonts(**faces)


@cache
def receipt_fonts() -> ReceiptFonts:
    """``find_receipt_fonts()`` once per process (the answer does not change while it runs)."""
    return find_receipt_fonts()


@cache
def covered_codepoints(face: CollectionFace) -> frozenset[int]:
    """The code points ``face`` has glyphs for (cached: reading the cmap takes ~0.1 s)."""
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def printable(text: str, covered: frozenset[int]) -> tuple[str, int]:
    """``text`` with every character the font cannot draw (a rare 生僻字 beyond the font,
    an emoji) replaced by a visible ``PLACEHOLDER``, and how many were replaced.

    Without this the PDF library would silently drop the character, printing a wrong
    name, and log the character itself (a fragment of personal data)."""
    replaced = 0
    chars = []
    for char in text:
        if ord(char) in covered or char.isspace():
            chars.append(char)
        else:
            chars.append(PLACEHOLDER)
            replaced += 1
    return "".join(chars), replaced


def printable_fields(obj: T, covered: frozenset[int]) -> tuple[T, int]:
    """A frozen dataclass with ``printable`` applied to every string field, also inside
    tuples of dataclasses (a receipt's lines and timeline), and the total replaced."""
    replaced = 0
    changes: dict[str, object] = {}
    for field in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, field.name)
        if isinstance(value, str):
            changes[field.name], count = printable(value, covered)
            replaced += count
        elif isinstance(value, tuple) and all(dataclasses.is_dataclass(item) for item in value):
            items = []
            for item in value:
                fixed, count = printable_fields(item, covered)
                items.append(fixed)
                replaced += count
            changes[field.name] = tuple(items)
    return dataclasses.replace(obj, **changes), replaced  # type: ignore[type-var]

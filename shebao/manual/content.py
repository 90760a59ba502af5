"""The operation manual (操作手册) as written in the repository: ``content/manual.toml`` lists
the sections in order, with the functions (URL names) each explains and the release that last
changed it; each section's text is a Markdown file beside it. Read once per process.

Markdown is rendered by markdown-it-py in CommonMark mode with raw HTML disabled (the files
are ours, but nothing in them can inject markup). ``![说明](shot:key)`` is a screenshot the
browser test suite takes (``Phone.shot(..., manual="key")``) into ``static/manual/shots``."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.templatetags.static import static
from markdown_it import MarkdownIt

CONTENT = Path(__file__).resolve().parent / "content"
SHOTS = Path(__file__).resolve().parent / "static" / "manual" / "shots"
SHOT_PREFIX = "shot:"
NUMERALS = "一二三四五六七八九十"
SEARCH_MAX = 40  # characters of a search


@dataclass(frozen=True)
class Block:
    """One block of a section for the PDF: a sub-heading, a paragraph, a list item or an image."""

    kind: str  # heading | paragraph | item | image
    text: str
    number: int = 0  # a numbered list item's number
    shot: str = ""  # an image's screenshot key


@dataclass(frozen=True)
class Section:
    id: str
    number: int
    title: str
    functions: tuple[str, ...]
    changed_in: str
    html: str
    text: str  # plain text, for search
    blocks: tuple[Block, ...]
    shots: tuple[str, ...]

    @property
    def heading(self) -> str:
        return f"{chinese_number(self.number)}、{self.title}"


@dataclass(frozen=True)
class Release:
    version: str
    date: dt.date
    notes: str
    sections: tuple[str, ...]  # titles of the sections this release last changed


@dataclass(frozen=True)
class Manual:
    version: str
    sections: tuple[Section, ...]
    releases: tuple[Release, ...]

    @property
    def released_on(self) -> dt.date:
        return next(r.date for r in self.releases if r.version == self.version)


@dataclass(frozen=True)
class Hit:
    section: Section
    snippet: str


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (section numbers stay below 100)."""
    tens, ones = divmod(n, 10)
    return (f"{NUMERALS[tens - 1] if tens > 1 else ''}十" if tens else "") + (NUMERALS[ones - 1] if ones else "")


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def _render(md: MarkdownIt, source: str) -> tuple[str, str, tuple[Block, ...], tuple[str, ...]]:
    tokens = md.parse(source)
    blocks: list[Block] = []
    shots: list[str] = []
    numbers: list[int] = []
    kind = "paragraph"
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"  # the section title is the h2
            kind = "heading" if token.type == "heading_open" else kind
        elif token.type == "ordered_list_open":
            numbers.append(int(token.attrGet("start") or 1) - 1)
        elif token.type == "ordered_list_close":
            numbers.pop()
        elif token.type == "list_item_open":
            kind = "item"
            if numbers:
                numbers[-1] += 1
        elif token.type == "inline":
            for child in token.children or []:
                if child.type == "image" and str(child.attrGet("src") or "").startswith(SHOT_PREFIX):
                    key = str(child.attrGet("src"))[len(SHOT_PREFIX):]
                    child.attrSet("src", static(f"manual/shots/{key}.png"))
                    child.attrSet("loading", "lazy")
                    shots.append(key)
                    blocks.append(Block("image", child.content, shot=key))
            text = "".join(c.content for c in token.children or [] if c.type in ("text", "code_inline", "softbreak"))
            if text.strip():
                blocks.append(Block(kind, text.strip(), number=numbers[-1] if kind == "item" and numbers else 0))
            kind = "paragraph" if kind == "heading" else kind
        elif token.type == "list_item_close":
            kind = "paragraph"
    html = md.renderer.render(tokens, md.options, {})
    text = "\n".join(b.text for b in blocks)
    return html, text, tuple(blocks), tuple(shots)


@lru_cache(maxsize=1)
def load_manual() -> Manual:
    index = tomllib.loads((CONTENT / "manual.toml").read_text(encoding="utf-8"))
    md = _parser()
    sections = []
    for number, entry in enumerate(index["sections"], start=1):
        html, text, blocks, shots = _render(md, (CONTENT / entry["file"]).read_text(encoding="utf-8"))
        sections.append(Section(id=entry["id"], number=number, title=entry["title"], functions=tuple(entry["functions"]),
                                changed_in=entry["changed_in"], html=html, text=f"{entry['title']}\n{text}", blocks=blocks, shots=shots))
    releases = tuple(
        Release(version=r["version"], date=r["date"], notes=r["notes"],
                sections=tuple(s.title for s in sections if s.changed_in == r["version"]))
        for r in index["releases"]
    )
    return Manual(version=index["version"], sections=tuple(sections), releases=releases)


def manual_search(query: str) -> list[Hit]:
    """The sections whose text holds ``query`` (case-insensitive, literal: no pattern syntax),
    each with the words around its first occurrence. An empty query finds nothing."""
    needle = " ".join(query.split())[:SEARCH_MAX].casefold()
    if not needle:
        return []
    hits = []
    for section in load_manual().sections:
        flat = re.sub(r"\s+", " ", section.text)
        at = flat.casefold().find(needle)
        if at >= 0:
            start, end = max(0, at - 24), min(len(flat), at + len(needle) + 40)
            hits.append(Hit(section, ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")))
    return hits

"""The safe subset of rich text of a notice (issue 12 "Bad input"), by nh3 (ammonia): the
body keeps paragraphs, headings, lists, tables, emphasis and http(s)/mailto links; scripts,
styles, every ``on*`` attribute and ``javascript:`` (any scheme but those) are removed. The
title is plain text. The same clean runs on save (services) and on render (the
``safe_notice_html`` filter), so a row written behind the service's back is still safe."""

from __future__ import annotations

import html
import re

import nh3

BODY_TAGS = {
    "p", "br", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "ul", "ol", "li", "blockquote", "a", "table", "thead",
    "tbody", "tr", "th", "td", "span", "hr",
}  # fmt: skip
BODY_ATTRIBUTES = {"a": {"href", "title"}, "th": {"colspan", "rowspan"}, "td": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto"}
_SCRIPT_URL = re.compile(r"(?:java|vb)script\s*:", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def clean_body(value: str) -> str:
    """The body in the safe subset (links open with rel="noopener noreferrer nofollow")."""
    return nh3.clean(value or "", tags=BODY_TAGS, attributes=BODY_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True).strip()


def clean_title(value: str) -> str:
    """Plain text: tags (and a script's content) gone, ``javascript:`` gone, spaces collapsed."""
    text = html.unescape(nh3.clean(value or "", tags=set()))
    text = _SCRIPT_URL.sub("", text)
    return _SPACE.sub(" ", text).strip()

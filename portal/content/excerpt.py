"""A short plain-text excerpt from the start of an article, for lists when it has no summary."""

from __future__ import annotations

import re

from portal.content.render import is_placeholder, strip_template_tags

MAX_CHARS = 200

_FENCE = re.compile(r"^\s*(```|~~~)")
# Blocks that are not prose: headings, tables, HTML, images, quotes, admonitions, lists.
_NOT_PROSE = re.compile(r"^\s*(#|\||<|!\[|>|!!!|\?\?\?|\[TOC\]|[-*+]\s|\d+[.)]\s|---|\*\*\*)")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
_FOOTNOTE = re.compile(r"\[\^[^\]]*\]")
_TAG = re.compile(r"<[^>]{0,200}>")
_MARKS = re.compile(r"(\*\*|__|`|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w))")
_SPACE = re.compile(r"\s+")


def excerpt(body: str, limit: int = MAX_CHARS) -> str:
    """The first paragraph of prose in Markdown, as plain text, cut at a word near `limit`."""
    paragraph: list[str] = []
    in_fence = False
    for line in strip_template_tags(body).splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            if paragraph:
                break
            continue
        if in_fence:
            continue
        if not line.strip():
            if paragraph:
                break
            continue
        if not paragraph and _NOT_PROSE.match(line):
            continue
        paragraph.append(line.strip())
    text = " ".join(paragraph)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    text = _FOOTNOTE.sub("", _TAG.sub(lambda m: m.group() if is_placeholder(m.group()) else "",
                                      text))
    text = _SPACE.sub(" ", _MARKS.sub("", text)).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.-–— ")
    return cut + "…"

"""Markdown to safe HTML: extensions, article links, images, then the nh3 allow-list."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape, unescape
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.codehilite import CodeHiliteExtension
from markdown.extensions.toc import TocExtension, slugify_unicode
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd",
    "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q",
    "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul", "var",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "style", "align"},
    "th": {"colspan", "rowspan", "style", "align", "scope"},
    "ol": {"start", "reversed"},
    "abbr": set(),
    "details": {"open"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif"}
MARKDOWN_SUFFIXES = (".md", ".markdown")
TOC_MIN_HEADINGS = 3


@dataclass
class Rendered:
    html: str
    toc: list[tuple[int, str, str]] = field(default_factory=list)  # (level, anchor, text)
    broken_links: list[str] = field(default_factory=list)
    missing_images: list[str] = field(default_factory=list)


@dataclass
class LinkContext:
    """What the renderer needs to know about the other files."""

    article_path: str  # the article being rendered, relative to the articles root
    article_url: Callable[[str], str | None]  # relative .md path -> URL, None when missing
    media_url: Callable[[str], str | None]  # relative file path -> URL, None when missing


def _is_relative(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("/", "#"))


def _resolve(base_folder: str, target: str) -> str | None:
    joined = posixpath.normpath(posixpath.join(base_folder, unquote(target)))
    if joined.startswith("../") or joined == ".." or joined.startswith("/"):
        return None  # outside the articles folder
    return joined


class _LinkRewriter(Treeprocessor):
    def __init__(self, md: markdown.Markdown, context: LinkContext, result: Rendered):
        super().__init__(md)
        self.context = context
        self.result = result

    def run(self, root: Element) -> None:
        folder = posixpath.dirname(self.context.article_path)
        for element in root.iter():
            if element.tag == "a" and element.get("href"):
                self._link(element, folder)
            elif element.tag == "img" and element.get("src"):
                self._image(element, folder)

    def _link(self, element: Element, folder: str) -> None:
        href = element.get("href", "")
        if not _is_relative(href):
            return
        path, _, fragment = href.partition("#")
        path = path.partition("?")[0]
        target = _resolve(folder, path)
        if path.lower().endswith(MARKDOWN_SUFFIXES):
            url = self.context.article_url(target) if target else None
        else:
            url = self.context.media_url(target) if target else None
        if url is None:
            self.result.broken_links.append(href)
            element.set("class", "broken-link")
            element.set("title", "This link points to a page that does not exist")
            element.attrib.pop("href", None)
            return
        element.set("href", url + (f"#{fragment}" if fragment else ""))

    def _image(self, element: Element, folder: str) -> None:
        src = element.get("src", "")
        if not _is_relative(src):
            return
        target = _resolve(folder, src.partition("#")[0].partition("?")[0])
        url = None
        if target and posixpath.splitext(target)[1].lower() in IMAGE_SUFFIXES:
            url = self.context.media_url(target)
        if url is None:
            self.result.missing_images.append(src)
            element.attrib.pop("src", None)
            element.set("class", "missing-image")
            return
        element.set("src", url)
        element.set("loading", "lazy")


class _RawHtmlSanitizer(Treeprocessor):
    """Clean each raw HTML fragment on its own, so an unclosed tag in one fragment
    (say `<style>`) cannot swallow the rest of the article when the page is cleaned."""

    def run(self, root: Element) -> None:
        stash = self.md.htmlStash
        # Keep the text inside a stray <style>: Markdown may have swallowed the
        # rest of the article into it.
        stash.rawHtmlBlocks = [_clean_fragment(str(block)) for block in stash.rawHtmlBlocks]


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _visible_text(html: str) -> str:
    return _SPACE.sub("", unescape(_TAG.sub("", html)))


def _clean_fragment(block: str) -> str:
    """Sanitize one raw HTML fragment; if cleaning would hide most of its text (broken
    or hostile markup), show the fragment as plain text instead of losing it."""
    cleaned = sanitize(block, frozenset({"script"}))
    before = len(_visible_text(re.sub(r"(?is)<script.*?</script>", "", block)))
    if before and len(_visible_text(cleaned)) < before / 2:
        return "<p>" + escape(block.strip()) + "</p>"
    return cleaned


class _SafetyExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown API)
        md.treeprocessors.register(_RawHtmlSanitizer(md), "portal_raw_html", 0)


class _LinkExtension(Extension):
    def __init__(self, context: LinkContext, result: Rendered):
        super().__init__()
        self.context = context
        self.result = result

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown API)
        md.treeprocessors.register(_LinkRewriter(md, self.context, self.result), "portal_links", 1)


def _flatten_toc(tokens: list[dict], out: list[tuple[int, str, str]]) -> None:
    for token in tokens:
        out.append((token["level"], token["id"], token["name"]))
        _flatten_toc(token.get("children", []), out)


_NUL = re.compile("\x00")


def sanitize(html: str, drop_content: frozenset[str] = frozenset({"script", "style"})) -> str:
    """The one allow-list every piece of user or editor HTML passes through."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES | {"img": ALLOWED_ATTRIBUTES["img"] | {"loading"}},
        url_schemes=URL_SCHEMES,
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
        strip_comments=True,
        clean_content_tags=set(drop_content),
    )


def render_markdown(text: str, context: LinkContext | None = None) -> Rendered:
    """Render Markdown to sanitized HTML with a table of contents."""
    result = Rendered(html="")
    extensions: list = [
        "tables", "fenced_code", "footnotes", "admonition", "sane_lists", "def_list",
        "abbr", "md_in_html", _SafetyExtension(),
        CodeHiliteExtension(
            css_class="highlight", guess_lang=False),
        TocExtension(
            permalink="#", permalink_title="Link to this section", toc_depth="2-4",
            slugify=slugify_unicode),
    ]
    if context is not None:
        extensions.append(_LinkExtension(context, result))
    md = markdown.Markdown(extensions=extensions, output_format="html")
    html = md.convert(_NUL.sub("", text))
    result.html = sanitize(html)
    toc: list[tuple[int, str, str]] = []
    _flatten_toc(getattr(md, "toc_tokens", []), toc)
    if len(toc) >= TOC_MIN_HEADINGS:
        result.toc = toc
    return result

"""Markdown to safe HTML: extensions, article links, images, then the nh3 allow-list.

Template syntax from other site generators is taken out first (see strip_template_tags)."""

from __future__ import annotations

import posixpath
import re
import textwrap
from bisect import bisect_right
from collections.abc import Callable, Collection
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

from portal.content.remote_images import link_remote_images

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


# -- Template syntax from other site generators ---------------------------------------
# Liquid/Jinja tags, Hugo shortcodes and MDX components mean nothing here. Outside code
# they are left out of the page and the index (text between paired tags stays); inside
# fenced code and `code spans` they are kept as written, since articles document them.

_CODE = "\x00"  # what code becomes in the masked copy of an article
_CODE_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(?<![\\`])(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_MAYBE_TEMPLATE = re.compile(r"\{[{%#]|</?[A-Z]|^(?:import|export)\b", re.M)
# Inside a tag: no code, no braces, no blank line (so an unclosed `{{` costs little).
_GAP = r"(?:[^{}\x00\n]|\n(?![ \t]*\n))"
_BRACES = r"\{(?:[^{}\x00]|\{(?:[^{}\x00]|\{[^{}\x00]*\})*\})*\}"  # a JSX {expression}
_ATTRIBUTE = (r"(?:[A-Za-z_:][\w:.-]*(?:\s*=\s*(?:\"[^\"\x00\n]*\"|'[^'\x00\n]*'|" + _BRACES
              + r"))?|" + _BRACES + ")")
_TEMPLATE = re.compile(
    r"(?P<shortcode>\{\{[<%]" + _GAP + r"*?[>%]\}\})"
    r"|(?P<variable>\{\{" + _GAP + r"*?\}\})"
    r"|(?P<tag>\{%" + _GAP + r"*?%\}|\{#" + _GAP + r"*?#\})"
    # A component is a capitalised CamelCase name: <Tabs>, <TabItem value="a">, <Callout />.
    r"|(?P<component></?(?=[A-Z][A-Za-z0-9.]*[a-z])[A-Z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*"
    r"(?:\s+" + _ATTRIBUTE + r")*\s*/?>)")
_RAW_MARK = re.compile(r"\{%-?\s*(end)?raw\s*-?%\}")
_ESM = re.compile(r"import\s+(?:['\"{*]|[\w$]+\s*,|[\w$]+\s+from\s+['\"])"
                  r"|export\s+(?:default|const|let|var|function|class|async)\b|export\s*[{*]")
_HUGO_REF = re.compile(r"\{\{[<%]\s*(?:rel)?ref\s+\"([^\"]+)\"\s*[>%]\}\}")  # a link target
_PLACEHOLDER = re.compile(r"<([A-Za-z][\w-]*(?: [\w-]+)*)>")
# Element names stay markup even in capitals (<B>, <BR>); other capitals are placeholders.
_HTML_NAMES = ALLOWED_TAGS | set("""
    address applet area article aside audio base basefont bdi bdo big blink body button canvas
    center cite data datalist dfn dialog embed fieldset font footer form frame frameset head
    header hgroup html iframe image input label legend link listing main map marquee menu meta
    meter nav nobr noscript object optgroup option output param picture plaintext progress rp
    rt ruby script search section select slot source strike style svg math template textarea
    time title track tt video wbr xmp
""".split())
_KINDS = {
    "variable": ("template variable", "it is left out of the page"),
    "tag": ("template tag", "it is left out of the page"),
    "raw": ("template tag", "it is left out of the page, the text inside it is shown as written"),
    "shortcode": ("Hugo shortcode", "it is left out of the page, the text inside paired "
                                    "shortcodes is kept"),
    "ref": ("Hugo shortcode", "it is read as a plain link to the file it names"),
    "component": ("MDX component", "the tag is left out of the page, the text inside it is kept"),
    "esm": ("MDX line", "it is left out of the page"),
}


@dataclass(frozen=True)
class TemplateTag:
    """Template syntax found outside code, and where it is."""

    start: int
    end: int
    line: int  # 0-based line of `start` in the text searched
    kind: str  # a key of _KINDS
    text: str

    @property
    def message(self) -> str:
        label, effect = _KINDS[self.kind]
        shown = self.text.strip().split("\n")[0].strip()
        if len(shown) > 60 or "\n" in self.text.strip():
            shown = shown[:60].rstrip() + " …"
        return f"{label} '{shown}' is not supported; {effect}"

    @property
    def replacement(self) -> str:
        """What stands in its place: its newlines, or the path a Hugo `ref` names."""
        ref = _HUGO_REF.fullmatch(self.text) if self.kind == "ref" else None
        return ref.group(1) if ref else "\n" * self.text.count("\n")

    @property
    def nesting(self) -> int:
        """+1 for an opening component, -1 for a closing one, else 0."""
        if self.kind != "component" or self.text.endswith("/>"):
            return 0
        return -1 if self.text.startswith("</") else 1


def is_placeholder(tag: str) -> bool:
    """`<YOUR_API_KEY>`, `<DOMAIN>`, `<API KEY>`: words for the reader to replace, not markup."""
    match = _PLACEHOLDER.fullmatch(tag)
    if match is None:
        return False
    name = match.group(1)
    return (name.upper() == name or "_" in name) and name.split()[0].lower() not in _HTML_NAMES


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", _CODE, text)


def _mask_code(text: str) -> str:
    """The text with fenced code and code spans blanked out, same length and lines."""
    lines = text.split("\n")
    fence = ""
    for index, line in enumerate(lines):
        match = _CODE_FENCE.match(line)
        if fence or match:
            if not fence:
                fence = match.group(1)
            elif (match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence)
                  and not line[match.end():].strip()):
                fence = ""
            lines[index] = _CODE * len(line)
        elif "`" in line:
            lines[index] = _CODE_SPAN.sub(lambda m: _CODE * len(m.group()), line)
    return "\n".join(lines)


def _scan(text: str) -> tuple[list[TemplateTag], str]:
    """Template syntax outside code, and the masked text (code and raw blocks blanked)."""
    mask = _mask_code(text)
    found: list[tuple[int, int, str]] = []
    opened = None
    for mark in list(_RAW_MARK.finditer(mask)):  # {% raw %}: the content is meant literally
        if opened is None and not mark.group(1):
            opened = mark
        elif opened is not None and mark.group(1):
            found += [(opened.start(), opened.end(), "raw"), (mark.start(), mark.end(), "raw")]
            mask = mask[:opened.start()] + _blank(mask[opened.start():mark.end()]) + mask[
                mark.end():]
            opened = None
    starts = [0]
    lines = mask.split("\n")
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    index = 0
    while index < len(lines):  # MDX import/export: a top-level paragraph, up to a blank line
        if (index == 0 or not lines[index - 1].strip()) and _ESM.match(lines[index]):
            statements = [index]  # one tag per statement; other lines continue the last one
            last = index
            while last + 1 < len(lines) and lines[last + 1].strip():
                last += 1
                if _ESM.match(lines[last]):
                    statements.append(last)
            for first, after in zip(statements, [*statements[1:], last + 1], strict=True):
                found.append((starts[first], starts[after] - 1, "esm"))
            start, end = starts[index], starts[last] + len(lines[last])
            mask = mask[:start] + _blank(mask[start:end]) + mask[end:]
            index = last
        index += 1
    for match in _TEMPLATE.finditer(mask):
        kind = match.lastgroup or ""
        if kind == "shortcode" and _HUGO_REF.fullmatch(match.group()):
            kind = "ref"
        found.append((match.start(), match.end(), kind))
    found.sort()
    tags = [TemplateTag(start, end, bisect_right(starts, start) - 1, kind, text[start:end])
            for start, end, kind in found]
    return tags, mask


def find_template_tags(text: str) -> list[TemplateTag]:
    """Liquid/Jinja tags, Hugo shortcodes and MDX components outside code, in order."""
    return _scan(text)[0] if _MAYBE_TEMPLATE.search(text) else []


def strip_template_tags(text: str, *, escape_placeholders: bool = False) -> str:
    """The text without template syntax outside code, with the same lines in the same places.

    A line holding only tags becomes blank; text inside block components is dedented, as
    MDX reads it (indentation there is not a code block). With escape_placeholders,
    `<DOMAIN>` becomes `&lt;DOMAIN&gt;` so that Markdown shows it instead of dropping it.
    """
    if not _MAYBE_TEMPLATE.search(text) and not (escape_placeholders and "<" in text):
        return text
    tags, mask = _scan(text)
    edits = [(t.start, t.end, t.replacement) for t in tags]
    if escape_placeholders:
        edits += [(m.start(), m.end(), escape(m.group())) for m in _PLACEHOLDER.finditer(mask)
                  if is_placeholder(m.group())]
    pieces, position = [], 0
    for start, end, replacement in sorted(edits):
        if start >= position:  # a placeholder inside a removed tag goes with the tag
            pieces += [text[position:start], replacement]
            position = end
    pieces.append(text[position:])
    if not tags:
        return "".join(pieces)
    lines = "".join(pieces).split("\n")
    tag_lines: set[int] = set()
    nesting: dict[int, int] = {}
    for tag in tags:
        last = tag.line + tag.text.count("\n")
        tag_lines.update(range(tag.line, last + 1))
        nesting[last] = nesting.get(last, 0) + tag.nesting
    depth, run = 0, []
    for index, line in enumerate(lines + [""]):
        only_tags = index in tag_lines and not line.strip()
        if only_tags:
            lines[index] = ""
        if depth > 0 and not only_tags and index < len(lines):
            run.append(index)
        elif run:
            dedented = textwrap.dedent("\n".join(lines[i] for i in run)).split("\n")
            lines[run[0]:run[-1] + 1] = dedented
            run = []
        depth = max(0, depth + nesting.get(index, 0))
    return "\n".join(lines)



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


_TABLE_OR_HEADING = re.compile(r'<table\b|</table>|<h[1-6] id="([^"]*)"')


def _scrollable_tables(html: str, headings: dict[str, str]) -> str:
    """Wrap each table in a box that scrolls sideways when the screen is too narrow: one a
    keyboard can focus (to scroll it) and a screen reader names after its section."""
    section, seen = "", {}

    def wrap(match: re.Match) -> str:
        nonlocal section
        if match.group(1) is not None:
            section = unescape(headings.get(match.group(1), section))
            return match.group(0)
        if match.group(0) == "</table>":
            return "</table></div>"
        label = f"Table: {section}" if section else "Table"
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label += f" ({seen[label]})"
        return (f'<div class="table-scroll" role="region" tabindex="0" '
                f'aria-label="{escape(label)}"><table')

    return _TABLE_OR_HEADING.sub(wrap, html)


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
    html = md.convert(strip_template_tags(_NUL.sub("", text), escape_placeholders=True))
    toc: list[tuple[int, str, str]] = []
    _flatten_toc(getattr(md, "toc_tokens", []), toc)
    result.html = _scrollable_tables(sanitize(html), {anchor: text for _, anchor, text in toc})
    if len(toc) >= TOC_MIN_HEADINGS:
        result.toc = toc
    return result


def render_customer_markdown(text: str, own_hosts: Collection[str] = ()) -> str:
    """Markdown written by customers (tickets, replies, mail) to sanitized HTML that makes
    the reader's browser fetch nothing from other sites: remote images become links."""
    return link_remote_images(render_markdown(text).html, own_hosts)

"""Articles as the search engine sees them: plain text without Markdown, headings apart."""

from __future__ import annotations

import html
import re

from portal.content.model import Article
from portal.content.render import is_placeholder, strip_template_tags
from portal.search.engine import IndexDocument

_FENCE = re.compile(r"^\s{0,3}(```+|~~~+)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_ADMONITION = re.compile(r'^\s*(?:!!!|\?\?\?\+?)\s*[\w-]+(?:\s+"([^"]*)")?\s*$')
_REF_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_LIST_MARK = re.compile(r"^(\s*)(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]\]\s+)?")
_QUOTE_MARK = re.compile(r"^\s*(?:>\s?)+")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]]+\]")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+|[^>\s@]+@[^>\s]+)>")
_TAG = re.compile(r"</?[A-Za-z][^>]*>|<!--.*?-->", re.S)
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|~~)(?=\S)(.+?)(?<=\S)\1")
# Kept as written: `code spans`, and placeholders such as <YOUR_API_KEY> (not markup).
_VERBATIM = re.compile(r"(`+)(.+?)\1|<[A-Za-z][\w -]*>")
_ATTR_LIST = re.compile(r"\{:?\s*[#.][^}]*\}")


def _markup(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _FOOTNOTE_REF.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _ATTR_LIST.sub("", text)
    for _ in range(2):  # nested **_bold italic_**
        text = _EMPHASIS.sub(r"\2", text)
    return html.unescape(text)


def _inline(line: str) -> str:
    """Inline Markdown to text; `code spans` are kept as written (<tags> and all)."""
    if "|" in line:
        line = line.strip().strip("|").replace("|", " ")
    parts = []
    position = 0
    for match in _VERBATIM.finditer(line):
        if match.group(1) is None and not is_placeholder(match.group()):
            continue  # an HTML tag: _markup drops it
        parts.append(_markup(line[position:match.start()]))
        parts.append(match.group(2) if match.group(1) else match.group())
        position = match.end()
    parts.append(_markup(line[position:]))
    return "".join(parts)


def plain_text(markdown: str) -> tuple[str, list[str]]:
    """(text, headings): readable text for indexing and snippets, and the section titles.

    Template tags and MDX components outside code are not words of the article: they
    go, and the text between paired ones stays."""
    out: list[str] = []
    headings: list[str] = []
    in_fence = False
    fence = ""
    for raw in strip_template_tags(markdown).splitlines():
        match = _FENCE.match(raw)
        if match and (not in_fence or match.group(1)[0] == fence[0]):
            if in_fence:
                in_fence = False
            else:
                in_fence, fence = True, match.group(1)
            continue
        if in_fence:  # code stays searchable: commands and error messages are asked about
            out.append(raw.strip())
            continue
        heading = _HEADING.match(raw)
        if heading:
            text = _inline(heading.group(1))
            headings.append(text)
            out.append(text)
            continue
        if _SETEXT.match(raw) and out and out[-1]:
            headings.append(out[-1])
            continue
        admonition = _ADMONITION.match(raw)
        if admonition:
            if admonition.group(1):
                out.append(_inline(admonition.group(1)))
            continue
        if _REF_DEFINITION.match(raw) or _TABLE_RULE.match(raw) or _RULE.match(raw):
            continue
        line = _QUOTE_MARK.sub("", raw)
        line = _LIST_MARK.sub("", line)
        out.append(_inline(line.strip()))
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, headings


def slug_words(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ")


def from_article(article: Article) -> IndexDocument:
    text, headings = plain_text(article.body)
    return IndexDocument(
        slug=article.slug,
        path=article.path,
        title=article.title,
        category=article.category,
        summary=article.summary or "",
        tags=tuple(str(tag) for tag in article.tags),
        aliases=tuple(slug_words(alias) for alias in article.aliases),
        headings="\n".join(headings),
        text=text,
    )

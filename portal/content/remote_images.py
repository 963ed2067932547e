"""Images from other sites, shown as links: text written by customers loads nothing remote.

An image in a ticket is fetched by the browser of every agent who opens it: a
"tracking pixel" tells the sender who read the ticket, when, and from where.
So in customer text an image from another site becomes a link to it, with the
host in view ("Image: chart (evil.test)"); images on the portal itself (by
path, or by one of its own host names) and data: images stay images.

Works on HTML that went through render.sanitize (nh3): tags are lower case,
every attribute value is double-quoted with `"` escaped, text holds no `<`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from html import unescape
from urllib.parse import SplitResult, urlsplit

from markupsafe import escape

LINK_REL = "nofollow noopener noreferrer"
_TAG = re.compile(r'<(/?)(a|img)((?:\s+[^\s"\'>/=]+(?:="[^"]*")?)*)\s*/?>', re.IGNORECASE)
_ATTRIBUTE = re.compile(r'([^\s"\'>/=]+)(?:="([^"]*)")?')
_IGNORED = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL
_EDGES = "".join(chr(c) for c in range(0x21))  # and C0 controls and spaces around it


def browser_url(src: str) -> SplitResult:
    """The URL as a browser reads it: `\\` is `/` and `/\\host` is `//host` for http(s)."""
    cleaned = _IGNORED.sub("", src).strip(_EDGES).replace("\\", "/")
    return urlsplit(cleaned)


def display_host(parts: SplitResult) -> str:
    """The host as the address bar shows a look-alike: in ASCII (punycode), with its port."""
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        host = host.encode("ascii", "backslashreplace").decode("ascii")
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def is_own_image(src: str, own_hosts: Collection[str] = ()) -> bool:
    """True for an image on the portal itself (or inline data), which may be shown."""
    parts = browser_url(src)
    scheme = parts.scheme.lower()
    if scheme == "data":
        return parts.path.lower().startswith("image/")
    if not scheme and not parts.netloc:
        return True  # a path on this site
    return (scheme in {"http", "https", ""} and bool(parts.hostname)
            and display_host(parts) in {h.lower() for h in own_hosts})


def link_remote_images(html: str, own_hosts: Collection[str] = ()) -> str:
    """Sanitized HTML with each image from another site replaced by a link naming its host.

    An image inside a link becomes the label alone (links cannot nest)."""
    out: list[str] = []
    position = 0
    in_link = 0
    for match in _TAG.finditer(html):
        closing, name = match.group(1), match.group(2).lower()
        if name == "a":
            in_link = max(0, in_link + (-1 if closing else 1))
            continue
        if closing:
            continue
        attributes = {key.lower(): unescape(value or "")
                      for key, value in _ATTRIBUTE.findall(match.group(3))}
        src = attributes.get("src", "")
        if not src or is_own_image(src, own_hosts):
            continue
        parts = browser_url(src)
        host = display_host(parts)
        alt = attributes.get("alt", "").strip()
        label = escape(f"Image: {alt}" if alt else "Image") + (
            escape(f" ({host})") if host else "")
        if host and parts.scheme.lower() in {"http", "https", ""} and not in_link:
            href = parts._replace(scheme=parts.scheme.lower() or "https", netloc=host).geturl()
            label = f'<a href="{escape(href)}" rel="{LINK_REL}">{label}</a>'
        out += [html[position:match.start()], str(label)]
        position = match.end()
    out.append(html[position:])
    return "".join(out)

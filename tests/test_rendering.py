"""Articles render with rich Markdown, and nothing in an article can run script."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from portal.content.render import LinkContext, render_markdown

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\" oNeRrOr=\"alert(1)\">",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"data:text/html,<script>alert(1)</script>\">",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">click</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">click</a>",
    "<a href=\"&#106;avascript:alert(1)\">click</a>",
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<a href=\"vbscript:msgbox(1)\">vb</a>",
    "<div style=\"background:url(javascript:alert(1))\">styled</div>",
    "<p style=\"expression(alert(1))\">ie</p>",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>x</details>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=stylesheet href=\"javascript:alert(1)\">",
    "<style>@import 'javascript:alert(1)';</style>",
    "<img src=\"x\" alt=\"\" onerror=\"alert(1)\"/>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>alert(1)//<</script>",
    "<img \"\"\"><script>alert(1)</script>\">",
    "<a href=\"#\" onclick=\"alert(1)\">hash</a>",
    "<table background=\"javascript:alert(1)\"><tr><td>t</td></tr></table>",
    "<video><source onerror=\"alert(1)\"></video>",
    "<audio src=x onerror=alert(1)>",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<template><script>alert(1)</script></template>",
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "<a href=\"  javascript:alert(1)\">space</a>",
    "[x](<javascript:alert(1)>)",
    "<x onmouseover=alert(1)>hover</x>",
    "{: onclick=\"alert(1)\" }",
]

ALLOWED_SCHEMES = ("http:", "https:", "mailto:", "tel:")
NEVER_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "style", "link", "meta",
              "base", "form", "input", "button", "video", "audio", "source", "template",
              "noscript", "marquee", "body", "frame", "frameset", "applet"}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def executable_parts(html: str) -> list[str]:
    """Every tag or attribute in html that could run script or load active content."""
    parser = _Tags()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        if tag in NEVER_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction", "xlink:href"):
                if not (name == "style" and tag in ("td", "th")
                        and re.fullmatch(r"text-align:\s*\w+;?", value or "")):
                    found.append(f"{tag}[{name}]")
            if name in ("href", "src", "action", "background", "data", "poster"):
                url = re.sub(r"[\x00-\x20]", "", value or "").lower()
                if ":" in url.split("/")[0] and not url.startswith(ALLOWED_SCHEMES):
                    found.append(f"{tag}[{name}={value}]")
    return found


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_executable_markup_survives_rendering(payload):
    html = render_markdown(f"Before the payload.\n\n{payload}\n\nAfter the payload.\n").html
    assert executable_parts(html) == [], html
    assert "Before the payload." in html and "After the payload." in html


def test_the_checker_itself_catches_executable_markup():
    assert executable_parts('<a href=" JavaScript:x">a</a><img src=x onerror=y><svg>')


def test_there_are_at_least_thirty_payloads():
    assert len(XSS_PAYLOADS) >= 30


def test_harmless_text_that_looks_like_code_stays_readable():
    html = render_markdown("Type `<b>bold</b>` to see 1 < 2 & 3 > 2.\n").html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "1 &lt; 2 &amp; 3 &gt; 2" in html


def test_tables_code_admonitions_footnotes_and_toc():
    text = """
## Setup

| Plan | Seats |
|:-----|------:|
| Crew | 5 |

```python
print("hi")
```

!!! warning "Careful"
    Back up first.

A claim.[^1]

## Usage

### Details

[^1]: The source.
"""
    rendered = render_markdown(text)
    html = rendered.html
    assert "<table>" in html and 'style="text-align:right"' in html
    assert 'class="highlight"' in html and '<span class="nb">print</span>' in html
    assert 'class="admonition warning"' in html and "Careful" in html
    assert 'class="footnote"' in html
    assert [anchor for _, anchor, _ in rendered.toc] == ["setup", "usage", "details"]
    assert 'id="setup"' in html


def test_short_articles_get_no_table_of_contents():
    assert render_markdown("## Only one\n\ntext").toc == []


def _context(existing: set[str], images: set[str]) -> LinkContext:
    return LinkContext(
        article_path="billing/invoices.md",
        article_url=lambda p: f"/articles/{p.rsplit('/', 1)[-1][:-3]}" if p in existing else None,
        media_url=lambda p: f"/media/{p}" if p in images else None,
    )


def test_relative_links_to_markdown_files_become_article_urls():
    ctx = _context({"account-and-sign-in/reset-your-password.md", "billing/my plan.md"},
                   {"billing/images/a.png"})
    rendered = render_markdown(
        "[reset](../account-and-sign-in/reset-your-password.md#step-2) "
        "[plan](my%20plan.md) [gone](missing.md) ![shot](images/a.png) ![no](images/b.png) "
        "[escape](../../etc/passwd.md) [web](https://example.com/x.md)", ctx)
    html = rendered.html
    assert 'href="/articles/reset-your-password#step-2"' in html
    assert 'href="/articles/my plan"' in html
    assert 'src="/media/billing/images/a.png"' in html
    assert 'href="https://example.com/x.md"' in html
    assert rendered.broken_links == ["missing.md", "../../etc/passwd.md"]
    assert rendered.missing_images == ["images/b.png"]


def test_rendered_html_is_cached_by_file_content(make_app, write_articles):
    root = write_articles({"c/a.md": "# A\n\n## One\n\ntext\n"})
    app = make_app(ARTICLES_DIR=root)
    client = app.test_client()
    from portal.content import get_store

    store = get_store(app)
    client.get("/articles/a")
    cached = dict(store._renders)
    client.get("/articles/a")
    assert dict(store._renders) == cached and len(cached) == 1
    first = next(iter(cached.values()))
    client.get("/articles/a")
    assert next(iter(store._renders.values())) is first

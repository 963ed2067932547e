"""Tables in articles and tickets scroll inside a region a keyboard can reach (issue 11).

On a phone a wide table cannot fit, so it scrolls sideways inside its own box. Someone
without a mouse can scroll only what they can focus, and a screen reader names the box
after the section it is in."""

from __future__ import annotations

import re

from portal.content.render import render_customer_markdown, render_markdown

TEXT = """# Plans

## Prices & seats

| Plan | Seats |
|---|---|
| Basic | 5 |

| Add-on | Price |
|---|---|
| Storage | $10 |

## Limits

| Limit | Value |
|---|---|
| Projects | 100 |
"""


def regions(html: str) -> list[str]:
    return re.findall(r'<div class="table-scroll" role="region" tabindex="0" '
                      r'aria-label="([^"]*)"><table>', html)


def test_each_article_table_scrolls_in_a_focusable_region_named_after_its_section():
    html = render_markdown(TEXT).html
    assert regions(html) == ["Table: Prices &amp; seats", "Table: Prices &amp; seats (2)",
                             "Table: Limits"]
    assert html.count("</table></div>") == 3


def test_a_table_before_any_heading_and_in_a_ticket_is_wrapped_too():
    assert regions(render_markdown("| a |\n|---|\n| 1 |\n").html) == ["Table"]
    assert regions(render_customer_markdown("| a |\n|---|\n| 1 |\n")) == ["Table"]

"""Page links for any paged listing (search results, the admin console's tables)."""

from __future__ import annotations


def page_links(page: int, pages: int) -> list[int | None]:
    """Page numbers to offer: first, last and two around this one; None marks a gap."""
    wanted = {1, pages, *range(page - 2, page + 3)}
    links: list[int | None] = []
    for number in sorted(n for n in wanted if 1 <= n <= pages):
        if links and links[-1] is not None and number - links[-1] > 1:
            links.append(None)
        links.append(number)
    return links

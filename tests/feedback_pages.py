"""What the feedback tests share: the article they vote on and the fields its page hands out."""

from __future__ import annotations

import re

ARTICLE = "technical-support-policy"
ARTICLE_URL = f"/articles/{ARTICLE}"
VOTE_URL = f"/feedback/articles/{ARTICLE}"
JSON = {"Accept": "application/json"}


def page_fields(client, url: str = ARTICLE_URL) -> dict[str, str]:
    """The hidden fields the article page hands out (page token, CSRF token)."""
    html = client.get(url).get_data(as_text=True)
    fields = {"started": re.search(r'name="started" value="([^"]+)"', html).group(1)}
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if csrf:
        fields["csrf_token"] = csrf.group(1)
    return fields

""""Popular articles" are the ones readers opened most in the last 30 days (from search
results, from the ticket form's suggestions, or rated); recently updated ones stand in only
while there is no such data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models.search import SearchClick, SearchEvent
from tests.feedback_pages import page_fields


@pytest.fixture
def app(make_app):
    return make_app(SEARCH_STATS_SECONDS=0, FEEDBACK_MIN_SECONDS=0)


def opened_from_search(app, slug: str, query: str = "password") -> None:
    """A new reader searches and opens `slug` from the results."""
    client = app.test_client()
    client.get("/search", query_string={"q": query})
    with app.app_context():
        search_id = db.session.scalar(select(SearchEvent.id).order_by(SearchEvent.id.desc()))
    assert client.post(f"/api/click?search={search_id}&slug={slug}&position=1").status_code == 204


def opened_from_ticket_form(app, slug: str) -> None:
    app.test_client().get(f"/tickets/suggested/{slug}", query_string={"subject": "help"})


def rated(app, slug: str) -> None:
    client = app.test_client()
    fields = page_fields(client, f"/articles/{slug}")
    client.post(f"/feedback/articles/{slug}", data=fields | {"helpful": "yes"})


def listed(html: str, heading_id: str) -> list[str]:
    start = html.index(f'id="{heading_id}"')
    section = html[start:html.index("</ul>", start)]
    return re.findall(r'href="/articles/([^"]+)"', section)


def recently_updated(client) -> list[str]:
    return listed(client.get("/").get_data(as_text=True), "recent-heading")


def test_popular_articles_are_ranked_by_readers_in_the_last_30_days(app):
    client = app.test_client()
    recent = recently_updated(client)
    # Three readers for the glossary, two for invoices, one for webhooks; none recent-only.
    for _ in range(2):
        opened_from_search(app, "bitumio-glossary", "glossary")
    rated(app, "bitumio-glossary")
    opened_from_search(app, "invoices-and-receipts", "invoice")
    opened_from_ticket_form(app, "invoices-and-receipts")
    rated(app, "webhooks")
    # Long ago, many readers opened another one: that no longer makes it popular.
    with app.app_context():
        old = datetime.now(UTC) - timedelta(days=40)
        event = SearchEvent(query="sso", normalized="sso", visitor="v-old", created_at=old)
        db.session.add(event)
        db.session.flush()
        db.session.add_all(SearchClick(search_id=event.id, slug="single-sign-on-saml",
                                       visitor=f"v-old-{n}", created_at=old) for n in range(9))
        db.session.commit()

    expected = ["bitumio-glossary", "invoices-and-receipts", "webhooks"]
    search_page = client.get("/search").get_data(as_text=True)
    assert listed(search_page, "popular-heading") == expected
    home = client.get("/").get_data(as_text=True)
    assert listed(home, "popular-heading") == expected
    assert listed(home, "recent-heading") == recent != expected


def test_without_reads_recently_updated_articles_stand_in(app):
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    assert 'id="popular-heading"' not in home  # no second copy of "Recently updated"
    search_page = client.get("/search").get_data(as_text=True)
    assert listed(search_page, "popular-heading") == listed(home, "recent-heading")

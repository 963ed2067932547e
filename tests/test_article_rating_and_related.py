"""On an article: how other readers rated it ("N of M found this helpful", once enough did),
and related articles chosen by what they are about, not only by the section they are in."""

from __future__ import annotations

import re
from html import unescape

from portal.search import indexer
from portal.search.service import get_service
from tests.feedback_pages import ARTICLE_URL, VOTE_URL, page_fields


def vote(app, helpful: bool) -> None:
    """A new reader (their own browser) answers Yes, or No with a reason."""
    client = app.test_client()
    data = page_fields(client) | {"helpful": "yes" if helpful else "no"}
    if not helpful:
        data["reasons"] = ["unclear"]
    assert client.post(VOTE_URL, data=data).status_code == 303


def rating_on_the_page(app) -> str | None:
    html = unescape(app.test_client().get(ARTICLE_URL).get_data(as_text=True))
    found = re.search(r"\d+ of \d+ found this helpful", html)
    return found.group(0) if found else None


def test_the_rating_shows_once_enough_readers_voted_and_follows_new_votes(make_app):
    app = make_app(FEEDBACK_MIN_SECONDS=0, FEEDBACK_SHOW_RATING_MIN=3)
    vote(app, True)
    vote(app, False)
    assert rating_on_the_page(app) is None  # 2 votes: too few to say anything
    vote(app, True)
    assert rating_on_the_page(app) == "2 of 3 found this helpful"
    vote(app, True)  # the shared page was built already: the figure must still move
    assert rating_on_the_page(app) == "3 of 4 found this helpful"
    # A reader who voted sees it too (their page is rendered for them).
    client = app.test_client()
    client.post(VOTE_URL, data=page_fields(client) | {"helpful": "yes"})
    assert "4 of 5 found this helpful" in unescape(client.get(ARTICLE_URL).get_data(as_text=True))


def test_the_rating_minimum_defaults_to_five_votes(make_app):
    app = make_app(FEEDBACK_MIN_SECONDS=0)
    for helpful in (True, True, False, True):
        vote(app, helpful)
    assert rating_on_the_page(app) is None
    vote(app, True)
    assert rating_on_the_page(app) == "4 of 5 found this helpful"


ARTICLES = {
    "billing/invoices.md": "---\ntitle: Download invoices\n---\n"
                           "Every invoice is a PDF file. Download the invoice PDF from the "
                           "Billing page; the PDF shows tax and totals.\n",
    "billing/plans.md": "---\ntitle: Change your plan\n---\n"
                        "Upgrade or downgrade the subscription plan at any time.\n",
    "reports/export-pdf.md": "---\ntitle: Export a report to PDF\n---\n"
                             "Export any report as a PDF file and download the PDF. Totals "
                             "and tax appear in the PDF footer.\n",
    "reports/crews.md": "---\ntitle: Schedule crews\n---\n"
                        "Drag crews and equipment onto the calendar.\n",
}


def related_on(app, slug: str) -> tuple[str, list[str]]:
    html = app.test_client().get(f"/articles/{slug}").get_data(as_text=True)
    start = html.index('id="related-heading"')
    heading = re.search(r">([^<]+)</h2>", html[start:]).group(1)
    section = html[start:html.index("</nav>", start)]
    return heading, re.findall(r'href="/articles/([^"]+)"', section)


def test_related_articles_come_from_what_the_articles_are_about(make_app, write_articles):
    folder = write_articles(ARTICLES)
    app = make_app(ARTICLES_DIR=folder)
    # Before the search index exists: the same section, said as such.
    assert related_on(app, "invoices") == ("In this section", ["plans"])
    indexer.build(get_service(app).engine, folder)
    heading, related = related_on(app, "invoices")
    assert heading == "Related articles"
    assert related[0] == "export-pdf"  # another section, the same subject
    assert "crews" not in related and "invoices" not in related

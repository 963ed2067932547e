"""Readers searching the help center: ranking, typos, hostile input, the results page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.content import get_store
from portal.extensions import db
from portal.models import SearchEvent, VisitTrail
from portal.search import indexer
from portal.search.service import get_service
from portal.search.spelling import Vocabulary

HOSTILE = ["*", "*a*", "?*?*?*", "foo AND (", '"unbalanced quote', "unbalanced quote\"",
           "title:x", "x" * 5000, "reset " * 900, "😀🔥🙈", "пароль не подходит", "",
           "   ", "NOT OR AND", "[a TO z]", "{1 TO 9}", "~2 ^3 +-!", "\x00\x1f\u202e",
           "<script>alert(1)</script>", "%' OR 1=1 --", "a" * 40]


@pytest.fixture
def app(make_app):
    app = make_app()
    indexer.build(get_service(app).engine, app.config["ARTICLES_DIR"])
    return app


def titles_in(html: str) -> list[str]:
    return re.findall(r'<li class="article-item search-result">\s*<a [^>]*>([^<]+)</a>', html)


def test_every_sample_article_comes_first_for_its_exact_title(app):
    service = get_service(app)
    with app.app_context():
        articles = get_store(app).tree().published()
        assert len(articles) > 20
        for article in articles:
            page = service.search(article.title)
            assert page.items, article.title
            assert page.items[0].article.slug == article.slug, (
                article.title, [i.article.title for i in page.items[:3]])


def test_an_exact_title_beats_articles_that_repeat_its_words(make_app, write_articles):
    folder = write_articles({
        "a/export-your-data.md": "---\ntitle: Export your data\n---\nUse the Export button.\n",
        "a/data-everywhere.md": "---\ntitle: Data everywhere\n---\n"
                                + "Export data, export more data, data export of data. " * 20,
        "a/exporting.md": "---\ntitle: Exporting reports\ntags: [export, data]\n---\n"
                          + "Export your data to CSV. Your data, exported. " * 10,
    })
    app = make_app(ARTICLES_DIR=folder)
    indexer.build(get_service(app).engine, folder)
    html = app.test_client().get("/search?q=Export+your+data").get_data(as_text=True)
    assert titles_in(html)[0] == "Export your data"


def test_an_article_titled_with_the_query_words_beats_one_that_only_mentions_them(
        make_app, write_articles):
    # Not an exact title: the reader typed three of the title's four words.
    folder = write_articles({
        "app/offline-sync.md": "---\ntitle: Mobile app offline sync\n---\n"
                               "Reports wait on the phone until there is a signal again.\n",
        "app/gps.md": "---\ntitle: GPS location not updating\n---\n"
                      + "In the mobile app, offline mode pauses GPS. The app keeps the last "
                        "fix while offline; open the mobile app again to refresh. " * 6,
        "app/other.md": "---\ntitle: Crew schedule\n---\nPlan the week's crews.\n",
    })
    app = make_app(ARTICLES_DIR=folder)
    indexer.build(get_service(app).engine, folder)
    results = app.test_client().get("/api/search?q=mobile+app+offline").get_json()["results"]
    assert [r["slug"] for r in results[:2]] == ["offline-sync", "gps"]


def test_a_typo_in_a_title_still_finds_the_article_and_offers_did_you_mean(app):
    client = app.test_client()
    for typed, wanted in [("reset your pasword", "Reset your password"),
                          ("two-factor authentcation", "Set up two-factor authentication"),
                          ("invoises and receipts", "Invoices and receipts"),
                          ("mobile app ofline sync", "Mobile app offline sync")]:
        html = client.get("/search", query_string={"q": typed}).get_data(as_text=True)
        assert wanted in titles_in(html)[:3], (typed, titles_in(html)[:3])
        assert "Did you mean" in html, typed


def test_did_you_mean_links_to_the_corrected_query(app):
    html = app.test_client().get("/search?q=pasword").get_data(as_text=True)
    assert '<a href="/search?q=password">password</a>' in html
    assert titles_in(html)[0] == "Reset your password"


def test_a_correct_word_the_articles_do_not_use_is_left_alone(app):
    page = app.test_client().get("/api/search?q=password+platypus").get_json()
    assert page["corrected_query"] is None
    assert page["results"][0]["slug"] == "reset-your-password"


def test_natural_language_question_finds_the_answer(app):
    client = app.test_client()
    for question, slug in [
        ("how do I change the email address on my account", "change-your-email-address"),
        ("why can't I sign in, my account is locked", "locked-account"),
        ("what are your support hours", "technical-support-policy"),
        ("the GPS location of my crew is not updating on the phone",
         "gps-location-not-updating"),
    ]:
        results = client.get("/api/search", query_string={"q": question}).get_json()["results"]
        assert slug in [r["slug"] for r in results[:3]], (question, results[:3])


def test_matching_more_words_and_the_phrase_ranks_higher(make_app, write_articles):
    folder = write_articles({
        "a/one.md": "---\ntitle: One\n---\nThe load ticket arrived. Later a report was late.\n",
        "a/two.md": "---\ntitle: Two\n---\nEvery load ticket report is listed here.\n",
        "a/three.md": "---\ntitle: Three\n---\nThe load was heavy.\n",
    })
    app = make_app(ARTICLES_DIR=folder)
    indexer.build(get_service(app).engine, folder)
    results = app.test_client().get('/api/search?q="load ticket report"').get_json()["results"]
    assert [r["slug"] for r in results] == ["two", "one", "three"]


@pytest.mark.parametrize("query", HOSTILE)
def test_any_input_gives_a_normal_results_page(app, query):
    response = app.test_client().get("/search", query_string={"q": query})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'role="search"' in html and "Traceback" not in html
    assert "<script>alert" not in html
    assert ("found" in html) or ("Popular articles" in html)


@pytest.mark.parametrize("query", HOSTILE)
def test_any_input_gives_valid_json(app, query):
    response = app.test_client().get("/api/search", query_string={"q": query})
    assert response.status_code == 200
    data = response.get_json()
    assert isinstance(data["total"], int) and isinstance(data["results"], list)


def test_a_long_paste_is_cut_to_the_query_limit(app):
    data = app.test_client().get("/api/search", query_string={
        "q": "the sync failed with error 504 " * 200}).get_json()
    assert len(data["query"]) <= 500
    assert data["results"]


def test_snippets_highlight_matches_and_escape_the_rest(make_app, write_articles):
    folder = write_articles({
        "a/html.md": "---\ntitle: Odd page\n---\n"
                     "If you see `<script>alert('password')</script>` the password field is "
                     "broken & needs a reload.\n",
    })
    app = make_app(ARTICLES_DIR=folder)
    indexer.build(get_service(app).engine, folder)
    html = app.test_client().get("/search?q=password").get_data(as_text=True)
    snippet = re.search(r'<p class="snippet">(.*?)</p>', html, re.S).group(1)
    assert "<mark>password</mark>" in snippet
    assert "&lt;script&gt;" in snippet and "&amp;" in snippet
    assert "<script>" not in snippet


def test_category_filter_keeps_results_in_that_category_and_below(app):
    client = app.test_client()
    everywhere = client.get("/api/search?q=app&per_page=50").get_json()
    inside = client.get("/api/search?q=app&category=troubleshooting&per_page=50").get_json()
    assert 0 < inside["total"] < everywhere["total"]
    assert {r["category"]["slug"] for r in inside["results"]} <= {
        "troubleshooting", "troubleshooting/mobile-app"}
    assert any(r["category"]["slug"] == "troubleshooting/mobile-app"
               for r in inside["results"])
    html = client.get("/search?q=app&category=troubleshooting").get_data(as_text=True)
    assert 'value="troubleshooting" selected' in html and "search all categories" in html


def test_unknown_category_searches_everywhere(app):
    data = app.test_client().get("/api/search?q=password&category=nope").get_json()
    assert data["category"] is None and data["total"] > 0


def test_results_are_paginated(app):
    client = app.test_client()
    first = client.get("/api/search?q=bitumio&per_page=3").get_json()
    second = client.get("/api/search?q=bitumio&per_page=3&page=2").get_json()
    assert first["total"] > 6 and first["pages"] > 2
    assert [r["position"] for r in second["results"]] == [4, 5, 6]
    assert not {r["slug"] for r in first["results"]} & {r["slug"] for r in second["results"]}
    html = client.get("/search?q=bitumio&page=2").get_data(as_text=True)
    assert 'aria-current="page" class="current">2<' in html and 'rel="prev"' in html
    past = client.get("/search?q=bitumio&page=99").get_data(as_text=True)
    assert "There are no more results" in past


def test_empty_query_shows_popular_articles_and_is_not_logged(app):
    client = app.test_client()
    client.get("/search?q=reset+password")
    with app.app_context():
        search_id = db.session.scalars(select(SearchEvent.id)).one()
    client.post(f"/api/click?search={search_id}&slug=locked-account&position=2")
    html = client.get("/search").get_data(as_text=True)
    assert "Popular articles" in html and "Search the Help Center" in html
    popular = re.findall(r'<li class="article-item">\s*<a href="/articles/([^"]+)"', html)
    assert popular == ["locked-account"]  # what readers read, not topped up with recent ones
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(SearchEvent)) == 1


def test_no_results_suggests_popular_articles_and_a_ticket(app):
    html = app.test_client().get("/search?q=zzzqqq+xxyyzz").get_data(as_text=True)
    assert "0 articles found" in html and "No articles match" in html
    assert "Popular articles you might try" in html
    assert "Still need help?" in html and "Submit a ticket" in html


def test_every_search_is_logged_once_with_what_it_found(app):
    client = app.test_client()
    client.get("/search?q=Reset+PASWORD&category=account-and-sign-in&page=1")
    client.get("/search?q=reset+pasword&page=2")
    with app.app_context():
        events = db.session.scalars(select(SearchEvent).order_by(SearchEvent.id)).all()
    assert [(e.query, e.normalized, e.corrected, e.page) for e in events] == [
        # The suggestion keeps what the reader typed around the word it fixes.
        ("Reset PASWORD", "reset pasword", "Reset password", 1),
        ("reset pasword", "reset pasword", "reset password", 2)]
    assert events[0].category == "account-and-sign-in" and events[0].result_count > 0
    assert events[0].visitor and events[0].visitor == events[1].visitor
    assert events[0].source == "page"


def test_search_is_remembered_for_the_ticket_gate(app):
    client = app.test_client()
    client.get("/search?q=locked+out")
    client.get("/search?q=")
    with client.session_transaction() as session:
        assert session["portal_keep_searched"] is True
        visitor = session["portal_keep_visitor"]
    with app.app_context():  # what was searched is kept on the server, not in the cookie
        kept = db.session.scalars(select(VisitTrail.value).where(
            VisitTrail.visitor == visitor, VisitTrail.kind == "q")).all()
    assert kept == ["locked out"]


def test_results_page_links_each_result_for_click_logging(app):
    html = app.test_client().get("/search?q=invoice").get_data(as_text=True)
    link = re.search(r'<a href="/articles/([^"]+)" data-search-click="([^"]+)" ping="\2">', html)
    assert link and "/api/click?search=" in link.group(2)
    assert "js/search.js" in html


def test_spelling_corrections_prefer_common_words_one_edit_away():
    vocabulary = Vocabulary({"password": 40, "passport": 2, "reset": 30, "invoice": 12,
                             "authentication": 5})
    assert vocabulary.correct("pasword") == "password"
    assert vocabulary.correct("passwrod") == "password"
    assert vocabulary.correct("invoise") == "invoice"
    assert vocabulary.correct("authentcaton") == "authentication"  # two edits, long word
    assert vocabulary.correct("reset") is None  # known
    assert vocabulary.correct("rest") is None  # too short to guess
    assert vocabulary.correct("x" * 500) is None
    assert vocabulary.correct("platypus") is None


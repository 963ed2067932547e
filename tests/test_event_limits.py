"""Anonymous page views that record analytics (the search page, a suggested article opened
from the ticket form) store a visitor's repeated event once, and each client address may
record only so many a minute; the reader is answered either way (security review, finding 8).

Runs on SQLite, and on PostgreSQL when PORTAL_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from portal.extensions import db
from portal.models import SearchEvent, SuggestionClick
from portal.search import event_limits, indexer
from portal.search.service import get_service

OTHER_ADDRESS = "198.51.100.7"
SUGGESTED = "/tickets/suggested/reset-your-password?subject=cannot+log+in"


@pytest.fixture
def app(make_app):
    return _indexed(make_app())


def _indexed(app):
    indexer.build(get_service(app).engine, app.config["ARTICLES_DIR"])
    return app


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _deflection(app) -> str:
    result = app.test_cli_runner().invoke(args=["tickets", "deflection"])
    assert result.exit_code == 0, result.output
    return result.output


def _search_ids(html: str) -> set[str]:
    """The search id the results page ties its result clicks to."""
    return set(re.findall(r"/api/click\?search=(\d+)", html))


def _from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


# -- the same event again is stored once ------------------------------------------------------

def test_thirty_identical_anonymous_searches_store_one_search(app):
    for _ in range(30):
        response = app.test_client(use_cookies=False).get("/search?q=reset+password")
        assert response.status_code == 200
        assert "Reset your password" in response.get_data(as_text=True)
    assert _count(app, SearchEvent) == 1


def test_a_browser_reloading_and_paging_through_a_search_stores_one_search(app):
    client = app.test_client()
    ids: set[str] = set()
    for url in ["/search?q=bitumio", "/search?q=bitumio&page=2", "/search?q=BITUMIO&page=3",
                "/search?q=bitumio", "/search?q=bitumio&page=2"]:
        html = client.get(url).get_data(as_text=True)
        assert 'class="article-item search-result"' in html
        ids |= _search_ids(html)
    assert _count(app, SearchEvent) == 1
    assert len(ids) == 1  # clicks on page 2 still belong to the one search
    for _ in range(5):
        client.get("/api/search?q=invoice")
    assert _count(app, SearchEvent) == 2


def test_thirty_identical_suggestion_opens_store_one_click_and_one_visit(app):
    for _ in range(30):
        response = app.test_client(use_cookies=False).get(SUGGESTED)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/articles/reset-your-password")
    browser = app.test_client()
    browser.get("/search?q=password")  # a reader with their own visitor id, opening it 5 times
    for _ in range(5):
        assert browser.get(SUGGESTED + "%20").status_code == 302  # same subject, retyped
    assert _count(app, SuggestionClick) == 2
    assert "visits that opened a suggestion: 2 (2 clicks)" in _deflection(app)


def test_a_new_browser_opening_a_suggestion_again_counts_it_once(app):
    browser = app.test_client()  # no cookie yet: the first click is kept under its network
    for _ in range(3):
        assert browser.get(SUGGESTED).status_code == 302
    assert _count(app, SuggestionClick) == 1


# -- different events, or different readers, each count -------------------------------------

def test_different_searches_and_suggestions_are_each_recorded(app):
    client = app.test_client()
    for url in ["/search?q=reset+password", "/search?q=invoice", "/search?q=load+tickets",
                "/search?q=reset+password&category=account-and-sign-in"]:
        assert client.get(url).status_code == 200
    assert _count(app, SearchEvent) == 4
    for url in [SUGGESTED, "/tickets/suggested/reset-your-password?subject=locked+out",
                "/tickets/suggested/locked-account?subject=cannot+log+in"]:
        assert client.get(url).status_code == 302
    assert _count(app, SuggestionClick) == 3


def test_different_readers_making_the_same_search_are_each_counted(app, make_user):
    first, second = app.test_client(), app.test_client()
    first.get("/search?q=invoice")  # each browser now has its own visitor id
    second.get("/search?q=welcome")
    make_user(email="reader@example.com")
    signed_in = app.test_client()
    signed_in.post("/login", data={"email": "reader@example.com",
                                   "password": "correct horse 1"})
    before = _count(app, SearchEvent)
    for client in [first, second, _from(app, OTHER_ADDRESS), signed_in]:
        client.get("/search?q=reset+password")
        client.get(SUGGESTED)
    assert _count(app, SearchEvent) == before + 4
    assert _count(app, SuggestionClick) == 4
    assert "visits that opened a suggestion: 4 (4 clicks)" in _deflection(app)


def test_the_same_search_counts_again_once_the_window_has_passed(make_app):
    app = _indexed(make_app(EVENT_DEDUPE_MINUTES=30))
    client = app.test_client()
    client.get("/search?q=invoice")
    client.get(SUGGESTED)
    with app.app_context():  # as if both had happened 31 minutes ago
        for model in (SearchEvent, SuggestionClick):
            row = db.session.scalars(select(model)).one()
            row.created_at -= timedelta(minutes=31)
            row.dedupe_bucket = event_limits.bucket_of(row.created_at, event_limits.window())
        db.session.commit()
    client.get("/search?q=invoice")
    client.get(SUGGESTED)
    assert (_count(app, SearchEvent), _count(app, SuggestionClick)) == (2, 2)


# -- the per-address limit --------------------------------------------------------------------

def test_over_the_limit_the_search_page_still_answers_but_records_nothing(make_app):
    app = _indexed(make_app(SEARCH_PAGE_LIMIT="3 per minute"))
    client = app.test_client()
    for query in ["reset password", "invoice", "load tickets", "locked account", "export"]:
        response = client.get("/search", query_string={"q": query})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "articles found" in html or "article found" in html
    assert _count(app, SearchEvent) == 3
    with client.session_transaction() as session:  # the ticket form still opens
        assert session["portal_keep_searched"] is True
    _from(app, OTHER_ADDRESS).get("/search?q=export")  # other addresses are not affected
    assert _count(app, SearchEvent) == 4


def test_over_the_limit_a_suggestion_still_opens_but_is_not_counted(make_app):
    app = make_app(SUGGESTED_LIMIT="3 per minute")
    client = app.test_client()
    for slug in ["reset-your-password", "locked-account", "sign-in-problems",
                 "invoices-and-receipts", "change-your-plan"]:
        response = client.get(f"/tickets/suggested/{slug}?subject=help")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/articles/{slug}")
    assert _count(app, SuggestionClick) == 3
    assert _from(app, OTHER_ADDRESS).get(SUGGESTED).status_code == 302
    assert _count(app, SuggestionClick) == 4


# -- parallel identical requests ----------------------------------------------------------------

def _race(app, urls: list[str], table: str) -> list:
    """Send the requests at once, each held just before its INSERT until all got there."""
    barrier = threading.Barrier(len(urls), timeout=10)
    met = threading.Event()
    results: list = [None] * len(urls)

    def hold(conn, cursor, statement, parameters, context, executemany):
        if not met.is_set() and statement.lstrip().upper().startswith(f"INSERT INTO {table}"):
            try:
                barrier.wait()
                met.set()
            except threading.BrokenBarrierError:
                pass

    def run(n: int) -> None:
        try:
            results[n] = app.test_client(use_cookies=False).get(urls[n])
        except Exception as exc:  # surfaced by the assertions
            results[n] = exc

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", hold)
    try:
        threads = [threading.Thread(target=run, args=(n,)) for n in range(len(urls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        event.remove(engine, "before_cursor_execute", hold)
    assert met.is_set(), f"the requests should have reached INSERT INTO {table} together"
    return results


def test_identical_searches_at_the_same_moment_store_one_search(app):
    results = _race(app, ["/search?q=reset+password"] * 2, "SEARCH_EVENT")
    for result in results:
        assert not isinstance(result, Exception), result
        assert result.status_code == 200
    assert _count(app, SearchEvent) == 1
    assert len(set().union(*(_search_ids(r.get_data(as_text=True)) for r in results))) == 1


def test_identical_suggestion_opens_at_the_same_moment_store_one_click(app):
    results = _race(app, [SUGGESTED] * 2, "TICKET_SUGGESTION_CLICK")
    for result in results:
        assert not isinstance(result, Exception), result
        assert result.status_code == 302
    assert _count(app, SuggestionClick) == 1

"""The JSON API: /api/search, /api/suggest and /api/click."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import SearchClick, SearchEvent
from portal.search import indexer
from portal.search.service import get_service


@pytest.fixture
def app(make_app):
    app = make_app(SEARCH_STATS_SECONDS=0)
    indexer.build(get_service(app).engine, app.config["ARTICLES_DIR"])
    return app


def test_search_returns_the_results_page_as_json(app):
    response = app.test_client().get("/api/search?q=reset+pasword&per_page=3")
    assert response.status_code == 200 and response.is_json
    data = response.get_json()
    assert data["query"] == "reset pasword"
    assert data["corrected_query"] == "reset password"
    assert data["total"] >= 3 and data["page"] == 1 and data["per_page"] == 3
    first = data["results"][0]
    assert first["slug"] == "reset-your-password"
    assert first["title"] == "Reset your password"
    assert first["url"] == "http://localhost/articles/reset-your-password"
    assert first["category"] == {"slug": "account-and-sign-in", "title": "Account and sign-in"}
    assert "<mark>password</mark>" in first["snippet"]
    assert isinstance(first["score"], float) and first["position"] == 1
    assert first["updated"][:4].isdigit()
    assert isinstance(data["search_id"], int)


def test_search_caps_the_page_size(app):
    data = app.test_client().get("/api/search?q=bitumio&per_page=1000").get_json()
    assert data["per_page"] == 50


def test_search_without_a_query_lists_popular_articles(app):
    data = app.test_client().get("/api/search").get_json()
    assert data["total"] == 0 and data["results"] == [] and len(data["popular"]) == 8
    assert data["search_id"] is None


def test_api_searches_are_logged_and_count_for_the_ticket_gate(app):
    client = app.test_client()
    client.get("/api/search?q=invoice")
    with app.app_context():
        event = db.session.scalars(select(SearchEvent)).one()
    assert event.source == "api" and event.normalized == "invoice"
    with client.session_transaction() as session:
        assert session["portal_keep_searched"] is True


def test_suggest_offers_titles_for_a_prefix(app):
    client = app.test_client()
    data = client.get("/api/suggest?q=pass").get_json()
    assert [a["slug"] for a in data["articles"]] == ["reset-your-password"]
    assert data["articles"][0]["url"].endswith("/articles/reset-your-password")
    load = client.get("/api/suggest?q=load+ti").get_json()
    assert {a["title"] for a in load["articles"]} == {
        "Load tickets from asphalt plants", "Load tickets not appearing"}
    assert client.get("/api/suggest?q=").get_json() == {"articles": [], "queries": [],
                                                         "query": ""}
    assert client.get("/api/suggest?q=*?%22(").status_code == 200


def test_suggest_offers_past_searches_once_several_visitors_made_them(app):
    first, second = app.test_client(), app.test_client()
    first.get("/search?q=Reset+Password")
    assert first.get("/api/suggest?q=res").get_json()["queries"] == []  # one visitor only
    # Another address: new browsers from one address are one visitor (test_event_limits.py).
    second.environ_base["REMOTE_ADDR"] = "198.51.100.2"
    second.get("/search?q=reset+password")
    second.get("/search?q=zzzz+nothing+found")  # no results: never suggested
    third = app.test_client()
    assert third.get("/api/suggest?q=res").get_json()["queries"] == ["reset password"]
    assert third.get("/api/suggest?q=zzzz").get_json()["queries"] == []


def test_a_click_on_a_result_is_recorded_for_its_search(app):
    client = app.test_client()
    search_id = client.get("/api/search?q=invoice").get_json()["search_id"]
    response = client.post(f"/api/click?search={search_id}&slug=invoices-and-receipts"
                           "&position=1")
    assert response.status_code == 204
    with app.app_context():
        click = db.session.scalars(select(SearchClick)).one()
    assert (click.search_id, click.slug, click.position) == (
        search_id, "invoices-and-receipts", 1)


def test_clicks_that_are_not_the_visitors_own_are_ignored(app):
    owner, stranger = app.test_client(), app.test_client()
    search_id = owner.get("/api/search?q=invoice").get_json()["search_id"]
    for client, query in [(stranger, f"search={search_id}&slug=invoices-and-receipts"),
                          (owner, f"search={search_id}&slug=no-such-article"),
                          (owner, "search=999999&slug=invoices-and-receipts"),
                          (owner, "search=abc&slug=invoices-and-receipts&position=x")]:
        assert client.post(f"/api/click?{query}").status_code == 204
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SearchClick)) == 0


def test_click_beacons_need_no_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    indexer.build(get_service(app).engine, app.config["ARTICLES_DIR"])
    client = app.test_client()
    search_id = client.get("/api/search?q=invoice").get_json()["search_id"]
    response = client.post(f"/api/click?search={search_id}&slug=invoices-and-receipts",
                           data="PING", content_type="text/ping")
    assert response.status_code == 204
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SearchClick)) == 1


def test_the_api_is_rate_limited(make_app):
    app = make_app(SEARCH_SUGGEST_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.get("/api/suggest?q=pass").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/suggest?q=pass").get_json()["status"] == 429

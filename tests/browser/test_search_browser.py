"""Search in a real browser: type-ahead from any page, the results page, click logging."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import SearchClick
from portal.search import indexer
from portal.search.service import get_service


@pytest.fixture
def server(make_app, serve):
    app = make_app()
    indexer.build(get_service(app).engine, app.config["ARTICLES_DIR"])
    return serve(app)


def watch_console(page) -> list[str]:
    """Script errors, CSP violations and failed requests (the missing favicon aside)."""
    problems: list[str] = []

    def on_console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def on_response(response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            problems.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", on_response)
    return problems


def test_type_ahead_in_the_header_opens_an_article(server, page, screenshot):
    problems = watch_console(page)
    page.goto(server.url + "/articles/locked-account")
    box = page.locator("#header-q")
    box.click()
    box.press_sequentially("pass", delay=40)
    listbox = page.get_by_role("listbox", name="Suggestions")
    listbox.wait_for()
    option = page.get_by_role("option", name="Reset your password")
    assert option.is_visible()
    assert box.get_attribute("aria-controls") == listbox.get_attribute("id")
    screenshot(page, "search-typeahead", full_page=False)
    box.press("ArrowDown")
    assert option.get_attribute("aria-selected") == "true"
    box.press("Enter")
    page.wait_for_url("**/articles/reset-your-password")
    assert problems == []


def test_escape_closes_suggestions_and_enter_still_searches(server, page):
    page.goto(server.url + "/")
    box = page.get_by_role("searchbox", name="Search the help center")
    box.press_sequentially("load tic", delay=40)
    page.get_by_role("listbox").wait_for()
    box.press("Escape")
    assert page.get_by_role("listbox").is_hidden()
    box.press("Enter")
    page.wait_for_url("**/search?q=load+tic*")
    assert "Load tickets" in page.locator(".search-results").inner_text()


def test_results_page_shows_corrections_snippets_and_pages(server, page, screenshot):
    problems = watch_console(page)
    page.goto(server.url + "/search?q=reset+pasword")
    assert page.get_by_role("heading", level=1).inner_text() == "Results for “reset pasword”"
    assert "Did you mean reset password?" in page.locator(".did-you-mean").inner_text()
    first = page.locator(".search-result").first
    assert first.get_by_role("link").first.inner_text() == "Reset your password"
    assert first.locator("mark").count() >= 2
    assert page.get_by_role("navigation", name="Result pages").is_visible()
    assert page.get_by_text("Still need help?").is_visible()
    screenshot(page, "search-results")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "search-results-phone", full_page=False)
    assert problems == []


def test_opening_a_result_is_logged_by_beacon(server, page):
    page.goto(server.url + "/search?q=invoice")
    page.locator(".search-result a[data-search-click]").first.click()
    page.wait_for_url("**/articles/invoices-and-receipts")
    with server.app.app_context():
        for _ in range(50):
            clicks = db.session.scalar(select(func.count()).select_from(SearchClick))
            if clicks:
                break
            db.session.remove()
            time.sleep(0.1)
        assert clicks == 1  # the beacon, and not the <a ping> as well
        click = db.session.scalars(select(SearchClick)).one()
        assert (click.slug, click.position) == ("invoices-and-receipts", 1)


def test_search_works_without_javascript(server, page_without_js, screenshot):
    page = page_without_js
    page.goto(server.url + "/search")
    assert page.get_by_text("Popular articles").is_visible()
    screenshot(page, "search-empty-query")
    page.get_by_role("searchbox", name="Search the help center").fill("sync")
    page.get_by_label("Category").select_option(label="\u2003Mobile app")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search?q=sync&category=troubleshooting%2Fmobile-app")
    assert "in Mobile app" in page.locator(".result-count").inner_text()
    assert "Mobile app offline sync" in page.locator(".search-results").inner_text()
    screenshot(page, "search-filtered-no-js")

"""A first visit in a real browser: home page, search box, an article."""

from __future__ import annotations


def test_reader_finds_an_article_from_the_home_page(serve, page, screenshot):
    server = serve()
    page.goto(server.url + "/")
    assert page.title().startswith("Help Center")
    search = page.get_by_role("searchbox", name="Search the help center")
    assert search.is_visible()
    screenshot(page, "home")

    page.get_by_role("link", name="Policies").first.click()
    page.wait_for_url("**/categories/policies")
    screenshot(page, "category")

    page.get_by_role("link", name="Technical support policy").first.click()
    page.wait_for_url("**/articles/technical-support-policy")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Technical support policy")
    assert page.locator(".article-body table").count() >= 1
    assert page.locator(".article-meta").inner_text().startswith(("Created by", "Modified on"))
    screenshot(page, "article")


def test_search_box_leads_to_a_results_page(serve, page):
    server = serve()
    page.goto(server.url + "/")
    page.get_by_role("searchbox", name="Search the help center").fill("reset password")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    assert "reset password" in page.get_by_role("heading", level=1).inner_text()

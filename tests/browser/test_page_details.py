"""Details every page shares (issue 11): room under the header, a favicon, printing an
article, and the dark theme."""

from __future__ import annotations

import pytest

from portal.accounts.service import create_user
from portal.extensions import db

PASSWORD = "correct horse 1"


def gap_below_header(page, selector: str) -> float:
    return page.evaluate("""(selector) => {
        const header = document.querySelector(".site-header").getBoundingClientRect();
        return document.querySelector(selector).getBoundingClientRect().top - header.bottom;
    }""", selector)


@pytest.mark.parametrize("width", [390, 1280])
def test_headings_breadcrumbs_and_flashes_keep_their_distance_from_the_header(
        serve, make_app, browser, width):
    app = make_app()
    with app.app_context():
        create_user("casey@acme.example", "Casey", PASSWORD, "customer", "Acme")
        db.session.commit()
    base = serve(app).url
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(base + "/articles/reset-your-password")
        assert gap_below_header(page, ".breadcrumbs") >= 20
        page.goto(base + "/contact")
        assert gap_below_header(page, "main h1") >= 20
        page.goto(base + "/login")
        page.get_by_label("Email address").fill("casey@acme.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        page.goto(base + "/tickets/new")  # no search yet: sent to search, with a flash
        page.wait_for_url("**/search")
        assert gap_below_header(page, ".flashes") >= 20
    finally:
        context.close()


def test_every_page_names_a_favicon_that_exists(serve, page):
    server = serve()
    page.goto(server.url + "/")
    icon = page.locator("link[rel=icon]")
    assert icon.count() == 1
    answer = page.request.get(server.url + icon.get_attribute("href"))
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")


def test_printing_an_article_prints_the_article_only(serve, page, screenshot):
    server = serve()
    page.goto(server.url + "/search?q=password")  # "Still need help?" shows after a search
    page.goto(server.url + "/articles/technical-support-policy")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".article-aside", "#feedback",
                   ".still-need-help", ".breadcrumbs"):
        assert page.locator(hidden).count() and not page.locator(hidden).first.is_visible(), \
            f"{hidden} is printed"
    assert page.locator(".article-body").is_visible()
    assert page.locator(".article-body table").first.is_visible()
    screenshot(page, "print-article")


def test_the_dark_theme_follows_the_system_setting(serve, browser, screenshot):
    server = serve()
    colours = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      color_scheme=scheme)
        page = context.new_page()
        page.goto(server.url + "/articles/api-rate-limits")
        colours[scheme] = page.evaluate("""() => {
            const lum = (css) => {
                const [r, g, b] = css.match(/[\\d.]+/g).map(Number).map(v => v / 255)
                    .map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const of = (selector, property) =>
                lum(getComputedStyle(document.querySelector(selector))[property]);
            return {page: of("body", "backgroundColor"), text: of("body", "color"),
                    card: of(".article", "backgroundColor"),
                    code: of(".article-body pre", "backgroundColor")};
        }""")
        screenshot(page, f"theme-{scheme}", full_page=False)
        context.close()
    light, dark = colours["light"], colours["dark"]
    assert light["page"] > 0.8 and light["text"] < 0.05
    assert dark["page"] < 0.03 and dark["card"] < 0.05 and dark["code"] < 0.05
    assert dark["text"] > 0.6


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("role, pages", [
    ("agent", ["Mail review"]),
    ("admin", ["Mail review", "Search learning", "Notices"]),
])
def test_staff_reach_their_pages_from_the_header(serve, make_app, browser, role, pages):
    app = make_app()
    with app.app_context():
        create_user(f"{role}@bitumio.test", f"Sam {role.title()}", PASSWORD, role, None)
        db.session.commit()
    base = serve(app).url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, base, f"{role}@bitumio.test")
        header = page.locator(".site-header")
        header.locator("summary", has_text=f"Sam {role.title()}").click()  # the account menu
        for name in pages:
            assert header.get_by_role("link", name=name).is_visible()
        header.get_by_role("link", name=pages[-1]).click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).is_visible()
        assert "/login" not in page.url
    finally:
        context.close()


def test_on_a_phone_the_header_links_fold_behind_a_menu_button(serve, make_app, browser):
    base = serve().url
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(base + "/contact")
        button = page.get_by_role("button", name="Menu")
        contact = page.locator(".site-nav").get_by_role("link", name="Contact support")
        assert button.get_attribute("aria-expanded") == "false"
        assert not contact.is_visible()
        button.click()
        assert button.get_attribute("aria-expanded") == "true"
        assert contact.is_visible()
        page.keyboard.press("Escape")
        assert button.get_attribute("aria-expanded") == "false" and not contact.is_visible()
        # Every link is on one line: none wraps word by word.
        button.click()
        heights = page.locator(".site-nav a").evaluate_all(
            "links => links.map(a => a.getClientRects().length)")
        assert heights and set(heights) == {1}
    finally:
        context.close()


def test_without_javascript_a_phone_shows_the_header_links(serve, page_without_js):
    base = serve().url
    page = page_without_js
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/contact")
    assert not page.get_by_role("button", name="Menu").is_visible()
    assert page.locator(".site-nav").get_by_role("link", name="Contact support").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

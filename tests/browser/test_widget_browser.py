"""The "Knowledge Base" widget in Debian's Chromium, embedded the way a product embeds it
(issue 16): the portal on 127.0.0.1:P1, the product's page on localhost:P2 (another
site), with a hostile stylesheet (`* { all: unset }` and huge fonts).

- the launcher sits at the bottom left, is reached with Tab and opens with Enter; Esc
  closes the panel and focus goes back to the launcher; the panel is 380x600 on a desktop
  and fills a phone's screen, which never scrolls sideways;
- a misspelt search finds the article, which is read in the panel and voted on;
- "Submit a Ticket" reaches the ticket form (through sign-in) without being sent back to
  search, and the ticket filed lists what was searched in the widget;
- a page on an origin not in PORTAL_WIDGET_ALLOWED_ORIGINS cannot show the panel;
- a host's signed user token names the customer, and a tampered one is refused;
- axe-core finds nothing of impact moderate or worse in the panel.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import FeedbackVote, Ticket
from portal.search import indexer
from portal.search.service import get_service
from portal.widget import tokens
from tests.browser.a11y import axe_violations, describe, sideways_overflow

PASSWORD = "correct horse 1"
SECRET = "shared-with-acme-paving"
AUDIENCE = "https://help.bitumio.test"
CUSTOMER = "casey@acme-paving.test"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# The product's own stylesheet, as unfriendly as it gets for an embedded widget.
HOSTILE_CSS = """
* { all: unset }
html, body { font-size: 48px; line-height: 3; font-family: "Comic Sans MS", fantasy; }
div, span, p, button, iframe { font-size: 64px !important; color: #f0f !important; }
h1 { display: block; font-size: 72px; }
"""
HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Acme Paving - Job board</title>
  <link rel="stylesheet" href="/hostile.css">
</head>
<body>
  <h1>Job board</h1>
  <p>Main St. overlay, Hwy 89 shoulder.</p>
  <a href="#jobs">Jobs</a>
  <button type="button">New job</button>
  <script src="{portal}/widget.js" async data-context="billing"{extra}></script>
</body>
</html>
"""


class HostSite:
    """A product's pages: a folder served by http.server on another port (another site)."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://localhost:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@dataclass
class Sites:
    portal: str
    host: HostSite
    stranger: HostSite  # the same pages on an origin that is not on the list
    app: object

    def page_url(self, name: str = "index.html", site: HostSite | None = None) -> str:
        return f"{(site or self.host).origin}/{name}"


@pytest.fixture
def sites(tmp_path, serve, make_app) -> Iterator[Sites]:
    folder = tmp_path / "host"
    folder.mkdir()
    (folder / "hostile.css").write_text(HOSTILE_CSS)
    host, stranger = HostSite(folder), HostSite(folder)
    try:
        app = make_app(WIDGET_ALLOWED_ORIGINS=[host.origin], WIDGET_SECRET=SECRET,
                       WIDGET_AUDIENCE=AUDIENCE)
        with app.app_context():
            indexer.build(get_service().engine, app.config["ARTICLES_DIR"])
        portal = serve(app).url
        write_host_page(folder, "index.html", portal)
        yield Sites(portal, host, stranger, app)
    finally:
        host.stop()
        stranger.stop()


def write_host_page(folder: Path, name: str, portal: str, user_token: str = "") -> None:
    extra = f' data-user-token="{user_token}"' if user_token else ""
    (folder / name).write_text(HOST_PAGE.replace("{portal}", portal).replace("{extra}", extra))


def add_customer(app, email: str = CUSTOMER) -> None:
    from portal.accounts.service import create_user

    with app.app_context():
        create_user(email, "Casey Customer", PASSWORD, "customer", "Acme Paving")
        db.session.commit()


# -- driving the widget ------------------------------------------------------------------------

LAUNCHER = "[data-portal-kb] >> button"  # the CSS engine pierces the open shadow root
PANEL_FRAME = "[data-portal-kb] iframe"


def launcher(page):
    return page.get_by_role("button", name="Knowledge Base", exact=True)


def widget_state(page) -> str | None:
    return page.locator("[data-portal-kb]").get_attribute("data-state")


def wait_until_ready(page) -> None:
    page.wait_for_selector("[data-portal-kb][data-state=ready]", state="attached",
                           timeout=10_000)


def panel(page):
    """The frame of the panel (a Frame: evaluate, locators, keyboard focus)."""
    handle = page.locator(PANEL_FRAME).element_handle()
    frame = handle.content_frame()
    assert frame is not None
    return frame


def open_panel(page):
    launcher(page).click()
    wait_until_ready(page)
    frame = panel(page)
    frame.get_by_role("searchbox", name="Search the knowledge base").wait_for()
    return frame


def launcher_has_focus(page) -> bool:
    return page.evaluate("""() => {
        const host = document.activeElement;
        if (!host || !host.matches("[data-portal-kb]")) return false;
        const inner = host.shadowRoot && host.shadowRoot.activeElement;
        return !!inner && inner.getAttribute("aria-label") === "Knowledge Base";
    }""")


def search(frame, text: str) -> None:
    box = frame.get_by_role("searchbox", name="Search the knowledge base")
    box.fill(text)
    box.press("Enter")
    frame.locator("[data-kb-main][data-view=results] .kb-result-count").wait_for()


def new_context(browser, viewport=DESKTOP, **options):
    return browser.new_context(viewport=viewport, **options)


# -- the tests -------------------------------------------------------------------------------

def test_the_launcher_is_bottom_left_keyboard_reachable_and_esc_returns_focus(
        sites, browser, axe_script, screenshot):
    context = new_context(browser)
    context.add_init_script(path=str(axe_script))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(sites.page_url())
        button = launcher(page)
        button.wait_for()
        box = button.bounding_box()
        assert box, "the launcher is not displayed"
        # Bottom left, at its own size: the host's 48-64px fonts did not reach it.
        assert box["x"] <= 40 and DESKTOP["height"] - (box["y"] + box["height"]) <= 40, box
        assert box["height"] <= 60 and box["width"] <= 240, box
        assert button.get_attribute("aria-expanded") == "false"
        assert page.evaluate("Object.keys(window).filter(k => /knowledge|portalkb/i.test(k))") \
            == ["PortalKnowledgeBase"]

        for _ in range(10):  # Tab through the product's page to the launcher
            page.keyboard.press("Tab")
            if launcher_has_focus(page):
                break
        assert launcher_has_focus(page), "Tab never reached the launcher"
        page.keyboard.press("Enter")
        wait_until_ready(page)
        assert button.get_attribute("aria-expanded") == "true"
        frame = panel(page)
        frame.wait_for_function("document.activeElement && document.activeElement.id === 'kb-q'")
        panel_box = page.locator(PANEL_FRAME).bounding_box()
        assert panel_box and round(panel_box["width"]) in range(376, 381), panel_box
        assert round(panel_box["height"]) in range(596, 601), panel_box
        assert panel_box["x"] <= 40 and panel_box["y"] + panel_box["height"] <= box["y"]

        # The home view: status, suggestions for the context, popular articles.
        frame.get_by_role("heading", name="Popular articles").wait_for()
        assert frame.locator("[data-kb-status]").is_visible()
        assert "Support is" in frame.locator("[data-kb-status]").inner_text()
        problems = axe_violations(frame)
        assert not problems, "axe-core in the panel (home):\n" + describe(problems)
        screenshot(page, "widget-1280-home", full_page=False)

        # The focus stays in the panel: Tab from its last control comes back to its first.
        frame.get_by_role("button", name="Close the Knowledge Base").focus()
        page.keyboard.press("Shift+Tab")
        assert frame.evaluate("document.activeElement.tagName") != "BODY"
        for _ in range(30):
            page.keyboard.press("Tab")
            assert frame.evaluate("document.hasFocus()"), "focus left the panel"

        # Esc inside the panel closes it, and the launcher has the focus again.
        frame.get_by_role("searchbox", name="Search the knowledge base").focus()
        page.keyboard.press("Escape")
        page.wait_for_function("""() => document.querySelector('[data-portal-kb]')
            .shadowRoot.querySelector('button').getAttribute('aria-expanded') === 'false'""")
        assert not page.locator(PANEL_FRAME).is_visible()
        assert launcher_has_focus(page)

        # Esc on the product's page closes it too.
        launcher(page).click()
        page.locator(PANEL_FRAME).wait_for(state="visible")
        page.locator("h1").click()
        page.keyboard.press("Escape")
        page.locator(PANEL_FRAME).wait_for(state="hidden")
        assert errors == []
    finally:
        context.close()


def test_a_misspelt_search_finds_the_article_which_is_read_and_voted_on(
        sites, browser, axe_script, screenshot):
    context = new_context(browser)
    context.add_init_script(path=str(axe_script))
    page = context.new_page()
    try:
        page.goto(sites.page_url())
        frame = open_panel(page)
        box = frame.get_by_role("searchbox", name="Search the knowledge base")
        box.press_sequentially("invo", delay=40)  # type-ahead while typing
        option = frame.get_by_role("option", name=re.compile("Invoices and receipts"))
        option.wait_for(timeout=5000)
        box.press("ArrowDown")
        assert box.get_attribute("aria-activedescendant") == option.get_attribute("id")
        search(frame, "invoces and reciepts")
        results = frame.locator(".kb-results .kb-link")
        titles = results.all_inner_texts()
        assert "Invoices and receipts" in titles, titles
        assert frame.locator(".kb-snippet mark").count() >= 1
        problems = axe_violations(frame)
        assert not problems, "axe-core in the panel (results):\n" + describe(problems)
        screenshot(page, "widget-1280-results", full_page=False)

        frame.get_by_role("link", name="Invoices and receipts").click()
        title = frame.get_by_role("heading", name="Invoices and receipts", level=2)
        title.wait_for()
        assert frame.url.startswith(sites.portal + "/widget/frame")  # read in the panel
        opener = frame.get_by_role("link", name="Open in the help center")
        assert opener.get_attribute("target") == "_blank"
        assert opener.get_attribute("href").endswith("/articles/invoices-and-receipts")
        problems = axe_violations(frame)
        assert not problems, "axe-core in the panel (article):\n" + describe(problems)

        frame.get_by_role("button", name="No", exact=True).click()
        frame.get_by_role("button", name="Send feedback").click()  # no reason chosen yet
        refused = frame.locator(".kb-feedback-status.is-error")
        refused.wait_for()
        assert "Choose at least one reason" in refused.inner_text()
        reasons = frame.locator(".kb-reasons input[type=checkbox]")
        reasons.first.check()
        frame.get_by_label("Anything else we should know?").fill("Where is the PDF button?")
        frame.get_by_role("button", name="Send feedback").click()
        thanks = frame.locator(".kb-feedback-status.is-success")
        thanks.wait_for()
        assert "Thank" in thanks.inner_text()
        screenshot(page, "widget-1280-article-voted", full_page=False)
        with sites.app.app_context():
            votes = db.session.scalars(select(FeedbackVote)).all()
            assert [(v.article_slug, v.helpful, v.comment) for v in votes] == [
                ("invoices-and-receipts", False, "Where is the PDF button?")]

        frame.get_by_role("button", name="Back").click()
        frame.get_by_role("link", name="Invoices and receipts").wait_for()
        assert frame.evaluate("document.activeElement.textContent") == "Invoices and receipts"
    finally:
        context.close()


def test_submit_a_ticket_reaches_the_form_and_the_ticket_lists_the_widget_searches(
        sites, browser):
    add_customer(sites.app)
    context = new_context(browser)
    page = context.new_page()
    try:
        page.goto(sites.page_url())
        frame = open_panel(page)
        assert frame.get_by_role("button", name="Submit a Ticket").is_hidden()
        search(frame, "pasword reset emial")
        search(frame, "export totals wrong")
        with context.expect_page() as opened:
            frame.get_by_role("button", name="Submit a Ticket").click()
        tab = opened.value
        tab.wait_for_load_state()
        # Not signed in on the portal yet: the sign-in page, then straight to the form.
        assert tab.url.startswith(sites.portal + "/login"), tab.url
        assert "widget=" not in tab.url
        tab.get_by_label("Email address").fill(CUSTOMER)
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_url(re.compile(re.escape(sites.portal) + r"/tickets/new(\?.*)?$"))
        assert "Please search the help center first" not in tab.content()
        tab.get_by_label("Subject").fill("Export totals are 10% high")
        tab.get_by_label("What happened?").fill("Since Monday the totals are wrong.")
        tab.get_by_label(re.compile("Severity 3")).check()
        tab.get_by_role("button", name="Submit ticket").click()
        tab.wait_for_url(re.compile(r".*/tickets/\d+$"))
        with sites.app.app_context():
            ticket = db.session.scalar(select(Ticket))
            assert ticket.searches == ["pasword reset emial", "export totals wrong"]
    finally:
        context.close()


def test_a_host_signed_user_is_named_and_a_tampered_token_is_refused(sites, browser, tmp_path):
    add_customer(sites.app)
    good = tokens.sign_user_token(SECRET, CUSTOMER, "Acme Paving", AUDIENCE, 600)
    body, mac = good.split(".")
    middle = len(body) // 2
    tampered = f"{body[:middle]}{'A' if body[middle] != 'A' else 'B'}{body[middle + 1:]}.{mac}"
    folder = tmp_path / "host"
    write_host_page(folder, "good.html", sites.portal, good)
    write_host_page(folder, "tampered.html", sites.portal, tampered)
    context = new_context(browser)
    page = context.new_page()
    try:
        page.goto(sites.page_url("tampered.html"))
        frame = open_panel(page)
        refusal = frame.locator("[data-kb-identity].is-error")
        refusal.wait_for()
        assert "could not confirm who you are" in refusal.inner_text()

        page.goto(sites.page_url("good.html"))
        frame = open_panel(page)
        named = frame.locator("[data-kb-identity].is-signed-in")
        named.wait_for()
        assert f"Signed in as {CUSTOMER}" in named.inner_text()
        # Identified: "Submit a Ticket" opens the form already signed in.
        search(frame, "export")
        with context.expect_page() as opened:
            frame.get_by_role("button", name="Submit a Ticket").click()
        tab = opened.value
        tab.wait_for_url(re.compile(re.escape(sites.portal) + r"/tickets/new(\?.*)?$"))
        tab.get_by_label("Subject").wait_for()
    finally:
        context.close()


def test_a_page_on_an_origin_not_on_the_list_cannot_show_the_panel(sites, browser):
    context = new_context(browser)
    page = context.new_page()
    try:
        page.goto(sites.page_url(site=sites.stranger))
        launcher(page).click()
        page.locator(PANEL_FRAME).wait_for(state="attached")
        page.wait_for_timeout(1500)
        assert widget_state(page) != "ready"
        blocked = panel(page)  # Chromium shows its error page in place of the frame
        assert not blocked.url.startswith(sites.portal), blocked.url
        assert blocked.locator("#kb-q").count() == 0

        # Naming a listed host in the address does not help: frame-ancestors checks the
        # page that really frames it.
        spoofed = (f"{sites.portal}/widget/frame?host={sites.host.origin}&context=billing")
        page.evaluate("""(src) => {
            const frame = document.createElement("iframe");
            frame.id = "spoofed"; frame.src = src;
            document.body.appendChild(frame);
        }""", spoofed)
        page.wait_for_timeout(1500)
        frame = page.locator("#spoofed").element_handle().content_frame()
        assert frame is None or not frame.url.startswith(sites.portal), frame.url
        assert frame is None or frame.locator("#kb-q").count() == 0
    finally:
        context.close()


def test_on_a_phone_the_panel_fills_the_screen_and_nothing_scrolls_sideways(
        sites, browser, axe_script, screenshot):
    context = new_context(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_init_script(path=str(axe_script))
    page = context.new_page()
    try:
        page.goto(sites.page_url())
        launcher(page).wait_for()
        box = launcher(page).bounding_box()
        assert box and box["x"] <= 40 and PHONE["height"] - (box["y"] + box["height"]) <= 40
        frame = open_panel(page)
        frame.get_by_role("heading", name="Popular articles").wait_for()
        panel_box = page.locator(PANEL_FRAME).bounding_box()
        assert panel_box == {"x": 0, "y": 0, "width": PHONE["width"],
                             "height": PHONE["height"]}, panel_box
        assert sideways_overflow(page) is None, sideways_overflow(page)
        assert sideways_overflow(frame) is None, sideways_overflow(frame)
        problems = axe_violations(frame)
        assert not problems, "axe-core in the panel (phone):\n" + describe(problems)
        screenshot(page, "widget-390-home", full_page=False)
        search(frame, "invoces")
        assert sideways_overflow(frame) is None, sideways_overflow(frame)
        close = frame.get_by_role("button", name="Close the Knowledge Base")
        close_box = close.bounding_box()
        assert close_box and close_box["width"] >= 44 and close_box["height"] >= 44
        screenshot(page, "widget-390-results", full_page=False)
        close.click()
        page.locator(PANEL_FRAME).wait_for(state="hidden")
        assert launcher_has_focus(page)
    finally:
        context.close()


def test_a_panel_whose_token_no_longer_holds_offers_to_reload_and_works_again(sites, browser):
    context = new_context(browser)
    page = context.new_page()
    try:
        page.goto(sites.page_url())
        frame = open_panel(page)
        sites.app.config["SECRET_KEY"] = "rotated-" + sites.app.config["SECRET_KEY"]
        frame.get_by_role("searchbox", name="Search the knowledge base").fill("invoices")
        frame.get_by_role("button", name="Search", exact=True).click()
        reload = frame.get_by_role("button", name="Reload the panel")
        reload.wait_for()
        assert "expired" in frame.locator(".kb-expired").inner_text()
        reload.click()
        frame = panel(page)
        frame.get_by_role("heading", name="Popular articles").wait_for()
        search(frame, "invoices")
        assert frame.locator(".kb-results .kb-link").count() >= 1
    finally:
        context.close()


def test_a_host_page_with_a_strict_content_security_policy_shows_the_widget(
        sites, browser, tmp_path):
    folder = tmp_path / "host"
    policy = (f"default-src 'self'; script-src 'self' {sites.portal}; "
              f"frame-src {sites.portal}; style-src 'self'")
    write_host_page(folder, "strict.html", sites.portal)
    page_html = (folder / "strict.html").read_text().replace(
        "<head>", f'<head>\n  <meta http-equiv="Content-Security-Policy" content="{policy}">')
    (folder / "strict.html").write_text(page_html)
    context = new_context(browser)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        page.goto(sites.page_url("strict.html"))
        box = launcher(page).bounding_box()
        assert box and box["x"] <= 40 and 44 <= box["height"] <= 60, box  # styled
        frame = open_panel(page)
        frame.get_by_role("heading", name="Popular articles").wait_for()
        assert violations == []
    finally:
        context.close()

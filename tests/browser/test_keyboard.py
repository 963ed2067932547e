"""A reader without a mouse (issue 11): search, open an article, answer "No" with a reason,
then file a ticket, with Tab, Shift+Tab, Enter, Space, arrow keys and typing only, and
the element that has focus always visibly marked."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.service import create_user
from portal.extensions import db
from portal.models import FeedbackVote, Ticket

PASSWORD = "correct horse 1"
EMAIL = "kim.keyboard@acme-paving.example"
MAX_TABS = 80

# The focused element, and whether its focus ring can be seen: an outline at least 2px
# wide whose colour has a contrast of 3:1 or more with the background around it (WCAG
# 1.4.11). The ring is drawn outside the element, so that background is its parent's.
FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
        const c = [r, g, b].map(v => v / 255)
            .map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    let under = el.parentElement, background = [255, 255, 255];
    while (under) {
        const parts = rgb(getComputedStyle(under).backgroundColor);
        if (parts.length >= 3 && (parts.length < 4 || parts[3] > 0.5)) {
            background = parts.slice(0, 3);
            break;
        }
        under = under.parentElement;
    }
    const style = getComputedStyle(el);
    const ring = rgb(style.outlineColor).slice(0, 3);
    const [hi, lo] = [luminance(ring), luminance(background)].sort((a, b) => b - a);
    const contrast = (hi + 0.05) / (lo + 0.05);
    const box = el.getBoundingClientRect();
    const text = (el.getAttribute("aria-label") || el.innerText || el.value || "").trim();
    return {
        tag: el.tagName.toLowerCase(), id: el.id, type: el.type || "",
        text: text.slice(0, 80), contrast: Math.round(contrast * 100) / 100,
        visible: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2
                 && contrast >= 3,
        onScreen: box.width > 0 && box.height > 0 && box.bottom > 0
                  && box.top < window.innerHeight,
    };
}"""


class Keyboard:
    """Presses keys and checks, after each, that the focused element shows its focus."""

    def __init__(self, page):
        self.page = page
        self.visited: list[str] = []

    def focused(self) -> dict | None:
        return self.page.evaluate(FOCUSED)

    def check(self) -> dict | None:
        el = self.focused()
        if el is not None:
            name = f"<{el['tag']}> {el['id'] or el['text']!r}"
            self.visited.append(name)
            assert el["visible"], f"no visible focus indicator on {name} " \
                                  f"(ring contrast {el['contrast']}:1)"
            assert el["onScreen"], f"the focused {name} is off screen"
        return el

    def press(self, key: str) -> dict | None:
        self.page.keyboard.press(key)
        return self.check()

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=10)
        self.check()

    def tab_to(self, matches, back: bool = False) -> dict:
        """Tab (or Shift+Tab) until matches(focused element) holds."""
        for _ in range(MAX_TABS):
            el = self.press("Shift+Tab" if back else "Tab")
            if el is not None and matches(el):
                return el
        raise AssertionError(f"never reached the element; tabbed through {self.visited[-30:]}")


def named(pattern: str):
    return lambda el: re.search(pattern, el["text"]) is not None


def with_id(element_id: str):
    return lambda el: el["id"] == element_id


def test_search_article_vote_no_and_file_a_ticket_with_the_keyboard_only(serve, make_app,
                                                                        page, screenshot):
    app = make_app(FEEDBACK_MIN_SECONDS=0)
    with app.app_context():
        create_user(EMAIL, "Kim Keyboard", PASSWORD, "customer", "Acme Paving")
        db.session.commit()
    base = serve(app).url
    keys = Keyboard(page)

    # Sign in.
    page.goto(base + "/login")
    keys.tab_to(with_id("email"))
    keys.type(EMAIL)
    keys.tab_to(with_id("password"))
    keys.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("form[action='/logout']").count() == 1

    # Search from the home page (its search box has focus when the page opens).
    page.goto(base + "/")
    assert keys.check()["id"] == "q-big"
    keys.type("reset password")
    with page.expect_navigation(url=re.compile(r".*/search\?q=")):
        page.keyboard.press("Enter")

    # Open the article from the results.
    keys.tab_to(named(r"^Reset your password$"))
    with page.expect_navigation(url=re.compile(r".*/articles/reset-your-password")):
        page.keyboard.press("Enter")

    # "Was this article helpful?" No, with a reason and a comment.
    keys.tab_to(named(r"^No$"))
    first_reason = keys.press("Enter")  # opens the reasons and moves focus to the first
    assert first_reason and first_reason["type"] == "checkbox"
    keys.press("Space")
    keys.tab_to(with_id("feedback-comment"))
    keys.type("The reset email never arrives.")
    keys.tab_to(named(r"^Send feedback$"))
    keys.press("Enter")
    page.get_by_text("your feedback was sent", exact=False).wait_for()
    with app.app_context():
        vote = db.session.scalar(select(FeedbackVote))
        assert vote is not None and vote.helpful is False and vote.reason_codes
    screenshot(page, "keyboard-1-feedback-sent", full_page=False)

    # Back up to nothing: Shift+Tab still shows where focus is; then on to the ticket form.
    keys.press("Shift+Tab")
    keys.tab_to(named(r"Submit a ticket"))
    with page.expect_navigation(url=re.compile(r".*/tickets/new")):
        page.keyboard.press("Enter")

    keys.tab_to(with_id("subject"))
    keys.type("Password reset email never arrives")
    page.locator("#ticket-suggestions li a").first.wait_for()
    keys.tab_to(with_id("description"))
    keys.type("I asked for a reset three times; no email, not in spam either.")
    keys.tab_to(lambda el: el["type"] == "radio")
    for _ in range(3):  # arrow keys move through the severities and choose one
        if page.evaluate("document.activeElement.value") == "3":
            break
        keys.press("ArrowDown")
    assert page.locator("input[name=severity]:checked").get_attribute("value") == "3"
    keys.tab_to(named(r"^Submit ticket$"))
    screenshot(page, "keyboard-2-ticket-form", full_page=False)
    with page.expect_navigation(url=re.compile(r".*/tickets/\d+$")):
        page.keyboard.press("Enter")
    assert "filed" in page.locator(".flash-success").inner_text()
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert ticket.subject == "Password reset email never arrives" and ticket.severity == 3

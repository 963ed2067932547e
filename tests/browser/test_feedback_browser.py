"""'Was this article helpful?' in Debian's Chromium, with and without JavaScript."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.content import get_store
from portal.extensions import db
from portal.feedback import service
from portal.models import FeedbackVote

ARTICLE = "/articles/technical-support-policy"
MIN_SECONDS = 1.0  # the time trap stays on: the tests wait like a reader would
# CSRF protection is on, as in production: the fetch() path must send the token too.


def stored_votes(app) -> list[tuple[bool, list[str], str]]:
    with app.app_context():
        found = db.session.scalars(select(FeedbackVote).order_by(FeedbackVote.id)).all()
        return [(v.helpful, v.reason_codes, v.comment) for v in found]


def watch_navigations(page) -> list[str]:
    """Every main-frame navigation after this call (a reload would show up here)."""
    seen: list[str] = []
    page.on("framenavigated", lambda frame: seen.append(frame.url)
            if frame == page.main_frame else None)
    return seen


def test_no_with_reason_and_comment_is_sent_in_place(serve, page, screenshot):
    server = serve(FEEDBACK_MIN_SECONDS=MIN_SECONDS, WTF_CSRF_ENABLED=True)
    page.goto(server.url + ARTICLE)
    page.evaluate("window.__feedbackMarker = 'still here'")
    navigations = watch_navigations(page)
    widget = page.locator("#feedback")
    widget.scroll_into_view_if_needed()
    screenshot(page, "feedback-1-question", full_page=False)

    page.get_by_role("button", name="No").click()
    reasons = page.get_by_role("group", name=re.compile("What went wrong"))
    assert reasons.is_visible()
    assert page.get_by_role("button", name="No").get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.activeElement.name") == "reasons"

    comment = page.get_by_label("Anything else we should know?")
    comment.fill("The Severity 1 hours are not clear to me.")
    page.wait_for_timeout(MIN_SECONDS * 1000 + 100)
    page.get_by_role("button", name="Send feedback").click()
    status = page.get_by_role("status").filter(has_text="Choose at least one reason")
    status.wait_for()
    assert comment.input_value() == "The Severity 1 hours are not clear to me."
    screenshot(page, "feedback-2-refused-without-reason", full_page=False)
    assert stored_votes(server.app) == []

    reasons.get_by_label("Hard to understand").check()
    reasons.get_by_label("Missing information").check()
    page.get_by_role("button", name="Send feedback").click()
    page.get_by_role("status").filter(has_text="your feedback was sent").wait_for()
    assert page.locator("#feedback-reasons").is_hidden()
    assert "You answered No" in widget.inner_text()
    screenshot(page, "feedback-3-sent", full_page=False)

    assert page.evaluate("window.__feedbackMarker") == "still here"
    assert navigations == []
    assert page.url == server.url + ARTICLE
    assert stored_votes(server.app) == [
        (False, ["missing", "unclear"], "The Severity 1 hours are not clear to me.")]


def test_yes_thanks_in_place_and_a_second_answer_replaces_it(serve, page, screenshot):
    server = serve(FEEDBACK_MIN_SECONDS=MIN_SECONDS, WTF_CSRF_ENABLED=True)
    page.goto(server.url + ARTICLE)
    navigations = watch_navigations(page)
    page.wait_for_timeout(MIN_SECONDS * 1000 + 100)
    page.get_by_role("button", name="Yes").click()
    page.get_by_role("status").filter(has_text="glad it helped").wait_for()
    assert "is-chosen" in page.get_by_role("button", name="Yes").get_attribute("class")
    page.locator("#feedback").scroll_into_view_if_needed()
    screenshot(page, "feedback-4-yes", full_page=False)

    page.get_by_role("button", name="No").click()
    page.get_by_label("Broken link or image").check()
    page.get_by_role("button", name="Send feedback").click()
    page.get_by_role("status").filter(has_text="your feedback was sent").wait_for()
    assert navigations == []
    assert stored_votes(server.app) == [(False, ["broken"], "")]

    page.reload()  # the page remembers this reader's answer
    assert "You answered No" in page.locator("#feedback").inner_text()


def test_the_same_flow_works_without_javascript(serve, page_without_js, screenshot):
    page = page_without_js
    server = serve(FEEDBACK_MIN_SECONDS=MIN_SECONDS, WTF_CSRF_ENABLED=True)
    page.goto(server.url + ARTICLE)
    assert page.locator("#feedback-reasons").is_hidden()

    page.get_by_role("button", name="No").click()
    page.wait_for_url(re.compile(r".*\?feedback=no#feedback$"))
    reasons = page.get_by_role("group", name=re.compile("What went wrong"))
    assert reasons.is_visible()
    comment = page.get_by_label("Anything else we should know?")
    comment.fill("Where is the phone number?")
    page.wait_for_timeout(MIN_SECONDS * 1000 + 100)
    page.get_by_role("button", name="Send feedback").click()
    page.wait_for_url(re.compile(r".*/articles/technical-support-policy#feedback$"))
    assert "Choose at least one reason" in page.locator("#feedback").inner_text()
    assert comment.input_value() == "Where is the phone number?"
    page.locator("#feedback").scroll_into_view_if_needed()
    screenshot(page, "feedback-5-nojs-refused", full_page=False)
    assert stored_votes(server.app) == []

    page.get_by_label("Missing information").check()
    page.wait_for_timeout(MIN_SECONDS * 1000 + 100)
    page.get_by_role("button", name="Send feedback").click()
    page.wait_for_url(re.compile(r".*#feedback$"))
    widget = page.locator("#feedback")
    assert "your feedback was sent" in widget.inner_text()
    assert "You answered No" in widget.inner_text()
    screenshot(page, "feedback-6-nojs-sent", full_page=False)
    assert stored_votes(server.app) == [(False, ["missing"], "Where is the phone number?")]

    page.wait_for_timeout(MIN_SECONDS * 1000 + 100)
    page.get_by_role("button", name="Yes").click()
    page.wait_for_url(re.compile(r".*#feedback$"))
    assert "glad it helped" in page.locator("#feedback").inner_text()
    assert stored_votes(server.app) == [(True, [], "")]


def _seed(app) -> None:
    reasons = service.parse_reasons(app.config["FEEDBACK_REASONS"])
    plan = {  # slug: (yes, no, reasons, comment)
        "technical-support-policy": (6, 14, ["outdated", "missing"],
                                     "The <b>phone hours</b> differ from the contact page."),
        "reset-your-password": (0, 2, ["unsolved"], "The reset email never arrived."),
        "locked-account": (0, 1, ["unclear"], ""),
        "change-your-plan": (9, 3, ["missing"], "Does the price change mid-month?"),
        "invoices-and-receipts": (12, 0, [], ""),
    }
    with app.app_context():
        store = get_store()
        for slug, (yes, no, codes, comment) in plan.items():
            article = store.tree().by_slug[slug]
            version = service.ArticleVersion.of(article, store.history(article))
            for n in range(yes + no):
                service.record_vote(version=version, voter=f"visitor:{slug}-{n}", user_id=None,
                                    helpful=n < yes, reasons=codes,
                                    comment=comment if n >= yes + no - 2 else "",
                                    allowed=reasons, comment_max=1000)
        db.session.commit()


def test_editor_reads_article_health(serve, make_app, make_user, page, screenshot):
    app = make_app(REPOSITORY_WEB_URL="https://github.com/acme/help/edit/main/articles/")
    make_user(email="editor@example.com", role="editor", name="Erin Editor")
    _seed(app)
    server = serve(app)
    page.goto(server.url + "/login")
    page.get_by_label("Email address").fill("editor@example.com")
    page.get_by_label("Password").fill("correct horse 1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Article health").click()
    page.wait_for_url("**/feedback/health")
    rows = page.locator("tbody th[scope=row] > a")
    assert rows.first.inner_text() == "Technical support policy"
    assert "<b>phone hours</b>" in page.locator("table").inner_text()  # shown, not rendered
    screenshot(page, "feedback-7-health")

    edit = page.get_by_role("link", name=re.compile("Edit file")).first
    assert edit.get_attribute("href") == (
        "https://github.com/acme/help/edit/main/articles/policies/technical-support-policy.md")

    rows.first.click()
    page.wait_for_url("**/feedback/health/technical-support-policy")
    screenshot(page, "feedback-8-health-detail")

    page.get_by_role("link", name="View the article").click()
    summary = page.locator(".feedback-summary")
    assert "30%" in summary.inner_text()
    summary.scroll_into_view_if_needed()
    screenshot(page, "feedback-9-editor-summary", full_page=False)

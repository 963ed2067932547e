"""Readers answer "Was this article helpful?": Yes, No with reasons, one vote each, no bots."""

from __future__ import annotations

import re
import subprocess
from html import unescape

import pytest
from sqlalchemy import select

from portal.content import get_store
from portal.extensions import db
from portal.feedback import service
from portal.models import FeedbackVote
from tests.feedback_pages import ARTICLE, ARTICLE_URL, JSON, VOTE_URL, page_fields


def cast(client, helpful: str, reasons=(), comment: str = "", *, url: str = VOTE_URL,
         page: str = ARTICLE_URL, json: bool = False, **extra):
    data = page_fields(client, page) | {"helpful": helpful, "reasons": list(reasons),
                                        "comment": comment} | extra
    return client.post(url, data=data, headers=JSON if json else {})


def votes(app) -> list[FeedbackVote]:
    with app.app_context():
        found = db.session.scalars(select(FeedbackVote).order_by(FeedbackVote.id)).all()
        for vote in found:
            _ = vote.reasons
        db.session.expunge_all()
        return list(found)


def widget_html(client, url: str = ARTICLE_URL) -> str:
    html = client.get(url).get_data(as_text=True)
    return html[html.index('id="feedback"'):]


@pytest.fixture
def app(make_app):
    return make_app(FEEDBACK_MIN_SECONDS=0)


# -- the widget --------------------------------------------------------------------

def test_every_article_asks_whether_it_was_helpful(client):
    html = widget_html(client)
    assert "Was this article helpful?" in html
    assert re.search(r'<button type="submit" class="feedback-button">Yes</button>', html)
    assert 'aria-expanded="false">No</button>' in html
    # The reasons form is there for JavaScript to reveal, hidden until then.
    assert re.search(r'id="feedback-reasons"[^>]*data-feedback-reasons hidden', html)
    for label in ("Missing information", "Inaccurate or outdated", "Hard to understand",
                  "Broken link or image", "Did not solve my problem", "Other"):
        assert label in html
    assert 'role="status" aria-live="polite"' in html
    assert "/static/js/feedback.js" in html and "<script>" not in html


def test_no_without_javascript_opens_the_reasons_form(client):
    html = widget_html(client, ARTICLE_URL + "?feedback=no")
    assert 'aria-expanded="true">No</button>' in html
    assert re.search(r'id="feedback-reasons"[^>]*data-feedback-reasons>', html)


def test_reasons_come_from_settings(make_app):
    app = make_app(FEEDBACK_REASONS=["typo:Has a typo", "Too long"])
    html = widget_html(app.test_client())
    assert 'value="typo"> Has a typo' in html and 'value="too-long"> Too long' in html
    assert "Missing information" not in html


# -- Yes, No, refusals ---------------------------------------------------------------

def test_yes_thanks_the_reader_and_records_the_article_version(app, client):
    answer = cast(client, "yes")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"{ARTICLE_URL}#feedback")
    assert "portal_visitor=" in answer.headers["Set-Cookie"]

    html = widget_html(client)
    assert "Thanks for letting us know" in html
    assert "You answered Yes" in html and "feedback-button is-chosen\">Yes" in html

    [vote] = votes(app)
    assert vote.helpful is True and vote.reasons == [] and vote.comment == ""
    assert vote.voter.startswith("visitor:") and vote.user_id is None
    with app.test_request_context():
        store = get_store()
        article = store.tree().by_slug[ARTICLE]
        history = store.history(article)
    assert vote.article_path == article.path == "policies/technical-support-policy.md"
    assert vote.article_sha == article.sha
    assert vote.article_commit == history.commit  # the sample articles live in git


def test_no_with_reasons_and_comment_confirms_the_feedback_was_sent(app, client):
    answer = cast(client, "no", ["missing", "outdated"], "The phone number is old.")
    assert answer.status_code == 303
    html = widget_html(client)
    assert "your feedback was sent" in html
    assert re.search(r'id="feedback-reasons"[^>]*hidden', html)  # closed again

    [vote] = votes(app)
    assert vote.helpful is False
    assert vote.reason_codes == ["missing", "outdated"]
    assert vote.comment == "The phone number is old."


def test_no_without_a_reason_is_refused_and_the_comment_is_kept(app, client):
    answer = cast(client, "no", [], "Half my comment, typed before I forgot the reason")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("#feedback")

    html = widget_html(client)
    assert "Choose at least one reason" in html
    assert "is-error" in html
    assert re.search(r'id="feedback-reasons"[^>]*data-feedback-reasons>', html)  # open
    assert ">Half my comment, typed before I forgot the reason</textarea>" in html
    assert votes(app) == []
    # The kept comment is shown once, not forever.
    assert "Half my comment" not in widget_html(client)


def test_no_without_a_reason_with_javascript_is_a_422_with_the_message(app, client):
    answer = cast(client, "no", [], "kept in the page", json=True)
    assert answer.status_code == 422
    assert answer.get_json() == {"ok": False, "field": "reasons",
                                 "message": service.NO_REASON}
    assert votes(app) == []


def test_yes_and_no_with_javascript_answer_in_json(app, client):
    yes = cast(client, "yes", json=True)
    assert yes.status_code == 200
    assert yes.get_json() == {"ok": True, "vote": "yes", "message": service.YES_THANKS}
    no = cast(client, "no", ["unclear"], json=True)
    assert no.get_json() == {"ok": True, "vote": "no", "message": service.NO_THANKS}
    assert len(votes(app)) == 1


def test_unknown_reasons_are_ignored_and_alone_do_not_count(app, client):
    assert cast(client, "no", ["made-up"], json=True).status_code == 422
    cast(client, "no", ["made-up", "broken"])
    [vote] = votes(app)
    assert vote.reason_codes == ["broken"]


def test_a_comment_over_the_limit_is_refused_and_kept(make_app):
    app = make_app(FEEDBACK_MIN_SECONDS=0, FEEDBACK_COMMENT_MAX=20)
    client = app.test_client()
    answer = cast(client, "no", ["other"], "x" * 25, json=True)
    assert answer.status_code == 422 and "under 20" in answer.get_json()["message"]
    cast(client, "no", ["other"], "y" * 25)
    html = widget_html(client)
    assert "under 20" in html and ">" + "y" * 20 + "</textarea>" in html
    assert 'maxlength="20"' in html
    assert votes(app) == []


def test_a_long_non_ascii_comment_kept_after_a_refusal_fits_in_the_cookie(client):
    comment = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(1000))  # CJK, random
    answer = cast(client, "no", [], comment)
    assert len(answer.headers["Set-Cookie"]) < 4093
    assert comment in unescape(widget_html(client))


def test_bad_yes_no_value_is_refused_with_a_message(app, client):
    answer = cast(client, "maybe", json=True)
    assert answer.status_code == 422 and answer.get_json()["message"] == "Choose Yes or No."
    assert votes(app) == []


def test_unknown_article_is_a_404(client):
    data = page_fields(client) | {"helpful": "yes"}
    assert client.post("/feedback/articles/no-such-article", data=data).status_code == 404


def test_drafts_cannot_be_voted_on_by_readers(make_app, write_articles):
    folder = write_articles({
        "guides/_category.yml": "title: Guides\n",
        "guides/draft-one.md": "---\ntitle: Draft one\ndraft: true\n---\nSoon.\n",
    })
    app = make_app(ARTICLES_DIR=folder, FEEDBACK_MIN_SECONDS=0)
    client = app.test_client()
    with app.test_request_context():
        article = get_store().tree().by_slug["draft-one"]
        token = service.issue_form_token("test-secret-key", service.ArticleVersion(
            article.slug, article.path, None, article.sha), now=0)
    answer = client.post("/feedback/articles/draft-one", data={"helpful": "yes", "started": token})
    assert answer.status_code == 404
    assert votes(app) == []


# -- one vote per reader ---------------------------------------------------------------

def test_voting_again_changes_the_vote_and_never_adds_one(app, client):
    cast(client, "yes")
    cast(client, "no", ["missing", "unclear"], "Needs screenshots")
    [vote] = votes(app)
    assert vote.helpful is False and vote.reason_codes == ["missing", "unclear"]
    first_id = vote.id

    cast(client, "no", ["unclear", "other"], "Still unclear")
    [vote] = votes(app)
    assert vote.id == first_id and vote.reason_codes == ["other", "unclear"]
    assert vote.comment == "Still unclear"
    assert "You answered No" in widget_html(client)

    cast(client, "yes")
    [vote] = votes(app)
    assert vote.id == first_id and vote.helpful is True
    assert vote.reasons == [] and vote.comment == ""  # reasons belonged to the "No"


def test_each_anonymous_reader_gets_their_own_vote(app):
    first, second = app.test_client(), app.test_client()
    cast(first, "yes")
    cast(second, "no", ["other"])
    cast(first, "yes")
    found = votes(app)
    assert len(found) == 2 and len({v.voter for v in found}) == 2


def test_a_forged_visitor_cookie_is_not_trusted(app, client):
    cast(client, "yes")
    [vote] = votes(app)
    forger = app.test_client()
    forger.set_cookie("portal_visitor", vote.voter.removeprefix("visitor:"))
    cast(forger, "no", ["other"])
    assert [v.helpful for v in votes(app)] == [True, False]


def test_signed_in_readers_vote_by_account_on_any_device(app, make_user):
    user = make_user(email="reader@example.com")
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        device.post("/login", data={"email": "reader@example.com",
                                    "password": "correct horse 1"})
    cast(laptop, "yes")
    assert "You answered Yes" in widget_html(phone)
    answer = cast(phone, "no", ["outdated"])
    assert "portal_visitor" not in answer.headers.get("Set-Cookie", "")
    [vote] = votes(app)
    assert vote.voter == f"user:{user.id}" and vote.user_id == user.id
    assert vote.helpful is False

    anonymous = app.test_client()
    cast(anonymous, "yes")
    assert len(votes(app)) == 2


# -- versions in git ---------------------------------------------------------------------

def _git(folder, *args):
    subprocess.run(["git", "-c", "user.name=Ed", "-c", "user.email=ed@example.com",
                    "-c", "commit.gpgsign=false", *args], cwd=folder, check=True,
                   capture_output=True)


def test_the_vote_keeps_the_commit_the_reader_saw_or_the_file_hash(make_app, write_articles):
    folder = write_articles({"guides/_category.yml": "title: Guides\n",
                             "guides/install.md": "---\ntitle: Install\n---\nStep one.\n"})
    app = make_app(ARTICLES_DIR=folder, FEEDBACK_MIN_SECONDS=0)
    client = app.test_client()
    cast(client, "yes", url="/feedback/articles/install", page="/articles/install")
    [outside] = votes(app)
    assert outside.article_commit is None and len(outside.article_sha) == 64

    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "first")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,
                          text=True, check=True).stdout.strip()
    with app.app_context():
        get_store().refresh(force=True)
    cast(client, "no", ["other"], url="/feedback/articles/install", page="/articles/install")
    [inside] = votes(app)
    assert inside.id == outside.id
    assert inside.article_commit == head and inside.article_path == "guides/install.md"

"""Signed-out readers share one rendered page (article, home, category), yet each sees
exactly the page a fresh render would give them: their own form tokens, their vote,
messages, notices, and the content as it is now."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import template_rendered

from portal.extensions import db
from portal.models import Notice, NoticeKind

ARTICLE = "/articles/reset-your-password"
ET = ZoneInfo("America/New_York")


@pytest.fixture
def renders(app):
    """The names of the templates rendered, in order."""
    names: list[str] = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(record, app)
    yield names
    template_rendered.disconnect(record, app)


def _without_tokens(html: str) -> str:
    html = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', html)
    return re.sub(r'name="started" value="[^"]+"', 'name="started" value=""', html)


def _fresh_render(app, client, url: str = ARTICLE) -> str:
    app.config["PAGE_CACHE"] = False
    try:
        return client.get(url).get_data(as_text=True)
    finally:
        app.config["PAGE_CACHE"] = True


def _share(app, url: str = ARTICLE) -> None:
    """View the page until it is shared (the first view also learns that no notice is on)."""
    for _ in range(2):
        app.test_client().get(url)


def test_signed_out_readers_get_the_shared_page_without_a_new_render(app, renders):
    _share(app)
    assert "kb/article.html" in renders
    renders.clear()
    page = app.test_client().get(ARTICLE)
    assert page.status_code == 200
    assert "kb/article.html" not in renders
    assert "Reset your password" in page.get_data(as_text=True)


@pytest.mark.parametrize("has_searched", [False, True])
def test_the_shared_page_is_the_page_a_fresh_render_gives(app, has_searched):
    client = app.test_client()
    if has_searched:
        client.get("/search?q=password")
    _share(app)
    client.get(ARTICLE)
    shared = client.get(ARTICLE).get_data(as_text=True)
    fresh = _fresh_render(app, client)
    assert _without_tokens(shared) == _without_tokens(fresh)
    assert ("Still need help?" in shared) is has_searched
    assert "<portal-article" not in shared and "@@" not in shared


def test_each_reader_of_the_shared_page_gets_tokens_that_work(make_app):
    app = make_app(WTF_CSRF_ENABLED=True, FEEDBACK_MIN_SECONDS=0)
    _share(app)
    readers = [app.test_client(), app.test_client()]
    fields = []
    for reader in readers:
        html = reader.get(ARTICLE).get_data(as_text=True)
        fields.append({
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
            "started": re.search(r'name="started" value="([^"]+)"', html).group(1)})
    assert fields[0]["csrf_token"] != fields[1]["csrf_token"]
    for reader, own in zip(readers, fields, strict=True):
        vote = reader.post("/feedback/articles/reset-your-password", data={"helpful": "yes", **own})
        assert vote.status_code == 303
        assert "You answered Yes" in reader.get(ARTICLE).get_data(as_text=True)
    # Another reader's CSRF token does not work for this one.
    swapped = readers[0].post("/feedback/articles/reset-your-password",
                              data={"helpful": "no", "reasons": "outdated", **fields[1]})
    assert swapped.status_code == 400


def test_a_voter_sees_their_vote_while_others_keep_the_shared_page(make_app):
    app = make_app(FEEDBACK_MIN_SECONDS=0)
    _share(app)
    other = app.test_client()
    voter = app.test_client()
    started = re.search(r'name="started" value="([^"]+)"',
                        voter.get(ARTICLE).get_data(as_text=True)).group(1)
    voter.post("/feedback/articles/reset-your-password", data={"helpful": "yes",
                                                               "started": started})
    assert "You answered Yes" in voter.get(ARTICLE).get_data(as_text=True)
    assert "You answered Yes" not in other.get(ARTICLE).get_data(as_text=True)


def test_the_reasons_form_opened_without_javascript_is_not_shared(app, client):
    _share(app)
    opened = client.get(ARTICLE + "?feedback=no").get_data(as_text=True)
    assert re.search(r'id="feedback-reasons"[^>]*data-feedback-reasons>', opened)  # not hidden
    assert "next=/articles/reset-your-password?feedback%3Dno" in opened


def test_a_message_for_the_reader_shows_on_a_shared_page(app, client):
    _share(app)
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Your ticket was filed.")]
    assert "Your ticket was filed." in client.get(ARTICLE).get_data(as_text=True)
    assert "Your ticket was filed." not in client.get(ARTICLE).get_data(as_text=True)


def test_signed_in_readers_get_their_own_page(app, client, make_user, login):
    _share(app)
    user = make_user(name="Sam Signedin")
    login(user.email)
    assert "Sam Signedin" in client.get(ARTICLE).get_data(as_text=True)


def test_a_notice_published_while_pages_are_shared_shows_on_the_next_view(app, client):
    _share(app)
    with app.app_context():
        now = datetime.now(ET)
        db.session.add(Notice(kind=NoticeKind.INCIDENT, title="Sign-in is failing",
                              description="", starts_at=now, ends_at=None, revision=1,
                              created_at=now, updated_at=now))
        db.session.commit()
    assert "Sign-in is failing" in client.get(ARTICLE).get_data(as_text=True)


def test_an_edited_article_is_shown_at_once(make_app, write_articles):
    folder = write_articles({"start/hello.md": "# Hello\n\nFirst words.\n"})
    app = make_app(ARTICLES_DIR=folder, CONTENT_RELOAD_SECONDS=0)
    _share(app, "/articles/hello")
    client = app.test_client()
    assert "First words." in client.get("/articles/hello").get_data(as_text=True)
    (folder / "start/hello.md").write_text("# Hello\n\nSecond words.\n")
    page = client.get("/articles/hello").get_data(as_text=True)
    assert "Second words." in page and "First words." not in page


@pytest.mark.parametrize("url", ["/", "/categories/account-and-sign-in"])
def test_listing_pages_are_shared_too(app, renders, url):
    _share(app, url)
    renders.clear()
    page = app.test_client().get(url)
    assert page.status_code == 200 and "Reset your password" in page.get_data(as_text=True)
    assert renders == []
    fresh = _fresh_render(app, app.test_client(), url)
    assert page.get_data(as_text=True) == fresh


def test_a_new_article_is_listed_at_once_on_shared_pages(make_app, write_articles):
    folder = write_articles({"start/hello.md": "# Hello\n\nFirst words.\n"})
    app = make_app(ARTICLES_DIR=folder, CONTENT_RELOAD_SECONDS=0)
    for url in ("/", "/categories/start"):
        _share(app, url)
    (folder / "start/goodbye.md").write_text("# Goodbye for now\n\nLast words.\n")
    for url in ("/", "/categories/start"):
        assert "Goodbye for now" in app.test_client().get(url).get_data(as_text=True), url


def test_editors_see_drafts_on_listing_pages_readers_share(make_app, write_articles,
                                                            make_user):
    folder = write_articles({
        "start/hello.md": "# Hello\n\nWords.\n",
        "start/soon.md": "---\ntitle: Coming soon\ndraft: true\n---\nNot yet.\n"})
    app = make_app(ARTICLES_DIR=folder)
    _share(app, "/categories/start")
    assert "Coming soon" not in app.test_client().get("/categories/start").get_data(
        as_text=True)
    editor = make_user(role="editor")
    client = app.test_client()
    client.post("/login", data={"email": editor.email, "password": "correct horse 1"})
    assert "Coming soon" in client.get("/categories/start").get_data(as_text=True)

"""Editors see which articles fail readers: ranking, reasons, comments, CSV, edit links."""

from __future__ import annotations

import csv
import io
import re

import pytest

from portal.content import get_store
from portal.extensions import db
from portal.feedback import service
from portal.feedback.wilson import wilson_interval, wilson_lower_bound

REASONS = service.parse_reasons([
    "missing:Missing information", "outdated:Inaccurate or outdated", "other:Other"])


def article_files(titles: dict[str, str]) -> dict[str, str]:
    files = {"guides/_category.yml": "title: Guides\n"}
    for slug, title in titles.items():
        files[f"guides/{slug}.md"] = f"---\ntitle: \"{title}\"\n---\nText of {title}.\n"
    return files


def add_votes(app, slug: str, yes: int, no: int, reasons=("missing",), comment: str = "",
              start: int = 0) -> None:
    """Votes from distinct anonymous readers, stored the way the vote page stores them."""
    with app.app_context():
        store = get_store()
        article = store.tree().by_slug.get(slug)
        version = (service.ArticleVersion.of(article, store.history(article)) if article
                   else service.ArticleVersion(slug, f"old/{slug}.md", None, "f" * 64))
        for n in range(yes + no):
            service.record_vote(
                version=version, voter=f"visitor:{slug}-{start + n}", user_id=None,
                helpful=n < yes, reasons=reasons, comment=comment if n >= yes else "",
                allowed=REASONS, comment_max=1000)
        db.session.commit()


@pytest.fixture
def editor(make_user):
    def sign_in(app, role: str = "editor"):
        user = make_user(role=role)
        client = app.test_client()
        client.post("/login", data={"email": user.email, "password": "correct horse 1"})
        return client

    return sign_in


def ranked_titles(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="health-article">\s*<a href="[^"]+">([^<]+)</a>',
                      html)


# -- Wilson ------------------------------------------------------------------------------

def test_wilson_interval_matches_published_values():
    low, high = wilson_interval(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson_interval(0, 10)
    assert (low, round(high, 4)) == (0.0, 0.2775)
    assert round(wilson_lower_bound(1, 1), 4) == 0.2065
    assert wilson_interval(0, 0) == (0.0, 0.0)
    # Same share, more votes: more certain.
    assert wilson_lower_bound(8, 10) < wilson_lower_bound(80, 100) < wilson_lower_bound(800, 1000)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_ranking_uses_the_wilson_bound_where_raw_percentages_disagree(
        make_app, write_articles, editor):
    folder = write_articles(article_files({
        "one-no": "One unhappy reader", "two-no": "Two unhappy readers",
        "many": "Many readers, mostly unhappy", "mixed": "Mostly fine", "good": "Loved",
    }))
    app = make_app(ARTICLES_DIR=folder)
    add_votes(app, "one-no", yes=0, no=1)
    add_votes(app, "two-no", yes=0, no=2)
    add_votes(app, "many", yes=6, no=14)
    add_votes(app, "mixed", yes=3, no=1)
    add_votes(app, "good", yes=10, no=0)

    # Raw "helpful" percentages would put the one- and two-vote articles first...
    raw = {"one-no": 0 / 1, "two-no": 0 / 2, "many": 6 / 20, "mixed": 3 / 4, "good": 1.0}
    assert sorted(raw, key=raw.get)[:2] == ["one-no", "two-no"]
    # ...the Wilson bound of the "No" share knows 14 of 20 says more than 1 of 1.
    assert wilson_lower_bound(14, 20) > wilson_lower_bound(2, 2) > wilson_lower_bound(1, 1)

    page = editor(app).get("/feedback/health")
    assert page.status_code == 200
    assert ranked_titles(page.get_data(as_text=True)) == [
        "Many readers, mostly unhappy", "Two unhappy readers", "One unhappy reader",
        "Mostly fine", "Loved"]


def test_health_page_shows_votes_share_bound_reasons_and_recent_comments(
        make_app, write_articles, editor):
    folder = write_articles(article_files({"install": "Install the app"}))
    app = make_app(ARTICLES_DIR=folder)
    add_votes(app, "install", yes=3, no=2, reasons=("missing", "outdated"),
              comment="Step 4 is gone")
    add_votes(app, "install", yes=0, no=1, reasons=("other",), start=10)
    html = editor(app).get("/feedback/health").get_data(as_text=True)
    row = html[html.index("Install the app"):]
    assert "6<span" in row and "3 yes · 3 no" in row
    assert "<strong>50%</strong>" in row
    low, high = wilson_interval(3, 6)
    assert f"95% range {low:.0%}–{high:.0%}" in row
    assert f'<strong class="score">{wilson_lower_bound(3, 6):.0%}</strong>' in row
    assert "Missing information <b>2</b>" in row and "Other <b>1</b>" in row
    assert row.count("Step 4 is gone") == 2
    assert "guides/install.md" in row


def test_comments_are_shown_escaped(make_app, write_articles, editor):
    folder = write_articles(article_files({"install": "Install"}))
    app = make_app(ARTICLES_DIR=folder)
    add_votes(app, "install", yes=0, no=1, comment='<script>alert("x")</script><b>bold</b>')
    client = editor(app)
    for url in ("/feedback/health", "/feedback/health/install"):
        html = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
        assert "<script>alert" not in html and "<b>bold</b>" not in html


def test_edit_link_opens_the_file_in_the_repository(make_app, write_articles, editor):
    folder = write_articles(article_files({"install": "Install"}))
    app = make_app(ARTICLES_DIR=folder,
                   REPOSITORY_WEB_URL="https://github.com/acme/help/edit/main/articles/")
    add_votes(app, "install", yes=0, no=1)
    client = editor(app)
    url = "https://github.com/acme/help/edit/main/articles/guides/install.md"
    assert f'href="{url}"' in client.get("/feedback/health").get_data(as_text=True)
    assert f'href="{url}"' in client.get("/feedback/health/install").get_data(as_text=True)


def test_no_edit_link_without_a_repository_url(make_app, write_articles, editor):
    folder = write_articles(article_files({"install": "Install"}))
    app = make_app(ARTICLES_DIR=folder, REPOSITORY_WEB_URL="")
    add_votes(app, "install", yes=0, no=1)
    assert "Edit file" not in editor(app).get("/feedback/health").get_data(as_text=True)


def test_csv_export_lists_the_ranking_with_reason_columns(make_app, write_articles, editor):
    folder = write_articles(article_files({"a": "=HYPERLINK(\\\"evil\\\")", "b": "Fine"}))
    app = make_app(ARTICLES_DIR=folder, REPOSITORY_WEB_URL="https://git.example/edit/")
    add_votes(app, "a", yes=1, no=9, reasons=("missing", "outdated"))
    add_votes(app, "b", yes=4, no=1, reasons=("other",))
    answer = editor(app).get("/feedback/health.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [r["slug"] for r in rows] == ["a", "b"]
    first = rows[0]
    assert first["title"].startswith("'=")  # not run as a formula by a spreadsheet
    assert (first["votes"], first["helpful"], first["not_helpful"]) == ("10", "1", "9")
    assert first["helpful_percent"] == "10.0"
    assert float(first["ranking_score"]) == round(wilson_lower_bound(9, 10), 4)
    assert first["reason: Missing information"] == "9" and first["reason: Other"] == "0"
    assert first["edit_url"] == "https://git.example/edit/guides/a.md"


def test_detail_page_shows_reasons_comments_and_versions(make_app, write_articles, editor):
    folder = write_articles(article_files({"install": "Install"}))
    app = make_app(ARTICLES_DIR=folder)
    add_votes(app, "install", yes=1, no=0, start=0)
    (folder / "guides/install.md").write_text("---\ntitle: Install\n---\nNew text.\n")
    with app.app_context():
        get_store().refresh(force=True)
    add_votes(app, "install", yes=0, no=2, reasons=("outdated",), comment="Better now?",
              start=10)
    html = editor(app).get("/feedback/health/install").get_data(as_text=True)
    assert "3 yes" not in html and "(1 yes, 2 no)" in html
    assert "Inaccurate or outdated</td><td class=\"num\">2" in html
    assert html.count("<code>") >= 3 and "current" in html  # two versions, one is current
    assert html.count("Better now?") == 2


def test_votes_under_an_old_slug_follow_the_renamed_article(make_app, write_articles, editor):
    folder = write_articles(article_files({"old-name": "Old title"}))
    app = make_app(ARTICLES_DIR=folder)
    add_votes(app, "old-name", yes=0, no=3)
    (folder / "guides/old-name.md").unlink()
    (folder / "guides/new-name.md").write_text(
        "---\ntitle: New title\naliases: [old-name]\n---\nMoved.\n")
    with app.app_context():
        get_store().refresh(force=True)
    add_votes(app, "new-name", yes=1, no=0, start=10)
    client = editor(app)
    html = client.get("/feedback/health").get_data(as_text=True)
    assert ranked_titles(html) == ["New title"] and "1 yes · 3 no" in html
    moved = client.get("/feedback/health/old-name")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/new-name")


def test_votes_for_a_removed_article_stay_visible(make_app, write_articles, editor):
    folder = write_articles(article_files({"kept": "Kept"}))
    app = make_app(ARTICLES_DIR=folder)
    add_votes(app, "gone-article", yes=0, no=2)
    client = editor(app)
    html = client.get("/feedback/health").get_data(as_text=True)
    assert "gone-article" in html and "Removed" in html and "old/gone-article.md" in html
    assert client.get("/feedback/health/gone-article").status_code == 200
    assert client.get("/feedback/health/never-voted").status_code == 404


def test_empty_health_page_explains_itself(app, editor):
    html = editor(app).get("/feedback/health").get_data(as_text=True)
    assert "No reader has voted on an article yet" in html


# -- who may see it --------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["customer", "agent"])
def test_readers_and_agents_may_not_see_article_health(app, editor, role):
    client = editor(app, role=role)
    for url in ("/feedback/health", "/feedback/health.csv",
                "/feedback/health/technical-support-policy"):
        assert client.get(url).status_code == 403
    assert "Article health" not in client.get("/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    answer = client.get("/feedback/health")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_admins_find_article_health_in_the_header(app, editor, role):
    client = editor(app, role=role)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/feedback/health">Article health</a>' in home
    assert client.get("/feedback/health").status_code == 200


def test_editors_see_a_feedback_summary_on_the_article(make_app, write_articles, editor):
    folder = write_articles(article_files({"install": "Install"}))
    app = make_app(ARTICLES_DIR=folder)
    add_votes(app, "install", yes=3, no=1, reasons=("outdated",))
    html = editor(app).get("/articles/install").get_data(as_text=True)
    box = html[html.index('class="feedback-summary"'):]
    assert "<strong>75%</strong> found it helpful" in box
    assert "4 votes: 3 yes, 1 no" in box and "Inaccurate or outdated" in box
    assert 'href="/feedback/health/install"' in box

    for reader in (app.test_client(), editor(app, role="customer")):
        assert "feedback-summary" not in reader.get("/articles/install").get_data(as_text=True)

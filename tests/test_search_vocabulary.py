"""Readers use other words than writers: built-in synonyms, the editors' file, compounds,
and full questions that should find the short article that answers them."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.search.editorial import parse_rules
from portal.search.expansion import BUILTIN_FILE, builtin_rules
from portal.search.service import get_service

FILLER = ("You can change how the page looks, what it shows and who sees it. Every page "
          "has settings, and every setting can be changed by an admin at any time. ")
ARTICLES = {
    "billing/invoices.md": "---\ntitle: Download an invoice\n---\n"
                           "Open Billing and pick the month to download its invoice as PDF.\n",
    "billing/plans.md": "---\ntitle: Compare plans\n---\nEach plan has its own limits.\n",
    "apps/mobile.md": "---\ntitle: The mobile app\n---\n"
                      "Install the mobile app from your app store and sign in.\n",
    "team/add-users.md": "---\ntitle: Add users to your team\n---\n"
                         "Invite users by email from the Team page; each user gets a seat.\n",
    "setup/warm-up.md": "---\ntitle: Warm-up schedule for a new server\n---\n"
                        "Send a little more each day while the server warms up.\n",
    "dev/webhook.md": "---\ntitle: Receive events with a webhook\n---\n"
                      "A webhook posts each event to your endpoint.\n",
    "account/password.md": "---\ntitle: Reset your password\n"
                           "description: Forgot it? Ask for a reset link on the sign-in page.\n"
                           "---\nFollow the link in the email to choose a new password.\n",
    "reference/glossary.md": "---\ntitle: Glossary\n---\n"
                             + "Password: the secret you type. Reset: to set again. How to do "
                               "anything: see each page. Change a password, reset a page, I "
                               "can do it, you can do it, do it again. " * 20 + FILLER * 30,
    "account/plain.md": "---\ntitle: Account basics\n---\nYour account holds your team.\n",
}


@pytest.fixture
def app(searchable_app):
    return searchable_app(ARTICLES)


def slugs(app, text: str) -> list[str]:
    with app.test_request_context():
        return [item.article.slug for item in get_service(app).search(text).items]


def test_the_shipped_synonym_list_is_valid_and_has_no_product_names():
    rules = builtin_rules()
    assert len(rules.synonyms) >= 30 and len(rules.related) >= 30
    from importlib.resources import files
    text = files("portal.search").joinpath("data", BUILTIN_FILE).read_text("utf-8")
    assert parse_rules(text)[1] == []


@pytest.mark.parametrize(("query", "slug"), [
    ("where is my bill", "invoices"),
    ("cell phone", "mobile"),
    ("add a colleague", "add-users"),
    ("what do the prices look like", "plans"),
    ("bills", "invoices"),
])
def test_a_reader_who_uses_other_words_finds_the_article(app, query, slug):
    assert slugs(app, query)[:1] == [slug]


@pytest.mark.parametrize(("query", "slug"), [
    ("warmup schedule", "warm-up"),
    ("web hook events", "webhook"),
])
def test_compounds_match_whether_written_together_or_apart(app, query, slug):
    assert slugs(app, query)[:1] == [slug]


def test_a_compound_is_not_split_when_the_articles_never_write_it_apart(app):
    # "password" is not "pass word": no article writes those two words side by side.
    assert slugs(app, "password")[:2] == ["password", "glossary"]


@pytest.mark.parametrize("query", [
    "how do i reset my password",
    "i forgot my password, how can i reset it?",
    "is it possible to reset a password",
])
def test_a_full_question_finds_the_short_answer_before_a_glossary(app, query):
    assert slugs(app, query)[0] == "password"


def write_rules(app, text: str) -> None:
    (Path(app.config["ARTICLES_DIR"]) / "_search.yml").write_text(text, encoding="utf-8")
    with app.app_context():
        from portal.content import get_store
        get_store(app).refresh(force=True)


def test_the_editors_synonyms_apply_to_search(app):
    assert "plain" not in slugs(app, "workspace")
    write_rules(app, "synonyms:\n  - [workspace, account]\n")
    assert slugs(app, "workspace")[:1] == ["plain"]


def test_the_editors_promoted_article_comes_first(app):
    assert slugs(app, "download invoice")[0] == "invoices"
    write_rules(app, "promote:\n  - query: invoice\n    articles: [billing/plans.md]\n")
    found = slugs(app, "download invoice")
    assert found[:2] == ["plans", "invoices"]


def test_the_editors_ignored_words_do_not_count(app):
    write_rules(app, "ignore:\n  - team\n")
    # "team" alone would pull in the team articles; ignored, the invoice wins on its own.
    assert slugs(app, "team invoice")[:1] == ["invoices"]
    assert "add-users" not in slugs(app, "team invoice")

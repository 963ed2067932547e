"""Readers and writers say the same thing in different words: "log in", "login", "sign in"."""

from __future__ import annotations

import re

import pytest

from portal.search import indexer
from portal.search.service import get_service
from portal.search.synonyms import merge

ARTICLES = {
    "help/trouble.md": "---\ntitle: Trouble getting into your account\n---\n"
                       "If you cannot sign in, check the address you typed. After you have "
                       "signed in once, the app remembers you.\n",
    "help/integration-log.md": "---\ntitle: Integration log\n---\n"
                               "Read the log under Settings. Each log entry has a time.\n",
    "help/two-factor.md": "---\ntitle: Two-factor authentication\n---\n"
                          "Turn on two-factor codes for every user.\n",
    "help/other.md": "---\ntitle: Crew schedule\n---\nPlan the week's crews.\n",
}


@pytest.fixture
def app(searchable_app):
    return searchable_app(ARTICLES)


def slugs_for(app, query: str) -> list[str]:
    results = app.test_client().get("/api/search", query_string={"q": query}).get_json()
    return [r["slug"] for r in results["results"]]


@pytest.mark.parametrize("query", ["can't log in", "login fails", "logging in",
                                   "how do I sign in", "signin"])
def test_every_way_of_saying_sign_in_finds_the_sign_in_article(app, query):
    assert slugs_for(app, query)[0] == "trouble"


def test_a_word_on_its_own_keeps_its_meaning(app):
    assert slugs_for(app, "log")[0] == "integration-log"


@pytest.mark.parametrize("query", ["2fa", "MFA codes", "two factor"])
def test_abbreviations_find_the_spelled_out_article(app, query):
    assert slugs_for(app, query)[0] == "two-factor"


def test_the_highlight_marks_the_words_the_article_used(app):
    html = app.test_client().get("/search?q=log+in").get_data(as_text=True)
    snippet = re.search(r'<p class="snippet">(.*?)</p>', html, re.S).group(1)
    assert "<mark>sign in</mark>" in snippet


def test_merge_replaces_pairs_and_single_words_and_leaves_the_rest():
    assert merge("why can t i log in".split()) == ["why", "can", "t", "i", "signin"]
    assert merge(["login", "and", "sign", "out"]) == ["signin", "and", "signout"]
    assert merge(["the", "log"]) == ["the", "log"]
    assert merge(["set"]) == ["set"]


@pytest.mark.parametrize("query", ["i cannot log in", "why doesnt login work",
                                   "login dont work", "cant login"])
def test_negations_typed_without_an_apostrophe_are_not_search_words(make_app, write_articles,
                                                                     query):
    folder = write_articles({
        "help/trouble.md": "---\ntitle: Trouble getting into your account\n---\n"
                           "If the password fails, sign in again with a new one.\n",
        "shop/dents.md": "---\ntitle: Dents\n---\nA dent cannot be repaired here. Scratches "
                         "cannot either, it doesnt matter how small; we dont, and cant, "
                         "paint them.\n",
        "shop/other.md": "---\ntitle: Crew schedule\n---\nPlan the week's crews.\n"})
    app = make_app(ARTICLES_DIR=folder)
    indexer.build(get_service(app).engine, folder)
    assert slugs_for(app, query) == ["trouble"]

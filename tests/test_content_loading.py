"""Editors' Markdown folders, however untidy, become readable articles."""

from __future__ import annotations

import logging

from portal.content.loader import load_tree
from portal.content.slugs import slugify


def test_any_folder_of_markdown_is_served_including_nested_and_odd_names(
        make_app, write_articles):
    root = write_articles({
        "Getting Started/First steps.md": "# First steps\n\nHello there.\n",
        "Getting Started/deep/er/Nested Page.md": "Just text, no heading at all.\n",
        "Café Menü/Crème brûlée.md": "---\ntitle: Dessert\n---\nSweet.\n",
        "root-level.md": "# At the root\n\nNo category folder.\n",
    })
    client = make_app(ARTICLES_DIR=root).test_client()

    for slug, title in [("first-steps", "First steps"), ("nested-page", "Nested Page"),
                        ("creme-brulee", "Dessert"), ("root-level", "At the root")]:
        page = client.get(f"/articles/{slug}")
        assert page.status_code == 200, slug
        assert f"{title}</h1>" in page.get_data(as_text=True) or title in page.get_data(
            as_text=True)

    home = client.get("/").get_data(as_text=True)
    assert "Getting Started" in home and "Café Menü" in home and "General" in home
    nested = client.get("/categories/getting-started/deep/er")
    assert nested.status_code == 200 and "Nested Page" in nested.get_data(as_text=True)


def test_title_comes_from_front_matter_then_heading_then_file_name(write_articles):
    root = write_articles({
        "c/a.md": "---\ntitle: From front matter\n---\n# Ignored heading\n",
        "c/b.md": "Intro line\n\n# From the heading\n\nBody\n",
        "c/reset-your-password.md": "No title anywhere.\n",
    })
    tree = load_tree(root)
    assert tree.by_slug["a"].title == "From front matter"
    assert tree.by_slug["b"].title == "From the heading"
    assert tree.by_slug["reset-your-password"].title == "Reset your password"


def test_a_heading_used_as_title_is_not_shown_twice(write_articles):
    tree = load_tree(write_articles({"c/a.md": "# Title here\n\nBody text.\n"}))
    assert "Title here" not in tree.by_slug["a"].body


def test_slugs_handle_spaces_capitals_accents_and_other_scripts():
    assert slugify("Slow Reports and  Timeouts") == "slow-reports-and-timeouts"
    assert slugify("Crème Brûlée_v2") == "creme-brulee-v2"
    assert slugify("Сброс пароля") == "сброс-пароля"
    assert slugify("!!!").startswith("article-")


def test_broken_front_matter_is_reported_with_line_and_the_site_stays_up(
        make_app, write_articles, caplog):
    root = write_articles({
        "c/broken.md": "---\ntitle: Fine\ntags: [unclosed\n---\n# Broken\n\nStill readable body.\n",
        "c/fine.md": "# Fine article\n",
    })
    caplog.set_level(logging.WARNING)
    client = make_app(ARTICLES_DIR=root).test_client()
    page = client.get("/articles/broken")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Still readable body." in html
    assert "could not be read" in html
    assert any("c/broken.md:" in r.getMessage() for r in caplog.records)
    assert client.get("/").status_code == 200
    assert client.get("/articles/fine").status_code == 200


def test_binary_and_badly_encoded_files_do_not_break_the_site(make_app, write_articles):
    root = write_articles({"c/latin1.md": "Caf\xe9 in Latin-1\n".encode("latin-1"),
                           "c/ok.md": "# OK\n"})
    client = make_app(ARTICLES_DIR=root).test_client()
    assert client.get("/articles/latin1").status_code == 200
    assert client.get("/").status_code == 200


def test_aliases_redirect_permanently_to_the_article(make_app, write_articles):
    root = write_articles(
        {"c/new-name.md": "---\ntitle: New\naliases: [old-name, Older Name]\n---\nx"})
    client = make_app(ARTICLES_DIR=root).test_client()
    for old in ("old-name", "older-name"):
        response = client.get(f"/articles/{old}")
        assert response.status_code == 301
        assert response.headers["Location"].endswith("/articles/new-name")


def test_drafts_are_hidden_from_readers_but_shown_to_editors(
        make_app, write_articles, make_user):
    root = write_articles({"c/secret.md": "---\ntitle: Coming soon\ndraft: true\n---\nx",
                           "c/public.md": "# Public\n"})
    app = make_app(ARTICLES_DIR=root)
    client = app.test_client()
    assert client.get("/articles/secret").status_code == 404
    assert "Coming soon" not in client.get("/categories/c").get_data(as_text=True)

    editor = make_user(role="editor")
    client.post("/login", data={"email": editor.email, "password": "correct horse 1"})
    page = client.get("/articles/secret")
    assert page.status_code == 200 and "Draft" in page.get_data(as_text=True)


def test_duplicate_file_names_in_two_folders_both_stay_reachable(write_articles):
    tree = load_tree(write_articles({"a/faq.md": "# A\n", "b/faq.md": "# B\n"}))
    assert {a.slug for a in tree.articles} == {"faq", "b-faq"}
    assert any("already used" in p.message for p in tree.problems)


def test_edits_on_disk_show_up_without_a_restart(make_app, write_articles):
    root = write_articles({"c/a.md": "# Version one\n"})
    client = make_app(ARTICLES_DIR=root).test_client()
    assert "Version one" in client.get("/articles/a").get_data(as_text=True)
    (root / "c" / "a.md").write_text("# Version two, longer\n")
    assert "Version two" in client.get("/articles/a").get_data(as_text=True)


def test_a_reload_parses_only_the_files_that_changed(write_articles, monkeypatch):
    from portal.content import loader

    root = write_articles({"c/a.md": "# A\n", "c/b.md": "# B\n", "c/c.md": "# C\n"})
    cache: dict = {}
    load_tree(root, cache)
    parsed = []
    real = loader.load_article
    monkeypatch.setattr(loader, "load_article",
                        lambda root, rel, *rest: parsed.append(rel) or real(root, rel, *rest))
    (root / "c" / "b.md").write_text("# B, edited and longer\n")
    (root / "c" / "d.md").write_text("# D\n")
    (root / "c" / "c.md").unlink()
    tree = load_tree(root, cache)
    assert sorted(parsed) == ["c/b.md", "c/d.md"]
    assert sorted(a.title for a in tree.articles) == ["A", "B, edited and longer", "D"]
    assert "c/c.md" not in cache

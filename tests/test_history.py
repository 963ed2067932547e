"""'Created by A, Modified on <date> by B' comes from git, following renames."""

from __future__ import annotations

import os
import time

from portal.content.history import read_history
from tests.gitrepo import GitRepo

BODY = "\n".join(f"Line {n} of a reasonably long article body." for n in range(20)) + "\n"


def test_first_and_last_commit_authors_follow_a_rename(tmp_path):
    repo = GitRepo(tmp_path / "repo")
    repo.write("articles/billing/old name.md", "# Invoices\n\n" + BODY)
    repo.write("articles/billing/other.md", "# Other\n")
    repo.commit("add", author="Alice Writer", when="2024-01-10T10:00:00Z")
    repo.git("mv", "articles/billing/old name.md", "articles/billing/invoices.md")
    repo.commit("rename", author="Bob Editor", when="2024-02-10T10:00:00Z")
    repo.write("articles/billing/invoices.md", "# Invoices\n\n" + BODY + "One more line.\n")
    repo.commit("edit", author="Carol Fixer", when="2024-03-15T17:04:00Z")

    history = read_history(repo.root / "articles")
    invoices = history["billing/invoices.md"]
    assert invoices.created_by == "Alice Writer"
    assert invoices.modified_by == "Carol Fixer"
    assert invoices.created_at.date().isoformat() == "2024-01-10"
    assert invoices.modified_at.date().isoformat() == "2024-03-15"
    assert "billing/old name.md" not in history
    assert history["billing/other.md"].modified_by == "Alice Writer"


def test_article_page_shows_created_and_modified_from_git(make_app, tmp_path):
    repo = GitRepo(tmp_path / "repo")
    repo.write("guides/start.md", "# Getting going\n\n" + BODY)
    repo.commit("add", author="Alice Writer", when="2024-06-11T21:04:00Z")
    repo.write("guides/start.md", "# Getting going\n\n" + BODY + "Extra.\n")
    repo.commit("edit", author="Bob Editor", when="2024-06-12T14:30:00Z")

    page = make_app(ARTICLES_DIR=repo.root).test_client().get("/articles/start")
    html = page.get_data(as_text=True)
    assert "Created by Alice Writer, Modified on" in html
    assert "Wed, Jun 12, 2024 at 10:30 AM ET" in html and "by Bob Editor" in html


def test_outside_git_the_file_time_is_shown_without_authors(make_app, write_articles):
    root = write_articles({"c/a.md": "# A\n"})
    stamp = time.mktime((2023, 5, 4, 12, 0, 0, 0, 0, -1))
    os.utime(root / "c" / "a.md", (stamp, stamp))
    html = make_app(ARTICLES_DIR=root).test_client().get("/articles/a").get_data(as_text=True)
    assert "Created by" not in html
    assert "Modified on" in html and "2023" in html


def test_history_is_read_once_not_per_page_view(make_app, tmp_path, monkeypatch):
    repo = GitRepo(tmp_path / "repo")
    for n in range(5):
        repo.write(f"c/a{n}.md", f"# A{n}\n")
    repo.commit("add", author="Alice Writer")
    app = make_app(ARTICLES_DIR=repo.root, CONTENT_RELOAD_SECONDS=60)
    client = app.test_client()

    import portal.content.history as history_module

    calls = []
    real_git = history_module._git
    monkeypatch.setattr(history_module, "_git", lambda *a: calls.append(a) or real_git(*a))
    for n in range(5):
        assert client.get(f"/articles/a{n}").status_code == 200
    client.get("/")
    assert len(calls) == 1

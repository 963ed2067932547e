"""Publishing reaches the running site without a reader paying for it.

With PORTAL_CONTENT_RELOAD_SECONDS above 0, each process reloads the articles
folder in a background thread and swaps the new content in at once: readers
keep being served the current content while the reload runs. With 0 (the
tests' default, for development) a change is read within the next request.

A slow reload is made real with a named pipe posing as an article: reading it
waits until the test lets it through, as a slow or network disk would. The
search index is built before the pipe appears, so only the reload reads it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from portal.content import get_store

WAIT = 10.0  # seconds; reloading a few files takes milliseconds


class SlowArticle:
    """A named pipe posing as an article: reading it waits until `serve()`, after which
    every read gets `text`. `close()` leaves a plain file with the same text."""

    def __init__(self, path: Path, text: str):
        os.mkfifo(path)
        self.path, self.text = path, text
        self._go, self._stop = threading.Event(), threading.Event()
        self._writer = threading.Thread(target=self._serve_forever, daemon=True)
        self._writer.start()

    def serve(self) -> None:
        self._go.set()

    def _serve_forever(self) -> None:
        self._go.wait()
        while not self._stop.is_set():
            try:
                with open(self.path, "w", encoding="utf-8") as pipe:  # waits for a reader
                    if not self._stop.is_set():
                        pipe.write(self.text)
            except BrokenPipeError:  # that reader left early; serve the next one
                continue

    def close(self) -> None:
        self._stop.set()
        self._go.set()
        os.close(os.open(self.path, os.O_RDONLY | os.O_NONBLOCK))  # lets a waiting writer go
        self._writer.join(WAIT)
        self.path.unlink()
        self.path.write_text(self.text, encoding="utf-8")


def indexed_app(make_app, root: Path, **config):
    from portal.search import indexer
    from portal.search.service import get_service

    app = make_app(ARTICLES_DIR=root, **config)
    indexer.build(get_service(app).engine, root)
    return app


def page(client, slug: str) -> str:
    response = client.get(f"/articles/{slug}")
    assert response.status_code == 200, (slug, response.status_code)
    return response.get_data(as_text=True)


def test_readers_get_the_current_content_while_a_reload_runs_then_the_new_at_once(
        make_app, write_articles):
    root = write_articles({"c/a.md": "# Version one\n"})
    app = indexed_app(make_app, root, CONTENT_RELOAD_SECONDS=3600.0)
    client = app.test_client()
    assert "Version one" in page(client, "a")
    store = get_store(app)
    generation = store.generation

    (root / "c" / "a.md").write_text("# Version two, longer\n", encoding="utf-8")
    slow = SlowArticle(root / "c" / "slow.md", "# Slow\n\nServed at last.\n")
    try:
        store.request_reload()  # what `kb sync` or the webhook asks for
        assert store.reloading
        for _ in range(3):
            assert "Version one" in page(client, "a")  # answered while the reload waits
            assert client.get("/articles/slow").status_code == 404
            store.request_reload()  # asked again meanwhile: one more reload after this one
        slow.serve()
        assert store.wait_for_reload(WAIT)
    finally:
        slow.close()
    assert not store.reloading
    assert "Version two" in page(client, "a")
    assert "Served at last." in page(client, "slow")
    assert store.generation == generation + 2  # three requests during a reload made one more


def test_the_periodic_check_reloads_in_the_background(make_app, write_articles):
    root = write_articles({"c/a.md": "# Version one\n", "c/b.md": "# B\n"})
    app = make_app(ARTICLES_DIR=root, CONTENT_RELOAD_SECONDS=0.05)
    client = app.test_client()
    assert "Version one" in page(client, "a")
    store = get_store(app)

    (root / "c" / "a.md").write_text("# Version two, longer\n", encoding="utf-8")
    (root / "c" / "new.md").write_text("# Brand new\n", encoding="utf-8")
    time.sleep(0.1)  # the check is due
    first = page(client, "a")  # notices the check is due, starts it, and does not wait
    assert "Version one" in first
    assert store.wait_for_reload(WAIT)
    assert "Version two" in page(client, "a")
    assert "Brand new" in page(client, "new")
    assert client.get("/").status_code == 200


def test_an_explicit_reload_now_returns_once_the_new_content_is_served(
        make_app, write_articles):
    root = write_articles({"c/a.md": "# Version one\n"})
    app = make_app(ARTICLES_DIR=root, CONTENT_RELOAD_SECONDS=3600.0)
    client = app.test_client()
    assert "Version one" in page(client, "a")
    (root / "c" / "a.md").write_text("# Version two, longer\n", encoding="utf-8")
    assert "Version one" in page(client, "a")  # not checked again for an hour
    assert get_store(app).reload_now() is True
    assert "Version two" in page(client, "a")


def test_an_edit_that_breaks_an_article_is_reported_with_its_line_and_the_site_stays_up(
        make_app, write_articles, caplog):
    root = write_articles({"c/a.md": "# A\n", "c/fine.md": "# Fine article\n"})
    app = make_app(ARTICLES_DIR=root, CONTENT_RELOAD_SECONDS=3600.0)
    client = app.test_client()
    assert client.get("/").status_code == 200
    caplog.set_level(logging.WARNING)

    (root / "c" / "a.md").write_text(
        "---\ntitle: A\ntags: [unclosed\n---\nStill readable body.\n", encoding="utf-8")
    store = get_store(app)
    store.request_reload()
    assert store.wait_for_reload(WAIT)
    assert any("c/a.md:" in r.getMessage() for r in caplog.records)
    html = page(client, "a")
    assert "Still readable body." in html and "could not be read" in html
    assert client.get("/").status_code == 200
    assert "Fine article" in page(client, "fine")


def test_one_request_sees_one_version_of_the_content_throughout(make_app, write_articles):
    root = write_articles({"c/a.md": "# Version one\n"})
    app = make_app(ARTICLES_DIR=root, CONTENT_RELOAD_SECONDS=3600.0)
    store = get_store(app)
    with app.test_request_context("/articles/a"):
        before = store.tree()
        (root / "c" / "a.md").write_text("# Version two, longer\n", encoding="utf-8")
        store.request_reload()
        assert store.wait_for_reload(WAIT)
        assert store.tree() is before  # swapped meanwhile, but not under this request
        assert store.tree().by_slug["a"].title == "Version one"
    with app.test_request_context("/articles/a"):
        assert store.tree().by_slug["a"].title == "Version two, longer"


def test_readiness_loads_the_content_in_the_background(make_app, write_articles):
    root = write_articles({"c/a.md": "# A\n"})
    app = indexed_app(make_app, root, CONTENT_RELOAD_SECONDS=3600.0)
    store = get_store(app)
    slow = SlowArticle(root / "c" / "slow.md", "# Slow\n")
    try:
        assert store.ready() is False  # starts the first load and answers at once
        assert store.reloading
        assert store.ready() is False
        slow.serve()
        assert store.wait_for_reload(WAIT)
    finally:
        slow.close()
    assert store.ready() is True
    assert "Slow" in page(app.test_client(), "slow")


def test_with_no_interval_an_edit_is_read_within_the_next_request(make_app, write_articles):
    root = write_articles({"c/a.md": "# Version one\n"})
    app = make_app(ARTICLES_DIR=root, CONTENT_RELOAD_SECONDS=0.0)
    client = app.test_client()
    assert "Version one" in page(client, "a")
    (root / "c" / "a.md").write_text("# Version two, longer\n", encoding="utf-8")
    assert "Version two" in page(client, "a")
    assert not get_store(app).reloading


def test_a_worker_forked_during_a_reload_still_reloads_on_its_own(make_app, write_articles):
    # A preloading server forks its workers from a process that may be reloading: the
    # worker has no such thread, and must not wait for it forever.
    root = write_articles({"c/a.md": "# A\n"})
    app = indexed_app(make_app, root, CONTENT_RELOAD_SECONDS=3600.0)
    store = get_store(app)
    assert store.tree().by_slug["a"]
    slow = SlowArticle(root / "c" / "slow.md", "# Slow\n")
    try:
        store.request_reload()
        assert store.reloading  # waits for the slow article, holding the reload's lock
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                if not store.reloading and store.reload_now() and "slow" in store.tree().by_slug:
                    code = 0
            finally:
                os._exit(code)
        slow.serve()
        assert store.wait_for_reload(WAIT)
        deadline = time.monotonic() + WAIT
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        if done[0] == 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        assert done[0] == pid and os.waitstatus_to_exitcode(done[1]) == 0
    finally:
        slow.close()


def test_the_reload_fingerprints_the_folder_as_the_loader_does(write_articles):
    from portal.content.loader import signature
    from portal.content.snapshot import fingerprint

    root = write_articles({
        "top.md": "# Top\n", "_search.yml": "synonyms: []\n", "c/a.markdown": "# A\n",
        "c/_category.yml": "title: C\n", "c/_search.yml": "ignored: here\n",
        "c/d/e.MD": "# E\n", "c/notes.txt": "not an article\n", ".git/x.md": "hidden\n",
        "_drafts/y.md": "underscored folder\n", "c/.hidden.md": "# Hidden file\n",
    })
    assert fingerprint(root) == signature(root)
    assert fingerprint(root / "missing") == signature(root / "missing") == ()

"""Building and updating the index: generations, --changed, locking, swaps under load, damage."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from portal.search import indexer
from portal.search.engine import IndexBusy
from portal.search.generations import POINTER, Generations
from portal.search.query import parse
from portal.search.service import get_service


def article(title: str, body: str, **meta) -> str:
    extra = "".join(f"{key}: {value}\n" for key, value in meta.items())
    return f"---\ntitle: {title}\n{extra}---\n\n{body}\n"


@pytest.fixture
def folder(write_articles):
    return write_articles({
        "setup/first-steps.md": article("First steps", "Create a workspace and invite people."),
        "setup/billing-basics.md": article("Billing basics", "Invoices arrive monthly."),
        "help/sync-errors.md": article("Sync errors", "When the tablet shows error 504, retry."),
    })


def slugs(app, query: str) -> list[str]:
    data = app.test_client().get("/api/search", query_string={"q": query}).get_json()
    return [r["slug"] for r in data["results"]]


def live_generation(app) -> Path:
    return Generations(app.config["INDEX_DIR"]).current()


def test_kb_index_builds_a_generation_and_switches_the_pointer(make_app, folder):
    app = make_app(ARTICLES_DIR=folder)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["kb", "index"])
    assert result.exit_code == 0, result.output
    assert "Indexed 3 articles" in result.output
    first = live_generation(app)
    assert first.name.startswith("gen-") and (first / "manifest.json").is_file()
    assert (app.config["INDEX_DIR"] / POINTER).read_text().strip() == first.name
    assert slugs(app, "workspace") == ["first-steps"]

    result = runner.invoke(args=["kb", "index"])
    assert result.exit_code == 0
    assert live_generation(app) != first
    assert slugs(app, "workspace") == ["first-steps"]  # the open searcher moved on by itself


def test_changed_only_reindexes_what_changed(make_app, folder):
    app = make_app(ARTICLES_DIR=folder)
    runner = app.test_cli_runner()
    runner.invoke(args=["kb", "index"])
    assert "nothing to do" in runner.invoke(args=["kb", "index", "--changed"]).output

    (folder / "help/sync-errors.md").write_text(article("Sync errors", "Error 504: reboot."))
    (folder / "setup/billing-basics.md").unlink()
    (folder / "help/offline-mode.md").write_text(article("Offline mode", "Works in tunnels."))
    (folder / "setup/first-steps.md").write_text(
        article("First steps", "Create a workspace.", draft="true"))
    result = runner.invoke(args=["kb", "index", "--changed"])
    assert result.exit_code == 0, result.output
    assert "2 changed, 2 removed" in result.output

    assert slugs(app, "reboot") == ["sync-errors"]
    assert slugs(app, "retry") == []
    assert slugs(app, "invoices") == []  # deleted, and it stays deleted
    assert slugs(app, "tunnels") == ["offline-mode"]
    assert slugs(app, "workspace") == []  # now a draft


def test_a_search_repeated_after_a_publish_answers_from_the_new_articles(make_app, folder):
    """Answers are kept per process for repeated searches; a new index generation is a new
    key, so nobody is shown what the articles said before."""
    app = make_app(ARTICLES_DIR=folder)
    runner = app.test_cli_runner()
    runner.invoke(args=["kb", "index"])
    assert slugs(app, "retry") == ["sync-errors"]
    assert slugs(app, "retry") == ["sync-errors"]  # the kept answer
    assert slugs(app, "tunnels") == []

    (folder / "help/sync-errors.md").write_text(article("Sync errors", "Error 504: reboot."))
    (folder / "help/offline-mode.md").write_text(article("Offline mode", "Works in tunnels."))
    assert runner.invoke(args=["kb", "index", "--changed"]).exit_code == 0

    assert slugs(app, "retry") == []
    assert slugs(app, "tunnels") == ["offline-mode"]


def test_a_kept_answer_is_not_changed_by_what_a_caller_does_with_it(make_app, folder):
    app = make_app(ARTICLES_DIR=folder)
    app.test_cli_runner().invoke(args=["kb", "index"])
    with app.test_request_context():
        engine = get_service().engine
        first = engine.search(parse("retry"), None, 0, 10)
        first.hits[0].title = "Changed by a caller"
        first.hits.clear()
        again = engine.search(parse("retry"), None, 0, 10)
    assert [(hit.slug, hit.title) for hit in again.hits] == [("sync-errors", "Sync errors")]


def test_changed_without_an_index_builds_one(make_app, folder):
    app = make_app(ARTICLES_DIR=folder)
    result = app.test_cli_runner().invoke(args=["kb", "index", "--changed"])
    assert "Indexed 3 articles" in result.output
    assert slugs(app, "invoices") == ["billing-basics"]


def test_a_second_build_waits_or_says_why_it_cannot(make_app, folder):
    app = make_app(ARTICLES_DIR=folder)
    engine = get_service(app).engine
    with engine.build_lock():
        result = app.test_cli_runner().invoke(args=["kb", "index", "--wait", "0.2"])
    assert result.exit_code == 1
    assert "another index build is running" in result.output
    assert engine.current_directory() is None  # nothing half-built was switched in

    holder = threading.Thread(target=lambda: _hold(engine, 0.5))
    holder.start()
    time.sleep(0.1)
    result = app.test_cli_runner().invoke(args=["kb", "index", "--wait", "10"])
    holder.join()
    assert result.exit_code == 0 and "Indexed 3 articles" in result.output


def _hold(engine, seconds: float) -> None:
    with engine.build_lock():
        time.sleep(seconds)


def test_concurrent_builds_never_break_the_index(make_app, folder):
    app = make_app(ARTICLES_DIR=folder)
    engine = get_service(app).engine
    outcomes: list[str] = []

    def build():
        try:
            indexer.build(engine, folder, wait=0)
            outcomes.append("built")
        except IndexBusy:
            outcomes.append("busy")

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "built" in outcomes and len(outcomes) == 4
    assert slugs(app, "invoices") == ["billing-basics"]


def test_searches_keep_answering_while_kb_index_swaps_the_index(make_app, write_articles):
    files = {f"topic/article-{n:03d}.md": article(f"Article number {n}",
                                                  f"Tractor pavement notes {n}. " * 30)
             for n in range(150)}
    files["topic/needle.md"] = article("Hydraulic paver manual", "Hydraulic paver tips.")
    folder = write_articles(files)
    # Four threads hammer the API here; its per-IP limit is not what this test is about.
    app = make_app(ARTICLES_DIR=folder, SEARCH_API_LIMIT="100000 per minute")
    runner = app.test_cli_runner()
    runner.invoke(args=["kb", "index"])
    stop = threading.Event()
    errors: list[str] = []
    answered = [0]

    def search_forever():
        client = app.test_client()
        while not stop.is_set():
            response = client.get("/api/search?q=hydraulic+paver")
            data = response.get_json() if response.status_code == 200 else None
            if not data or data["notice"] or not data["results"] or (
                    data["results"][0]["slug"] != "needle"):
                errors.append(f"{response.status_code} {data}")
            answered[0] += 1

    threads = [threading.Thread(target=search_forever) for _ in range(4)]
    for thread in threads:
        thread.start()
    seen = {live_generation(app)}
    for _ in range(3):
        result = runner.invoke(args=["kb", "index"])
        assert result.exit_code == 0, result.output
        seen.add(live_generation(app))
        (folder / "topic/article-001.md").write_text(article("Article number 1", f"Changed {_}."))
        assert runner.invoke(args=["kb", "index", "--changed"]).exit_code == 0
        seen.add(live_generation(app))
    stop.set()
    for thread in threads:
        thread.join()
    assert len(seen) == 7  # every build and update switched to a new generation
    assert answered[0] > 20
    assert errors == []


def test_a_deleted_index_is_rebuilt_on_the_next_search(make_app, folder):
    app = make_app(ARTICLES_DIR=folder)
    indexer.build(get_service(app).engine, folder)
    shutil.rmtree(app.config["INDEX_DIR"])
    client = app.test_client()
    assert client.get("/articles/sync-errors").status_code == 200
    data = client.get("/api/search?q=504").get_json()
    assert [r["slug"] for r in data["results"]] == ["sync-errors"]
    assert data["notice"] is None  # built within the first search's wait
    assert live_generation(app) is not None


def test_without_time_to_build_the_plain_scan_answers(make_app, folder):
    app = make_app(ARTICLES_DIR=folder, SEARCH_BUILD_WAIT_SECONDS=0)
    html = app.test_client().get("/search?q=invoices").get_data(as_text=True)
    assert "Billing basics" in html and "being prepared" in html
    get_service(app)._builder.join(30)
    data = app.test_client().get("/api/search?q=invoices").get_json()
    assert data["notice"] is None and data["results"][0]["slug"] == "billing-basics"


def test_a_corrupt_index_falls_back_logs_and_repairs_itself(make_app, folder, caplog):
    app = make_app(ARTICLES_DIR=folder)
    service = get_service(app)
    indexer.build(service.engine, folder)
    damaged = live_generation(app)
    for entry in damaged.iterdir():
        if entry.name.endswith((".seg", ".toc")):
            entry.write_bytes(os.urandom(entry.stat().st_size))
    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="portal.search.service"):
        response = client.get("/search?q=workspace")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "simplified mode" in html and "First steps" in html
    assert any("search index unreadable" in r.getMessage() for r in caplog.records
               if r.levelno == logging.ERROR)
    assert client.get("/articles/first-steps").status_code == 200

    service._builder.join(30)
    data = client.get("/api/search?q=workspace").get_json()
    assert data["notice"] is None and data["results"][0]["slug"] == "first-steps"
    assert live_generation(app) != damaged


def test_old_generations_are_cleaned_up(tmp_path):
    generations = Generations(tmp_path / "index")
    made = []
    for _ in range(4):
        with generations.lock():
            made.append(generations.new_directory())
            generations.switch(made[-1])
    past = time.time() - 3600
    for path in made:
        os.utime(path, (past, past))
    removed = generations.cleanup()
    assert generations.current() == made[-1]
    assert sorted(removed) == sorted(made[:2])  # the live one and the one before stay
    assert [p.exists() for p in made] == [False, False, True, True]


def test_a_fresh_generation_is_not_cleaned_while_readers_may_use_it(tmp_path):
    generations = Generations(tmp_path / "index")
    made = []
    for _ in range(3):
        made.append(generations.new_directory())
        generations.switch(made[-1])
    assert generations.cleanup() == []
    assert all(p.exists() for p in made)


def test_changed_replaces_a_damaged_index_with_a_full_build(make_app, folder):
    app = make_app(ARTICLES_DIR=folder)
    runner = app.test_cli_runner()
    runner.invoke(args=["kb", "index"])
    for entry in live_generation(app).iterdir():
        if entry.name.endswith(".seg"):
            entry.write_bytes(b"\0" * 64)
    (folder / "help/sync-errors.md").write_text(article("Sync errors", "Error 504: reboot."))
    result = runner.invoke(args=["kb", "index", "--changed"])
    assert result.exit_code == 0, result.output
    assert "Indexed 3 articles" in result.output
    assert slugs(app, "reboot") == ["sync-errors"]


def test_changed_rebuilds_everything_when_the_index_format_changed(make_app, folder):
    # An index written by an older release (another analyzer or synonym list) must not
    # be patched: --changed rebuilds it in full.
    app = make_app(ARTICLES_DIR=folder)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["kb", "index"]).exit_code == 0
    manifest = live_generation(app) / "manifest.json"
    data = json.loads(manifest.read_text())
    assert data["version"] == indexer.MANIFEST_VERSION
    manifest.write_text(json.dumps(data | {"version": indexer.MANIFEST_VERSION - 1}))
    result = runner.invoke(args=["kb", "index", "--changed"])
    assert result.exit_code == 0, result.output
    assert "Indexed 3 articles" in result.output and "full build" in result.output


@contextmanager
def _fail_if_stuck(seconds: int = 20):
    """Turn a search stuck for good (opening a named pipe) into an error instead of a hang."""
    def give_up(signum, frame):
        raise TimeoutError(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _symlink_loop(pointer: Path) -> None:
    pointer.symlink_to(pointer.name)  # CURRENT -> CURRENT: any open fails (ELOOP)


def _unreadable(pointer: Path) -> None:
    pointer.write_text("gen-whatever\n")
    pointer.chmod(0)


BROKEN_POINTERS = {
    "bad bytes": lambda p: p.write_bytes(b"gen-\xff\xfe\x00\x81\n"),
    "empty": lambda p: p.write_bytes(b""),
    "garbage": lambda p: p.write_text("<<< not a generation >>>\n"),
    "missing folder": lambda p: p.write_text("gen-20990101T000000000000-abcdef\n"),
    "name too long": lambda p: p.write_text("gen-" + "x" * 400 + "\n"),
    "a directory": lambda p: p.mkdir(),
    "a pipe": lambda p: os.mkfifo(p),
    "a symlink loop": _symlink_loop,
    "no permission": pytest.param(_unreadable, marks=pytest.mark.skipif(
        os.geteuid() == 0, reason="root reads files whatever their mode")),
}


@pytest.mark.parametrize("damage", BROKEN_POINTERS.values(), ids=BROKEN_POINTERS.keys())
def test_a_broken_index_pointer_falls_back_logs_and_is_rebuilt(make_app, folder, caplog,
                                                              damage):
    app = make_app(ARTICLES_DIR=folder)
    service = get_service(app)
    indexer.build(service.engine, folder)
    before = live_generation(app)
    pointer = app.config["INDEX_DIR"] / POINTER
    pointer.unlink()
    damage(pointer)
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="portal.search"):
        with _fail_if_stuck():
            response = client.get("/search?q=workspace")
        with _fail_if_stuck():
            api = client.get("/api/search?q=invoices")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "First steps" in html and "simplified mode" in html
    assert api.status_code == 200 and api.get_json()["results"][0]["slug"] == "billing-basics"
    assert any("search index" in r.getMessage() and POINTER in r.getMessage()
               for r in caplog.records if r.levelno >= logging.WARNING)

    service._builder.join(30)
    rebuilt = live_generation(app)
    assert rebuilt is not None and rebuilt != before and (rebuilt / "manifest.json").is_file()
    data = client.get("/api/search?q=workspace").get_json()
    assert data["notice"] is None and data["results"][0]["slug"] == "first-steps"

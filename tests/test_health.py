"""/healthz and /readyz, what the proxy in front of the web nodes asks each node.

/healthz: the process answers. /readyz: the database answers, the search index opens and
the articles are loaded (503 naming what is not). Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest

from portal import create_app
from portal.search import indexer
from portal.search.generations import POINTER
from portal.search.service import get_service
from tests.conftest import TEST_DATABASE_URL, _base_config
from tests.gitrepo import GitRepo

ARTICLE = "---\ntitle: Exports\n---\n\nDownload a CSV export of your projects.\n"


def unreachable_url(tmp_path) -> str:
    if TEST_DATABASE_URL.startswith("postgresql"):
        return re.sub(r"@[^/]+/", "@127.0.0.1:9/", TEST_DATABASE_URL)  # nothing listens
    return f"sqlite:///{tmp_path}/no-such-folder/portal.db"


def app_without_database(tmp_path, **overrides):
    """Not make_app: there is no database to migrate or empty."""
    return create_app(_base_config(tmp_path) | {
        "SQLALCHEMY_DATABASE_URI": unreachable_url(tmp_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}
        if TEST_DATABASE_URL.startswith("postgresql") else {}} | overrides)


def no_traceback(page: str) -> None:
    assert "Traceback" not in page and "Error" not in page and "sqlalchemy" not in page.lower()


def assert_for_the_proxy(response) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def readyz(client, seconds: float = 10.0):
    """/readyz once the articles finished loading: a probe starts their first load in the
    background and answers "loading" (503) meanwhile, as a proxy would see it."""
    deadline = time.monotonic() + seconds
    while True:
        response = client.get("/readyz")
        if response.get_json()["content"] != "loading" or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


@pytest.fixture
def checkout(tmp_path) -> GitRepo:
    repo = GitRepo(tmp_path / "articles-checkout")
    repo.write("help/exports.md", ARTICLE)
    repo.commit("First article")
    return repo


def test_healthz_answers_ok_whether_or_not_the_database_answers(make_app, tmp_path):
    for app in (make_app(), app_without_database(tmp_path)):
        response = app.test_client().get("/healthz")
        assert response.status_code == 200
        assert response.get_data(as_text=True).strip() == "ok"
        assert response.mimetype == "text/plain"
        assert_for_the_proxy(response)


def test_readyz_is_200_when_database_index_and_articles_are_ready(make_app, checkout):
    app = make_app(ARTICLES_DIR=checkout.root)
    indexer.build(get_service(app).engine, checkout.root)
    client = app.test_client()
    first = client.get("/readyz")  # a fresh node: its articles load in the background
    assert first.status_code == 503 and first.get_json()["content"] == "loading"
    response = readyz(client)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "database": "ok", "index": "ok", "content": "ok",
        "commit": checkout.git("rev-parse", "HEAD").strip()}
    assert_for_the_proxy(response)


def test_readyz_names_no_commit_when_the_articles_are_not_their_own_checkout(make_app):
    app = make_app()  # the sample articles, inside the portal's own repository
    indexer.build(get_service(app).engine, app.config["ARTICLES_DIR"])
    data = readyz(app.test_client()).get_json()
    assert data["commit"] is None and data["index"] == "ok"


def test_readyz_is_503_naming_the_database_when_it_does_not_answer(tmp_path, checkout):
    app = app_without_database(tmp_path, ARTICLES_DIR=checkout.root)
    indexer.build(get_service(app).engine, checkout.root)
    response = readyz(app.test_client())
    assert response.status_code == 503
    data = response.get_json()
    assert data["database"] == "unavailable"
    assert (data["index"], data["content"]) == ("ok", "ok")
    assert data["commit"] == checkout.git("rev-parse", "HEAD").strip()
    no_traceback(response.get_data(as_text=True))
    assert_for_the_proxy(response)


def test_readyz_is_503_naming_the_index_when_it_is_missing(make_app, checkout):
    app = make_app(ARTICLES_DIR=checkout.root)  # no `kb index` was run
    response = readyz(app.test_client())
    assert response.status_code == 503
    assert response.get_json() | {"commit": None} == {
        "database": "ok", "index": "missing", "content": "ok", "commit": None}
    assert_for_the_proxy(response)


def test_readyz_is_503_naming_an_unreadable_index(make_app, checkout):
    app = make_app(ARTICLES_DIR=checkout.root)
    indexer.build(get_service(app).engine, checkout.root)
    (app.config["INDEX_DIR"] / POINTER).write_text("gen-that-was-deleted\n")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["index"] == "unreadable"
    no_traceback(response.get_data(as_text=True))


def test_readyz_is_503_naming_the_articles_when_their_folder_is_missing(make_app, tmp_path):
    app = make_app(ARTICLES_DIR=tmp_path / "not-mounted")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["content"] == "missing"


def test_the_proxy_is_never_rate_limited(make_app):
    from portal.extensions import limiter

    app = make_app(RATELIMIT_DEFAULT="2 per minute")
    try:
        client = app.test_client()
        assert [client.get("/").status_code for _ in range(3)][-1] == 429  # limits are on
        for url in ("/healthz", "/readyz"):
            codes = {client.get(url).status_code for _ in range(10)}
            assert 429 not in codes, url
    finally:  # the limiter is shared by every app of the test run: take the default off
        limiter.limit_manager.set_default_limits([])


def test_no_session_cookie_even_for_a_signed_in_reader(make_app, make_user, checkout):
    app = make_app(ARTICLES_DIR=checkout.root)
    indexer.build(get_service(app).engine, checkout.root)
    make_user(email="carol@example.com")
    client = app.test_client()
    client.post("/login", data={"email": "carol@example.com", "password": "correct horse 1"})
    for response in (client.get("/healthz"), readyz(client)):
        assert response.status_code == 200
        assert_for_the_proxy(response)


def test_readyz_gives_up_on_a_database_server_that_accepts_but_never_answers(
        tmp_path, checkout):
    """A server that takes the connection and then says nothing (a hung PostgreSQL, a
    firewall that drops packets) must not hang the proxy's probe: the connection attempt
    ends after PORTAL_DATABASE_CONNECT_TIMEOUT and the node is reported not ready."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nobody ever reads or writes
    port = silent.getsockname()[1]
    try:
        app = create_app(_base_config(tmp_path) | {
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://portal@127.0.0.1:{port}/portal",
            "DATABASE_CONNECT_TIMEOUT": 1, "ARTICLES_DIR": checkout.root})
        indexer.build(get_service(app).engine, checkout.root)
        answers = []
        probe = threading.Thread(target=lambda: answers.append(readyz(app.test_client())),
                                 daemon=True)
        probe.start()
        probe.join(timeout=60)
        assert answers, "/readyz was still waiting for the silent database after 60 s"
        assert answers[0].status_code == 503
        assert answers[0].get_json()["database"] == "unavailable"
    finally:
        silent.close()


def test_the_connect_timeout_is_given_to_postgresql_and_checked(tmp_path):
    from portal.config import SettingsError, load_settings

    url = {"PORTAL_DATABASE_URL": "postgresql+psycopg://portal@db.internal/portal"}
    settings = load_settings(tmp_path, environ=url | {"PORTAL_DATABASE_CONNECT_TIMEOUT": "3"})
    assert settings["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["connect_timeout"] == 3
    with pytest.raises(SettingsError, match="PORTAL_DATABASE_CONNECT_TIMEOUT"):
        load_settings(tmp_path, environ=url | {"PORTAL_DATABASE_CONNECT_TIMEOUT": "soon"})
    assert "SQLALCHEMY_ENGINE_OPTIONS" not in load_settings(tmp_path, environ={})

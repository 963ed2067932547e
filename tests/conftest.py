"""Fixtures: apps on a real database (SQLite file, or PostgreSQL when
PORTAL_TEST_DATABASE_URL is set), temporary article folders, users."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from portal import create_app
from portal.config import PROJECT_ROOT
from portal.extensions import db

TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
MIGRATIONS = str(PROJECT_ROOT / "migrations")
SAMPLE_ARTICLES = PROJECT_ROOT / "articles"


def _base_config(tmp: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(tmp / "instance"),
        "INDEX_DIR": tmp / "index",
        "ARTICLES_DIR": SAMPLE_ARTICLES,
        "WTF_CSRF_ENABLED": False,
        "CONTENT_RELOAD_SECONDS": 0.0,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run the Alembic migrations once: into a template SQLite file, or into PostgreSQL."""
    tmp = tmp_path_factory.mktemp("dbtemplate")
    if TEST_DATABASE_URL:
        engine = create_engine(TEST_DATABASE_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        url = TEST_DATABASE_URL
    else:
        url = f"sqlite:///{tmp / 'template.db'}"
    app = create_app(_base_config(tmp) | {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="heads")
        db.engine.dispose()
    return url


def _empty_tables(app: Flask) -> None:
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if TEST_DATABASE_URL and tables:
                quoted = ", ".join(f'"{name}"' for name in tables)
                conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(tmp_path: Path, database_template: str) -> Iterator[Callable[..., Flask]]:
    """Factory: make_app(ARTICLES_DIR=..., ...) gives a fresh app on a migrated database."""
    made: list[Flask] = []

    def factory(**overrides) -> Flask:
        if TEST_DATABASE_URL:
            url = TEST_DATABASE_URL
            if made:
                _empty_tables(made[-1])
        else:
            db_file = tmp_path / f"portal-{len(made)}.db"
            shutil.copyfile(database_template.removeprefix("sqlite:///"), db_file)
            url = f"sqlite:///{db_file}"
        config = _base_config(tmp_path) | {"SQLALCHEMY_DATABASE_URI": url} | overrides
        app = create_app(config)
        made.append(app)
        return app

    def latest() -> Flask:
        return made[-1] if made else factory()

    factory.latest = latest  # type: ignore[attr-defined]
    yield factory
    for app in made[-1:]:
        _empty_tables(app)
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def make_user(make_app) -> Callable[..., object]:
    """make_user(role="agent", org="Acme") creates a user in the latest app made;
    password 'correct horse 1'."""
    from portal.accounts.service import create_user

    counter = {"n": 0}

    def factory(email: str | None = None, role: str = "customer", org: str | None = None,
                password: str = "correct horse 1", name: str | None = None):
        counter["n"] += 1
        email = email or f"user{counter['n']}@example.com"
        app = make_app.latest()
        with app.app_context():
            user = create_user(email, name or f"User {counter['n']}", password, role, org)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return factory


@pytest.fixture
def login(client) -> Callable[..., object]:
    def do_login(email: str, password: str = "correct horse 1"):
        return client.post("/login", data={"email": email, "password": password})

    return do_login


@pytest.fixture
def write_articles(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """write_articles({"cat/name.md": "text"}) creates a fresh articles folder."""
    counter = {"n": 0}

    def factory(files: dict[str, str | bytes]) -> Path:
        counter["n"] += 1
        root = tmp_path / f"articles-{counter['n']}"
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        root.mkdir(exist_ok=True)
        return root

    return factory


@pytest.fixture
def searchable_app(make_app, write_articles) -> Callable[[dict[str, str]], Flask]:
    """searchable_app({"cat/name.md": "text"}): an app on those articles, index built."""
    from portal.search import indexer
    from portal.search.service import get_service

    def factory(files: dict[str, str]) -> Flask:
        folder = write_articles(files)
        app = make_app(ARTICLES_DIR=folder)
        indexer.build(get_service(app).engine, folder)
        return app

    return factory

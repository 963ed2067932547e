"""The built wheel is a working portal: it carries its templates and migrations, and an
install of it (here: the wheel unpacked, outside the checkout) serves pages and migrates.

The full check (a fresh virtualenv, the wheel installed with its extras, gunicorn, a crawl)
is .ci/wheel-check.py, run by .ci/run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from portal import resources
from portal.config import PROJECT_ROOT


def clean_clone_files() -> list[str]:
    """What a clean clone holds: tracked files, and new files that .gitignore does not skip."""
    listed = subprocess.run(["git", "-C", str(PROJECT_ROOT), "ls-files", "-co",
                             "--exclude-standard", "-z"],
                            capture_output=True, text=True, check=True, timeout=60)
    return [name for name in listed.stdout.split("\0")
            if name and (PROJECT_ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of what a clean clone holds (tracked files and new files
    not ignored), so the checkout gets no build/ folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    for name in clean_clone_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, source / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp / "dist"),
         str(source)], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = (tmp / "dist").glob("portal-*.whl")
    return built


def _files_under(folder: str) -> set[str]:
    return {name.removeprefix(folder + "/") for name in clean_clone_files()
            if name.startswith(folder + "/")}


def test_the_wheel_carries_every_template_and_migration(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "migrations"):
        expected = {f"portal/_bundled/{folder}/{name}" for name in _files_under(folder)}
        assert expected, folder
        assert expected - names == set(), f"{folder}/ files missing from the wheel"
    assert "portal/_bundled/templates/errors/error.html" in names
    assert "portal/_bundled/migrations/env.py" in names


def test_the_wheel_carries_static_files_and_search_data_but_not_articles(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    static = {f"portal/static/{name}" for name in _files_under("portal/static")}
    assert static - names == set()
    assert "portal/search/data/help_center_synonyms.yml" in names
    assert not any(n.startswith(("articles/", "portal/_bundled/articles")) for n in names)
    assert not any(n.startswith(("templates/", "migrations/", "tests/")) for n in names)


def test_the_console_script_is_declared(wheel: Path):
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    assert "portal = portal.cli:main" in archive.read(entry_points).decode()


SERVE = textwrap.dedent("""
    import json, pathlib, sys
    import portal
    from portal import create_app, resources
    app = create_app()
    client = app.test_client()
    pages = {path: client.get(path) for path in ("/login", "/register", "/no-such-page")}
    print(json.dumps({
        "package": portal.__file__,
        "templates": str(resources.templates_dir()),
        "migrations": str(resources.migrations_dir()),
        "instance": app.instance_path,
        "status": {path: r.status_code for path, r in pages.items()},
        "login_has_form": b'name="password"' in pages["/login"].data,
        "not_found_page": b"<html" in pages["/no-such-page"].data.lower(),
    }))
""")


def test_an_installed_wheel_migrates_and_serves_pages_outside_the_checkout(
        wheel: Path, tmp_path: Path):
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env |= {
        "PYTHONPATH": str(site),
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "PORTAL_ARTICLES_DIR": str(PROJECT_ROOT / "articles"),
        "PORTAL_INDEX_DIR": str(tmp_path / "index"),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=work, env=env, capture_output=True,
                              text=True, timeout=300, check=False)

    migrated = run("-m", "flask", "--app", "portal:create_app", "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    served = run("-c", SERVE)
    assert served.returncode == 0, served.stderr
    report = json.loads(served.stdout.strip().splitlines()[-1])

    assert Path(report["package"]).is_relative_to(site)  # the wheel, not the checkout
    assert report["templates"] == str(site / "portal" / "_bundled" / "templates")
    assert report["migrations"] == str(site / "portal" / "_bundled" / "migrations")
    assert report["instance"] == str(work / "instance")  # never inside site-packages
    assert (work / "instance" / "secret_key").is_file()
    assert report["status"] == {"/login": 200, "/register": 200, "/no-such-page": 404}
    assert report["login_has_form"] and report["not_found_page"]


def test_a_checkout_uses_its_own_templates_and_migrations():
    assert resources.in_checkout()
    assert resources.templates_dir() == PROJECT_ROOT / "templates"
    assert resources.migrations_dir() == PROJECT_ROOT / "migrations"
    assert resources.default_instance_path() == PROJECT_ROOT / "instance"

"""Where the app finds its templates, migrations and instance folder, in a checkout or installed.

In a checkout (`pip install -e .`, `make run`, the tests) the package sits beside the
repository's own `templates/` and `migrations/`, and those are used, so edits show at once.
A built wheel has no checkout beside it: setup.py copies both folders into the package as
`portal/_bundled/templates` and `portal/_bundled/migrations`, and those are used instead.

The instance folder (secret key, SQLite database, outbox, attachments when not configured
elsewhere) is the checkout's `instance/` in a checkout. An installed app must not write into
site-packages, so it uses `instance/` under the current working directory: start gunicorn
and the `flask`/`portal` commands from the same folder (gunicorn `--chdir`), or pass
INSTANCE_PATH in the config mapping.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent
BUNDLED_DIR = PACKAGE_DIR / "_bundled"
BUNDLED_FOLDERS = ("templates", "migrations")


class ResourceMissing(RuntimeError):
    """Neither the checkout's folder nor the bundled copy exists: a broken install."""


def in_checkout() -> bool:
    """True when the package is imported from the project's source tree (not from a wheel)."""
    return ((CHECKOUT_DIR / "pyproject.toml").is_file()
            and all((CHECKOUT_DIR / name).is_dir() for name in BUNDLED_FOLDERS))


def _folder(name: str) -> Path:
    candidates = [CHECKOUT_DIR / name] if in_checkout() else []
    candidates.append(BUNDLED_DIR / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise ResourceMissing(
        f"The portal's {name}/ folder is missing: looked in "
        + " and ".join(str(c) for c in candidates)
        + ". Reinstall the portal from a wheel built with `pip wheel .` (it bundles "
          f"{name}/), or run it from a checkout of the repository.")


def templates_dir() -> Path:
    """The Jinja templates: the checkout's templates/, else the copy inside the package."""
    return _folder("templates")


def migrations_dir() -> Path:
    """The Alembic migrations: the checkout's migrations/, else the copy inside the package."""
    return _folder("migrations")


def default_instance_path() -> Path:
    """The checkout's instance/ in a checkout; ./instance (current directory) when installed."""
    return site_root() / "instance"


def site_root() -> Path:
    """The folder that the path defaults hang from: the checkout, or the current directory
    when installed (./articles, ./search_index, ./instance), never site-packages."""
    return CHECKOUT_DIR if in_checkout() else Path.cwd()

"""A portal to put load on, shared by bench/load.py and bench/publish_under_load.py.

Everything is private to one run and removed at its end: a PostgreSQL database
(`load_<pid>`), an articles repository (a bare origin, an editor's clone that pushes, and
the site's clone that the portal reads and pulls), a search index, the mail, attachment and
mail-in folders, and gunicorn on a free loopback port. The portal is driven only through
its `flask` commands, gunicorn and HTTP, so the bench keeps working while its insides change.

Rate limits: one load generator is one client address, which the limits meant for real
visitors would refuse (the search page records 60 searches a minute per address, feedback
takes 30 votes a minute, suggestions 600 a minute). RAISED_LIMITS lifts them for the run,
through the environment, and the bench prints that it did.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv running the bench: flask, gunicorn
SAMPLE_ARTICLES = ROOT / "articles"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_RATELIMIT_STORAGE = "redis://127.0.0.1:6379/6"
PASSWORD = "load-bench-password-7"  # noqa: S105 - the seeded users' password, this run only

_HIGH = "1000000 per minute"
RAISED_LIMITS = {
    "PORTAL_SEARCH_PAGE_LIMIT": _HIGH,
    "PORTAL_SEARCH_SUGGEST_LIMIT": _HIGH,
    "PORTAL_SEARCH_API_LIMIT": _HIGH,
    "PORTAL_SEARCH_CLICK_LIMIT": _HIGH,
    "PORTAL_SUGGESTED_LIMIT": _HIGH,
    "PORTAL_FEEDBACK_IP_LIMIT": _HIGH,
    "PORTAL_FEEDBACK_VISITOR_LIMIT": _HIGH,
    "PORTAL_LOGIN_LIMIT": _HIGH,
    "PORTAL_LOGIN_IP_LIMIT": _HIGH,
    "PORTAL_WEBHOOK_LIMIT": _HIGH,
}
# A vote sent less than FEEDBACK_MIN_SECONDS after its page was shown is taken for a bot's
# and quietly not stored; the bench's readers vote at once, and their votes should count.
BENCH_SETTINGS = {"PORTAL_FEEDBACK_MIN_SECONDS": "0"}


class BenchError(Exception):
    """A set-up step failed; the message says which and what it printed."""


# -- the machine --------------------------------------------------------------------------

def machine() -> str:
    model = "unknown CPU"
    memory = "unknown memory"
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        model = found.group(1).strip() if found else model
        kib = re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.M)
        memory = f"{int(kib.group(1)) / 1024 / 1024:.1f} GiB memory" if kib else memory
    except OSError:
        pass
    load = os.getloadavg()
    return (f"{os.cpu_count()} CPUs ({model}), {memory}; load average {load[0]:.1f} "
            f"{load[1]:.1f} {load[2]:.1f} at the start")


# -- PostgreSQL -----------------------------------------------------------------------------

class Database:
    """A database of its own for one run, dropped at the end."""

    def __init__(self, server: str = DEFAULT_POSTGRES, name: str | None = None):
        self.server = server.rstrip("/")
        self.name = name or f"load_{os.getpid()}"
        driver = self.server.replace("postgresql://", "postgresql+psycopg://", 1)
        self.url = f"{driver}/{self.name}"

    def _admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(self.server + "/postgres", autocommit=True) as connection:
            connection.execute(statement)

    def create(self) -> Database:
        self.drop()
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        return self

    def drop(self) -> None:
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(self.name)))

    def count(self, table: str) -> int:
        with psycopg.connect(self.server + "/" + self.name) as connection:
            row = connection.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        return int(row[0]) if row else 0


# -- the articles repository ---------------------------------------------------------------

def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Load Bench", "-c", "user.email=load-bench@example.com",
         "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise BenchError(f"git {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


class Articles:
    """origin.git (bare), editor/ (pushes) and site/ (the portal's PORTAL_ARTICLES_DIR)."""

    def __init__(self, folder: Path):
        self.origin = folder / "origin.git"
        self.editor = folder / "editor"
        self.site = folder / "site"

    def create(self, fill: Callable[[Path], object]) -> Articles:
        self.origin.parent.mkdir(parents=True, exist_ok=True)
        git(self.origin.parent, "init", "--quiet", "--bare", str(self.origin))
        git(self.origin.parent, "clone", "--quiet", str(self.origin), str(self.editor))
        fill(self.editor)
        git(self.editor, "add", "--all")
        git(self.editor, "commit", "--quiet", "-m", "Articles for the load bench")
        git(self.editor, "push", "--quiet", "origin", "HEAD:main")
        git(self.origin.parent, "clone", "--quiet", "--branch", "main", str(self.origin),
            str(self.site))
        return self

    def publish(self, message: str) -> str:
        git(self.editor, "add", "--all")
        git(self.editor, "commit", "--quiet", "-m", message)
        git(self.editor, "push", "--quiet", "origin", "HEAD:main")
        return git(self.editor, "rev-parse", "HEAD")


def copy_sample(target: Path) -> None:
    """The project's sample articles (articles/ in the checkout)."""
    shutil.copytree(SAMPLE_ARTICLES, target, dirs_exist_ok=True)


def generated(count: int, seed: int = 7) -> Callable[[Path], object]:
    """`count` generated help articles in 20 categories (bench/search_speed.py's corpus)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from search_speed import generate  # noqa: PLC0415 - only when asked for

    return lambda target: generate(target, count, seed)


# -- the portal -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Portal:
    """The portal's commands and gunicorn, with settings of this run only."""

    def __init__(self, folder: Path, database: Database, articles: Path,
                 ratelimit_storage: str = DEFAULT_RATELIMIT_STORAGE, workers: int = 2,
                 extra: Mapping[str, str] | None = None, threads: int = 1):
        self.folder, self.workers, self.threads = folder, workers, threads
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "gunicorn.log"
        self.process: subprocess.Popen | None = None
        for name in ("index", "outbox", "attachments", "mailin"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        settings = {
            "PORTAL_DATABASE_URL": database.url,
            "PORTAL_SECRET_KEY": secrets.token_hex(32),
            "PORTAL_ARTICLES_DIR": str(articles),
            "PORTAL_INDEX_DIR": str(folder / "index"),
            "PORTAL_MAIL_OUTBOX_DIR": str(folder / "outbox"),
            "PORTAL_ATTACHMENTS_DIR": str(folder / "attachments"),
            "PORTAL_MAILIN_DIR": str(folder / "mailin"),
            "PORTAL_RATELIMIT_STORAGE_URL": ratelimit_storage,
            **RAISED_LIMITS, **BENCH_SETTINGS, **(extra or {}),
        }
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("PORTAL_") and k != "WEB_CONCURRENCY"} | settings

    def flask(self, *args: str, timeout: float = 1800) -> str:
        done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, timeout=timeout,
                              check=False, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise BenchError(f"flask {' '.join(args[:3])} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def prepare(self, users: int) -> list[str]:
        """Migrate, index, and seed `users` customers; return their addresses."""
        self.flask("db", "upgrade", "heads")
        self.flask("kb", "index")
        addresses = [f"reader{n}@load-bench.example" for n in range(users)]
        for address in addresses:
            self.flask("users", "create", address, "--name", address.split("@")[0],
                       "--role", "customer", "--org", "Load Bench Paving",
                       "--password", PASSWORD)
        return addresses

    def start(self, timeout: float = 120.0) -> Portal:
        threads = (["--worker-class", "gthread", "--threads", str(self.threads)]
                   if self.threads > 1 else [])
        command = [str(BIN / "gunicorn"), "--workers", str(self.workers), *threads,
                   "--bind", f"127.0.0.1:{self.port}", "--chdir", str(ROOT),
                   "--timeout", "120", "--graceful-timeout", "10", "--backlog", "2048",
                   "wsgi:app"]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.base_url + "/", timeout=10).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise BenchError(f"gunicorn did not serve / within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # the arbiter stops its workers
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: arbiter + workers
            self.process.wait(timeout=10)

    def tracebacks(self) -> Counter:
        """The exceptions gunicorn's log shows a traceback for, by their last line."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return Counter()
        found: Counter = Counter()
        for i, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                last = next((t for t in lines[i + 1:] if t and not t[0].isspace()), "?")
                found[last[:160]] += 1
        return found

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def describe_limits(storage: str) -> str:
    names = ", ".join(name.removeprefix("PORTAL_") for name in RAISED_LIMITS)
    return (f"rate limits in {storage}, raised to {_HIGH!r} for this one-address load "
            f"({names}); FEEDBACK_MIN_SECONDS=0 so instant votes are stored")

"""Shared by .ci/wheel-check.py and .ci/production-smoke.py: build and install the wheel,
run the portal's commands and gunicorn from a virtualenv, and talk to it like a browser.

Everything runs on loopback; every wait and every crawl is bounded in count and time.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx
import lxml.etree
import lxml.html

CHECKOUT = Path(__file__).resolve().parent.parent
APP = "portal:create_app"
WSGI_APP = "portal:create_app()"


class CheckFailed(Exception):
    """A step did not give the expected answer; the message says which and what came."""


_started = time.monotonic()


def step(text: str) -> None:
    print(f"== [{time.monotonic() - _started:5.0f} s] {text}", flush=True)


def ok(text: str) -> None:
    print(f"   ok: {text}", flush=True)


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# -- building and installing ----------------------------------------------------------

def source_files(checkout: Path = CHECKOUT) -> list[str]:
    """What a clean clone holds: tracked files plus new ones not ignored by .gitignore."""
    done = subprocess.run(["git", "-C", str(checkout), "ls-files", "-co", "--exclude-standard",
                           "-z"], capture_output=True, text=True, check=True, timeout=60)
    return sorted(name for name in done.stdout.split("\0")
                  if name and (checkout / name).is_file())


def build_wheel(out_dir: Path, checkout: Path = CHECKOUT) -> Path:
    """Build the wheel from a copy of the sources, so the checkout gets no build/ folder."""
    source = out_dir / "src"
    for name in source_files(checkout):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(checkout / name, target)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
         str(out_dir / "dist"), str(source)], timeout=600)
    (wheel,) = (out_dir / "dist").glob("portal-*.whl")
    return wheel


def make_venv(venv: Path, wheel: Path, extras: str = "postgres,redis") -> None:
    """A fresh virtualenv with the wheel and its extras from the package index."""
    run([sys.executable, "-m", "venv", "--clear", str(venv)], timeout=300)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", f"{wheel}[{extras}]"], timeout=900)


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without PORTAL_* or PYTHONPATH, plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PORTAL_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return env | dict(extra)


def run(command: list[str], env: Mapping[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 300) -> str:
    """Run a command; its output on success, CheckFailed with the output otherwise."""
    shown = " ".join(Path(command[0]).name if i == 0 else part
                     for i, part in enumerate(command))
    try:
        done = subprocess.run(command, env=dict(env) if env is not None else None, cwd=cwd,
                              capture_output=True, text=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(f"`{shown}` took longer than {timeout:.0f} s") from exc
    except OSError as exc:
        raise CheckFailed(f"`{shown}` could not start: {exc}") from exc
    if done.returncode != 0:
        raise CheckFailed(f"`{shown}` exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


# -- gunicorn --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn serving the portal from a virtualenv on a free loopback port."""

    def __init__(self, venv: Path, workdir: Path, env: Mapping[str, str], log: Path,
                 workers: int = 2):
        self.venv, self.workdir, self.env, self.log = venv, workdir, dict(env), log
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_start = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> Gunicorn:
        gunicorn = str(self.venv / "bin" / "gunicorn")
        command = [gunicorn, "--workers", str(self.workers),
                   "--bind", f"127.0.0.1:{self.port}", "--chdir", str(self.workdir),
                   "--timeout", "60", "--graceful-timeout", "10", WSGI_APP]
        if "--no-control-socket" in run([gunicorn, "--help"], env=self.env):
            # gunicorn 25+ opens ~/.gunicorn/gunicorn.ctl: one per user, not per server.
            command.insert(1, "--no-control-socket")
        self.log_start = self.log.stat().st_size if self.log.exists() else 0
        try:
            with self.log.open("a") as log:
                self.process = subprocess.Popen(
                    command, cwd=self.workdir, env=self.env, stdout=log,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise CheckFailed(f"gunicorn could not start: {exc}") from exc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CheckFailed(f"gunicorn exited {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.base_url + "/login", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise CheckFailed(f"gunicorn did not answer /login within {timeout:.0f} s:\n"
                          f"{self.log_tail()}")

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
        """The exceptions this run of gunicorn logged with a traceback (errors that the app
        handled still log one), counted by their last line."""
        with self.log.open("rb") as log:
            log.seek(self.log_start)
            lines = log.read().decode(errors="replace").splitlines()
        found: Counter = Counter()
        for i, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                last = next((t for t in lines[i + 1:] if t and not t[0].isspace()), "?")
                found[last[:160]] += 1
        return found

    def report_tracebacks(self, when: str) -> None:
        found = self.tracebacks()
        print(f"   gunicorn logged {sum(found.values())} traceback(s) {when}", flush=True)
        for line, count in found.most_common(5):
            print(f"     {count}× {line}", flush=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


# -- a browser ---------------------------------------------------------------------------

@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]]
    html: str

    def value(self, name: str) -> str | None:
        return next((v for k, v in self.fields if k == name), None)


class Browser:
    """Keeps cookies; redirects are followed only when asked, so each answer is checked."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=60)

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, path: str, expect_status: int | Iterable[int] | None = 200,
                **kwargs) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        wanted = {expect_status} if isinstance(expect_status, int) else (
            set(expect_status) if expect_status is not None else None)
        if wanted is not None and response.status_code not in wanted:
            raise CheckFailed(f"{method} {path}: expected {sorted(wanted)}, got "
                              f"{response.status_code}\n{_excerpt(response)}")
        return response

    def get(self, path: str, expect_status: int | Iterable[int] | None = 200,
            **kwargs) -> httpx.Response:
        return self.request("GET", path, expect_status, **kwargs)

    def post(self, path: str, expect_status: int | Iterable[int] | None = 303,
             **kwargs) -> httpx.Response:
        return self.request("POST", path, expect_status, **kwargs)

    def follow(self, response: httpx.Response, expect_status: int = 200) -> httpx.Response:
        """GET where a redirect points (same site only)."""
        location = response.headers.get("location", "")
        expect(location, f"{response.request.url}: a redirect without a Location")
        target = urljoin(str(response.request.url), location)
        expect(same_origin(target, self.base_url), f"redirect off the site: {target}")
        return self.get(path_of(target), expect_status)

    def forms(self, response: httpx.Response) -> list[Form]:
        doc = lxml.html.fromstring(response.text, base_url=str(response.request.url))
        found = []
        for form in doc.forms:
            action = path_of(urljoin(str(response.request.url), form.get("action") or ""))
            found.append(Form(action, (form.get("method") or "get").lower(),
                              list(form.form_values()),
                              lxml.html.tostring(form, encoding="unicode")))
        return found

    def form(self, response: httpx.Response, action_contains: str, marker: str = "") -> Form:
        """The first form whose action contains action_contains (and whose HTML has marker)."""
        for form in self.forms(response):
            if action_contains in form.action and marker in form.html:
                return form
        raise CheckFailed(f"{response.request.url}: no form posting to *{action_contains}* "
                          f"{'with ' + marker if marker else ''}")

    def sign_in(self, email: str, password: str) -> httpx.Response:
        """Sign in through /login; returns the landing page (after the redirect)."""
        page = self.get("/login")
        form = self.form(page, "/login")
        data = dict(form.fields) | {"email": email, "password": password}
        answer = self.post(form.action, expect_status=(302, 303), data=data)
        landing = self.follow(answer)
        expect("Signed in as" in landing.text, f"signing in as {email}: no 'Signed in as' on "
               f"{landing.request.url}")
        return landing


def _excerpt(response: httpx.Response, limit: int = 600) -> str:
    text = response.text if "text" in response.headers.get("content-type", "") else ""
    return text[:limit]


def same_origin(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def path_of(url: str) -> str:
    parts = urlsplit(urldefrag(url)[0])
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- crawling ----------------------------------------------------------------------------

SKIP_PATHS = ("/logout", "/verify/", "/reset/")  # sign-out and single-use links


@dataclass
class CrawlReport:
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[tuple[str, int]] = field(default_factory=list)
    not_found: list[tuple[str, str]] = field(default_factory=list)  # (page, linked from)
    answers: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def pages(self) -> int:
        return sum(self.statuses.values())

    def summary(self) -> str:
        counts = ", ".join(f"{status}×{n}" for status, n in sorted(self.statuses.items()))
        return (f"crawled {self.pages} pages in {self.seconds:.1f} s ({counts}); "
                f"{len(self.server_errors)} server errors")


def crawl(browser: Browser, extra: Iterable[str] = (), limit: int = 400,
          seconds: float = 240.0) -> CrawlReport:
    """Breadth-first from / over same-origin links (a, link, script, img), plus extra
    paths; at most limit pages and about seconds. Every answer is recorded."""
    report = CrawlReport()
    queue: deque[tuple[str, str]] = deque([("/", "")] + [(p, "(listed)") for p in extra])
    seen = {path for path, _ in queue}
    started = time.monotonic()
    while queue and report.pages < limit and time.monotonic() - started < seconds:
        path, source = queue.popleft()
        try:
            response = browser.client.get(path)
        except httpx.HTTPError as exc:
            raise CheckFailed(f"GET {path} (linked from {source or '/'}): {exc!r}") from exc
        status = response.status_code
        report.statuses[status] += 1
        report.answers[path] = status
        if status >= 500:
            report.server_errors.append((path, status))
        elif status == 404:
            report.not_found.append((path, source))
        links: list[str] = []
        if 300 <= status < 400 and response.headers.get("location"):
            links.append(response.headers["location"])
        elif status == 200 and "text/html" in response.headers.get("content-type", ""):
            links = _links(response.text)
        for link in links:
            target = urljoin(str(response.request.url), link.strip())
            if not same_origin(target, browser.base_url):
                continue
            target_path = path_of(target)
            if target_path not in seen and not any(s in target_path for s in SKIP_PATHS):
                seen.add(target_path)
                queue.append((target_path, path))
    report.seconds = time.monotonic() - started
    return report


def _links(html: str) -> list[str]:
    try:
        doc = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    return [link for element, attribute, link, _ in doc.iterlinks()
            if element.tag in ("a", "link", "script", "img") and attribute in ("href", "src")]


def check_crawl(report: CrawlReport, who: str) -> None:
    print(f"   {who}: {report.summary()}", flush=True)
    for path, source in report.not_found[:10]:
        print(f"   note: 404 {path} (linked from {source})", flush=True)
    expect(not report.server_errors,
           f"{who}: server errors on " + ", ".join(f"{p} ({s})" for p, s in report.server_errors))
    expect(report.pages > 1, f"{who}: crawled only {report.pages} page(s)")

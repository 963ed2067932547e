"""Sign-in throttling that stops guessing without letting a stranger lock an owner out.

An attacker is held per network and per (network, account); an account that keeps
failing is paused, ever longer, for devices and networks it has never signed in from;
its owner, on a browser or network that signed in to it before, still gets in.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener

from portal.config import PROJECT_ROOT
from portal.extensions import db

PASSWORD = "correct horse 1"
ATTACKER = "198.51.100.66"


def sign_in(client, email: str, password: str = PASSWORD, ip: str = "203.0.113.10"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def signed_in_as(client, name: str) -> bool:
    return name in client.get("/").get_data(as_text=True)


def test_an_attackers_failures_do_not_lock_the_owner_out_of_their_own_device(app, make_user):
    victim = make_user(name="Vic Victim")
    phone = app.test_client()
    assert sign_in(phone, victim.email, ip="203.0.113.10").status_code == 302
    phone.post("/logout")

    attacker = app.test_client()
    codes = [sign_in(attacker, victim.email, f"guess number {n}", ip=ATTACKER).status_code
             for n in range(50)]
    assert codes[0] == 200 and codes[-1] == 429  # the attacker is slowed down, then stopped

    # The owner's phone, now on a hotel network it never used, still signs in.
    response = sign_in(phone, victim.email, ip="192.0.2.44")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert signed_in_as(phone, "Vic Victim")

    # A browser that never signed in to this account is paused, even with the password.
    stranger = app.test_client()
    paused = sign_in(stranger, victim.email, ip="192.0.2.45")
    assert paused.status_code == 429
    assert "paused" in paused.get_data(as_text=True)
    assert int(paused.headers["Retry-After"]) > 0
    assert not signed_in_as(stranger, "Vic Victim")


def test_the_owner_gets_in_from_a_network_that_signed_in_before(app, make_user):
    victim = make_user(name="Olga Office")
    office_ip = "203.0.113.77"
    assert sign_in(app.test_client(), victim.email, ip=office_ip).status_code == 302

    for n in range(50):  # a botnet: every guess from another address
        sign_in(app.test_client(), victim.email, f"guess number {n}", ip=f"198.51.100.{n + 1}")

    new_browser_at_the_office = app.test_client()  # cookies cleared, same network
    assert sign_in(new_browser_at_the_office, victim.email, ip=office_ip).status_code == 302
    assert signed_in_as(new_browser_at_the_office, "Olga Office")
    assert sign_in(app.test_client(), victim.email, ip="192.0.2.9").status_code == 429


def test_a_known_device_is_known_for_its_own_account_only(app, make_user):
    owner, other = make_user(), make_user(name="Tess Target")
    laptop = app.test_client()
    assert sign_in(laptop, owner.email, ip="203.0.113.10").status_code == 302
    laptop.post("/logout")
    for n in range(10):
        sign_in(app.test_client(), other.email, f"guess number {n}", ip=f"198.51.100.{n + 1}")
    # The laptop knows `owner`, not `other`: its attempts on `other` are paused too.
    assert sign_in(laptop, other.email, ip="192.0.2.10").status_code == 429
    assert not signed_in_as(laptop, "Tess Target")


def test_a_forged_device_cookie_is_ignored(app, make_user):
    victim = make_user()
    for n in range(10):
        sign_in(app.test_client(), victim.email, f"guess number {n}", ip=f"198.51.100.{n + 1}")
    forger = app.test_client()
    forger.set_cookie("portal_device", "eyJkIjoiYSIsInUiOlsxXX0.forged.signature",
                      path="/login")
    assert sign_in(forger, victim.email, ip="192.0.2.11").status_code == 429


def test_an_attacker_is_throttled_per_network_and_per_network_and_account(make_app, make_user):
    app = make_app(LOGIN_LIMIT="3 per minute", LOGIN_IP_LIMIT="5 per minute",
                   LOGIN_ACCOUNT_FREE_FAILURES=100)
    first, second = make_user(), make_user(name="Sam Second")
    attacker = app.test_client()
    on_first = [sign_in(attacker, first.email, "wrong guess", ip=ATTACKER).status_code
                for _ in range(4)]
    assert on_first == [200, 200, 200, 429]  # per (network, account)
    on_second = [sign_in(attacker, second.email, "wrong guess", ip=ATTACKER).status_code
                 for _ in range(3)]
    assert on_second == [200, 200, 429]  # per network: 5 failures in all
    # Neither account is blocked for anyone else.
    assert sign_in(app.test_client(), first.email, ip="192.0.2.20").status_code == 302
    assert sign_in(app.test_client(), second.email, ip="192.0.2.21").status_code == 302


def test_successful_sign_ins_do_not_use_up_the_networks_allowance(make_app, make_user):
    app = make_app(LOGIN_IP_LIMIT="3 per minute")
    office = "203.0.113.50"
    for _ in range(6):  # colleagues behind one office address
        assert sign_in(app.test_client(), make_user().email, ip=office).status_code == 302


def test_an_ipv6_attacker_cannot_escape_the_network_limit_by_changing_address(
        make_app, make_user):
    app = make_app(LOGIN_IP_LIMIT="5 per minute", LOGIN_ACCOUNT_FREE_FAILURES=100)
    users = [make_user() for _ in range(6)]
    codes = [sign_in(app.test_client(), user.email, "wrong guess",
                     ip=f"2001:db8:1:2::{n + 1:x}").status_code
             for n, user in enumerate(users)]
    assert codes == [200, 200, 200, 200, 200, 429]  # one /64 is one network


def test_failures_are_counted_once_across_workers(make_app, make_user):
    """Two apps on one database stand in for two gunicorn workers: the account's
    allowance is not doubled."""
    first = make_app(LOGIN_ACCOUNT_FREE_FAILURES=5)
    second = make_app(LOGIN_ACCOUNT_FREE_FAILURES=5,
                      SQLALCHEMY_DATABASE_URI=first.config["SQLALCHEMY_DATABASE_URI"])
    victim = make_user()
    workers = [first.test_client(), second.test_client()]
    for n in range(6):  # 5 free failures, and the one that pauses the account
        response = sign_in(workers[n % 2], victim.email, "wrong guess", ip=f"198.51.100.{n + 1}")
        assert response.status_code == 200
    for n, worker in enumerate(workers):
        response = sign_in(worker, victim.email, ip=f"192.0.2.{n + 30}")
        assert response.status_code == 429, f"worker {n} let a new device try"


def test_the_pause_grows_with_each_failure_and_is_forgotten_after_a_quiet_day(make_app):
    app = make_app(LOGIN_ACCOUNT_FREE_FAILURES=2, LOGIN_ACCOUNT_DELAY_SECONDS=30,
                   LOGIN_ACCOUNT_MAX_DELAY_SECONDS=100)
    from portal.accounts import throttle

    start = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
    with app.app_context():
        key = throttle.account_key("someone@example.com")

        def attempt(at: datetime) -> float:
            wait = throttle.reserve(key, at)
            db.session.commit()
            return wait

        assert attempt(start) == 0 and attempt(start) == 0  # the free failures
        now, pauses = start, []
        for _ in range(4):
            assert attempt(now) == 0  # allowed, and pauses the account
            pauses.append(attempt(now))  # the next try must wait this long
            now += timedelta(seconds=pauses[-1])
        assert pauses == [30, 60, 100, 100]
        assert attempt(now - timedelta(seconds=1)) == 1
        # A day without failures: the count starts again.
        later = now + timedelta(days=1, seconds=1)
        assert attempt(later) == 0 and attempt(later) == 0 and attempt(later) == 0
        assert attempt(later) == 30


def test_parallel_guesses_cannot_slip_past_the_count(make_app):
    from portal.accounts import throttle

    app = make_app(LOGIN_ACCOUNT_FREE_FAILURES=5)
    start = threading.Barrier(12)
    waits: list[float] = []

    def guess() -> None:
        with app.app_context():
            key = throttle.account_key("target@example.com")
            start.wait(timeout=30)
            waits.append(throttle.reserve(key))
            db.session.commit()

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(waits) == 12
    assert waits.count(0) == 6  # the 5 free attempts and the one that pauses the account


def test_a_successful_sign_in_starts_the_count_again(make_app, make_user):
    app = make_app(LOGIN_ACCOUNT_FREE_FAILURES=3)
    user = make_user()
    client = app.test_client()
    for _ in range(3):
        assert sign_in(client, user.email, "wrong guess", ip="192.0.2.60").status_code == 200
    assert sign_in(client, user.email, ip="192.0.2.60").status_code == 302
    client.post("/logout")
    elsewhere = app.test_client()
    for _ in range(3):
        assert sign_in(elsewhere, user.email, "wrong guess", ip="192.0.2.61").status_code == 200


def test_the_known_device_cookie_is_httponly_and_only_sent_to_the_sign_in_page(
        app, make_user):
    user = make_user()
    response = sign_in(app.test_client(), user.email)
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith("portal_device="))
    assert "HttpOnly" in cookie and "Path=/login" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=" in cookie


# -- real workers: gunicorn with two processes on memory:// limits ------------------------


class Gunicorn:
    """gunicorn serving wsgi:app in a child process, its log read line by line."""

    def __init__(self, tmp_path, *args: str, storage: str, database_url: str = "") -> None:
        from gunicorn.config import KNOWN_SETTINGS

        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")
               and k not in {"WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"}}
        env |= {"PORTAL_SECRET_KEY": "gunicorn-test-key",
                "PORTAL_DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'portal.db'}",
                "PORTAL_INDEX_DIR": str(tmp_path / "index"),
                "PORTAL_RATELIMIT_STORAGE_URL": storage}
        if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
            args = ("--no-control-socket", *args)  # gunicorn 24+: no socket in ~/.gunicorn
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", *args, "wsgi:app"],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    @property
    def log(self) -> str:
        return "".join(self.seen)

    def read_until(self, text: str) -> str:
        """The log up to the first line containing `text` (or all of it, if it never comes
        within a minute: the caller's assertions then show what gunicorn said)."""
        while not any(text in line for line in self.seen):
            try:
                line = self.lines.get(timeout=60)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
        return self.log

    def url(self) -> str:
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)",
                          self.read_until("Listening at"))
        assert found, self.log
        return found.group(1)

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a loaded machine: do not wait for a graceful exit
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.reader.join(timeout=30)
        self.proc.stderr.close()


def _status(opener, url: str, data: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        with opener.open(url, data=urlencode(data).encode() if data else None,
                         timeout=60) as response:
            return response.status, response.read().decode()
    except HTTPError as error:
        with error:
            return error.code, ""


def test_two_gunicorn_workers_do_not_double_an_accounts_allowance(make_app, make_user,
                                                                   tmp_path):
    """The review's case: 30 bad sign-ins at one account with two workers and no Redis."""
    app = make_app()
    victim = make_user()
    with Gunicorn(tmp_path, "--workers", "2", storage="memory://",
                  database_url=app.config["SQLALCHEMY_DATABASE_URI"]) as server:
        url = server.url()
        browser = build_opener(HTTPCookieProcessor())
        status, page = _status(browser, url + "/login")
        assert status == 200, server.log
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        codes = [_status(browser, url + "/login", {"csrf_token": token, "email": victim.email,
                                                   "password": f"guess number {n}"})[0]
                 for n in range(30)]
    # Five free attempts and the one that pauses the account had their password checked;
    # every other was refused, whichever worker took it.
    assert codes.count(200) == 6 and codes.count(429) == 24, codes


# -- shared storage: a warning when several workers would each count alone ---------------


def test_several_workers_on_process_memory_limits_log_a_warning(tmp_path):
    # Each worker builds the app after it boots, and warns then.
    with Gunicorn(tmp_path, "--workers", "2", storage="memory://") as server:
        log = server.read_until("PORTAL_RATELIMIT_STORAGE_URL")
    assert "WARNING" in log and "2 worker processes" in log, log
    # --preload builds it once in the master, before gunicorn says "Listening at".
    with Gunicorn(tmp_path, "--workers", "3", "--preload", storage="memory://") as server:
        log = server.read_until("Listening at")
    assert "3 worker processes" in log.split("Listening at")[0], log


def test_shared_storage_or_a_single_worker_logs_no_warning(tmp_path):
    # --preload builds the app before gunicorn says "Listening at": all start-up logs are in.
    # (No Redis server is needed: nothing connects to it at start.)
    with Gunicorn(tmp_path, "--workers", "2", "--preload",
                  storage="redis://127.0.0.1:1/0") as server:
        shared = server.read_until("Listening at")
    with Gunicorn(tmp_path, "--workers", "1", "--preload", storage="memory://") as server:
        single = server.read_until("Listening at")
    for log in (shared, single):
        assert "Listening at" in log and "PORTAL_RATELIMIT_STORAGE_URL" not in log, log

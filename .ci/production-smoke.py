"""CI: a production smoke test. gunicorn with 2 workers on PostgreSQL with Redis rate limits,
on loopback, driven like a browser: every answer must be the expected one.

Steps: create a private database (smoke_<pid>), migrate, index the sample articles, seed an
admin, an agent and an organisation with a customer through the CLI; then crawl (as a
visitor and as the admin: no 5xx), search, vote on an article, register and confirm an
account from the mailed link, file a ticket with an attachment as the customer, reply as
the agent. Then restart with Redis pointed at a closed port and check that pages, signing
in and searching still work. The database is dropped at the end; the Redis database given
is emptied before and after (it must be one the smoke may use alone).

    .venv/bin/python .ci/production-smoke.py [--venv DIR]

--venv: the virtualenv to run from (.ci/run passes the one .ci/wheel-check.py installed the
wheel into); default: the checkout's .venv. Settings: PORTAL_SMOKE_POSTGRES_URL (a database
to connect to for CREATE/DROP DATABASE, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), PORTAL_SMOKE_REDIS_URL (default
redis://127.0.0.1:6379/5).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from smoke_common import (
    APP,
    CHECKOUT,
    Browser,
    CheckFailed,
    Gunicorn,
    check_crawl,
    clean_environment,
    crawl,
    expect,
    ok,
    path_of,
    run,
    step,
)

POSTGRES_URL = os.environ.get("PORTAL_SMOKE_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("PORTAL_SMOKE_REDIS_URL", "redis://127.0.0.1:6379/5")
REDIS_DOWN_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
LISTED = ("/login", "/register", "/forgot", "/search?q=password", "/status", "/contact",
          "/training/")
FEEDBACK_WAIT = 2.2  # a vote sooner than PORTAL_FEEDBACK_MIN_SECONDS (2 s) counts as a bot's
ATTACHMENT = ("smoke-export.log", b"2024-05-01 export started\n2024-05-01 totals: 41 rows\n")


def database_url(name: str) -> str:
    parts = urlsplit(POSTGRES_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def admin_sql(statement: str) -> None:
    with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
        conn.execute(statement)


class Smoke:
    def __init__(self, tmp: Path, venv: Path):
        self.tmp, self.venv = tmp, venv
        self.run_id = f"{os.getpid()}-{secrets.token_hex(3)}"
        self.database = f"smoke_{os.getpid()}"
        self.password = secrets.token_urlsafe(16)
        self.people = {role: f"{role}-{self.run_id}@example.com"
                       for role in ("admin", "agent", "customer", "reader")}
        self.work = tmp / "work"
        self.work.mkdir()
        self.outbox = tmp / "outbox"
        self.env = clean_environment({
            "PORTAL_DATABASE_URL": database_url(self.database),
            "PORTAL_SECRET_KEY": secrets.token_hex(32),
            "PORTAL_RATELIMIT_STORAGE_URL": REDIS_URL,
            "PORTAL_ARTICLES_DIR": str(CHECKOUT / "articles"),
            "PORTAL_INDEX_DIR": str(tmp / "index"),
            "PORTAL_MAIL_OUTBOX_DIR": str(self.outbox),
            "PORTAL_ATTACHMENTS_DIR": str(tmp / "attachments"),
        })
        self.server: Gunicorn | None = None

    # -- set-up -------------------------------------------------------------------------
    def flask(self, *args: str) -> str:
        return run([str(self.venv / "bin" / "flask"), "--app", APP, *args], env=self.env,
                   cwd=self.work).strip()

    def set_up(self) -> None:
        step(f"private PostgreSQL database {self.database}, Redis {REDIS_URL} emptied")
        admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        admin_sql(f'CREATE DATABASE "{self.database}"')
        redis.Redis.from_url(REDIS_URL).flushdb()
        self.flask("db", "upgrade")
        ok(f"migrated; {self.flask('kb', 'index')}")

        step("seed with the CLI: an admin, an agent, an organisation with a customer")
        org = f"Smoke Paving {self.run_id}"
        self.flask("orgs", "create", org)
        for role, name in (("admin", "Ada Admin"), ("agent", "Alan Agent")):
            self.flask("users", "create", self.people[role], "--name", name, "--role", role,
                       "--password", self.password)
        self.flask("users", "create", self.people["customer"], "--name", "Pat Customer",
                   "--role", "customer", "--org", org, "--password", self.password)
        listed = self.flask("users", "list")
        for role in ("admin", "agent", "customer"):
            expect(self.people[role] in listed, f"{self.people[role]} not in `users list`")
        ok(f"admin, agent and customer (in {org!r}) created")

    def start(self, ratelimit_url: str) -> Gunicorn:
        env = self.env | {"PORTAL_RATELIMIT_STORAGE_URL": ratelimit_url}
        self.server = Gunicorn(self.venv, self.work, env, self.tmp / "gunicorn.log").start()
        return self.server

    def browser(self) -> Browser:
        assert self.server is not None
        return Browser(self.server.base_url)

    # -- the steps ----------------------------------------------------------------------
    def crawl_site(self) -> None:
        step("crawl as a visitor and as the admin: no 5xx")
        visitor = self.browser()
        report = crawl(visitor, extra=LISTED, limit=300)
        check_crawl(report, "visitor")
        admin = self.browser()
        admin.sign_in(self.people["admin"], self.password)
        check_crawl(crawl(admin, extra=("/admin/", "/tickets/queue"), limit=200), "admin")

    def search(self, browser: Browser, query: str = "password") -> str:
        page = browser.get(f"/search?q={query}")
        first = re.search(r'<li class="article-item search-result">\s*<a href="([^"]+)"',
                          page.text)
        expect(first, f"search for {query!r}: no results on the page")
        return first.group(1)

    def search_and_vote(self) -> None:
        step("search, then vote on the first result (Was this article helpful? Yes)")
        visitor = self.browser()
        article = self.search(visitor)
        ok(f"search 'password' -> first result {article}")
        page = visitor.get(article)
        vote = visitor.form(page, "/feedback/articles/", 'name="helpful" value="yes"')
        time.sleep(FEEDBACK_WAIT)
        answer = visitor.post(vote.action, data=dict(vote.fields))
        expect(path_of(answer.headers["location"]).startswith(article),
               f"the vote answered with {answer.headers['location']}, not the article")
        after = visitor.follow(answer)
        expect("You answered Yes" in after.text, "the article does not show the Yes vote")
        ok(f"vote stored: {article} says 'You answered Yes'")

    def register(self) -> None:
        step("register a new account, open the mailed /verify/ link, sign in")
        address = self.people["reader"]
        browser = self.browser()
        form = browser.form(browser.get("/register"), "/register")
        page = browser.post(form.action, expect_status=200, data=dict(form.fields) | {
            "name": "Robin Reader", "email": address, "password": self.password,
            "confirm": self.password})
        expect("Check your email" in page.text, "registering did not say 'Check your email'")
        link = self.verify_link(address)
        ok(f"confirmation mail found with {link[:24]}…")
        confirmed = browser.follow(browser.get(link, expect_status=(302, 303)))
        expect("Your email address is confirmed" in confirmed.text,
               "the /verify/ link did not confirm the address")
        fresh = self.browser()
        fresh.sign_in(address, self.password)
        ok(f"{address} confirmed and signed in")

    def verify_link(self, address: str, wait: float = 15.0) -> str:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            for path in sorted(self.outbox.glob("**/*.eml")):
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if address not in str(message.get("To", "")):
                    continue
                body = message.get_body(preferencelist=("plain", "html"))
                found = re.search(r"\S*/verify/[A-Za-z0-9_.\-]+", body.get_content() if body
                                  else "")
                expect(found, f"the mail to {address} has no /verify/ link")
                return path_of(found.group(0))
            time.sleep(0.3)
        raise CheckFailed(f"no confirmation mail to {address} in {self.outbox} after {wait} s")

    def file_ticket(self) -> str:
        step("file a ticket with an attachment as the customer (after a search)")
        customer = self.browser()
        customer.sign_in(self.people["customer"], self.password)
        gate = customer.get("/tickets/new", expect_status=303)
        expect("/search" in gate.headers["location"], "the ticket form opened before a search")
        self.search(customer, "export")
        form = customer.form(customer.get("/tickets/new"), "/tickets/new")
        subject = f"Export totals are wrong ({self.run_id})"
        data = dict(form.fields) | {
            "subject": subject, "severity": "3",
            "description": "The **field report** export shows 40 rows; the screen shows 41."}
        answer = customer.post(form.action, data=data, files={
            "attachments": (ATTACHMENT[0], ATTACHMENT[1], "text/plain")})
        ticket = path_of(answer.headers["location"])
        expect(re.fullmatch(r"/tickets/\d+", ticket), f"filing answered with {ticket}")
        page = customer.get(ticket)
        expect(subject in page.text, "the ticket page does not show the subject")
        expect(ATTACHMENT[0] in page.text, "the ticket page does not show the attachment name")
        files = re.findall(rf'href="({re.escape(ticket)}/files/\d+)"', page.text)
        expect(files, "no link to the attachment")
        download = customer.get(files[0])
        expect(download.content == ATTACHMENT[1], "the attachment downloads different bytes")
        ok(f"{ticket} filed; shows {ATTACHMENT[0]}, which downloads intact")
        self.customer = customer
        return ticket

    def agent_reply(self, ticket: str) -> None:
        step("reply as the agent; the customer sees the reply")
        agent = self.browser()
        agent.sign_in(self.people["agent"], self.password)
        page = agent.get(ticket)
        form = agent.form(page, f"{ticket}/reply")
        text = f"Thanks, we can reproduce the export total ({self.run_id})."
        data = dict(form.fields) | {"body": text, "visibility": "public"}
        answer = agent.post(form.action, data=data,
                            files={"attachments": ("", b"", "application/octet-stream")})
        expect(path_of(answer.headers["location"]).startswith(ticket),
               f"the reply answered with {answer.headers['location']}")
        expect(text in agent.follow(answer).text, "the agent's reply is not on the ticket")
        expect(text in self.customer.get(ticket).text, "the customer does not see the reply")
        ok("reply shown to the agent and to the customer")
        keys = redis.Redis.from_url(REDIS_URL).dbsize()
        expect(keys > 0, f"no rate-limit counters in {REDIS_URL}: the limits are not in Redis")
        ok(f"{keys} rate-limit counters in {REDIS_URL}")
        assert self.server is not None
        self.server.report_tracebacks("with Redis")

    def without_redis(self) -> None:
        step(f"restart with Redis at a closed port ({REDIS_DOWN_URL}): the site keeps working")
        assert self.server is not None
        self.server.stop()
        server = self.start(REDIS_DOWN_URL)
        ok(f"restarted on {server.base_url}")
        visitor = self.browser()
        article = self.search(visitor)
        for path in ("/", "/login", "/status", "/contact", article):
            visitor.get(path)
        ok("/, /login, /status, /contact and an article answer 200; search has results")
        customer = self.browser()
        customer.sign_in(self.people["customer"], self.password)
        self.search(customer, "export")
        customer.get("/tickets/")
        ok("the customer signs in, searches and opens their tickets")
        check_crawl(crawl(visitor, limit=80), "visitor crawl without Redis")
        server.report_tracebacks("without Redis")

    def tear_down(self) -> None:
        if self.server is not None:
            self.server.stop()
        try:
            admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            redis.Redis.from_url(REDIS_URL).flushdb()
        except (psycopg.Error, redis.RedisError) as exc:
            print(f"warning: clean-up: {exc}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=CHECKOUT / ".venv",
                        help="virtualenv with the portal installed (default: .venv)")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="portal-smoke-") as name:
        smoke = Smoke(Path(name).resolve(), args.venv.resolve())
        try:
            smoke.set_up()
            server = smoke.start(REDIS_URL)
            ok(f"gunicorn with 2 workers on {server.base_url}, rate limits in {REDIS_URL}")
            smoke.crawl_site()
            smoke.search_and_vote()
            smoke.register()
            smoke.agent_reply(smoke.file_ticket())
            smoke.without_redis()
        except CheckFailed as failure:
            print(f"PRODUCTION SMOKE FAILED: {failure}", file=sys.stderr, flush=True)
            if smoke.server is not None:
                print(f"-- gunicorn log (last lines):\n{smoke.server.log_tail(60)}",
                      file=sys.stderr)
            return 1
        finally:
            smoke.tear_down()
    print(f"production smoke passed in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

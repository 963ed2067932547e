"""CI: the installed wheel works outside the checkout.

Builds the wheel, installs it with its [postgres,redis] extras into a fresh virtualenv
outside the checkout, then from a temporary folder (not the checkout): `flask --app
portal:create_app db upgrade` on a new SQLite file, `portal kb index` (the console script)
on the checkout's sample articles, gunicorn with 2 workers on a free loopback port, and a
crawl of the site (every same-origin link from /, bounded, plus the listed pages) that
must answer no 5xx. Exits non-zero on any failure.

    .venv/bin/python .ci/wheel-check.py [--keep-venv DIR]

--keep-venv creates the virtualenv at DIR and leaves it there (.ci/run hands it to
.ci/production-smoke.py); without it everything lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from smoke_common import (
    APP,
    CHECKOUT,
    Browser,
    CheckFailed,
    Gunicorn,
    build_wheel,
    check_crawl,
    clean_environment,
    crawl,
    expect,
    make_venv,
    ok,
    run,
    step,
)

LISTED = ("/login", "/register", "/forgot", "/search?q=password", "/status", "/contact",
          "/training/")


def check(tmp: Path, venv: Path) -> None:
    started = time.monotonic()
    step("build the wheel")
    wheel = build_wheel(tmp / "build")
    ok(f"{wheel.name} ({wheel.stat().st_size // 1024} KB)")

    step(f"install it with [postgres,redis] into a fresh virtualenv at {venv}")
    make_venv(venv, wheel)
    where = run([str(venv / "bin" / "python"), "-c", "import portal; print(portal.__file__)"],
                cwd=tmp).strip()
    expect(Path(where).is_relative_to(venv) and not Path(where).is_relative_to(CHECKOUT),
           f"portal imported from {where}, not from the virtualenv")
    ok(f"portal imported from {where}")

    work = tmp / "work"
    work.mkdir()
    env = clean_environment({
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'portal.db'}",
        "PORTAL_ARTICLES_DIR": str(CHECKOUT / "articles"),
        "PORTAL_INDEX_DIR": str(tmp / "index"),
        "PORTAL_MAIL_OUTBOX_DIR": str(tmp / "outbox"),
    })
    flask = [str(venv / "bin" / "flask"), "--app", APP]

    step(f"flask --app {APP} db upgrade (fresh SQLite file)")
    run([*flask, "db", "upgrade"], env=env, cwd=work)
    head = run([*flask, "db", "current"], env=env, cwd=work).strip().splitlines()
    ok(f"database at {head[-1] if head else '?'}")

    step("portal kb index (console script) on the checkout's sample articles")
    ok(run([str(venv / "bin" / "portal"), "kb", "index"], env=env, cwd=work).strip())
    expect((work / "instance" / "secret_key").is_file(),
           "the development secret key is not under ./instance of the working folder")
    ok("instance folder is ./instance of the working folder")

    step("gunicorn 'portal:create_app()' with 2 workers on loopback, and a crawl")
    with Gunicorn(venv, work, env, tmp / "gunicorn.log") as server:
        ok(f"serving {server.base_url}")
        browser = Browser(server.base_url)
        try:
            report = crawl(browser, extra=LISTED)
        finally:
            browser.close()
        try:
            check_crawl(report, "anonymous crawl")
        except CheckFailed:
            print(server.log_tail(80), file=sys.stderr)
            raise
        for path in LISTED:
            status = report.answers.get(path)
            expect(status is not None and status < 500, f"{path} answered {status}")
        ok("listed pages: " + ", ".join(f"{p} {report.answers[p]}" for p in LISTED))
        server.report_tracebacks("during the crawl")
    print(f"wheel check passed in {time.monotonic() - started:.0f} s: "
          f"{report.pages} pages crawled, 0 server errors", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-venv", type=Path, help="create the virtualenv here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="portal-wheel-") as name:
        tmp = Path(name).resolve()
        venv = args.keep_venv.resolve() if args.keep_venv else tmp / "venv"
        try:
            check(tmp, venv)
        except CheckFailed as failure:
            print(f"WHEEL CHECK FAILED: {failure}", file=sys.stderr, flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

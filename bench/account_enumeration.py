"""Do "Forgot your password?" and registration take alike long for an address with an
account and one without? Both branches are timed in the same run, interleaved.

Prints the median and p95 of N POSTs to /forgot for an existing and an unknown address,
and to /register for a taken and a new address, with each branch's median as a ratio of
the other's (the baseline). Mail goes to .eml files in a temporary folder, as in
development; the limits are lifted so that every request does its work. Target: each
ratio within 1.05 (a difference of well under a millisecond at these speeds, far below
the jitter of a network an attacker would have to see through).

    .venv/bin/python bench/account_enumeration.py [--requests 200]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PASSWORD = "correct horse 1"  # noqa: S105 - a test account in a throwaway database
TARGET = 1.05


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def timed(client, path: str, data: dict) -> float:
    start = time.perf_counter()
    response = client.post(path, data=data)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (path, response.status_code)
    assert b"Check your email" in response.data, path
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="POSTs per branch")
    parser.add_argument("--database-url", default="",
                        help="an empty PostgreSQL database (default: a SQLite file)")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import text

    from portal import create_app
    from portal.accounts.service import create_user
    from portal.config import PROJECT_ROOT
    from portal.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        url = args.database_url or f"sqlite:///{tmp_path / 'bench.db'}"
        config = {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                  "INSTANCE_PATH": str(tmp_path / "instance"), "INDEX_DIR": tmp_path / "index",
                  "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"), "WTF_CSRF_ENABLED": False,
                  "RATELIMIT_STORAGE_URI": "memory://",
                  "ACCOUNT_MAIL_IP_LIMIT": "1000000 per second",
                  "ACCOUNT_MAIL_ADDRESS_LIMIT": "1000000 per second"}
        app = create_app(config)
        with app.app_context():
            if args.database_url:
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE"))
                    conn.execute(text("CREATE SCHEMA public"))
            upgrade(directory=str(PROJECT_ROOT / "migrations"), revision="heads")
            create_user("owner@example.com", "Olive Owner", PASSWORD)
            db.session.commit()

        client = app.test_client()
        for n in range(5):  # warm up both branches of both pages
            timed(client, "/forgot", {"email": "owner@example.com"})
            timed(client, "/forgot", {"email": "nobody@example.com"})
            timed(client, "/register", {"name": "W", "email": f"warm{n}@example.com",
                                        "password": PASSWORD, "confirm": PASSWORD})

        rows: dict[str, list[float]] = {name: [] for name in (
            "/forgot, existing account", "/forgot, unknown address",
            "/register, taken address", "/register, new address")}
        for n in range(args.requests):  # interleaved, so drift hits both branches alike
            rows["/forgot, existing account"].append(
                timed(client, "/forgot", {"email": "owner@example.com"}))
            rows["/forgot, unknown address"].append(
                timed(client, "/forgot", {"email": "nobody@example.com"}))
            register = {"name": "Nina New", "password": PASSWORD, "confirm": PASSWORD}
            rows["/register, taken address"].append(
                timed(client, "/register", register | {"email": "owner@example.com"}))
            rows["/register, new address"].append(
                timed(client, "/register", register | {"email": f"new{n}@example.com"}))
        with app.app_context():
            db.engine.dispose()

    print(f"{args.requests} POSTs per branch, test client, "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}, mail to .eml files")
    print(f"{'branch':28} {'p50 ms':>8} {'p95 ms':>8} {'p50 / other branch':>19}")
    names = list(rows)
    worst = 1.0
    for index, name in enumerate(names):
        other = names[index ^ 1]  # the other branch of the same page is the baseline
        ratio = statistics.median(rows[name]) / statistics.median(rows[other])
        worst = max(worst, ratio, 1 / ratio)
        print(f"{name:28} {pct(rows[name], 50):8.2f} {pct(rows[name], 95):8.2f} "
              f"{ratio:18.3f}x")
    verdict = "meets" if worst <= TARGET else "MISSES"
    print(f"largest difference between branches: {worst:.3f}x: {verdict} the "
          f"{TARGET:.2f}x target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

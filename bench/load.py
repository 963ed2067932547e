"""Load bench: the portal under gunicorn (2 workers) and PostgreSQL on loopback, with a mix of
readers at 8, 32 and 128 concurrent clients, beside a static file served by the same gunicorn.

    .venv/bin/python bench/load.py [--levels 8,32,128] [--seconds 20] [--baseline-seconds 10]
                                   [--articles 0] [--workers 2] [--processes 1]

Set-up (all private to the run, removed at the end): a PostgreSQL database `load_<pid>`
migrated with `flask --app wsgi db upgrade heads`; the sample articles (or `--articles N`
generated ones) in a git clone of a bare repository, indexed with `flask --app wsgi kb index`;
a few customers seeded with `flask --app wsgi users create`; rate limits in Redis db 6
(`--ratelimit-storage memory://` to do without), raised for the run because every request
comes from one address; gunicorn with 2 sync workers on a free loopback port.

Each level runs three bounded phases, one after the other, with the same number of clients:
  mix      70% article views, 15% searches (/search), 5% suggestions (/api/suggest),
           5% category pages, 5% feedback votes (a fresh session opens an article and posts
           "Was this article helpful?" with its CSRF token); a tenth of the readers signed in
  article  article views only (the same readers)
  static   /static/css/site.css only: the baseline
Readers are closed loops without think time (a request as soon as the last one answered),
unless --think-ms gives them a mean pause between requests.

Prints requests, throughput (req/s), p50/p95/p99 and errors (any answer outside 2xx/3xx, and
connection errors) per kind, phase and level; then PASS/FAIL for the targets at 32 clients:
article views reach 40% of the static file's throughput, search p95 is at most 150 ms, and
0 errors at every level; and the machine the figures came from. Exit status 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _server  # noqa: E402 - bench/ helpers, found through the path above
import _traffic  # noqa: E402

KINDS = ["article", "search", "suggest", "category", "vote", "vote-page"]
TARGET_LEVEL = 32
ARTICLE_SHARE = 0.40
SEARCH_P95_MS = 150.0


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="8,32,128",
                        help="concurrent clients, comma separated (default 8,32,128)")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="length of the mix phase at each level (default 20)")
    parser.add_argument("--baseline-seconds", type=float, default=10.0,
                        help="length of the articles-only and static-only phases (default 10)")
    parser.add_argument("--warm-up", type=float, default=5.0,
                        help="seconds of unmeasured mix at 8 clients first (default 5)")
    parser.add_argument("--articles", type=int, default=0,
                        help="generate this many articles (default 0: the sample articles)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (default 1: sync workers; more: "
                             "gthread workers)")
    parser.add_argument("--processes", type=int, default=1,
                        help="load generator processes (default 1)")
    parser.add_argument("--users", type=int, default=3, help="customers seeded (default 3)")
    parser.add_argument("--signed-in", type=float, default=0.1,
                        help="share of readers signed in, in the mix and article phases")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="mean pause of a reader between requests (default 0: none, so "
                             "every client always has a request waiting)")
    parser.add_argument("--postgres", default=_server.DEFAULT_POSTGRES,
                        help=f"PostgreSQL server (default {_server.DEFAULT_POSTGRES})")
    parser.add_argument("--ratelimit-storage", default=_server.DEFAULT_RATELIMIT_STORAGE,
                        help=f"rate limit storage (default {_server.DEFAULT_RATELIMIT_STORAGE})")
    args = parser.parse_args(argv)
    try:
        args.levels = [int(level) for level in args.levels.split(",") if level.strip()]
    except ValueError:
        parser.error("--levels takes whole numbers separated by commas, such as 8,32,128")
    if not args.levels or min(args.levels) < 1:
        parser.error("--levels needs at least one number of clients above zero")
    if args.seconds <= 0 or args.baseline_seconds <= 0 or args.warm_up <= 0:
        parser.error("--seconds, --baseline-seconds and --warm-up must be above zero")
    if args.think_ms < 0 or not 0 <= args.signed_in <= 1 or args.users < 0:
        parser.error("--think-ms and --users cannot be negative; --signed-in is a share "
                     "from 0 to 1")
    return args


def row(level: int, phase: str, kind: str, f: _traffic.Figures) -> str:
    return (f"{level:>7}  {phase:<7}  {kind:<9} {f.requests:>8} {f.per_second:>8.1f} "
            f"{f.p50:>8.1f} {f.p95:>8.1f} {f.p99:>8.1f} {f.errors:>6}")


HEADER = (f"{'clients':>7}  {'phase':<7}  {'kind':<9} {'requests':>8} {'req/s':>8} "
          f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")


def phase(portal: _server.Portal, corpus: _traffic.Corpus, level: int, mix: dict[str, int],
          seconds: float, accounts: list[str], processes: int, seed: int,
          think: float = 0.0) -> tuple[_traffic.Outcome, float, float]:
    # Readers get ready (and sign in) before the start: a reader later than that is reported.
    start = time.time() + 1.0 + 0.01 * level + 0.2 * len(accounts)
    plan = _traffic.Plan(portal.base_url, corpus, mix, start, start + seconds, accounts,
                         _server.PASSWORD, think)
    return _traffic.run(plan, level, processes, seed), start, start + seconds


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    print(f"Machine: {_server.machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="load-bench-") as folder:
        database = _server.Database(args.postgres).create()
        portal = None
        try:
            tmp = Path(folder)
            fill = _server.generated(args.articles) if args.articles else _server.copy_sample
            articles = _server.Articles(tmp / "articles").create(fill)
            portal = _server.Portal(tmp, database, articles.site, args.ratelimit_storage,
                                    args.workers, threads=args.threads)
            started = time.perf_counter()
            accounts = portal.prepare(args.users)
            portal.start()
            corpus = _traffic.crawl(portal.base_url)
            kind = (f"gthread workers of {args.threads} threads" if args.threads > 1
                    else "sync workers")
            print(f"Server: gunicorn {args.workers} {kind} at {portal.base_url}, "
                  f"PostgreSQL database {database.name}; "
                  f"{_server.describe_limits(args.ratelimit_storage)}", flush=True)
            print(f"Corpus: {len(corpus.articles)} published articles in "
                  f"{len(corpus.categories)} categories, {len(corpus.queries)} queries; "
                  f"set up in {time.perf_counter() - started:.0f} s", flush=True)
            pauses = (f"pausing {args.think_ms:g} ms on average between requests"
                      if args.think_ms else "without think time")
            print(f"Load: closed-loop readers {pauses}, {args.processes} load "
                  f"process(es); {args.warm_up:g} s warm-up, then per level {args.seconds:g} s "
                  f"mix, {args.baseline_seconds:g} s articles only, {args.baseline_seconds:g} s "
                  "static only", flush=True)
            return measure(args, portal, database, corpus, accounts)
        except _server.BenchError as exc:
            print(f"Set-up failed: {exc}", file=sys.stderr)
            return 2
        finally:
            if portal is not None:
                portal.stop()
            database.drop()


def measure(args: argparse.Namespace, portal: _server.Portal, database: _server.Database,
            corpus: _traffic.Corpus, accounts: list[str]) -> int:
    # Warm-up, not measured: each worker opens its searcher, loads its spelling data, fills
    # its page caches (a worker's first searches with a typo take about a second).
    warm, _start, _stop = phase(portal, corpus, 8, _traffic.MIX, args.warm_up, [],
                                args.processes, 0)
    votes_answered = sum(1 for r in warm.records if r[0] == "vote" and not r[3])
    print("\n" + HEADER, flush=True)
    table: dict[tuple[int, str, str], _traffic.Figures] = {}
    errors: dict[int, dict[str, int]] = {}
    busiest_share = 0.0
    for level in args.levels:
        signed_in = [accounts[n % len(accounts)]
                     for n in range(round(level * args.signed_in))] if accounts else []
        errors[level] = {}
        phases = [("mix", _traffic.MIX, args.seconds, signed_in),
                  ("article", {"article": 1}, args.baseline_seconds, signed_in),
                  ("static", {"static": 1}, args.baseline_seconds, [])]
        for n, (name, mix, seconds, readers) in enumerate(phases):
            outcome, start, stop = phase(portal, corpus, level, mix, seconds, readers,
                                         args.processes, level * 10 + n, args.think_ms / 1000)
            records = outcome.records
            busiest_share = max(busiest_share, outcome.busiest)
            if outcome.late:
                print(f"  ({len(outcome.late)} of {level} readers began up to "
                      f"{max(outcome.late):.1f} s late: the load generator was slow to start "
                      "them)", flush=True)
            for key, count in _traffic.errors_in(records).items():
                errors[level][f"{name} {key}"] = errors[level].get(f"{name} {key}", 0) + count
            votes_answered += sum(1 for r in records if r[0] == "vote" and not r[3])
            kinds = [k for k in KINDS if k in mix or (k == "vote-page" and "vote" in mix)]
            kinds += [k for k in mix if k not in kinds]
            for kind in kinds + (["all"] if name == "mix" else []):
                f = _traffic.figures(records, start, stop, None if kind == "all" else kind)
                table[(level, name, kind)] = f
                print(row(level, name, kind, f), flush=True)
        print(flush=True)
    return verdict(args, portal, database, table, errors, busiest_share, votes_answered)


def verdict(args: argparse.Namespace, portal: _server.Portal, database: _server.Database,
            table: dict, errors: dict[int, dict[str, int]], busiest_share: float,
            votes_answered: int) -> int:
    results = []
    if TARGET_LEVEL in args.levels:
        article = table[(TARGET_LEVEL, "article", "article")]
        static = table[(TARGET_LEVEL, "static", "static")]
        share = article.per_second / static.per_second if static.per_second else 0.0
        results.append((share >= ARTICLE_SHARE,
                        f"article views {article.per_second:.1f} req/s = {share:.0%} of the "
                        f"static file's {static.per_second:.1f} req/s at {TARGET_LEVEL} clients "
                        f"(target at least {ARTICLE_SHARE:.0%})"))
        search = table[(TARGET_LEVEL, "mix", "search")]
        results.append((search.requests > 0 and search.p95 <= SEARCH_P95_MS,
                        f"search p95 {search.p95:.0f} ms in the mix at {TARGET_LEVEL} clients "
                        f"(target at most {SEARCH_P95_MS:.0f} ms)"))
    else:
        print(f"(the targets at {TARGET_LEVEL} clients are not checked: not among --levels)")
    for level in args.levels:
        found = errors[level]
        detail = "; ".join(f"{k} ×{v}" for k, v in sorted(found.items())[:6])
        results.append((not found, f"{sum(found.values())} errors at {level} clients"
                        + (f" ({detail})" if detail else "")))
    print("Targets:")
    for passed, text in results:
        print(f"  {'PASS' if passed else 'FAIL'}  {text}")
    stored = database.count("feedback_vote")
    print(f"Votes stored: {stored} rows in feedback_vote for {votes_answered} votes answered "
          "303 (every vote is a new reader's)")
    tracebacks = portal.tracebacks()
    print(f"gunicorn logged {sum(tracebacks.values())} traceback(s)"
          + "".join(f"\n    {n}× {line}" for line, n in tracebacks.most_common(5)))
    print(f"Load generator: busiest process used {busiest_share:.0%} of a CPU"
          + (" (near its limit: the server's figures are then a lower bound)"
             if busiest_share > 0.85 else ""))
    print(f"Machine: {_server.machine().split('; ')[0]}; load average now "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0 if all(passed for passed, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())

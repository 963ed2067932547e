"""Publishing under load: a push plus a webhook publishes edited articles while readers read.

    .venv/bin/python bench/publish_under_load.py [--clients 32] [--edits 20] [--before 20]
                                                 [--window 10] [--after 10] [--articles 0]

Set up as bench/load.py does (private PostgreSQL database, articles in a git clone of a bare
repository under a temporary folder, gunicorn with 2 workers on loopback, raised rate
limits), with PORTAL_WEBHOOK_SECRET set. Then `--clients` readers (article views and
searches, 70:15, no think time) read for warm-up (10 s) + before + window + after seconds. When
`before` ends, the bench edits `--edits` articles in an editor's clone (a new word in each),
commits, pushes to the bare repository and POSTs a push event to /hooks/git signed like
GitHub (X-Hub-Signature-256). Meanwhile one more reader, one request at a time, reads the
first edited article and searches its new word until both show the edit 4 times running;
at the end every edited article is read 4 times and its word searched twice.

Only HTTP, git and the `flask` commands are used, so the bench measures whatever way the
portal publishes (re-indexing, reloading the content, moving other workers along).

Prints the push, the webhook's answer and time, when an edit first showed on a page and in
search and when it showed on 4 reads running (every worker has it, most likely), p50/p95/p99
and errors before the push, during the swap window and after it, req/s and p99 every 2 s,
and PASS/FAIL for: no request fails (readers, checks and the webhook); p99 during the
window at most 2x p99 before it; every edited article shown edited on each page read and
search at the end. The swap window runs from the push for `--window` seconds, or until the
edit showed on 4 reads running if that is later, or to the end of the run if it never did
(readers stop at push + window + after either way). Exit status 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import secrets
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _server  # noqa: E402 - bench/ helpers, found through the path above
import _traffic  # noqa: E402

READING = {"article": 70, "search": 15}
STEADY_READS = 4  # the edit shown on so many reads and searches running: every worker has it
MAX_P99_RISE = 2.0


@dataclass
class Shown:
    first: float | None  # epoch seconds: the first read and search that showed the edit
    steady: float | None  # ... and the last of STEADY_READS running that all showed it


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent readers (32)")
    parser.add_argument("--edits", type=int, default=20, help="articles edited (20)")
    parser.add_argument("--warm-up", type=float, default=10.0,
                        help="seconds of reading before the measured spans (10)")
    parser.add_argument("--before", type=float, default=20.0,
                        help="seconds measured before the push (20)")
    parser.add_argument("--window", type=float, default=10.0,
                        help="the swap window: seconds from the push (10)")
    parser.add_argument("--after", type=float, default=10.0,
                        help="seconds measured after the window (10)")
    parser.add_argument("--articles", type=int, default=0,
                        help="generate this many articles (default 0: the sample articles)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (1: sync workers; more: gthread workers)")
    parser.add_argument("--processes", type=int, default=1, help="load processes (1)")
    parser.add_argument("--postgres", default=_server.DEFAULT_POSTGRES)
    parser.add_argument("--ratelimit-storage", default=_server.DEFAULT_RATELIMIT_STORAGE)
    args = parser.parse_args(argv)
    if args.clients < 1 or args.edits < 1:
        parser.error("--clients and --edits must be at least 1")
    if min(args.warm_up, args.before, args.window, args.after) <= 0:
        parser.error("--warm-up, --before, --window and --after must be above zero")
    return args


def word_for(run: int, n: int) -> str:
    """A made-up word found in no article: letters only, so every analyser keeps it whole."""
    return "quillmark" + "".join("abcdefghij"[int(d)] for d in f"{run}{n:03d}")


def edit(articles: _server.Articles, slugs: list[str], run: int) -> dict[str, str]:
    """Add a new word to the articles `slugs` in the editor's clone: slug -> word."""
    files = {path.stem.lower(): path for path in articles.editor.rglob("*.md")}
    words = {}
    for n, slug in enumerate(slugs):
        words[slug] = word_for(run, n)
        with files[slug].open("a", encoding="utf-8") as handle:
            handle.write(f"\n\nUpdated while readers were reading: {words[slug]}.\n")
    return words


def webhook(base_url: str, secret: str, commit: str) -> tuple[httpx.Response | None, float, str]:
    body = json.dumps({"ref": "refs/heads/main", "after": commit,
                       "commits": [{"id": commit}]}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    started = time.perf_counter()
    try:
        response = httpx.post(base_url + "/hooks/git", content=body, timeout=300, headers={
            "Content-Type": "application/json", "X-GitHub-Event": "push",
            "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": signature})
    except httpx.HTTPError as exc:
        return None, time.perf_counter() - started, type(exc).__name__
    return response, time.perf_counter() - started, ""


class Checker:
    """One more reader, which looks for the edits: it reads edited articles and searches
    their new words, one request at a time (so it adds one client to the load, not more),
    and its requests are recorded and must not fail either."""

    def __init__(self, base_url: str, words: dict[str, str]):
        self.client = httpx.Client(base_url=base_url, timeout=_traffic.TIMEOUT)
        self.words = words
        self.records: list[_traffic.Record] = []

    def get(self, kind: str, url: str, **params: str) -> httpx.Response | None:
        started, clock = time.time(), time.perf_counter()
        try:
            response = self.client.get(url, params=params)
        except httpx.HTTPError as exc:
            self.records.append((kind, started, 1000 * (time.perf_counter() - clock),
                                 type(exc).__name__))
            return None
        error = "" if 200 <= response.status_code < 400 else str(response.status_code)
        self.records.append((kind, started, 1000 * (time.perf_counter() - clock), error))
        return response

    def page_shows(self, slug: str) -> bool:
        page = self.get("check-page", f"/articles/{slug}")
        return page is not None and self.words[slug] in page.text

    def search_finds(self, slug: str) -> bool:
        answer = self.get("check-search", "/api/search", q=self.words[slug])
        if answer is None or answer.status_code != 200:
            return False
        return slug in [found.get("slug") for found in answer.json().get("results", [])]

    def wait_until_shown(self, deadline: float, in_a_row: int = STEADY_READS) -> Shown:
        """Follow the first edited article until its page and a search of its new word show
        the edit `in_a_row` times running: each read goes to whichever worker accepts it, so
        by then every worker most likely serves the new commit (one commit carries every
        edit). Times are the answers' arrival: upper bounds, as the checks queue with the
        readers' requests."""
        slug = next(iter(self.words))
        first = None
        streak = 0
        while time.time() < deadline:
            if self.page_shows(slug) and self.search_finds(slug):
                first = first or time.time()
                streak += 1
                if streak >= in_a_row:
                    return Shown(first, time.time())
            else:
                streak = 0
                time.sleep(0.1)
        return Shown(first, None)

    def still_shown(self, reads: int = 4) -> list[str]:
        """The edited articles that some read or search did not show edited."""
        missing = []
        for slug in self.words:
            if not all(self.page_shows(slug) for _ in range(reads)) or not all(
                    self.search_finds(slug) for _ in range(reads // 2)):
                missing.append(slug)
        return missing


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    print(f"Machine: {_server.machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="publish-bench-") as folder:
        database = _server.Database(args.postgres).create()
        portal = None
        try:
            tmp = Path(folder)
            fill = _server.generated(args.articles) if args.articles else _server.copy_sample
            articles = _server.Articles(tmp / "articles").create(fill)
            secret = secrets.token_hex(16)
            portal = _server.Portal(tmp, database, articles.site, args.ratelimit_storage,
                                    args.workers, {"PORTAL_WEBHOOK_SECRET": secret},
                                    threads=args.threads)
            portal.prepare(users=0)
            portal.start()
            corpus = _traffic.crawl(portal.base_url)
            kind = (f"gthread workers of {args.threads} threads" if args.threads > 1
                    else "sync workers")
            print(f"Server: gunicorn {args.workers} {kind} at {portal.base_url}, "
                  f"PostgreSQL database {database.name}, articles cloned from "
                  f"{articles.origin}; {_server.describe_limits(args.ratelimit_storage)}",
                  flush=True)
            return publish_under_load(args, portal, articles, corpus, secret)
        except _server.BenchError as exc:
            print(f"Set-up failed: {exc}", file=sys.stderr)
            return 2
        finally:
            if portal is not None:
                portal.stop()
            database.drop()


def publish_under_load(args: argparse.Namespace, portal: _server.Portal,
                       articles: _server.Articles, corpus: _traffic.Corpus,
                       secret: str) -> int:
    files = {path.stem.lower() for path in articles.editor.rglob("*.md")}
    editable = [slug for slug, _title in corpus.articles if slug in files]
    slugs = editable[:args.edits]
    if len(slugs) < args.edits:
        print(f"(only {len(slugs)} published articles to edit, not {args.edits})")
    start = time.time() + 2.0
    measured = start + args.warm_up
    push_at = measured + args.before
    window_end = push_at + args.window
    stop = window_end + args.after
    print(f"Corpus: {len(corpus.articles)} published articles; {args.clients} readers "
          f"({', '.join(f'{v}:{k}' for k, v in READING.items())}), {args.warm_up:g} s warm-up, "
          f"{args.before:g} s before the push, {args.window:g} s window, {args.after:g} s "
          f"after; {len(slugs)} articles edited", flush=True)
    plan = _traffic.Plan(portal.base_url, corpus, READING, start, stop)
    result: list[_traffic.Outcome] = []
    readers = threading.Thread(
        target=lambda: result.append(_traffic.run(plan, args.clients, args.processes)))
    readers.start()

    time.sleep(max(0.0, push_at - time.time()))
    pushed = time.time()
    words = edit(articles, slugs, run=int(pushed) % 100000)
    commit = articles.publish(f"Edit {len(slugs)} articles under load")
    push_seconds = time.time() - pushed
    answer, hook_seconds, hook_error = webhook(portal.base_url, secret, commit)
    checker = Checker(portal.base_url, words)
    shown = checker.wait_until_shown(deadline=stop)
    readers.join()
    missing = checker.still_shown()
    outcome = result[0]

    print(f"\nPush: {len(slugs)} edited articles, commit {commit[:10]}, "
          f"pushed in {push_seconds:.2f} s")
    if answer is None:
        print(f"Webhook: no answer ({hook_error}) after {hook_seconds:.2f} s")
    else:
        print(f"Webhook: {answer.status_code} in {hook_seconds:.2f} s: "
              f"{answer.text.strip()[:400]}")
    if shown.steady is not None:
        print(f"Edit shown (page and search): first {shown.first - pushed:.2f} s after the "
              f"push began, on {STEADY_READS} reads running by {shown.steady - pushed:.2f} s")
    elif shown.first is not None:
        print(f"Edit shown first {shown.first - pushed:.2f} s after the push began, but not "
              f"on {STEADY_READS} reads running before the readers stopped: the swap window "
              "runs to the end (a longer --after gives it room)")
    else:
        print("Edit shown: not before the readers stopped: the swap window runs to the end "
              "(a longer --after gives it room)")
    # The swap window: --window seconds from the push, or until the edit showed steadily.
    window_end = max(window_end, shown.steady or stop)
    return verdict(args, portal, outcome, checker, answer, shown, missing,
                   (measured, push_at, min(window_end, stop), stop))


def timeline(records: list[_traffic.Record], measured: float, push_at: float, stop: float,
             step: float = 2.0) -> str:
    """p99 and req/s of every `step` seconds, the push at 0."""
    lines = [f"Every {step:g} s (seconds from the push: req/s, p99 ms):"]
    at = push_at - step * int((push_at - measured) // step)
    cells = []
    while at + step <= stop + 1e-9:
        f = _traffic.figures(records, at, at + step)
        cells.append(f"{at - push_at:+4.0f}: {f.per_second:5.1f} {f.p99:6.0f}")
        at += step
    for n in range(0, len(cells), 5):
        lines.append("  " + " | ".join(cells[n:n + 5]))
    return "\n".join(lines)


def verdict(args, portal, outcome, checker, answer, shown, missing, times) -> int:
    measured, push_at, window_end, stop = times
    spans = [("before", measured, push_at), ("window", push_at, window_end)]
    if stop - window_end >= 1.0:
        spans.append(("after", window_end, stop))
    print(f"\n{'span':<7} {'kind':<8} {'requests':>8} {'req/s':>8} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
    figures = {}
    for name, start, end in spans:
        for kind in [*READING, None]:
            f = _traffic.figures(outcome.records, start, end, kind)
            figures[(name, kind)] = f
            print(f"{name:<7} {kind or 'all':<8} {f.requests:>8} {f.per_second:>8.1f} "
                  f"{f.p50:>8.1f} {f.p95:>8.1f} {f.p99:>8.1f} {f.errors:>6}")
    if outcome.late:
        print(f"({len(outcome.late)} readers began up to {max(outcome.late):.1f} s late)")
    print(timeline(outcome.records, measured, push_at, stop))
    errors = _traffic.errors_in(outcome.records + checker.records)
    hook_ok = (answer is not None and answer.status_code == 200
               and answer.headers.get("content-type", "").startswith("application/json")
               and answer.json().get("ok") is True)
    before, during = figures[("before", None)].p99, figures[("window", None)].p99
    rise = during / before if before else float("inf")
    results = [
        (not errors and hook_ok,
         f"no request failed: {sum(errors.values())} errors among "
         f"{len(outcome.records)} reader and {len(checker.records)} check requests"
         + (f" ({'; '.join(f'{k} ×{v}' for k, v in sorted(errors.items())[:6])})"
            if errors else "")
         + ("" if hook_ok else "; the webhook did not answer 200 ok")),
        (rise <= MAX_P99_RISE,
         f"p99 {during:.0f} ms during the swap window, {before:.0f} ms before it: "
         f"{rise:.2f}x (at most {MAX_P99_RISE:g}x)"),
        (not missing,
         f"{len(checker.words) - len(missing)} of {len(checker.words)} edited articles shown "
         "edited on every page read and search at the end"
         + (f" (not: {', '.join(missing)})" if missing else "")),
    ]
    print("Targets:")
    for passed, text in results:
        print(f"  {'PASS' if passed else 'FAIL'}  {text}")
    tracebacks = portal.tracebacks()
    print(f"gunicorn logged {sum(tracebacks.values())} traceback(s)"
          + "".join(f"\n    {n}× {line}" for line, n in tracebacks.most_common(5)))
    print(f"Load generator: busiest process used {outcome.busiest:.0%} of a CPU")
    print(f"Machine: {_server.machine()}".replace("at the start", "at the end"))
    return 0 if all(passed for passed, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())

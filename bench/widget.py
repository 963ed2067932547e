"""The help widget (issue 16): the loader's size, and the time from a click on the launcher
to a ready panel, beside loading the portal's home page in the same browser.

The portal runs as in production (gunicorn, PostgreSQL, the sample articles; bench/_server.py)
on 127.0.0.1; a product page that embeds the widget is served from localhost on another
port (another site, as in real use) and is the only origin in
PORTAL_WIDGET_ALLOWED_ORIGINS. Debian's Chromium runs headless through Playwright. Every
run has a fresh browser context (empty cache, no cookies) and starts on the product page,
once the loader has drawn the launcher:

- Loader: the bytes of GET /widget.js (and gzipped, for information).
- Panel ready: from the click on the launcher (the click event's time) to the loader
  marking the panel ready (data-state="ready" on its element, set when the frame posts
  "ready": its page, style and script are loaded and its home view, with the support
  status and the suggested articles, is drawn).
- Home page: from a click on a "Help center" link on the same product page to the end of
  the portal home page's load event: the other way a reader gets help, in the same
  browser. Both start from the same click on the same page, and both pay for a page of
  another site (Chromium starts a renderer process for it: site isolation).
- For information only, the home page opened in a fresh tab (navigation start to the end
  of the load event, PerformanceNavigationTiming.duration); the tab's process exists
  before the navigation starts, so this figure leaves out what the two above include.

The kinds are measured in turns, after a few unmeasured rounds that warm up the server.
Targets: the loader at most 10 KB; the panel's median at most the home page's median
(reached from the product page).

    .venv/bin/python bench/widget.py [--runs 20] [--warm-up 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import functools
import gzip
import statistics
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
LOADER_LIMIT = 10 * 1024
VIEWPORT = {"width": 1280, "height": 900}
HOST_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Acme Paving - Job board</title></head>
<body>
  <h1>Job board</h1>
  <p>Main St. overlay, Hwy 89 shoulder, Riverside lot repair.</p>
  <p><a id="help-center" href="{portal}/">Help center</a></p>
  <script src="{portal}/widget.js" async data-context="billing"></script>
</body>
</html>
"""
# Runs in the product page before the click: the click's time, and the time the loader's
# element says "ready", both on the page's clock.
# (Wrapped in an object: evaluate_handle would otherwise wait for the promise.)
WATCH = """() => ({ready: new Promise((resolve, reject) => {
    const host = document.querySelector("[data-portal-kb]");
    let clicked = null;
    document.addEventListener("click", (event) => {
        if (clicked === null) clicked = event.timeStamp;
    }, {capture: true, once: true});
    new MutationObserver((_changes, observer) => {
        if (host.getAttribute("data-state") === "ready") {
            observer.disconnect();
            resolve(performance.now() - clicked);
        }
    }).observe(host, {attributes: true, attributeFilter: ["data-state"]});
    setTimeout(() => reject(new Error("the panel was not ready within 20 s")), 20000);
})})"""


class HostSite:
    """The product page, served from a folder on localhost (another site than 127.0.0.1)."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://localhost:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def panel_ready_ms(browser, page_url: str) -> float:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(page_url)
        launcher = page.get_by_role("button", name="Knowledge Base", exact=True)
        launcher.wait_for()
        waiting = page.evaluate_handle(WATCH)
        launcher.click()
        return float(waiting.evaluate("watch => watch.ready"))
    finally:
        context.close()


NAVIGATION = """() => {
    const entry = performance.getEntriesByType("navigation")[0];
    return [performance.timeOrigin, entry.loadEventEnd, entry.duration];
}"""


def home_from_product_page_ms(browser, page_url: str) -> float:
    """Click on the product page's "Help center" link -> the home page's load event ends."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        clicks: list[float] = []
        context.expose_function("benchClicked", lambda when: clicks.append(when))
        page = context.new_page()
        page.goto(page_url)
        page.get_by_role("button", name="Knowledge Base", exact=True).wait_for()
        page.evaluate("""() => document.addEventListener("click", (event) => {
            window.benchClicked(performance.timeOrigin + event.timeStamp);
        }, {capture: true, once: true})""")
        page.get_by_role("link", name="Help center").click()
        page.wait_for_url(lambda url: not url.startswith(page_url), wait_until="load")
        page.wait_for_function(
            "() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
        origin, load_end, duration = page.evaluate(NAVIGATION)
        # The click's time on the product page's clock; its navigation start if not told.
        return float(origin + load_end - clicks[0]) if clicks else float(duration)
    finally:
        context.close()


def home_in_fresh_tab_ms(browser, url: str) -> float:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_function(
            "() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
        return float(page.evaluate(NAVIGATION)[2])
    finally:
        context.close()


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="measured runs of each (20)")
    parser.add_argument("--warm-up", type=int, default=3, help="unmeasured rounds first (3)")
    parser.add_argument("--postgres", default=_server.DEFAULT_POSTGRES,
                        help=f"PostgreSQL server for a private database "
                             f"({_server.DEFAULT_POSTGRES})")
    parser.add_argument("--ratelimit-storage", default=_server.DEFAULT_RATELIMIT_STORAGE)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    args = parser.parse_args(argv)
    if args.runs < 2 or args.warm_up < 0:
        parser.error("--runs needs at least 2 and --warm-up cannot be negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    print(f"Machine: {_server.machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="widget-bench-") as folder:
        tmp = Path(folder)
        (tmp / "host").mkdir()
        host = HostSite(tmp / "host")
        database = _server.Database(args.postgres, name=f"widget_bench_{time.time_ns()}")
        portal = None
        try:
            database.create()
            articles = _server.Articles(tmp / "articles").create(_server.copy_sample)
            portal = _server.Portal(tmp / "portal", database, articles.site,
                                    args.ratelimit_storage, args.workers,
                                    extra={"PORTAL_WIDGET_ALLOWED_ORIGINS": host.origin,
                                           "PORTAL_WIDGET_API_LIMIT": _server._HIGH})
            portal.prepare(users=0)
            portal.start()
            (tmp / "host" / "index.html").write_text(
                HOST_PAGE.replace("{portal}", portal.base_url))
            print(f"Server: gunicorn, {args.workers} workers, at {portal.base_url}, PostgreSQL "
                  f"database {database.name}, the sample articles; the product page at "
                  f"{host.origin}/ (PORTAL_WIDGET_ALLOWED_ORIGINS)", flush=True)
            return measure(args, portal.base_url, host.origin + "/index.html")
        except _server.BenchError as exc:
            print(f"Set-up failed: {exc}", file=sys.stderr)
            return 2
        finally:
            if portal is not None:
                portal.stop()
            host.stop()
            database.drop()


def measure(args: argparse.Namespace, portal: str, page_url: str) -> int:
    from playwright.sync_api import sync_playwright

    loader = httpx.get(portal + "/widget.js", timeout=10)
    loader.raise_for_status()
    size, zipped = len(loader.content), len(gzip.compress(loader.content, 9))

    panel: list[float] = []
    home: list[float] = []
    fresh_tab: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            print(f"Browser: Chromium {browser.version}, headless, a fresh context (empty "
                  f"cache) for every run; {args.warm_up} warm-up round(s), then "
                  f"{args.runs} runs of each, in turns", flush=True)
            for n in range(args.warm_up + args.runs):
                figures = (panel_ready_ms(browser, page_url),
                           home_from_product_page_ms(browser, page_url),
                           home_in_fresh_tab_ms(browser, portal + "/"))
                if n >= args.warm_up:
                    for series, value in zip((panel, home, fresh_tab), figures, strict=True):
                        series.append(value)
        finally:
            browser.close()

    panel_median, home_median = statistics.median(panel), statistics.median(home)
    print()
    print(f"{'':<52}{'median ms':>10}{'p95 ms':>10}{'min ms':>10}{'max ms':>10}")
    for label, values in (("Click on the launcher -> panel ready", panel),
                          ("Click on a link -> portal home page loaded", home),
                          ("(Home page in a fresh tab, navigation -> load)", fresh_tab)):
        print(f"{label:<52}{statistics.median(values):>10.1f}{pct(values, 95):>10.1f}"
              f"{min(values):>10.1f}{max(values):>10.1f}")
    print()
    size_ok = size <= LOADER_LIMIT
    speed_ok = panel_median <= home_median
    print(f"{'PASS' if size_ok else 'FAIL'}: loader {size:,} bytes ({zipped:,} gzipped), "
          f"target at most {LOADER_LIMIT:,} bytes")
    print(f"{'PASS' if speed_ok else 'FAIL'}: panel ready in {panel_median:.1f} ms (median), "
          f"home page from the same product page in {home_median:.1f} ms: target at most "
          "the home page's time")
    return 0 if size_ok and speed_ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Page speed with 1,000 generated articles, measured beside a trivial route in the same run.

Prints p50/p95 of the home, category and article pages through the Flask test client,
next to a trivial route of the same app, and the start-up time (app creation plus the
first page, which loads every article). Target: a cached article page within 3x the
trivial route.

The article views are a signed-out reader's who has not voted: the common case, whose
page is shared per article version (PORTAL_PAGE_CACHE). The same views rendered
for a reader with a page of their own are printed too, for comparison.

    .venv/bin/python bench/pages.py [--articles 1000] [--requests 300]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = ("asphalt paving crew load ticket plant estimate bid project foreman report invoice "
         "billing account password sign-in export import schedule equipment truck mix tonnage "
         "sync mobile offline gps api webhook key role permission customer support").split()


def generate(root: Path, count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    slugs = []
    for n in range(count):
        category = f"category-{n % 20:02d}"
        slug = f"article-{n:04d}"
        sections = []
        for s in range(rng.randint(3, 7)):
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 140)))
            sections.append(f"## Section {s} about {rng.choice(WORDS)}\n\n{words}.\n\n"
                            f"| Field | Value |\n|---|---|\n| a | {rng.random():.3f} |\n\n"
                            "```bash\ncurl -H 'Authorization: Bearer KEY' https://x.test/api\n```\n")
        path = root / category / f"{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        front = (f"---\ntitle: {rng.choice(WORDS).title()} guide {n}\n"
                 f"summary: How to {rng.choice(WORDS)} things.\n"
                 f"tags: [{rng.choice(WORDS)}]\n---\n")
        path.write_text(front + "\n".join(sections))
        slugs.append(slug)
    return slugs


def measure(client, url: str, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        slugs = generate(tmp_path / "articles", args.articles)
        from flask_migrate import upgrade

        from portal import create_app
        from portal.config import PROJECT_ROOT
        from portal.extensions import db

        config = {"ARTICLES_DIR": tmp_path / "articles", "INDEX_DIR": tmp_path / "index",
                  "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "bench",
                  "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bench.db'}"}
        app = create_app(config)
        with app.app_context():
            upgrade(directory=str(PROJECT_ROOT / "migrations"), revision="heads")
            db.engine.dispose()

        start = time.perf_counter()
        app = create_app(config)
        app.add_url_rule("/__trivial", "trivial", lambda: "ok")
        client = app.test_client()
        created = time.perf_counter()
        client.get("/")
        first_page = time.perf_counter()

        rng = random.Random(1)
        for slug in slugs:  # warm the render cache, as a running site would be
            client.get(f"/articles/{slug}")
        article_urls = [f"/articles/{rng.choice(slugs)}" for _ in range(args.requests)]

        rows = {}
        rows["trivial route (baseline)"] = measure(client, "/__trivial", args.requests)
        rows["home"] = measure(client, "/", args.requests)
        rows["category (50 articles)"] = measure(client, "/categories/category-03", args.requests)
        times = []
        for url in article_urls:
            times += measure(client, url, 1)
        rows["article (cached render)"] = times
        # The same views for a reader who gets a page of their own (signed in, voted, ...).
        app.config["PAGE_CACHE"] = False
        times = []
        for url in article_urls:
            times += measure(client, url, 1)
        rows["article (own page)"] = times
        app.config["PAGE_CACHE"] = True
        rows["trivial route (again)"] = measure(client, "/__trivial", args.requests)

    baseline = statistics.median(rows["trivial route (baseline)"] + rows["trivial route (again)"])
    print(f"{args.articles} articles, {args.requests} requests per page, test client")
    print(f"start-up: create_app {1000 * (created - start):.1f} ms, first page (loads all "
          f"articles) {1000 * (first_page - created):.1f} ms")
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'p50 / trivial':>14}")
    for name, values in rows.items():
        print(f"{name:28} {pct(values, 50):8.2f} {pct(values, 95):8.2f} "
              f"{pct(values, 50) / baseline:13.1f}x")
    ratio = pct(rows["article (cached render)"], 50) / baseline
    verdict = "meets" if ratio <= 3 else "MISSES"
    print(f"cached article page p50 is {ratio:.1f}x the trivial route: {verdict} the 3x target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Search speed bench: 10,000 generated articles through the portal and through raw Whoosh.

    .venv/bin/python bench/search_speed.py [--articles 10000] [--queries 300] [--seed 7]

Generates ~600-word articles from a Zipfian vocabulary (English function
words at the head, then made-up words; each article also draws from its
topic's own words, as real help articles do), with a fixed seed. Prints:
the full build time, the `--changed` update time after editing one article
and how long until a search finds the edit, p50/p95 of the queries through
the HTTP layer (Flask test client: results page with snippets, one search
logged per request) and through a plain Whoosh searcher on the same index
(MultifieldParser OR query, top 10, highlights from stored offsets) in the
same run, hostile inputs, and the memory of the worker that served them.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FUNCTION_WORDS = list(dict.fromkeys("""
the of and to a in is it you that he was for on are with as i his they be at one have this
from or had by not word but what some we can out other were all there when up use your how
said an each she which do their time if will way about many then them write would like so
these her long make thing see him two has look more day could go come did number sound no
most people my over know water than call first who may down side been now find any new work
part take get place made live where after back little only round man year came show every
good me give our under name very through just form much great think say help low line before
turn cause same mean differ move right boy old too does tell set three want air well also
""".split()))
SYLLABLES = ["ka", "lo", "mi", "ra", "ten", "bor", "vi", "sa", "qu", "ne", "tal", "po", "du",
             "rin", "ex", "ar", "mo", "li", "zen", "fa", "gro", "ul", "shi", "pa", "ver", "on",
             "tro", "in", "ble", "cas", "dor", "mep", "sil", "gan", "fur", "yol"]
HOSTILE = ["*", "*a*", "?*?*?*", "foo AND (", '"unbalanced quote', "title:x",
           "x" * 5000, "a " * 2500, "😀🔥", "пароль сброс", "", "NOT OR AND", "[a TO z]",
           "~~~^^^", "<script>alert(1)</script>"]


# -- corpus ------------------------------------------------------------------------
def made_up_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice([2, 2, 3, 3, 3, 4])))
        if len(word) >= 4 and word not in taken:
            taken.add(word)
            words.append(word)
    return words


class Zipf:
    def __init__(self, rng: random.Random, words: list[str], s: float = 1.05):
        self.rng, self.words = rng, words
        self.cumulative = list(itertools.accumulate(1 / (i + 1) ** s for i in range(len(words))))

    def draw(self, k: int) -> list[str]:
        top = self.cumulative[-1]
        return [self.words[bisect.bisect_left(self.cumulative, self.rng.random() * top)]
                for _ in range(k)]


def generate(root: Path, articles: int, seed: int) -> list[dict]:
    """Write the articles; return what the query generator needs about each."""
    rng = random.Random(seed)
    taken = set(FUNCTION_WORDS)
    general = Zipf(rng, FUNCTION_WORDS + made_up_words(rng, 20_000, taken))
    topics = [Zipf(rng, made_up_words(rng, 300, taken), 1.0) for _ in range(200)]
    categories = [f"area-{i:02d}" for i in range(20)]
    meta = []
    titles = set()
    for n in range(articles):
        category = rng.randrange(len(categories))
        topic = topics[(category * 10 + rng.randrange(10)) % len(topics)]
        other = topics[rng.randrange(len(topics))]
        while True:
            title_words = topic.draw(rng.randint(3, 6))
            title = " ".join(title_words).capitalize()
            if title not in titles:
                titles.add(title)
                break

        def sentence(length: int, topic: Zipf = topic, other: Zipf = other) -> str:
            words = []
            for _ in range(length):
                roll = rng.random()
                pool = topic if roll < 0.3 else other if roll < 0.38 else general
                words.extend(pool.draw(1))
            return " ".join(words).capitalize() + "."

        sections = []
        topical = []
        for _ in range(5):
            heading = " ".join(topic.draw(3)).capitalize()
            paragraph = " ".join(sentence(rng.randint(14, 26)) for _ in range(6))
            sections.append(f"## {heading}\n\n{paragraph}")
            topical.extend(w for w in paragraph.lower().replace(".", "").split()
                           if w not in FUNCTION_WORDS)
        tags = ", ".join(dict.fromkeys(topic.draw(3)))
        summary = sentence(12)
        text = (f"---\ntitle: {title}\nsummary: {summary}\ntags: [{tags}]\n---\n\n"
                + "\n\n".join(sections) + "\n")
        path = root / categories[category] / f"article-{n:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        meta.append({"title": title, "path": path, "words": topical[:200]})
    return meta


def typo(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["delete", "swap", "double"])
    if kind == "delete":
        return word[:at] + word[at + 1:]
    if kind == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    return word[:at] + word[at] + word[at:]


def make_queries(meta: list[dict], count: int, seed: int) -> list[str]:
    """Help-center-like traffic: titles, parts of titles, questions, typos, single words."""
    rng = random.Random(seed + 1)
    queries = []
    for _ in range(count):
        article = rng.choice(meta)
        title = article["title"].lower().split()
        words = article["words"] or title
        roll = rng.random()
        if roll < 0.2:
            queries.append(article["title"])
        elif roll < 0.45:
            queries.append(" ".join(rng.sample(title, min(len(title), rng.randint(2, 3)))))
        elif roll < 0.7:
            picked = rng.sample(words, 2)
            queries.append(rng.choice(["how do i {} {}", "why is my {} not {}",
                                       "{} {} not working", "can i change {} in {}"]
                                      ).format(*picked))
        elif roll < 0.85:
            long_words = [w for w in title + words if len(w) >= 6] or ["kalorinmi"]
            queries.append(typo(rng.choice(long_words), rng) + " " + rng.choice(title))
        else:
            queries.append(rng.choice(words))
    return queries


# -- measuring ------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def rss_mb() -> tuple[float, float]:
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def make_app(folder: Path, index_dir: Path):
    from portal import create_app

    return create_app({
        "SECRET_KEY": "bench", "ARTICLES_DIR": folder, "INDEX_DIR": index_dir,
        "INSTANCE_PATH": str(folder.parent / "instance"), "RATELIMIT_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder.parent / 'bench.db'}",
    })


def http_worker(folder: str, index_dir: str, queries: list[str], result) -> None:
    """A fresh process standing in for one gunicorn worker: serve the queries, report."""
    app = make_app(Path(folder), Path(index_dir))
    client = app.test_client()
    for query in queries[:20]:  # warm up: open the searcher, fill caches
        client.get("/search", query_string={"q": query})
    timings = []
    for query in queries:
        started = time.perf_counter()
        response = client.get("/search", query_string={"q": query})
        timings.append(1000 * (time.perf_counter() - started))
        assert response.status_code == 200, (query, response.status_code)
    hostile = []
    for query in HOSTILE:
        started = time.perf_counter()
        response = client.get("/search", query_string={"q": query})
        hostile.append((1000 * (time.perf_counter() - started), response.status_code))
    result.put((timings, hostile, rss_mb()))


def raw_whoosh(index_dir: Path, queries: list[str]) -> list[float]:
    """The textbook way: one parser over the same fields and weights, top 10, highlights."""
    from whoosh import index
    from whoosh.highlight import PinpointFragmenter
    from whoosh.qparser import MultifieldParser, OrGroup

    from portal.search.generations import Generations
    from portal.search.whoosh_schema import FIELD_WEIGHTS

    ix = index.open_dir(str(Generations(index_dir).current()))
    parser = MultifieldParser(list(FIELD_WEIGHTS), ix.schema, fieldboosts=FIELD_WEIGHTS,
                              group=OrGroup)
    timings = []
    with ix.searcher() as searcher:
        for query in queries[:20] + queries:
            started = time.perf_counter()
            results = searcher.search(parser.parse(query), limit=10, terms=True)
            results.fragmenter = PinpointFragmenter(autotrim=True)
            total = len(results)
            snippets = [hit.highlights("body") for hit in results]
            timings.append(1000 * (time.perf_counter() - started))
            assert total >= 0 and len(snippets) <= 10
    return timings[20:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from portal.config import PROJECT_ROOT
    from portal.search import indexer
    from portal.search.service import get_service

    with tempfile.TemporaryDirectory(prefix="search-speed-") as tmp:
        folder, index_dir = Path(tmp) / "articles", Path(tmp) / "index"
        started = time.perf_counter()
        meta = generate(folder, args.articles, args.seed)
        words = sum(len(p["path"].read_text().split()) for p in meta[:200]) / min(200, len(meta))
        print(f"generated {len(meta)} articles (~{words:.0f} words each) in "
              f"{time.perf_counter() - started:.1f} s")
        app = make_app(folder, index_dir)
        with app.app_context():
            upgrade(directory=str(PROJECT_ROOT / "migrations"), revision="heads")
            service = get_service(app)
            engine = service.engine
            started = time.perf_counter()
            report = indexer.build(engine, folder)
            build = time.perf_counter() - started
            print(f"full build: {build:.1f} s for {report.indexed} articles "
                  f"({report.indexed / build:.0f} articles/s, {engine.processes} processes)")

            # One article edited: --changed, then how long until a search finds it.
            from portal.search.query import parse

            edited = meta[len(meta) // 2]
            marker = "zorblaxquint"
            edited["path"].write_text(edited["path"].read_text() + f"\n\nNow with {marker}.\n")
            started = time.perf_counter()
            changed = indexer.update_changed(engine, folder)
            update = time.perf_counter() - started
            hits = engine.search(parse(marker), None, 0, 10).hits
            searchable = time.perf_counter() - started
            client = app.test_client()
            before_page = time.perf_counter()
            page = client.get("/search", query_string={"q": marker}).get_data(as_text=True)
            live = time.perf_counter() - started
            print(f"--changed after editing one article: {update:.2f} s ({changed})")
            print(f"  the edit is searchable {searchable:.2f} s after it was saved "
                  f"({'found' if hits and hits[0].slug == edited['path'].stem else 'NOT FOUND'}; "
                  f"target < 1 s)")
            print(f"  the next results page showed it {live:.2f} s after the save "
                  f"({'found' if edited['title'] in page else 'NOT FOUND'}; that request took "
                  f"{live - (before_page - started):.2f} s, including the content store's own "
                  f"reload of the changed folder)")

        queries = make_queries(meta, args.queries, args.seed)
        context = multiprocessing.get_context("spawn")
        result = context.Queue()
        worker = context.Process(target=http_worker,
                                 args=(str(folder), str(index_dir), queries, result))
        worker.start()
        timings, hostile, (rss, peak) = result.get()
        worker.join()
        raw = raw_whoosh(index_dir, queries)

    http50, http95 = percentile(timings, 0.5), percentile(timings, 0.95)
    raw50, raw95 = percentile(raw, 0.5), percentile(raw, 0.95)
    print()
    print(f"{len(queries)} queries          p50 ms   p95 ms   mean ms")
    print(f"HTTP (portal page)   {http50:7.1f}  {http95:7.1f}  {statistics.mean(timings):7.1f}")
    print(f"raw Whoosh searcher  {raw50:7.1f}  {raw95:7.1f}  {statistics.mean(raw):7.1f}")
    print(f"portal / raw at p95: {http95 / raw95:.2f}x (target <= 2x); HTTP p95 target <= 50 ms: "
          f"{'PASS' if http95 <= 50 else 'FAIL'}")
    worst = max(hostile)
    print(f"hostile inputs ({len(HOSTILE)}: *, *a*, ?*?*?*, 5,000 characters, emoji, ...): "
          f"all answered {'200' if all(code == 200 for _, code in hostile) else 'NOT 200'}, "
          f"median {statistics.median(t for t, _ in hostile):.1f} ms, "
          f"slowest {worst[0]:.1f} ms")
    print(f"worker memory after serving them: {rss:.0f} MB resident (peak {peak:.0f} MB)")


if __name__ == "__main__":
    main()

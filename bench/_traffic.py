"""Readers for bench/load.py and bench/publish_under_load.py: asyncio clients with aiohttp.

Each simulated reader is a closed loop: it sends a request, waits for the answer, picks the
next one from the mix, until the phase ends; without think time unless asked (then it pauses
a random time, exponential around the mean given, between requests). It keeps its own cookies
like a browser; a vote comes from a fresh session (a new reader opens the article, then
posts "Was this article helpful?" with the form's CSRF token). Readers are spread over
several processes when asked, each process running its share on one event loop.

Every request is recorded as (kind, started at [epoch seconds], milliseconds, error):
error is "" for any 2xx or 3xx answer, else the status code or the connection error.

Why aiohttp and not httpx's AsyncClient: on this 2-CPU machine the load generator shares the
CPUs with gunicorn, so its own cost per request is taken from the server and, once its event
loop is busy, added to every latency it measures. Measured against the static file with 32
readers, httpx spent 2.3-2.8 ms of CPU per request and aiohttp 0.57 ms. The crawl before the
run stays on httpx (one synchronous client, not measured).
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import random
import re
import time
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import unquote

import aiohttp
import httpx

STATIC = "/static/css/site.css"
MIX = {"article": 70, "search": 15, "suggest": 5, "category": 5, "vote": 5}
TIMEOUT = httpx.Timeout(60.0, connect=30.0)
READER_TIMEOUT = aiohttp.ClientTimeout(total=90.0, connect=30.0)
LATE = 0.5  # seconds: a reader that begins later than this after the start is counted late

Record = tuple[str, float, float, str]


@dataclass
class Corpus:
    """What the site shows readers: found by crawling it, as a visitor would."""

    articles: list[tuple[str, str]]  # (slug, title), most read first
    categories: list[str]
    queries: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)


_ARTICLE_LINK = re.compile(r'href="/articles/([^"#?]+)"[^>]*>([^<]+)<')
_CATEGORY_LINK = re.compile(r'href="/categories/([^"#?]+)"')


def crawl(base_url: str, seed: int = 7) -> Corpus:
    """Home page, then every category page: the published articles and the categories."""
    titles: dict[str, str] = {}
    categories: list[str] = []
    with httpx.Client(base_url=base_url, timeout=TIMEOUT) as client:
        pending = ["/"]
        seen: set[str] = set()
        while pending:
            url = pending.pop()
            page = client.get(url)
            page.raise_for_status()
            for slug, title in _ARTICLE_LINK.findall(page.text):
                titles.setdefault(unquote(slug), unescape(title).strip())
            for slug in _CATEGORY_LINK.findall(page.text):
                slug = unquote(slug)
                if slug not in seen:
                    seen.add(slug)
                    categories.append(slug)
                    pending.append(f"/categories/{slug}")
    rng = random.Random(seed)
    articles = list(titles.items())
    rng.shuffle(articles)  # popularity order: the first ones are read most (Zipf weights)
    corpus = Corpus(articles, categories)
    corpus.queries, corpus.prefixes = queries_for(articles, rng)
    return corpus


QUESTIONS = ["how do i {}", "{} not working", "why is my {} wrong", "can i change {}", "{}"]


def queries_for(articles: list[tuple[str, str]], rng: random.Random,
                count: int = 400) -> tuple[list[str], list[str]]:
    """Searches readers type (titles, parts of titles, questions, a typo) and the prefixes
    that the search box asks suggestions for."""
    words = [w for _slug, title in articles for w in re.findall(r"[A-Za-z]{4,}", title.lower())]
    words = words or ["password", "export", "invoice"]
    queries = []
    for _ in range(count):
        title = rng.choice(articles)[1] if articles else "reset password"
        title_words = re.findall(r"[A-Za-z]{3,}", title.lower()) or words[:2]
        roll = rng.random()
        if roll < 0.25:
            queries.append(title)
        elif roll < 0.55:
            queries.append(" ".join(rng.sample(title_words, min(len(title_words), 2))))
        elif roll < 0.85:
            queries.append(rng.choice(QUESTIONS).format(" ".join(rng.sample(words, 2))))
        else:
            word = rng.choice(words)
            at = rng.randrange(1, len(word) - 1)
            queries.append(word[:at] + word[at + 1:])  # a letter left out
    prefixes = [w[:rng.randint(3, min(6, len(w)))] for w in rng.sample(words, min(200, len(words)))]
    return queries, prefixes


# -- one process of readers ------------------------------------------------------------------

@dataclass
class Plan:
    base_url: str
    corpus: Corpus
    mix: dict[str, int]
    start_at: float  # epoch seconds: readers begin together
    stop_at: float
    accounts: list[str] = field(default_factory=list)  # readers who sign in first
    password: str = ""
    think: float = 0.0  # mean seconds a reader pauses between requests (0: none)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_STARTED = re.compile(r'name="started" value="([^"]+)"')


@dataclass
class Answer:
    """What a reader keeps of an answer: its status and its text."""

    status_code: int
    text: str


def new_client(plan: Plan) -> aiohttp.ClientSession:
    """A reader's own client: its cookies (the jar accepts them from a bare IP address, as a
    browser does for 127.0.0.1) and its keep-alive connection."""
    return aiohttp.ClientSession(base_url=plan.base_url, timeout=READER_TIMEOUT,
                                 cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 connector=aiohttp.TCPConnector(limit=1))


class Reader:
    def __init__(self, plan: Plan, rng: random.Random, records: list[Record],
                 late: list[float]):
        self.plan, self.rng, self.records, self.late = plan, rng, records, late
        n = len(plan.corpus.articles)
        self.weights = list(itertools.accumulate(1 / (i + 1) ** 0.8 for i in range(n)))

    async def request(self, client: aiohttp.ClientSession, kind: str, method: str, url: str,
                      **kwargs) -> Answer | None:
        """Redirects are not followed: a 3xx is the answer, as with the other kinds."""
        started, clock = time.time(), time.perf_counter()
        try:
            async with client.request(method, url, allow_redirects=False, **kwargs) as response:
                answer = Answer(response.status, await response.text())
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.records.append((kind, started, 1000 * (time.perf_counter() - clock),
                                 type(exc).__name__))
            return None
        error = "" if 200 <= answer.status_code < 400 else str(answer.status_code)
        self.records.append((kind, started, 1000 * (time.perf_counter() - clock), error))
        return answer

    def slug(self) -> str:
        articles = self.plan.corpus.articles
        return articles[self.rng.choices(range(len(articles)), cum_weights=self.weights)[0]][0]

    async def article(self, client: aiohttp.ClientSession) -> None:
        await self.request(client, "article", "GET", f"/articles/{self.slug()}")

    async def search(self, client: aiohttp.ClientSession) -> None:
        query = self.rng.choice(self.plan.corpus.queries)
        await self.request(client, "search", "GET", "/search", params={"q": query})

    async def suggest(self, client: aiohttp.ClientSession) -> None:
        prefix = self.rng.choice(self.plan.corpus.prefixes)
        await self.request(client, "suggest", "GET", "/api/suggest", params={"q": prefix})

    async def category(self, client: aiohttp.ClientSession) -> None:
        await self.request(client, "category", "GET",
                           f"/categories/{self.rng.choice(self.plan.corpus.categories)}")

    async def static(self, client: aiohttp.ClientSession) -> None:
        await self.request(client, "static", "GET", STATIC)

    async def vote(self, _client: aiohttp.ClientSession) -> None:
        """A new reader opens an article and answers the question under it."""
        slug = self.slug()
        async with new_client(self.plan) as fresh:
            page = await self.request(fresh, "vote-page", "GET", f"/articles/{slug}")
            if page is None or page.status_code != 200:
                return
            csrf, started = _CSRF.search(page.text), _STARTED.search(page.text)
            if not csrf or not started:
                self.records.append(("vote", time.time(), 0.0, "no feedback form"))
                return
            form = {"csrf_token": csrf.group(1), "started": started.group(1), "website": ""}
            if self.rng.random() < 0.7:
                form["helpful"] = "yes"
            else:
                form |= {"helpful": "no", "reasons": self.rng.choice(["unclear", "outdated"]),
                         "comment": "Measured by the load bench."}
            answer = await self.request(fresh, "vote", "POST", f"/feedback/articles/{slug}",
                                        data=form)
            if answer is not None and answer.status_code != 303:
                self.records[-1] = (*self.records[-1][:3], f"{answer.status_code} not 303")

    async def sign_in(self, client: aiohttp.ClientSession, email: str) -> None:
        page = await self.request(client, "sign-in", "GET", "/login")
        found = _CSRF.search(page.text) if page is not None else None
        if not found:
            return
        answer = await self.request(client, "sign-in", "POST", "/login", data={
            "csrf_token": found.group(1), "email": email, "password": self.plan.password,
            "next": ""})
        if answer is not None and answer.status_code not in (302, 303):
            self.records[-1] = (*self.records[-1][:3], f"sign-in answered {answer.status_code}")

    async def run(self, account: str | None) -> None:
        kinds, weights = list(self.plan.mix), list(self.plan.mix.values())
        async with new_client(self.plan) as own:
            if account:
                await self.sign_in(own, account)
            wait = self.plan.start_at - time.time()
            if wait < -LATE:
                self.late.append(-wait)
            await asyncio.sleep(max(0.0, wait))
            while time.time() < self.plan.stop_at:
                kind = self.rng.choices(kinds, weights)[0]
                await getattr(self, kind)(own)
                if self.plan.think:
                    pause = self.rng.expovariate(1 / self.plan.think)
                    await asyncio.sleep(min(pause, max(0.0, self.plan.stop_at - time.time())))


async def _readers(plan: Plan, count: int, seed: int) -> tuple[list[Record], list[float]]:
    records: list[Record] = []
    late: list[float] = []
    accounts = itertools.cycle(plan.accounts) if plan.accounts else None
    signed_in = len(plan.accounts)
    await asyncio.gather(*(
        Reader(plan, random.Random(seed * 1000 + n), records, late).run(
            next(accounts) if accounts and n < signed_in else None)
        for n in range(count)))
    return records, late


def _process(plan: Plan, count: int, seed: int) -> tuple[list[Record], list[float], float]:
    cpu = time.process_time()
    records, late = asyncio.run(_readers(plan, count, seed))
    wall = plan.stop_at - plan.start_at
    return records, late, (time.process_time() - cpu) / wall if wall > 0 else 0.0


@dataclass
class Outcome:
    records: list[Record]
    late: list[float]  # how late each reader that began late began, in seconds
    busiest: float  # the busiest load process's CPU time over the phase's length


def run(plan: Plan, clients: int, processes: int = 1, seed: int = 1) -> Outcome:
    """Run `clients` readers over `processes` processes. `busiest` near 1.0 means the load
    generator itself was the limit."""
    processes = max(1, min(processes, clients))
    shares = [clients // processes + (1 if i < clients % processes else 0)
              for i in range(processes)]
    sign_ins = [plan.accounts[i::processes] for i in range(processes)]
    plans = [Plan(**{**plan.__dict__, "accounts": accounts}) for accounts in sign_ins]
    if processes == 1:
        results = [_process(plans[0], shares[0], seed)]
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            results = pool.starmap(_process, [(plans[i], shares[i], seed + i)
                                              for i in range(processes)])
    return Outcome([record for result in results for record in result[0]],
                   [delay for result in results for delay in result[1]],
                   max(result[2] for result in results))


# -- figures --------------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


@dataclass
class Figures:
    requests: int
    per_second: float
    p50: float
    p95: float
    p99: float
    errors: int
    error_kinds: dict[str, int]


def figures(records: list[Record], start: float, stop: float, kind: str | None = None) -> Figures:
    """Requests of `kind` (every kind: None) started in [start, stop)."""
    chosen = [r for r in records if start <= r[1] < stop and (kind is None or r[0] == kind)]
    times = [r[2] for r in chosen]
    errors: dict[str, int] = {}
    for r in chosen:
        if r[3]:
            errors[r[3]] = errors.get(r[3], 0) + 1
    return Figures(len(chosen), len(chosen) / (stop - start) if stop > start else 0.0,
                   percentile(times, 0.50), percentile(times, 0.95), percentile(times, 0.99),
                   sum(errors.values()), errors)


def errors_in(records: list[Record]) -> dict[str, int]:
    found: dict[str, int] = {}
    for kind, _started, _ms, error in records:
        if error:
            found[f"{kind}: {error}"] = found.get(f"{kind}: {error}", 0) + 1
    return found

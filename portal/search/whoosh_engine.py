"""The Whoosh implementation of SearchEngine: generations on disk, a searcher per thread.

Each search reads the `CURRENT` pointer (a few microseconds); when it names
another directory than the one this thread has open, the thread opens a
new searcher there and closes its old one. Searchers are never refreshed in
place (whoosh-reloaded 2.7.5's Searcher.refresh() resurrects deleted
documents) and never shared between threads. A damaged pointer raises
IndexCorrupt (see generations.py), as a damaged index does.
"""

from __future__ import annotations

import bisect
import gc
import logging
import threading
import traceback
import warnings
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from cachetools import LRUCache
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.query import Term
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from portal.search import whoosh_feedback as feedback
from portal.search import whoosh_rank as rank
from portal.search.engine import (
    EngineHit,
    EngineResult,
    IndexCorrupt,
    IndexDocument,
    IndexMissing,
    Suggestion,
    Tuning,
    UserQuery,
)
from portal.search.generations import Generations
from portal.search.query import words_of
from portal.search.snippets import make_snippet
from portal.search.spelling import Vocabulary
from portal.search.whoosh_build import (
    MANIFEST,
    TITLES,
    VOCABULARY,
    VOCABULARY_DELTA,
    default_processes,
    read_json,
    write_full,
    write_json,
    write_update,
)
from portal.search.whoosh_schema import category_of, category_token

log = logging.getLogger(__name__)

WEAK_RESULTS = 3  # fewer hits than this: try similar words and completions too
RELATED_TERMS = 12  # an article's most telling words, searched for to find others like it
RELATED_MIN_SHARE = 0.25  # related articles score at least this share of the closest one
WEIGHTING = BM25F(B=0.75, K1=1.2)
# Answers kept per process: a help center's searches repeat (the same few hundred questions
# make most of its traffic), and an answer depends only on what the key below holds. A
# search costs 5-10 ms of Whoosh and Python; a kept answer, a dictionary look-up.
RESULT_CACHE_SIZE = 1024


@dataclass
class _Generation:
    """What one process keeps for one generation directory, shared by its threads."""

    path: Path
    index: whoosh_index.Index
    vocabulary: Vocabulary
    titles: dict[str, str]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sorted_words: list[str] | None = None
    _title_words: list[tuple[str, str]] | None = None

    def sorted_words(self) -> list[str]:
        with self._lock:
            if self._sorted_words is None:
                self._sorted_words = sorted(self.vocabulary.counts)
            return self._sorted_words

    def title_words(self) -> list[tuple[str, str]]:
        """(word, slug) for every word of every title, sorted: prefix lookups by bisection."""
        with self._lock:
            if self._title_words is None:
                pairs = {(w, slug) for slug, title in self.titles.items()
                         for w in words_of(title)}
                self._title_words = sorted(pairs)
            return self._title_words


def _copy(result: EngineResult) -> EngineResult:
    """A kept answer's own copy: callers may change what they are given."""
    return replace(result, hits=[replace(hit) for hit in result.hits])


def _corrupt(message: str, exc: BaseException) -> IndexCorrupt:
    """IndexCorrupt with the failure's text and traceback as text, not as live frames.

    Whoosh leaves files open when it trips over damaged data; clearing the frames
    here closes them now, quietly, instead of warning later in unrelated code.
    Call it inside the `except` block that caught `exc`.
    """
    error = IndexCorrupt(f"{message}: {exc!r}")
    error.detail = "".join(traceback.format_exception(exc))  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        chained: BaseException | None = exc
        while chained is not None:
            if chained.__traceback__ is not None:
                traceback.clear_frames(chained.__traceback__)
                chained.__traceback__ = None
            chained = chained.__cause__ or chained.__context__
        gc.collect()
    return error


def _close_quietly(searcher: Searcher) -> None:
    try:
        searcher.close()
    except Exception:  # noqa: S110 - it is being thrown away
        pass


def _close_all(searchers: set[Searcher], lock: threading.Lock) -> None:
    with lock:
        doomed = list(searchers)
        searchers.clear()
    for searcher in doomed:
        _close_quietly(searcher)


class WhooshEngine:
    def __init__(self, index_dir: Path, processes: int = 0):
        self.generations = Generations(index_dir)
        self.processes = processes or default_processes()
        self._lock = threading.Lock()
        self._open: dict[Path, _Generation] = {}
        self._answers: LRUCache = LRUCache(maxsize=RESULT_CACHE_SIZE)
        self._local = threading.local()
        # Every searcher opened, whatever the thread: closed when their thread moves on,
        # or all at once when the engine goes away (no file is left to the collector).
        self._searchers: set[Searcher] = set()
        self._finalizer = weakref.finalize(self, _close_all, self._searchers, self._lock)

    # -- writing -----------------------------------------------------------
    def build_lock(self, wait: float = 0.0):
        return self.generations.lock(wait)

    def index(self, documents: Iterable[IndexDocument], manifest: dict) -> None:
        docs = list(documents)
        target = self.generations.new_directory()
        try:
            write_full(target, docs, self.processes)
            write_json(target / MANIFEST, manifest)
        except BaseException:
            self.generations.discard(target)
            raise
        self.generations.switch(target)
        self.generations.cleanup()

    def update(self, changed: Iterable[IndexDocument], removed: Iterable[str],
               manifest: dict) -> None:
        source = self.generations.current()
        if source is None or not (source / MANIFEST).is_file():
            raise IndexMissing("no index to update")
        target = self.generations.clone(source)
        failure = None
        try:
            write_update(target, list(changed), list(removed))
            write_json(target / MANIFEST, manifest)
        except Exception as exc:
            failure = _corrupt(f"cannot update the index in {source}", exc)
        except BaseException:
            self.generations.discard(target)
            raise
        if failure is not None:
            self.generations.discard(target)
            raise failure
        self.generations.switch(target)
        self.generations.cleanup()

    def manifest(self) -> dict | None:
        current = self.generations.current_or_none()
        if current is None:
            return None
        try:
            return read_json(current / MANIFEST)
        except (OSError, ValueError):
            return None

    def is_ready(self) -> bool:
        current = self.generations.current_or_none()
        return current is not None and (current / MANIFEST).is_file()

    def current_directory(self) -> Path | None:
        return self.generations.current_or_none()

    # -- reading -----------------------------------------------------------
    def _generation(self, path: Path) -> _Generation:
        with self._lock:
            found = self._open.get(path)
            if found is not None:
                return found
            if not (path / MANIFEST).is_file():  # only complete generations are switched in
                raise IndexCorrupt(f"the live index {path} is incomplete (no {MANIFEST})")
            failure = None
            try:
                # No mmap: Whoosh copies each mmapped segment of a compound file into
                # a BytesIO per reader (~100 MB per thread at 10,000 articles); plain
                # file reads share the operating system's page cache instead.
                ix = FileStorage(str(path), supports_mmap=False).open_index()
                vocabulary = Vocabulary.load(path / VOCABULARY, path / VOCABULARY_DELTA)
                titles = read_json(path / TITLES) or {}
            except Exception as exc:
                failure = _corrupt(f"cannot open the index in {path}", exc)
            if failure is not None:
                raise failure
            found = _Generation(path, ix, vocabulary, titles)
            for old in [p for p in self._open if p != path]:
                self._open.pop(old)  # threads still using it keep their own reference
            self._open[path] = found
            return found

    @contextmanager
    def _searching(self) -> Iterator[tuple[Searcher, _Generation]]:
        path = self.generations.current()
        if path is None:
            raise IndexMissing("no index has been built")
        local = self._local
        if getattr(local, "path", None) != path:
            self._forget_thread_searcher()
            generation = self._generation(path)
            failure = None
            try:
                searcher = generation.index.searcher(weighting=WEIGHTING)
            except Exception as exc:
                failure = _corrupt(f"cannot read the index in {path}", exc)
            if failure is not None:
                raise failure
            with self._lock:
                self._searchers.add(searcher)
            local.path, local.searcher, local.generation = path, searcher, generation
        failure = None
        try:
            yield local.searcher, local.generation
        except (IndexMissing, IndexCorrupt):
            raise
        except Exception as exc:
            self._forget_thread_searcher()
            failure = _corrupt(f"searching the index in {path} failed", exc)
        if failure is not None:
            raise failure

    def _forget_thread_searcher(self) -> None:
        local = self._local
        searcher = getattr(local, "searcher", None)
        local.path = local.searcher = local.generation = None
        if searcher is not None:
            with self._lock:
                self._searchers.discard(searcher)
            _close_quietly(searcher)

    def close(self) -> None:
        """Close every searcher (call when no search is running, e.g. at shutdown)."""
        self._finalizer()

    def search(self, query: UserQuery, category: str | None, offset: int,
               limit: int, tuning: Tuning | None = None) -> EngineResult:
        """The answer is kept for the same query, filter, page and tuning on the same index
        generation: a new generation (a publish), an editors' rule or a learned boost that
        changes is a new key, so a kept answer is never out of date."""
        tuning = tuning or Tuning()
        path = self.generations.current()
        key = (path, query, category, offset, limit, id(tuning.vocabularies), tuning.promoted,
               tuple(sorted(tuning.boosts.items())))
        with self._lock:
            kept = self._answers.get(key)
        if kept is not None and kept[0] is tuning.vocabularies:  # the id is not a reused one
            return _copy(kept[1])
        result = self._search(query, category, offset, limit, tuning)
        if path is not None and self.generations.current() == path:
            with self._lock:  # the vocabularies are kept alive with it, so their id is theirs
                self._answers[key] = (tuning.vocabularies, _copy(result))
        return result

    def _search(self, query: UserQuery, category: str | None, offset: int,
                limit: int, tuning: Tuning) -> EngineResult:
        with self._searching() as (searcher, generation):
            plan = rank.plan(query, searcher, generation.vocabulary, tuning.vocabularies)
            result = self._run(searcher, plan, category, offset, limit, tuning=tuning)
            if result.total < WEAK_RESULTS and offset == 0:
                extra = rank.loosen(query, plan, generation.vocabulary,
                                    generation.sorted_words())
                if extra:
                    loose = self._run(searcher, plan, category, offset, limit, extra, tuning)
                    if loose.total > result.total:
                        loose.fuzzy = True
                        result = loose
            result.corrected = plan.corrected
            return result

    def _run(self, searcher: Searcher, plan: rank.Plan, category: str | None, offset: int,
             limit: int, extra: list[tuple[str, float]] | None = None,
             tuning: Tuning | None = None) -> EngineResult:
        tuning = tuning or Tuning()
        if not plan.terms and not extra and not tuning.promoted:
            return EngineResult([], 0)
        depth = max(rank.RERANK_DEPTH, offset + limit)
        flt = Term("category", category_token(category)) if category is not None else None
        # One pass that scores and counts every match: with Whoosh's block skipping
        # the exact count needs a second pass over the postings, which costs more.
        results = searcher.search(rank.candidate_query(plan, extra), limit=depth, filter=flt,
                                  optimize=False)
        scored = [(hit.docnum, hit.score) for hit in results]
        total = len(results)
        stems = plan.evidence_stems() + [stem for stem, _ in extra or []]
        head = [d for d, _ in scored[:rank.RERANK_DEPTH]]
        evidence = rank.gather(searcher, head, stems)
        exact = set()
        if plan.exact:
            exact = set(searcher.document_numbers(title_key=plan.exact)) & set(head)
        boosts = _docnums(searcher, tuning.boosts)
        ordered = rank.order(plan, scored, evidence, exact, boosts)
        if feedback.applies(plan) and not extra:
            expanded = feedback.expand(plan, searcher, ordered)
            if expanded is not None:
                borrowed = [t.stem for t in expanded.terms if t.expansion]
                rank.gather(searcher, head, borrowed, evidence)
                ordered = rank.order(expanded, scored, evidence, exact, boosts)
        if tuning.promoted:
            ordered, total = _promote(searcher, ordered, total, tuning.promoted, category)
        page = ordered[offset:offset + limit]
        missing = [d for d, _ in page if d not in evidence]
        if missing:
            evidence.update(rank.gather(searcher, missing, stems))
        hits = []
        for docnum, score in page:
            stored = searcher.stored_fields(docnum)
            spans = rank.spans_for(plan, evidence[docnum])
            hits.append(EngineHit(
                slug=stored["slug"], title=stored.get("title", ""),
                category=category_of(stored.get("category", "")),
                score=round(score, 4),
                snippet=make_snippet(stored.get("body", ""), spans,
                                     fallback=stored.get("summary", "")),
            ))
        return EngineResult(hits, total)

    def suggest(self, prefix: str, limit: int) -> list[Suggestion]:
        path = self.generations.current()
        if path is None:
            raise IndexMissing("no index has been built")
        generation = self._generation(path)
        words = words_of(prefix)
        if not words:
            return []
        *whole, last = words
        pairs = generation.title_words()
        matches: dict[str, int] = {}
        start = bisect.bisect_left(pairs, (last, ""))
        for word, slug in pairs[start:start + 2000]:
            if not word.startswith(last):
                break
            matches[slug] = 0
        ranked = []
        for slug in matches:
            title = generation.titles.get(slug, "")
            title_words = words_of(title)
            if any(w not in title_words for w in whole):
                continue
            starts = bool(title_words) and title_words[0].startswith(words[0])
            ranked.append((not starts, len(title), title.lower(), slug, title))
        ranked.sort()
        return [Suggestion(slug, title) for *_key, slug, title in ranked[:limit]]


    def related(self, slug: str, limit: int) -> list[Suggestion]:
        """Whoosh's "more like this": the article's key terms (Bo1 model: frequent in it,
        rare in the collection) from its title, summary and body, searched for in the other
        articles; weak matches far below the best one are left out."""
        with self._searching() as (searcher, _generation):
            docnum = searcher.document_number(slug=slug)
            if docnum is None:
                return []
            stored = searcher.stored_fields(docnum)
            text = "\n".join(stored.get(name) or "" for name in ("title", "summary", "body"))
            if not text.strip():
                return []
            hits = searcher.more_like(docnum, "anytext", text=text, top=limit,
                                      numterms=RELATED_TERMS)
            scored = [(hit.score, hit.fields()) for hit in hits]
        best = scored[0][0] if scored else 0.0
        return [Suggestion(fields["slug"], fields.get("title", ""))
                for score, fields in scored if score >= best * RELATED_MIN_SHARE]


def _docnums(searcher: Searcher, by_slug: dict[str, float]) -> dict[int, float]:
    found = {}
    for slug, value in by_slug.items():
        docnum = searcher.document_number(slug=slug)
        if docnum is not None:
            found[docnum] = value
    return found


def _promote(searcher: Searcher, ordered: list[tuple[int, float]], total: int,
             slugs: tuple[str, ...], category: str | None) -> tuple[list[tuple[int, float]], int]:
    """The editors' articles for this query first, in their order (within the category)."""
    top = ordered[0][1] if ordered else 1.0
    first: list[tuple[int, float]] = []
    for slug in slugs:
        docnum = searcher.document_number(slug=slug)
        if docnum is None or any(d == docnum for d, _s in first):
            continue
        if category is not None:
            chain = searcher.stored_fields(docnum).get("category", "").split(",")
            if category_token(category) not in chain:
                continue
        first.append((docnum, top))
    if not first:
        return ordered, total
    promoted = {d for d, _s in first}
    rest = [(d, s) for d, s in ordered if d not in promoted]
    return first + rest, total + len(first) - (len(ordered) - len(rest))

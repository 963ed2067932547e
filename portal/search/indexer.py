"""Keep the index in step with the articles folder: full builds and changed-only updates.

The manifest saved with each generation records, per article file, the slug,
content hash, size and modification time it was indexed from. An update
stats every file (cheap), hashes only files whose size or time moved, and
parses only those whose content really changed, so one edited article in a
10,000-article folder is indexed in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from portal.content.loader import MARKDOWN_SUFFIXES, load_article, load_tree
from portal.content.model import Article
from portal.content.slugs import slugify
from portal.search import synonyms
from portal.search.documents import from_article
from portal.search.engine import IndexCorrupt, SearchEngine

# Bump when what is indexed changes (fields, analyzer, synonyms): a full build follows.
MANIFEST_VERSION = 1 + synonyms.VERSION
log = logging.getLogger(__name__)


@dataclass
class IndexReport:
    mode: str  # "full", "changed" or "unchanged"
    indexed: int = 0
    removed: int = 0
    total: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        if self.mode == "unchanged":
            return f"Index is up to date ({self.total} articles); nothing to do."
        if self.mode == "full":
            return f"Indexed {self.indexed} articles in {self.seconds:.2f} s (full build)."
        return (f"Updated the index: {self.indexed} changed, {self.removed} removed, "
                f"{self.total} articles in {self.seconds:.2f} s.")


@dataclass
class Changes:
    changed: list[Article] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # slugs to drop from the index
    entries: dict[str, list] = field(default_factory=dict)


def _manifest(root: Path, entries: dict[str, list]) -> dict:
    return {"version": MANIFEST_VERSION, "root": str(root.resolve()), "articles": entries}


def _entry(article: Article) -> list:
    stat = article.abs_path.stat()
    return [article.slug, article.sha, stat.st_size, stat.st_mtime_ns, article.draft]


def build(engine: SearchEngine, root: Path, wait: float = 0.0) -> IndexReport:
    """Index every published article into a new generation (waits for the builders' lock)."""
    with engine.build_lock(wait):
        return _build_locked(engine, root)


def _build_locked(engine: SearchEngine, root: Path) -> IndexReport:
    started = time.perf_counter()
    tree = load_tree(root)
    entries = {}
    for article in tree.articles:
        try:
            entries[article.path] = _entry(article)
        except OSError:
            continue
    published = tree.published()
    engine.index((from_article(a) for a in published), _manifest(root, entries))
    return IndexReport("full", len(published), 0, len(published),
                       time.perf_counter() - started)


def _stat_walk(root: Path) -> Iterator[tuple[str, str, os.stat_result]]:
    """(relative '/' path, absolute path, stat) of each article file.

    The same files as portal.content.loader.scan (hidden and "_" folders and
    hidden files skipped), with plain strings: no Path objects for 10,000 files.
    """
    top = str(root)
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        prefix = os.path.relpath(folder, top).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        for name in files:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in MARKDOWN_SUFFIXES:
                continue
            path = os.path.join(folder, name)
            try:
                yield prefix + name, path, os.stat(path)
            except OSError:
                continue


def detect_changes(root: Path, manifest: dict) -> Changes | None:
    """What changed since the manifest; None when only a full build can get it right."""
    known: dict[str, list] = manifest.get("articles", {})
    changes = Changes()
    problems: list = []
    touched: list[str] = []
    for rel, path, stat in _stat_walk(root):
        old = known.get(rel)
        if old and old[2] == stat.st_size and old[3] == stat.st_mtime_ns:
            changes.entries[rel] = old
            continue
        try:
            with open(path, "rb") as handle:
                sha = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            continue
        if old and old[1] == sha:
            changes.entries[rel] = [old[0], sha, stat.st_size, stat.st_mtime_ns, old[4]]
            continue
        article = load_article(root, rel, Path(path), problems)
        if article is None:
            continue
        touched.append(rel)
        changes.entries[rel] = [article.slug, article.sha, stat.st_size, stat.st_mtime_ns,
                                article.draft]
        if old and old[0] != article.slug:
            changes.removed.append(old[0])
        if article.draft:
            if old and not old[4]:
                changes.removed.append(article.slug)
        else:
            changes.changed.append(article)
    gone = [rel for rel in known if rel not in changes.entries]
    for rel in gone:
        if not known[rel][4]:
            changes.removed.append(known[rel][0])
    # Two files with the same name share a slug only after load_tree's renaming: when
    # a change touches such a file (or creates a clash), leave it to a full build.
    for rel in touched + gone:
        entry = known.get(rel)
        if entry and entry[0] != slugify(Path(rel).stem):
            return None
    if touched:
        slugs = Counter(entry[0] for entry in changes.entries.values())
        if any(slugs[changes.entries[rel][0]] > 1 for rel in touched):
            return None
    return changes


def update_changed(engine: SearchEngine, root: Path, wait: float = 0.0) -> IndexReport:
    """Re-index only what changed since the last build (a full build if there is none)."""
    with engine.build_lock(wait):
        started = time.perf_counter()
        manifest = engine.manifest()
        if (manifest is None or manifest.get("version") != MANIFEST_VERSION
                or manifest.get("root") != str(root.resolve())):
            return _build_locked(engine, root)
        changes = detect_changes(root, manifest)
        if changes is None:
            return _build_locked(engine, root)
        total = sum(1 for entry in changes.entries.values() if not entry[4])
        if not changes.changed and not changes.removed:
            return IndexReport("unchanged", 0, 0, total, time.perf_counter() - started)
        removed = list(dict.fromkeys(changes.removed))
        try:
            engine.update([from_article(a) for a in changes.changed], removed,
                          _manifest(root, changes.entries))
        except IndexCorrupt as exc:  # a damaged live index cannot be updated: replace it
            log.error("updating the search index failed; building it again in full: %s", exc)
            return _build_locked(engine, root)
        return IndexReport("changed", len(changes.changed), len(removed), total,
                           time.perf_counter() - started)


"""Writing a Whoosh generation: a full build in several processes, or an update in place.

Whoosh indexes about 100 articles a second per process, so large builds are
split: each worker process writes one segment of the new generation, and
the parent commits one table of contents listing all of them (the same
thing Whoosh's MultiSegmentWriter does, with our own process pool so it
works from any thread and with the "spawn" start method).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from whoosh import index
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from portal.search.engine import IndexDocument
from portal.search.spelling import Vocabulary, document_words, read_counts, write_counts
from portal.search.whoosh_schema import fields_of, make_schema

MANIFEST = "manifest.json"
VOCABULARY = "vocabulary.txt"
VOCABULARY_DELTA = "vocabulary-delta.txt"
TITLES = "titles.json"
PARALLEL_MIN_DOCUMENTS = 1500  # below this, starting processes costs more than it saves
WRITER_MEMORY_MB = 256


def words_of_document(doc: IndexDocument) -> set[str]:
    return document_words(doc.title, doc.summary, doc.headings, doc.text,
                          *doc.tags, *doc.aliases)


def default_processes() -> int:
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


def _write_segment(directory: str, documents: Sequence[IndexDocument]):
    """Worker process: write one segment of the generation; return it and its words."""
    ix = index.open_dir(directory)
    writer = SegmentWriter(ix, _lk=False, limitmb=WRITER_MEMORY_MB)
    words: Counter[str] = Counter()
    for doc in documents:
        writer.add_document(**fields_of(doc))
        words.update(words_of_document(doc))
    segment = writer._finalize_segment()
    # No writer._finish(): it deletes the temporary folder the other workers still
    # use; the parent's writer removes it once every segment is written.
    return segment, words


def write_full(directory: Path, documents: Sequence[IndexDocument], processes: int) -> Vocabulary:
    """A complete index of `documents` in an empty directory."""
    ix = index.create_in(str(directory), make_schema())
    processes = min(processes, max(1, len(documents) // (PARALLEL_MIN_DOCUMENTS // 2)))
    words: Counter[str] = Counter()
    if processes > 1 and len(documents) >= PARALLEL_MIN_DOCUMENTS:
        size = -(-len(documents) // processes)
        chunks = [documents[i:i + size] for i in range(0, len(documents), size)]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(len(chunks), mp_context=context) as pool:
            results = list(pool.map(_write_segment, [str(directory)] * len(chunks), chunks))
        writer = SegmentWriter(ix)
        writer._close_segment()
        writer._commit_toc([segment for segment, _ in results])
        writer._finish()
        for _, counts in results:
            words.update(counts)
    else:
        writer = ix.writer(limitmb=WRITER_MEMORY_MB)
        for doc in documents:
            writer.add_document(**fields_of(doc))
            words.update(words_of_document(doc))
        writer.commit()
    ix.close()
    titles = {doc.slug: doc.title for doc in documents}
    write_json(directory / TITLES, titles)
    vocabulary = Vocabulary(dict(words))
    vocabulary.save(directory / VOCABULARY)
    return vocabulary


def write_update(directory: Path, changed: Sequence[IndexDocument], removed: Sequence[str]) -> None:
    """Apply changes to a cloned generation (its files are shared: only add new ones)."""
    ix = FileStorage(str(directory), supports_mmap=False).open_index()
    writer = ix.writer(limitmb=64)
    try:
        for slug in removed:
            writer.delete_by_term("slug", slug)
        for doc in changed:
            writer.update_document(**fields_of(doc))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    ix.close()
    titles = read_json(directory / TITLES) or {}
    for slug in removed:
        titles.pop(slug, None)
    titles.update({doc.slug: doc.title for doc in changed})
    write_json(directory / TITLES, titles)
    # New words go to a small delta file (the full vocabulary file stays shared with the
    # previous generation); the next full build folds them in. Counts of a changed
    # article's old words are not taken back: they only steer spelling suggestions.
    delta = read_counts(directory / VOCABULARY_DELTA) if (
        directory / VOCABULARY_DELTA).is_file() else {}
    for doc in changed:
        for word in words_of_document(doc):
            delta[word] = delta.get(word, 0) + 1
    write_counts(directory / VOCABULARY_DELTA, delta)


def write_json(path: Path, data) -> None:
    """Write to a new file and rename it over the old one: never change a shared file."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None

"""Relevance bench: the portal's search service against SQLite FTS5 BM25 on Cranfield 1400.

    .venv/bin/python bench/relevance.py [--corpus DIR]

Writes the 1,400 abstracts as Markdown articles in a temporary folder,
builds the portal's index with its own indexer, runs the 225 queries through
the same SearchService the results page and the API use, and runs the same
documents and queries through SQLite FTS5 (porter tokenizer, bm25(), words
OR-ed) in the same run. Each query is run as written and with one
deterministic typo. Prints nDCG@10 (gain = 5 - grade) and MAP@100 (any
judged document is relevant).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "cranfield"
KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
TYPO_SKIP = {"which", "what", "there", "their", "these", "those", "about", "would", "should",
             "could", "where", "being", "been", "have", "with", "from", "that", "this"}


# -- the collection --------------------------------------------------------------
def read_fields(path: Path) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    field = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        marker = re.match(r"^\.([ITABW])\b\s*(.*)$", line)
        if marker:
            field = marker.group(1)
            if field == "I":
                records.append({"I": marker.group(2).strip()})
            else:
                records[-1].setdefault(field, "")
            continue
        if field and records:
            records[-1][field] = (records[-1].get(field, "") + " " + line.strip()).strip()
    return records


def read_judgments(path: Path) -> dict[int, dict[int, int]]:
    qrels: dict[int, dict[int, int]] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        query, doc, grade = int(parts[0]), int(parts[1]), int(parts[2])
        if 1 <= grade <= 4:
            qrels.setdefault(query, {})[doc] = 5 - grade
    return qrels


def write_articles(docs: list[dict[str, str]], folder: Path) -> None:
    target = folder / "cranfield"
    target.mkdir(parents=True)
    for doc in docs:
        number = int(doc["I"])
        body = doc.get("W", "")
        title = doc.get("T", "").rstrip(" .") or " ".join(body.split()[:8])
        (target / f"doc-{number:04d}.md").write_text(
            f"---\ntitle: {json.dumps(title)}\n---\n\n{body}\n", encoding="utf-8")


def typo(text: str, seed: int) -> str:
    """One deterministic, human-looking typo in one of the query's longer words."""
    rng = random.Random(seed)
    words = text.split()
    candidates = [i for i, w in enumerate(words)
                  if len(w) >= 5 and w.isalpha() and w.lower() not in TYPO_SKIP]
    if not candidates:
        return text
    index = rng.choice(candidates)
    word = words[index]
    at = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["delete", "swap", "replace", "insert"])
    if kind == "delete":
        word = word[:at] + word[at + 1:]
    elif kind == "swap":
        word = word[:at] + word[at + 1] + word[at] + word[at + 2:]
    else:
        row = next((r for r in KEYBOARD if word[at] in r), KEYBOARD[0])
        pos = row.find(word[at])
        near = [row[p] for p in (pos - 1, pos + 1) if 0 <= p < len(row)] or ["e"]
        letter = rng.choice(near)
        word = word[:at] + letter + word[at + 1:] if kind == "replace" else (
            word[:at] + letter + word[at:])
    words[index] = word
    return " ".join(words)


# -- metrics ----------------------------------------------------------------------
def ndcg_at(ranked: list[int], gains: dict[int, int], k: int = 10) -> float:
    dcg = sum(gains.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def average_precision(ranked: list[int], gains: dict[int, int], k: int = 100) -> float:
    hits, total = 0, 0.0
    for i, doc in enumerate(ranked[:k]):
        if doc in gains:
            hits += 1
            total += hits / (i + 1)
    return total / len(gains) if gains else 0.0


def evaluate(run, queries, qrels) -> tuple[float, float, float]:
    ndcg, ap, elapsed = [], [], []
    for number, text in queries:
        started = time.perf_counter()
        ranked = run(text)
        elapsed.append(time.perf_counter() - started)
        ndcg.append(ndcg_at(ranked, qrels.get(number, {})))
        ap.append(average_precision(ranked, qrels.get(number, {})))
    n = len(queries)
    return sum(ndcg) / n, sum(ap) / n, 1000 * sorted(elapsed)[n // 2]


# -- the two systems ---------------------------------------------------------------
def fts5_runner(docs: list[dict[str, str]]):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter')")
    db.executemany("INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)",
                   [(int(d["I"]), d.get("T", ""), d.get("W", "")) for d in docs])

    def run(text: str) -> list[int]:
        words = re.findall(r"\w+", text.lower())
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        rows = db.execute("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) "
                          "LIMIT 100", (match,))
        return [row[0] for row in rows]

    return run


def portal_runner(folder: Path, index_dir: Path):
    from flask_migrate import upgrade

    from portal import create_app
    from portal.config import PROJECT_ROOT
    from portal.search import indexer
    from portal.search.service import get_service

    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "ARTICLES_DIR": folder, "INDEX_DIR": index_dir,
        "INSTANCE_PATH": str(folder.parent / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder.parent / 'bench.db'}",
    })
    context = app.app_context()
    context.push()
    upgrade(directory=str(PROJECT_ROOT / "migrations"), revision="heads")
    service = get_service(app)
    started = time.perf_counter()
    report = indexer.build(service.engine, folder)
    print(f"portal index: {report.indexed} documents in {time.perf_counter() - started:.1f} s")

    def run(text: str) -> list[int]:
        page = service.search(text, per_page=100)
        return [int(item.article.slug.rpartition("-")[2]) for item in page.items]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    docs = read_fields(args.corpus / "cran.all.1400")
    raw_queries = read_fields(args.corpus / "cran.qry")
    qrels = read_judgments(args.corpus / "cranqrel")
    queries = [(n, q.get("W", "")) for n, q in enumerate(raw_queries, start=1)]
    typos = [(n, typo(text, n)) for n, text in queries]
    changed = sum(a != b for (_, a), (_, b) in zip(queries, typos, strict=True))
    print(f"Cranfield: {len(docs)} documents, {len(queries)} queries, "
          f"{sum(len(v) for v in qrels.values())} judgments; {changed} queries got a typo")
    with tempfile.TemporaryDirectory(prefix="relevance-") as tmp:
        folder = Path(tmp) / "articles"
        write_articles(docs, folder)
        systems = {"SQLite FTS5 bm25 (porter)": fts5_runner(docs),
                   "portal search service": portal_runner(folder, Path(tmp) / "index")}
        scores = {}
        for name, run in systems.items():
            for label, qs in (("clean", queries), ("typo", typos)):
                scores[name, label] = evaluate(run, qs, qrels)
    print()
    print(f"{'system':28} {'queries':7} {'nDCG@10':>8} {'MAP@100':>8} {'p50 ms':>7}")
    for (name, label), (ndcg, ap, p50) in scores.items():
        print(f"{name:28} {label:7} {ndcg:8.4f} {ap:8.4f} {p50:7.1f}")
    base, ours = scores["SQLite FTS5 bm25 (porter)", "clean"], scores["portal search service",
                                                                      "clean"]
    ours_typo = scores["portal search service", "typo"]
    ratio = ours[0] / base[0]
    loss = 1 - ours_typo[0] / ours[0]
    print()
    print(f"nDCG@10 portal / FTS5 (clean): {ratio:.3f}x  (target >= 1.10x) "
          f"{'PASS' if ratio >= 1.10 else 'FAIL'}")
    print(f"MAP@100 portal / FTS5 (clean): {ours[1] / base[1]:.3f}x")
    print(f"nDCG@10 lost to typos: {100 * loss:.1f}%  (target <= 15%) "
          f"{'PASS' if loss <= 0.15 else 'FAIL'}")
    fts_loss = 1 - scores["SQLite FTS5 bm25 (porter)", "typo"][0] / base[0]
    print(f"(FTS5 loses {100 * fts_loss:.1f}% with the same typos)")


if __name__ == "__main__":
    main()

"""Relevance bench: the portal's search against baselines run beside it, on two collections.

    .venv/bin/python bench/relevance.py [--only cranfield|help-center] [--misses]
        [--corpus DIR] [--help-center DIR --questions FILE]

Cranfield 1400: the abstracts are written as Markdown articles in a temporary
folder, indexed by the portal's own indexer and searched through the same
SearchService the results page and the API use; the same documents and
queries go through SQLite FTS5 (porter tokenizer, bm25(), words OR-ed) in
the same run. Each query is run as written and with one deterministic typo.
Prints nDCG@10 (gain = 5 - grade) and MAP@100 (any judged document is
relevant).

A real help center (default: the SparkPost articles in shared/corpora, with
the questions in bench/data/sparkpost-questions.jsonl): the articles are
copied as published and searched by the portal, by the stock Whoosh set-up
(StemmingAnalyzer, title field_boost 2, OrGroup.factory(0.9)) and by FTS5,
all in the same run. Prints success@1, success@3 and MRR@10 against the
targets. Any other help center can be measured with --help-center and
--questions (one JSON object a line: q, kind, answers as relative paths).
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
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "cranfield"
DEFAULT_HELP_CENTER = ROOT.parent / "shared" / "corpora" / "sparkpost-help"
DEFAULT_QUESTIONS = ROOT / "bench" / "data" / "sparkpost-questions.jsonl"
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



def stock_whoosh_runner(docs: list[tuple[str, str, str]], folder: Path):
    """The stock set-up: StemmingAnalyzer, title field_boost 2, OrGroup.factory(0.9)."""
    from whoosh import index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.qparser import MultifieldParser, OrGroup

    schema = Schema(key=ID(stored=True, unique=True),
                    title=TEXT(analyzer=StemmingAnalyzer(), field_boost=2.0),
                    body=TEXT(analyzer=StemmingAnalyzer()))
    folder.mkdir(parents=True)
    ix = index.create_in(str(folder), schema)
    writer = ix.writer()
    for key, title, body in docs:
        writer.add_document(key=key, title=title, body=body)
    writer.commit()
    parser = MultifieldParser(["title", "body"], schema, group=OrGroup.factory(0.9))
    searcher = ix.searcher()

    def run(text: str) -> list[str]:
        words = re.findall(r"\w+", text)
        if not words:
            return []
        query = parser.parse(" ".join(words))
        return [hit["key"] for hit in searcher.search(query, limit=100)]

    return run


def fts5_text_runner(docs: list[tuple[str, str, str]]):
    """FTS5 BM25 (porter), words OR-ed, over (key, title, body)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(key UNINDEXED, title, body, "
               "tokenize='porter')")
    db.executemany("INSERT INTO docs(key, title, body) VALUES (?, ?, ?)", docs)

    def run(text: str) -> list[str]:
        words = re.findall(r"\w+", text.lower())
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        rows = db.execute("SELECT key FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) "
                          "LIMIT 100", (match,))
        return [row[0] for row in rows]

    return run


def portal_runner(folder: Path, workdir: Path):
    """The portal's own indexer and SearchService (what the results page and API use).

    Returns run(text) -> article paths relative to `folder`, best first.
    """
    from flask_migrate import upgrade

    from portal import create_app
    from portal.config import PROJECT_ROOT
    from portal.search import indexer
    from portal.search.service import get_service

    workdir.mkdir(parents=True, exist_ok=True)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "ARTICLES_DIR": folder,
        "INDEX_DIR": workdir / "index", "INSTANCE_PATH": str(workdir / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}",
    })
    context = app.app_context()
    context.push()
    upgrade(directory=str(PROJECT_ROOT / "migrations"), revision="heads")
    service = get_service(app)
    started = time.perf_counter()
    report = indexer.build(service.engine, folder)
    print(f"portal index of {folder.name}: {report.indexed} documents in "
          f"{time.perf_counter() - started:.1f} s")
    context.pop()

    def run(text: str) -> list[str]:
        with app.app_context():
            page = service.search(text, per_page=100)
        return [item.article.path for item in page.items]

    return run


# -- Cranfield ---------------------------------------------------------------------
def cranfield(corpus: Path, tmp: Path) -> dict[str, float]:
    docs = read_fields(corpus / "cran.all.1400")
    raw_queries = read_fields(corpus / "cran.qry")
    qrels = read_judgments(corpus / "cranqrel")
    queries = [(n, q.get("W", "")) for n, q in enumerate(raw_queries, start=1)]
    typos = [(n, typo(text, n)) for n, text in queries]
    changed = sum(a != b for (_, a), (_, b) in zip(queries, typos, strict=True))
    print(f"Cranfield: {len(docs)} documents, {len(queries)} queries, "
          f"{sum(len(v) for v in qrels.values())} judgments; {changed} queries got a typo")
    folder = tmp / "cranfield-articles"
    write_articles(docs, folder)
    portal = portal_runner(folder, tmp / "cranfield-portal")
    systems = {"SQLite FTS5 bm25 (porter)": fts5_runner(docs),
               "portal search service": lambda text: [
                   int(path.rpartition("-")[2].removesuffix(".md")) for path in portal(text)]}
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
    return {"ratio": ratio, "typo_loss": loss}


# -- a real help center --------------------------------------------------------------
def read_help_center(corpus: Path) -> list[tuple[str, str, str]]:
    """(relative path, title, Markdown body) of every article, as the baselines see them."""
    import yaml

    docs = []
    for path in sorted(corpus.rglob("*.md")):
        rel = path.relative_to(corpus).as_posix()
        if rel.upper() == "README.MD" or any(p.startswith((".", "_")) for p in rel.split("/")):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        title, body = "", text
        if text.startswith("---"):
            head, sep, rest = text[3:].partition("\n---")
            if sep:
                try:
                    meta = yaml.safe_load(head) or {}
                except yaml.YAMLError:
                    meta = {}
                title = str(meta.get("title", "")) if isinstance(meta, dict) else ""
                body = rest.partition("\n")[2]
        docs.append((rel, title or path.stem.replace("-", " "), body))
    return docs


def read_questions(path: Path) -> list[dict]:
    questions = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    for q in questions:
        q["answers"] = set(q["answers"])
    return questions


def success_scores(run, questions: list[dict]) -> dict[str, float]:
    s1 = s3 = rr = 0.0
    misses = []
    for q in questions:
        ranked = run(q["q"])[:10]
        rank = next((i for i, key in enumerate(ranked, start=1) if key in q["answers"]), None)
        if rank is not None:
            s1 += rank == 1
            s3 += rank <= 3
            rr += 1 / rank
        if rank is None or rank > 3:
            misses.append((q["q"], rank, ranked[:3]))
    n = len(questions) or 1
    return {"s@1": s1 / n, "s@3": s3 / n, "mrr": rr / n, "misses": misses}


def help_center(corpus: Path, questions_path: Path, tmp: Path, show_misses: bool) -> bool:
    docs = read_help_center(corpus)
    questions = read_questions(questions_path)
    known = {rel for rel, _t, _b in docs}
    unknown = sorted({a for q in questions for a in q["answers"]} - known)
    if unknown:
        raise SystemExit(f"answers not in the collection: {unknown}")
    kinds = Counter(q.get("kind", "?") for q in questions)
    print(f"\nHelp center {corpus.name}: {len(docs)} articles, {len(questions)} questions "
          f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})")
    folder = tmp / corpus.name
    for rel, _title, _body in docs:
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((corpus / rel).read_bytes())
    systems = {
        "SQLite FTS5 bm25 (porter)": fts5_text_runner(docs),
        "stock Whoosh set-up": stock_whoosh_runner(docs, tmp / "stock-whoosh"),
        "portal search service": portal_runner(folder, tmp / "help-portal"),
    }
    results = {name: success_scores(run, questions) for name, run in systems.items()}
    print(f"\n{'system':28} {'success@1':>9} {'success@3':>9} {'MRR@10':>7}")
    for name, r in results.items():
        print(f"{name:28} {r['s@1']:9.3f} {r['s@3']:9.3f} {r['mrr']:7.3f}")
    by_kind = {}
    for kind in sorted(kinds):
        subset = [q for q in questions if q.get("kind") == kind]
        by_kind[kind] = {name: success_scores(run, subset) for name, run in systems.items()}
    print(f"\n{'by kind (success@3 / MRR@10)':28} " + " ".join(f"{k:>16}" for k in by_kind))
    for name in systems:
        cells = [f"{by_kind[k][name]['s@3']:.3f} / {by_kind[k][name]['mrr']:.3f}"
                 for k in by_kind]
        print(f"{name:28} " + " ".join(f"{c:>16}" for c in cells))
    ours, stock = results["portal search service"], results["stock Whoosh set-up"]
    ahead = all(ours[k] > stock[k] for k in ("s@1", "s@3", "mrr"))
    meets = ours["s@3"] >= 0.93 and ours["mrr"] >= 0.85
    print()
    print(f"portal success@3 {ours['s@3']:.3f} (target >= 0.93), MRR@10 {ours['mrr']:.3f} "
          f"(target >= 0.85): {'PASS' if meets else 'FAIL'}")
    print(f"portal ahead of the stock set-up on every figure: {'PASS' if ahead else 'FAIL'}")
    if show_misses:
        print("\nportal: answer not in the top 3")
        for text, rank, top in ours["misses"]:
            print(f"  {text!r}: rank {rank}; top {top}")
    return meets and ahead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="the Cranfield folder")
    parser.add_argument("--help-center", type=Path, default=DEFAULT_HELP_CENTER,
                        help="a folder of Markdown help articles")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS,
                        help="JSON lines: q, kind, answers (paths in the help center)")
    parser.add_argument("--only", choices=["cranfield", "help-center"])
    parser.add_argument("--misses", action="store_true",
                        help="list the help-center questions the portal misses")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relevance-") as tmp:
        if args.only != "help-center":
            cranfield(args.corpus, Path(tmp))
        if args.only != "cranfield":
            help_center(args.help_center, args.questions, Path(tmp), args.misses)


if __name__ == "__main__":
    main()

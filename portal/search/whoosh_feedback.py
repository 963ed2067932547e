"""Pseudo-relevance feedback for questions: borrow words from the best few answers.

A question typed in full ("why do my load tickets not show up on the
project") often uses other words than the article that answers it. When the
query has several content words, the words that characterise the top three
results are added at a small weight and the candidates are scored again
(RM3 with few feedback documents: a help center has few right answers per
question, so looking deeper mostly adds noise). Short keyword queries are
left alone.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

from whoosh.searching import Searcher

from portal.search.whoosh_rank import COMMON_SHARE, FIELD_WEIGHTS, Plan, PlannedTerm
from portal.search.whoosh_schema import ANALYZER

FEEDBACK_DOCS = 3
FEEDBACK_TERMS = 10
FEEDBACK_WEIGHT = 0.3  # share of the query's weight given to borrowed words
MIN_QUERY_TERMS = 3  # only for queries with at least this many content words
MAX_TEXT = 2_000  # characters read from each answer (its opening says what it is about)


def applies(p: Plan) -> bool:
    return len(p.terms) >= MIN_QUERY_TERMS


def expand(p: Plan, searcher: Searcher, ranked: list[tuple[int, float]]) -> Plan | None:
    """The plan with borrowed words added, or None when nothing worth adding was found."""
    top = ranked[:FEEDBACK_DOCS]
    if not top:
        return None
    best = max(score for _d, score in top) or 1.0
    model: Counter[str] = Counter()
    for docnum, score in top:
        stored = searcher.stored_fields(docnum)
        text = f"{stored.get('title', '')}\n{stored.get('body', '')[:MAX_TEXT]}"
        counts = Counter(token.text for token in ANALYZER(text))
        length = sum(counts.values())
        if not length:
            continue
        for stem, count in counts.items():
            model[stem] += (score / best) * count / length
    typed = {t.stem for t in p.all_terms}
    reader = searcher.reader()
    total = max(searcher.doc_count(), 1)
    borrowed: list[tuple[str, float, int]] = []
    for stem, value in model.most_common(FEEDBACK_TERMS * 20):
        if stem in typed or len(stem) < 3 or not stem.isalpha():
            continue
        df = max(reader.doc_frequency(f, stem) for f in FIELD_WEIGHTS)
        if df < 2 or df > COMMON_SHARE * total:
            continue
        borrowed.append((stem, value, df))
        if len(borrowed) >= FEEDBACK_TERMS:
            break
    if not borrowed:
        return None
    mass = sum(value for _s, value, _df in borrowed)
    said = sum(t.count for t in p.all_terms)
    keep = 1 - FEEDBACK_WEIGHT
    extra = [PlannedTerm(stem, math.log(1 + (total - df + 0.5) / (df + 0.5)),
                         FEEDBACK_WEIGHT * said * value / mass, expansion=True)
             for stem, value, df in borrowed]
    return replace(
        p,
        terms=[replace(t, count=t.count * keep) for t in p.terms] + extra,
        common=[replace(t, count=t.count * keep) for t in p.common],
    )

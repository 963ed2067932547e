"""Ranking on Whoosh: plan the query, fetch candidates with BM25, rerank the best ones.

1. Plan: stem the words, correct the ones the index does not know, drop
   question words ("how do I ...") when other words remain.
2. Candidates: OR of the terms over all the text and the title, scored by
   Whoosh's BM25. Terms found in a large share of the articles only add to
   the score of articles that match a rarer term (they cannot pull in half
   the index).
3. Rerank the top candidates from the postings of the query's terms, read
   for those documents only: BM25F over the weighted fields (title, tags
   and old slugs, summary and headings, body), a bonus for covering more of
   the query (weighted by how rare each word is, strongest for short
   queries), for the query's words in the title (a help-center title names
   the task it answers), for query words close together and for quoted phrases. An
   article whose title (or old slug) is exactly the query comes first.
   Questions of three or more words then borrow words from the best three
   answers (whoosh_feedback.py) and are scored again. The stored character
   offsets read here also give the snippets, without re-tokenising.
"""

from __future__ import annotations

import bisect
import math
import threading
import weakref
from collections import Counter
from dataclasses import dataclass, field

from whoosh.query import And, AndMaybe, Query, Term
from whoosh.query.compound import DefaultOr as Or
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher

from portal.search import english, synonyms
from portal.search.engine import UserQuery
from portal.search.expansion import Vocabularies
from portal.search.query import WORD
from portal.search.spelling import Vocabulary
from portal.search.whoosh_compounds import compound_alternatives
from portal.search.whoosh_correct import correct
from portal.search.whoosh_schema import FIELD_WEIGHTS, exact_key, make_schema, stems_of

# Words that make a question a question but say nothing about the topic (the last line:
# negations typed without an apostrophe; "can't" is cut into "can" and "t").
QUESTION_WORDS = frozenset("""
a about am an any are at be been being can could did do does doing done for from get getting
had has have having here how i i'm im is it its me my myself of on please should that the
there these this those to was we were what whats when where which who whom whose why will
with would you your
cannot cant couldnt didnt doesnt dont hasnt havent isnt wasnt werent wont wouldnt
""".split())

MAX_CORRECTIONS = 6  # unknown words looked up per query (a pasted log has hundreds)
COMMON_SHARE = 0.3  # a term in more than this share of articles is "common"
COMMON_MIN_DOCS = 200  # ...only in indexes at least this big
# Candidates come from all the text at once plus the title: two posting lists per word
# instead of one per field (a third less time); the rerank then weighs each field.
CANDIDATE_FIELDS = {"anytext": 1.0, "title": 2.0}
RERANK_DEPTH = 100
COORDINATION = 0.6  # how much of the score depends on covering the query
COVERAGE_POWER = 2.0
SHORT_QUERY = 3  # longer questions rarely share all their words with the answer
PROXIMITY = 0.25  # bonus for query words next to each other
TITLE_MATCH = 0.5  # bonus for the query's words in the title (idf-weighted share, squared)
PHRASE = 0.5  # bonus for each quoted phrase found as typed
PROXIMITY_WINDOW = 8
MAX_COUNTED_WORDS = 100
COMPOUND = 1.0  # "warm-up" for "warmup": the same word
SYNONYM_DF = 0.8  # a term's rarity is its synonyms' too (a word no article uses is no rarer)
DESCRIBED = 1.0  # coverage counts what the title, tags, summary and headings say
BM25_K1 = 1.2
BM25_B = 0.75


_SCHEMA = make_schema()
TITLE_FORMAT = _SCHEMA["title"].format
BODY_FORMAT = _SCHEMA["body"].format


@dataclass
class PlannedTerm:
    stem: str
    idf: float
    count: float = 1.0  # times the query says it (in any form): "flow ... flows" counts twice
    expansion: bool = False  # added by feedback, not typed
    # Other ways of saying it (synonyms, related terms): stems of each, with a weight.
    alternatives: tuple[tuple[tuple[str, ...], float], ...] = ()

    def matches(self, stems: set[str] | dict) -> bool:
        """True when the stem, or every stem of one of its alternatives, is among these."""
        return self.stem in stems or any(all(s in stems for s in alt)
                                         for alt, _w in self.alternatives)


@dataclass
class Plan:
    terms: list[PlannedTerm]
    common: list[PlannedTerm]
    phrases: list[list[str]]
    exact: str  # normalised text an exact title or alias must equal
    corrected: str | None = None
    corrections: dict[str, str] = field(default_factory=dict)

    @property
    def all_terms(self) -> list[PlannedTerm]:
        return self.terms + self.common

    def evidence_stems(self) -> list[str]:
        """Every stem whose postings ranking reads: the terms' and their alternatives'."""
        stems = {t.stem: None for t in self.all_terms}
        for term in self.all_terms:
            stems.update((s, None) for alt, _w in term.alternatives for s in alt)
        return list(stems)


def plan(query: UserQuery, searcher: Searcher, vocabulary: Vocabulary,
         vocabularies: Vocabularies | None = None) -> Plan:
    reader = searcher.reader()
    suspects = [w for w in query.words
                if w not in QUESTION_WORDS and w.isalpha() and w not in vocabulary
                and w not in synonyms.SINGLE and not english.is_common(w)][:MAX_CORRECTIONS]
    corrections, unfixed = correct(query, suspects, searcher, vocabulary, QUESTION_WORDS)
    words = [corrections.get(w, w) for w in query.words]
    # "log in" and "sign in" are one word from here on (as they are in the index).
    sequence = synonyms.merge(corrections.get(w, w)
                              for w in query.normalized.split()[:MAX_COUNTED_WORDS])
    merged = list(dict.fromkeys(sequence))[:max(len(words), 1)]
    content = [w for w in merged if w not in QUESTION_WORDS]
    chosen = content or merged
    stems = list(dict.fromkeys(s for w in chosen for s in stems_of(w)))
    said = set(chosen)
    counts = Counter(s for w in sequence if w in said for s in stems_of(w))
    total = max(searcher.doc_count(), 1)
    alternatives = _alternatives(sequence, said, vocabularies, searcher, vocabulary)
    planned, common = [], []
    for stem in stems:
        alts = tuple(alternatives.get(stem, {}).items())
        df = max([reader.doc_frequency("anytext", stem)]
                 + [min(reader.doc_frequency("anytext", s) for s in alt) for alt, w in alts
                    if w >= SYNONYM_DF])
        term = PlannedTerm(stem, math.log(1 + (total - df + 0.5) / (df + 0.5)),
                           max(1, counts[stem]), alternatives=alts)
        is_common = total >= COMMON_MIN_DOCS and df > COMMON_SHARE * total
        (common if is_common else planned).append(term)
    if not planned:
        planned, common = common, []
    phrases = []
    for phrase in query.phrases:
        fixed = synonyms.merge(corrections.get(w, w) for w in phrase)
        phrase_stems = [s for w in fixed for s in stems_of(w)]
        if len(phrase_stems) > 1:
            phrases.append(phrase_stems)
    corrected = None
    # Offer "Did you mean" only when it fixes every misspelt word: half a correction
    # ("password resett") reads as if the portal knew no better.
    if corrections and not unfixed:
        corrected = WORD.sub(lambda m: corrections.get(m.group(0).lower(), m.group(0)),
                             query.text)
    return Plan(planned, common, phrases, exact_key(" ".join(words)), corrected, corrections)


def _term_group(stem: str, boost: float = 1.0) -> Query:
    return Or([Term(f, stem, boost=w * boost) for f, w in CANDIDATE_FIELDS.items()])


def _alternatives(sequence: list[str], said: set[str], vocabularies: Vocabularies | None,
                  searcher: Searcher, vocabulary: Vocabulary,
                  ) -> dict[str, dict[tuple[str, ...], float]]:
    """For each stem of the query's chosen words, the other ways of saying it, as stems:
    synonyms and related terms, and the same compound written together or apart."""
    found: dict[str, dict[tuple[str, ...], float]] = {}
    others = [(start, size, stems, COMPOUND)
              for start, size, stems in compound_alternatives(sequence, searcher, vocabulary)]
    if vocabularies is not None:
        others += [(alt.start, alt.size, tuple(s for w in alt.words for s in stems_of(w)),
                    alt.weight) for alt in vocabularies.alternatives(sequence)]
    for start, size, alt_stems, weight in others:
        if not alt_stems:
            continue
        for word in sequence[start:start + size]:
            if word not in said:
                continue
            for stem in stems_of(word):
                if stem in alt_stems:
                    continue
                known = found.setdefault(stem, {})
                known[alt_stems] = max(known.get(alt_stems, 0.0), weight)
    return found


def _alternative_group(stems: tuple[str, ...], boost: float) -> Query:
    if len(stems) == 1:
        return _term_group(stems[0], boost)
    return And([_term_group(s, boost) for s in stems])


def _concept_group(term: PlannedTerm) -> Query:
    if not term.alternatives:
        return _term_group(term.stem)
    return Or([_term_group(term.stem)]
              + [_alternative_group(alt, w) for alt, w in term.alternatives])


def candidate_query(p: Plan, extra: list[tuple[str, float]] | None = None) -> Query:
    """BM25F over the weighted fields; common terms only score, never match alone."""
    groups = [_concept_group(t) for t in p.terms]
    groups += [_term_group(stem, boost) for stem, boost in (extra or [])]
    main: Query = Or(groups)
    if p.common:
        main = AndMaybe(main, Or([_concept_group(t) for t in p.common]))
    return main


@dataclass
class Evidence:
    """Where the query's terms occur in one article."""

    present: set[str] = field(default_factory=set)
    described: set[str] = field(default_factory=set)  # in the title, tags, summary or headings
    weighted_tf: dict[str, float] = field(default_factory=dict)  # length-normalised, BM25F
    # Raw posting values, decoded only when needed (most candidates never are).
    title_raw: dict[str, bytes] = field(default_factory=dict)
    body_raw: dict[str, bytes] = field(default_factory=dict)

    decoded: dict[tuple[str, str], list] = field(default_factory=dict)

    def title_positions(self, stem: str) -> list[int]:
        raw = self.title_raw.get(stem)
        return TITLE_FORMAT.decode_positions(raw) if raw else []

    def body_occurrences(self, stem: str) -> list[tuple[int, int, int]]:
        """(position, start char, end char) of each occurrence in the body."""
        raw = self.body_raw.get(stem)
        return BODY_FORMAT.decode_characters(raw) if raw else []

    def body_positions(self, stem: str) -> list[int]:
        key = ("body", stem)
        found = self.decoded.get(key)
        if found is None:
            raw = self.body_raw.get(stem)
            found = self.decoded[key] = BODY_FORMAT.decode_positions(raw) if raw else []
        return found


_norm_caches: weakref.WeakKeyDictionary[Searcher, dict] = weakref.WeakKeyDictionary()
_norm_lock = threading.Lock()


def _norm_cache(searcher: Searcher) -> dict:
    """Per searcher (so per thread and generation): length norms already looked up."""
    with _norm_lock:
        cache = _norm_caches.get(searcher)
        if cache is None:
            reader = searcher.reader()
            count = max(reader.doc_count_all(), 1)
            cache = _norm_caches[searcher] = {
                "average": {f: (reader.field_length(f) / count) or 1.0 for f in FIELD_WEIGHTS}}
        return cache


def gather(searcher: Searcher, docnums: list[int], stems: list[str],
           evidence: dict[int, Evidence] | None = None) -> dict[int, Evidence]:
    """Read the postings of the query's terms for these documents only.

    Collects per document which terms occur, their BM25F pseudo-frequency (the
    field-weighted, length-normalised sum over fields), title positions and
    body character offsets. Adds to `evidence` when given.
    """
    evidence = {} if evidence is None else evidence
    for docnum in docnums:
        evidence.setdefault(docnum, Evidence())
    wanted = sorted(set(docnums))
    cache = _norm_cache(searcher)
    average = cache["average"]
    for reader, offset in searcher.reader().leaf_readers():
        end = offset + reader.doc_count_all()
        local = [d - offset for d in wanted if offset <= d < end]
        if not local:
            continue
        for fieldname, field_weight in FIELD_WEIGHTS.items():
            norms: dict[int, float] = cache.setdefault((offset, fieldname), {})
            for stem in stems:
                try:
                    matcher = reader.postings(fieldname, stem)
                except TermNotFound:
                    continue
                for docnum in local:
                    if not matcher.is_active():
                        break
                    if matcher.id() < docnum:
                        matcher.skip_to(docnum)
                        if not matcher.is_active():
                            break
                    if matcher.id() != docnum:
                        continue
                    found = evidence[docnum + offset]
                    found.present.add(stem)
                    if fieldname != "body":
                        found.described.add(stem)
                    norm = norms.get(docnum)
                    if norm is None:
                        length = reader.doc_field_length(docnum, fieldname, 0) or 1
                        norm = norms[docnum] = 1 - BM25_B + BM25_B * length / average[fieldname]
                    found.weighted_tf[stem] = (found.weighted_tf.get(stem, 0.0)
                                               + field_weight * matcher.weight() / norm)
                    if fieldname == "body":
                        found.body_raw[stem] = matcher.value()
                    elif fieldname == "title":
                        found.title_raw[stem] = matcher.value()
    return evidence


def bm25f(p: Plan, found: Evidence) -> float:
    score = 0.0
    tfs = found.weighted_tf
    for term in p.all_terms:
        tf = tfs.get(term.stem, 0.0)
        for alt, weight in term.alternatives:
            tf += weight * min(tfs.get(s, 0.0) for s in alt)
        if tf:
            score += term.count * term.idf * tf / (BM25_K1 + tf)
    return score


def _closeness(a: list[int], b: list[int]) -> float:
    """1 for adjacent words, falling with the square of the distance, 0 beyond the window."""
    i = j = 0
    best = PROXIMITY_WINDOW + 1
    while i < len(a) and j < len(b):
        gap = abs(a[i] - b[j])
        if gap < best:
            best = gap
            if best <= 1:
                break
        if a[i] < b[j]:
            i += 1
        else:
            j += 1
    return 0.0 if best > PROXIMITY_WINDOW or best == 0 else 1.0 / (best * best)


def _positions(found: Evidence, stem: str) -> tuple[list[int], list[int]]:
    return found.body_positions(stem), found.title_positions(stem)


def _has_phrase(found: Evidence, stems: list[str]) -> bool:
    for which in (0, 1):
        lists = [set(_positions(found, s)[which]) for s in stems]
        if all(lists) and any(all(p + k in lists[k] for k in range(1, len(lists)))
                              for p in lists[0]):
            return True
    return False


def rerank_score(p: Plan, relevance: float, top: float, found: Evidence) -> float:
    terms = [t for t in p.all_terms if not t.expansion]
    weight = sum(t.idf for t in terms) or 1.0
    covered = sum(t.idf for t in terms if t.matches(found.present)) / weight
    described = sum(t.idf for t in terms if t.matches(found.described)) / weight
    covered = (1 - DESCRIBED) * covered + DESCRIBED * described
    strength = COORDINATION * min(1.0, SHORT_QUERY / len(terms)) if terms else 0.0
    score = (relevance / top) * (1 - strength + strength * covered ** COVERAGE_POWER)
    ordered = [t for t in terms if t.stem in found.present]  # proximity of the typed words
    if len(ordered) > 1:
        pairs = list(zip(ordered, ordered[1:], strict=False))
        near = 0.0
        for left, right in pairs:
            lb, lt = _positions(found, left.stem)
            rb, rt = _positions(found, right.stem)
            near += (left.idf + right.idf) * max(_closeness(lb, rb), _closeness(lt, rt))
        score += PROXIMITY * near / (2 * weight)
    if TITLE_MATCH:
        in_title = sum(t.idf for t in terms if t.matches(found.title_raw)) / weight
        score += TITLE_MATCH * in_title ** 2
    if p.phrases:
        score += PHRASE * sum(_has_phrase(found, s) for s in p.phrases) / len(p.phrases)
    return score


def spans_for(p: Plan, found: Evidence) -> list[tuple[int, int, str, float]]:
    """Character spans to highlight: the query's own words, not feedback terms."""
    idf = {t.stem: t.idf for t in p.all_terms if not t.expansion}
    for term in p.all_terms:
        for alt, _w in term.alternatives:
            idf.update((s, term.idf) for s in alt if s not in idf)
    spans = []
    for stem in found.body_raw:
        if stem not in idf:
            continue
        occurrences = found.body_occurrences(stem)
        spans.extend((s, e, stem, idf.get(stem, 1.0)) for _p, s, e in occurrences[:60])
    return spans


def weak_words(query: UserQuery, p: Plan) -> list[str]:
    """Words worth matching loosely when the results are weak."""
    return [w for w in query.words
            if w not in QUESTION_WORDS and w not in p.corrections and w.isalpha()]


def loosen(query: UserQuery, p: Plan, vocabulary: Vocabulary,
           sorted_words: list[str]) -> list[tuple[str, float]]:
    """Extra stems for weak results: words one edit away, completions of the last word."""
    extra: dict[str, float] = {}
    known = {t.stem for t in p.all_terms}
    words = weak_words(query, p)
    for word in words:
        if 5 <= len(word) <= 24:
            near = sorted((c for c in vocabulary._edits(word) if c in vocabulary),
                          key=lambda c: -vocabulary.counts[c])[:6]
            for candidate in near:
                for stem in stems_of(candidate):
                    if stem not in known:
                        extra.setdefault(stem, 0.5)
    if words and len(words[-1]) >= 3 and query.words and words[-1] == query.words[-1]:
        prefix = words[-1]
        start = bisect.bisect_left(sorted_words, prefix)
        completions = []
        for candidate in sorted_words[start:start + 200]:
            if not candidate.startswith(prefix):
                break
            completions.append(candidate)
        completions.sort(key=lambda c: -vocabulary.counts[c])
        for candidate in completions[:8]:
            for stem in stems_of(candidate):
                if stem not in known:
                    extra.setdefault(stem, 0.6)
    return list(extra.items())


def order(p: Plan, scored: list[tuple[int, float]], evidence: dict[int, Evidence],
          exact: set[int], boosts: dict[int, float] | None = None) -> list[tuple[int, float]]:
    """Rerank the candidates (docnum, base score) that have evidence; keep the rest after."""
    if not scored:
        return []
    relevance = {d: bm25f(p, evidence[d]) for d, _s in scored if d in evidence}
    top = max(relevance.values(), default=0.0) or 1.0
    boosts = boosts or {}
    head = [(d, rerank_score(p, relevance[d], top, evidence[d]) + boosts.get(d, 0.0))
            for d in relevance]
    base_top = max(score for _d, score in scored) or 1.0
    tail = [(d, s / base_top) for d, s in scored if d not in evidence]
    head.sort(key=lambda item: (item[0] not in exact, -item[1]))
    return head + tail

"""The Whoosh schema: stemmed text fields weighted by where a word appears, filters, keys."""

from __future__ import annotations

from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from portal.search.engine import IndexDocument
from portal.search.query import words_of
from portal.search.synonyms import SynonymFilter

# One analyzer for indexing and querying: the default word pattern, lower case,
# one word for each set of synonyms ("log in" = "sign in"), English stop words,
# Porter stemming (with a large cache: stemming is the slowest step of indexing).
ANALYZER = (RegexTokenizer() | LowercaseFilter() | SynonymFilter() | StopFilter()
            | StemFilter(cachesize=200_000))

# How much a match counts depending on the field it is in. The title and the
# words an editor chose (tags, old slugs) say what the article is about; the
# summary and section headings less so; the body least.
FIELD_WEIGHTS: dict[str, float] = {
    "title": 3.0,
    "keywords": 2.5,
    "outline": 1.5,
    "body": 1.0,
}
POSITION_FIELDS = ("title", "body")  # positions kept for phrase and proximity bonuses


def stems_of(text: str) -> list[str]:
    """The index's terms for some text: what a query word is looked up as."""
    return [token.text for token in ANALYZER(text)]


def make_schema() -> Schema:
    return Schema(
        slug=ID(stored=True, unique=True),
        path=ID(stored=True),
        category=KEYWORD(stored=True, commas=True),  # the category and every parent
        title_key=KEYWORD(commas=True),  # normalised title and aliases: exact matches
        title=TEXT(analyzer=ANALYZER, stored=True, phrase=True),
        keywords=TEXT(analyzer=ANALYZER, phrase=False),
        outline=TEXT(analyzer=ANALYZER, phrase=False),
        # Character offsets are stored so snippets are cut without re-tokenising.
        body=TEXT(analyzer=ANALYZER, stored=True, phrase=True, chars=True),
        # Everything above in one field: finding candidates costs one posting list
        # per word instead of one per field.
        anytext=TEXT(analyzer=ANALYZER, phrase=False),
        summary=STORED(),
    )


ROOT_CATEGORY = "/"


def category_token(path: str) -> str:
    return path or ROOT_CATEGORY


def category_of(chain: str) -> str:
    """The category path back from a stored chain."""
    last = chain.split(",")[-1]
    return "" if last == ROOT_CATEGORY else last


def category_chain(path: str) -> list[str]:
    """'a/b/c' -> ['a', 'a/b', 'a/b/c']: filtering on a category includes its subcategories."""
    if not path:
        return [ROOT_CATEGORY]
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def exact_key(text: str) -> str:
    return " ".join(words_of(text)).replace(",", " ")


def fields_of(doc: IndexDocument) -> dict:
    keys = [exact_key(doc.title)] + [exact_key(alias) for alias in doc.aliases]
    return {
        "slug": doc.slug,
        "path": doc.path,
        "category": ",".join(category_chain(doc.category)),
        "title_key": ",".join(k for k in keys if k),
        "title": doc.title,
        "keywords": "\n".join(list(doc.tags) + list(doc.aliases)),
        "outline": "\n".join(part for part in (doc.summary, doc.headings) if part),
        "body": doc.text,
        "anytext": "\n".join([doc.title, *doc.tags, *doc.aliases, doc.summary, doc.text]),
        "summary": doc.summary,
    }

"""Rules for what readers see: visible articles, category listings, recent changes."""

from __future__ import annotations

from dataclasses import dataclass

from portal.content.history import History
from portal.content.loader import ContentTree
from portal.content.model import Article, Category
from portal.content.store import ContentStore


@dataclass
class CategoryEntry:
    category: Category
    count: int  # visible articles in it and its subcategories


def visible(articles: list[Article], show_drafts: bool) -> list[Article]:
    return [a for a in articles if show_drafts or not a.draft]


def category_entries(
    tree: ContentTree, parent: str | None, show_drafts: bool = False
) -> list[CategoryEntry]:
    """Categories directly under parent (None: the top level), with article counts."""
    key = ("category_entries", parent, show_drafts)
    if key not in tree.memo:
        tree.memo[key] = _category_entries(tree, parent, show_drafts)
    return tree.memo[key]


def _category_entries(tree: ContentTree, parent: str | None, show_drafts: bool
                      ) -> list[CategoryEntry]:
    entries = []
    for category in tree.categories.values():
        if parent is None:
            if category.parent is not None:
                continue
        elif category.parent != parent:
            continue
        prefix = category.path + "/"
        count = sum(
            1 for a in visible(tree.articles, show_drafts)
            if a.category == category.path or (category.path and a.category.startswith(prefix))
        )
        if category.path == "":
            count = sum(1 for a in visible(tree.articles, show_drafts) if a.category == "")
        if count:
            entries.append(CategoryEntry(category, count))
    entries.sort(key=lambda e: (e.category.order, e.category.title.lower()))
    return entries


def category_by_slug(tree: ContentTree, slug: str) -> Category | None:
    for category in tree.categories.values():
        if category.slug == slug:
            return category
    return None


def articles_in(tree: ContentTree, category: Category, show_drafts: bool = False) -> list[Article]:
    return visible(tree.in_category(category.path), show_drafts)


def breadcrumbs(tree: ContentTree, category_path: str) -> list[Category]:
    """The category and its parents, outermost first."""
    chain = []
    path: str | None = category_path
    while path is not None:
        category = tree.categories.get(path)
        if category is None:
            break
        chain.append(category)
        path = category.parent
    return list(reversed(chain))


def recent(store: ContentStore, limit: int = 8) -> list[tuple[Article, History]]:
    """The most recently changed published articles (computed once per content load)."""
    tree = store.tree()
    key = ("recent", limit)
    if key not in tree.memo:
        pairs = [(a, store.history(a)) for a in tree.published()]
        pairs.sort(key=lambda pair: pair[1].modified_at, reverse=True)
        tree.memo[key] = pairs[:limit]
    return tree.memo[key]


def siblings(tree: ContentTree, article: Article, limit: int = 8) -> list[Article]:
    """Other published articles of the same category."""
    others = [a for a in tree.in_category(article.category)[:limit + 1]
              if a is not article and not a.draft]
    return others[:limit]

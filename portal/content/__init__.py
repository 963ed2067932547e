"""Articles on disk: loading, front matter, git history, rendering and checks."""

from portal.content.model import Article, Category, Problem
from portal.content.store import ContentStore, get_store

__all__ = ["Article", "Category", "ContentStore", "Problem", "get_store"]

"""One version of the content, read in full before anyone sees it, never changed after.

Readers hold a snapshot for the length of a request; a reload builds the next one
beside it and the store swaps it in with a single assignment.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from portal.content.history import History, read_history
from portal.content.loader import (
    CATEGORY_FILES,
    MARKDOWN_SUFFIXES,
    ContentTree,
    ParseCache,
    load_tree,
)
from portal.content.pacing import PacedCache, unpaced

if TYPE_CHECKING:
    from portal.search.editorial import SearchRules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    tree: ContentTree
    rules: SearchRules  # the editors' search file, read with the tree: promotions name articles
    history: dict[str, History]  # article path -> who created and last changed it
    signature: tuple  # the folder's fingerprint this was read from (loader.signature)
    link_key: str  # changes when any article's path or slug does: links in renders change
    generation: int  # 1 for the first load, one more for each reload


def fingerprint(root: Path, pace: Callable[[], None] = unpaced) -> tuple:
    """What loader.signature(root) gives (a test keeps the two alike), calling `pace`
    once per file: with many articles the walk is long enough to pace."""
    items = []
    if root.is_dir():
        top = os.fspath(root)
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
            for name in files:
                pace()
                if (os.path.splitext(name)[1].lower() in MARKDOWN_SUFFIXES
                        or name in CATEGORY_FILES
                        or (name == "_search.yml" and folder == top)):
                    try:
                        stat = os.stat(os.path.join(folder, name))
                    except OSError:
                        continue
                    items.append((folder, name, stat.st_mtime_ns, stat.st_size))
    items.sort()
    return tuple(items)


def build(root: Path, parsed: ParseCache, signature: tuple, generation: int,
          pace: Callable[[], None] = unpaced) -> Snapshot:
    """Read the folder (re-parsing only files that changed since `parsed` was filled),
    the editors' search file and the git history. Bad content becomes problems, logged.
    `pace` is called every little while (per file, per article) when `parsed` is a
    PacedCache, so that a background reload can let requests go first."""
    if isinstance(parsed, PacedCache):
        parsed.pace = pace
    try:
        tree = load_tree(root, parsed)
    finally:
        if isinstance(parsed, PacedCache):
            parsed.pace = unpaced
    # Imported here: the search package imports portal.content in turn.
    from portal.search.editorial import load_rules

    pace()
    rules, rule_problems = load_rules(root, tree)
    pace()
    history = read_history(root)
    pace()
    key = hashlib.sha256()
    for path, article in sorted(tree.by_path.items()):
        pace()
        key.update(f"{path}\0{article.slug}\0".encode())
    for entry in signature:
        key.update(f"{entry[0]}\0{entry[1]}\0".encode())
    for problem in [*tree.problems, *rule_problems]:
        if problem.severity == "error":
            log.warning("content problem: %s", problem)
    return Snapshot(tree, rules, history, signature, key.hexdigest(), generation)

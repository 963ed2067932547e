"""The editors' search file (`_search.yml`): synonyms, promotions and ignored words.

Editors keep, beside the articles, the words readers use for the words we use,
the articles a query should show first, and the words that say nothing about a
topic in this help center. `load_rules` reads the file into `SearchRules` and
never raises: whatever is wrong becomes a `Problem` with its line (shown by
`kb check`), and the entries that can be read still apply.

Every term, phrase and query is compared after `query.normalize` (lower-case
words separated by single spaces), so "E-mail" and "e mail" are the same term.
A promotion applies when every word of its query is among the reader's words
(in any order); exact matches come first. See the README section "The editors'
search file".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.search.editorial.file import RULES_FILE, SECTIONS, load_rules, parse_rules
from portal.search.editorial.rules import EMPTY_RULES, Expansion, Promotion, SearchRules

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["EMPTY_RULES", "RULES_FILE", "SECTIONS", "Expansion", "Promotion", "SearchRules",
           "get_search_rules", "load_rules", "parse_rules"]


def get_search_rules(app: Flask | None = None) -> SearchRules:
    """The app's current rules, re-read with the articles when the file changes."""
    from portal.content.store import get_store  # the store loads the rules: import late

    return get_store(app).search_rules()

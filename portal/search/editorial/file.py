"""Read and check `_search.yml`: each problem becomes a Problem with its line, never a raise."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import yaml

from portal.content.model import Problem
from portal.content.slugs import slugify
from portal.search.editorial.rules import EMPTY_RULES, Promotion, SearchRules
from portal.search.query import normalize

if TYPE_CHECKING:
    from portal.content.loader import ContentTree

# Read from the top of the articles folder; loader.signature() watches this name too.
RULES_FILE = "_search.yml"
SECTIONS = ("synonyms", "related", "promote", "ignore")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NULL_TAG = "tag:yaml.org,2002:null"
_ARTICLE_SUFFIXES = (".md", ".markdown")


def load_rules(
    articles_dir: Path, tree: ContentTree | None = None
) -> tuple[SearchRules, list[Problem]]:
    """Read `_search.yml` from the top of the articles folder. A missing file gives empty
    rules. With a tree, promoted articles are resolved to slugs and checked to exist."""
    path = Path(articles_dir) / RULES_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return EMPTY_RULES, []
    except OSError as exc:
        return EMPTY_RULES, [Problem(RULES_FILE, None, f"cannot read file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return EMPTY_RULES, [Problem(RULES_FILE, None, f"not valid UTF-8 (byte {exc.start})")]
    rules, problems = parse_rules(text, tree)
    return replace(rules, digest=hashlib.sha256(raw).hexdigest()), problems


def parse_rules(text: str, tree: ContentTree | None = None) -> tuple[SearchRules, list[Problem]]:
    """Parse the text of a search file (see `load_rules`)."""
    try:
        root = yaml.compose(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        message = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None and (mark is None
                                                     or context_mark.line != mark.line):
            message += f" ({context} started on line {context_mark.line + 1})"
        return EMPTY_RULES, [Problem(RULES_FILE, mark.line + 1 if mark else None,
                                     f"search file is not valid YAML: {message}")]
    reader = _Reader(tree)
    if root is None or _is_null(root):
        return EMPTY_RULES, []
    if not isinstance(root, yaml.MappingNode):
        reader.error(root, "the search file must be a mapping of sections: "
                           + ", ".join(SECTIONS))
        return EMPTY_RULES, reader.problems
    sections: dict[str, yaml.Node] = {}
    first_line: dict[str, int] = {}
    for key, value in root.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else None
        if name not in SECTIONS:
            close = difflib.get_close_matches(str(name), SECTIONS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            reader.warn(key, f"unknown section '{name}'{hint}; expected "
                             + _listing(SECTIONS))
        elif name in sections:
            reader.error(key, f"section '{name}' appears twice (first on line "
                              f"{first_line[name]}); only the first is used")
        else:
            sections[name] = value
            first_line[name] = _line(key)
    synonyms = reader.synonyms(sections.get("synonyms"))
    related = reader.related(sections.get("related"))
    promotions = reader.promotions(sections.get("promote"))
    ignore = reader.ignored(sections.get("ignore"))  # after the terms it is checked against
    problems = sorted(reader.problems, key=lambda p: p.line or 0)
    return SearchRules(synonyms, related, promotions, ignore), problems


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG


def _listing(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]


class _Reader:
    """Walks the composed YAML nodes, so every entry keeps its line number."""

    def __init__(self, tree: ContentTree | None):
        self.tree = tree
        self.problems: list[Problem] = []
        self.term_lines: dict[str, int] = {}  # synonym or related term -> line

    def error(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Problem(RULES_FILE, _line(node), message))

    def warn(self, node: yaml.Node, message: str) -> None:
        self.problems.append(Problem(RULES_FILE, _line(node), message, "warning"))

    def terms(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node]] | None:
        """Normalised terms from a list, or from one string of comma-separated terms.
        None when the node is neither; terms without words are reported and left out."""
        if isinstance(node, yaml.ScalarNode) and not _is_null(node):
            items = [(part, node) for part in node.value.split(",") if part.strip()]
        elif isinstance(node, yaml.SequenceNode):
            items = []
            for item in node.value:
                if isinstance(item, yaml.ScalarNode) and not _is_null(item):
                    items.append((item.value, item))
                else:
                    self.error(item, f"each entry in {what} must be a word or phrase")
        else:
            self.error(node, f"{what} must be a list of words or phrases, like [a, b]")
            return None
        found: list[tuple[str, yaml.Node]] = []
        seen: set[str] = set()
        for raw, item in items:
            term = normalize(raw)
            if not term:
                self.error(item, f"'{raw}' in {what} has no letters or digits")
            elif term in seen:
                self.warn(item, f"'{term}' is listed twice in {what}")
            else:
                seen.add(term)
                found.append((term, item))
        return found

    def ignored(self, node: yaml.Node | None) -> tuple[str, ...]:
        if node is None or _is_null(node):
            return ()
        found = self.terms(node, "'ignore'") or []
        for phrase, phrase_node in found:
            if phrase in self.term_lines:
                self.warn(phrase_node, f"'{phrase}' is also a synonym on line "
                                       f"{self.term_lines[phrase]}; it is dropped from "
                                       "queries before synonyms apply")
        return tuple(phrase for phrase, _ in found)

    def synonyms(self, node: yaml.Node | None) -> tuple[tuple[str, ...], ...]:
        if node is None or _is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, "'synonyms' must be a list of groups, one per line: - [a, b, c]")
            return ()
        groups = []
        for item in node.value:
            if _is_null(item) or (isinstance(item, yaml.SequenceNode) and not item.value):
                self.error(item, "empty synonym group")
                continue
            reported = len(self.problems)
            found = self.terms(item, "a synonym group")
            if found is None:
                continue
            if not found:
                if len(self.problems) == reported:
                    self.error(item, "empty synonym group")
                continue
            if len(found) < 2:
                alone = f" ('{found[0][0]}' alone)" if found else ""
                self.error(item, f"a synonym group needs at least two terms{alone}; "
                                 "separate them with commas: [a, b]")
                continue
            for term, term_node in found:
                self._note_term(term, term_node, warn=True)
            groups.append(tuple(term for term, _ in found))
        return tuple(groups)

    def related(self, node: yaml.Node | None) -> dict[str, tuple[str, ...]]:
        if node is None or _is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.error(node, "'related' must map a term to the terms it should also find: "
                             "cell phone: [mobile app]")
            return {}
        related: dict[str, dict[str, None]] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or not normalize(key.value):
                self.error(key, "each key in 'related' must be a word or phrase")
                continue
            term = normalize(key.value)
            if _is_null(value) or (isinstance(value, yaml.SequenceNode) and not value.value):
                self.error(value if not _is_null(value) else key,
                           f"'{term}' in 'related' lists nothing to find")
                continue
            found = self.terms(value, f"'related' for '{term}'")
            if found is None:
                continue
            if term in related:
                self.warn(key, f"'{term}' is listed twice in 'related'; both lists apply")
            else:
                self._note_term(term, key, warn=False)
            also = related.setdefault(term, {})
            for other, other_node in found:
                if other == term:
                    self.warn(other_node, f"'{term}' is related to itself")
                else:
                    also[other] = None
        return {term: tuple(also) for term, also in related.items() if also}

    def promotions(self, node: yaml.Node | None) -> tuple[Promotion, ...]:
        if node is None or _is_null(node):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, "'promote' must be a list of entries with 'query' and 'articles'")
            return ()
        promotions = []
        query_lines: dict[str, int] = {}
        for item in node.value:
            if not isinstance(item, yaml.MappingNode):
                self.error(item, "each promotion needs 'query' and 'articles'")
                continue
            fields: dict[str, yaml.Node] = {}
            for key, value in item.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                if name in ("query", "queries"):
                    fields["query"] = value
                elif name in ("articles", "article"):
                    fields["articles"] = value
                else:
                    self.warn(key, f"unknown promotion field '{name}'; expected query and "
                                   "articles")
            missing = [name for name in ("query", "articles") if name not in fields]
            if missing:
                self.error(item, f"promotion without {' or '.join(repr(m) for m in missing)}")
                continue
            queries = []
            for query, query_node in self.terms(fields["query"], "a promotion's query") or ():
                if query in query_lines:
                    self.error(query_node, f"query '{query}' is already promoted on line "
                                           f"{query_lines[query]}")
                    continue
                query_lines[query] = _line(query_node)
                queries.append(query)
            slugs = self._articles(fields["articles"])
            if queries and slugs:
                promotions.append(Promotion(tuple(queries), slugs))
        return tuple(promotions)

    def _note_term(self, term: str, node: yaml.Node, warn: bool) -> None:
        """Remember where a term is; with warn, say so when a synonym is in two groups."""
        line = self.term_lines.get(term)
        if line is None:
            self.term_lines[term] = _line(node)
        elif warn and line != _line(node):
            self.warn(node, f"'{term}' is also in the synonym group on line {line}; "
                            "both groups apply")

    def _articles(self, node: yaml.Node) -> tuple[str, ...]:
        if _is_null(node):
            self.error(node, "promotion without articles")
            return ()
        if isinstance(node, yaml.ScalarNode):
            refs = [(node.value, node)]
        elif isinstance(node, yaml.SequenceNode):
            refs = []
            for item in node.value:
                if isinstance(item, yaml.ScalarNode) and not _is_null(item):
                    refs.append((item.value, item))
                else:
                    self.error(item, "each promoted article must be a file path or slug")
        else:
            self.error(node, "'articles' must be a list of file paths or slugs")
            return ()
        slugs: dict[str, None] = {}
        for ref, ref_node in refs:
            slug = self._resolve(ref.strip(), ref_node)
            if slug in slugs:
                self.warn(ref_node, f"article '{ref}' is promoted twice for the same query")
            elif slug is not None:
                slugs[slug] = None
        return tuple(slugs)

    def _resolve(self, ref: str, node: yaml.Node) -> str | None:
        """The slug of a promoted article given by path (with or without .md) or slug."""
        ref = ref.removeprefix("./").strip("/")
        if not ref:
            self.error(node, "empty article in a promotion")
            return None
        if self.tree is None:  # no content to check against: the loader's slug rule
            name = PurePosixPath(ref)
            return slugify(name.stem if name.suffix.lower() in _ARTICLE_SUFFIXES else name.name)
        tree = self.tree
        article = (tree.by_path.get(ref) or tree.by_slug.get(ref)
                   or next((tree.by_path[ref + s] for s in _ARTICLE_SUFFIXES
                            if ref + s in tree.by_path), None))
        if article is None and ref in tree.aliases:
            article = tree.by_slug.get(tree.aliases[ref])
            if article is not None:
                self.warn(node, f"'{ref}' is an old slug of {article.path}; name the article "
                                f"as '{article.slug}'")
        if article is None:
            self.error(node, f"promoted article '{ref}' does not exist")
            return None
        if article.draft:
            self.warn(node, f"promoted article {article.path} is a draft: not promoted until "
                            "it is published")
            return None
        return article.slug

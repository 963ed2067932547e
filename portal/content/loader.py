"""Scan the articles folder into articles and categories; never raises on bad content."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from copy import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from portal.content import frontmatter
from portal.content.excerpt import excerpt
from portal.content.model import Article, Category, Problem
from portal.content.render import strip_template_tags
from portal.content.slugs import slugify

log = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = {".md", ".markdown"}
CATEGORY_FILES = ("_category.yml", "_category.yaml")
ROOT_CATEGORY_TITLE = "General"
_HEADING = re.compile(r"^#(?!#)\s*(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass
class ContentTree:
    root: Path
    articles: list[Article] = field(default_factory=list)
    categories: dict[str, Category] = field(default_factory=dict)
    by_slug: dict[str, Article] = field(default_factory=dict)
    by_path: dict[str, Article] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # old slug -> article slug
    problems: list[Problem] = field(default_factory=list)
    # Derived lists, filled once by finish(): page views must not rescan every article.
    _published: list[Article] = field(default_factory=list)
    _by_category: dict[str, list[Article]] = field(default_factory=dict)
    memo: dict = field(default_factory=dict)  # per-tree cache of derived views

    def finish(self) -> ContentTree:
        self.articles.sort(key=lambda a: (a.category, a.order, a.title.lower()))
        self._published = [a for a in self.articles if not a.draft]
        self._by_category = {}
        for article in self.articles:
            self._by_category.setdefault(article.category, []).append(article)
        return self

    def published(self) -> list[Article]:
        """Articles readers may see, in category order."""
        return self._published

    def in_category(self, path: str) -> list[Article]:
        """Every article directly in a category, drafts included."""
        return self._by_category.get(path, [])


def humanize(name: str) -> str:
    """A title from a file or folder name. A name with spaces is already a title and is kept
    as written ("Two-step login"); a slug-style name becomes one ("reset-your-password")."""
    name = name.strip()
    if " " in name:
        return name
    text = re.sub(r"[-_]+", " ", name).strip()
    return text[:1].upper() + text[1:] if text else name


def scan(root: Path) -> list[tuple[str, str]]:
    """(relative '/' path, absolute path) of every Markdown file under root, sorted.
    Plain strings: a large folder is walked every few seconds."""
    found: list[tuple[str, str]] = []
    if not root.is_dir():
        return found
    top = str(root)
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        prefix = os.path.relpath(folder, top).replace(os.sep, "/") + "/"
        if prefix == "./":
            prefix = ""
        for name in files:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in MARKDOWN_SUFFIXES:
                continue
            found.append((prefix + name, os.path.join(folder, name)))
    found.sort()
    return found


def signature(root: Path) -> tuple:
    """A cheap fingerprint of the folder: changes when any article or category file does,
    or the editors' search file at the top (`_search.yml`, see portal.search.editorial)."""
    items = []
    if root.is_dir():
        top = os.fspath(root)
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
            for name in files:
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


def _title_from_body(body: str) -> tuple[str | None, str]:
    """First '# heading' outside code; blank it out of the body when it opens the article
    (blank, so that line numbers in the body still match the file). Template syntax such
    as an MDX import above the heading is not content."""
    lines = body.split("\n")
    plain = strip_template_tags(body).split("\n")  # line for line
    if len(plain) != len(lines):
        plain = lines
    in_fence = False
    first_content = True
    for index, line in enumerate(plain):
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            first_content = False if line.strip() else first_content
            continue
        match = _HEADING.match(line)
        if match:
            title = match.group(1).strip()
            if first_content and title:
                return title, "\n".join(lines[:index] + [""] + lines[index + 1:])
            return title or None, body
        if line.strip():
            first_content = False
    return None, body


def _drop_leading_title(body: str, title: str) -> str:
    heading, rest = _title_from_body(body)
    return rest if heading is not None and heading == title and rest != body else body


def load_article(root: Path, rel: str, abs_path: Path, problems: list[Problem]) -> Article | None:
    try:
        raw = abs_path.read_bytes()
        stat = abs_path.stat()
    except OSError as exc:
        problems.append(Problem(rel, None, f"cannot read file: {exc.strerror}"))
        log.warning("cannot read article %s: %s", rel, exc)
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8-sig", "replace")
        problems.append(Problem(rel, None, f"not valid UTF-8 (byte {exc.start}); shown with "
                                           "replacement characters", "warning"))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parsed = frontmatter.parse(text)
    for line, message in parsed.errors:
        problems.append(Problem(rel, line, message))
        log.warning("article %s:%s: %s", rel, line or "?", message)
    for line, message in parsed.warnings:
        problems.append(Problem(rel, line, message, "warning"))
    data = parsed.data
    body = parsed.body
    title = data.get("title")
    if title:
        body = _drop_leading_title(body, title)
    else:
        title, body = _title_from_body(body)
        title = title or humanize(abs_path.stem)
    folder = rel.rpartition("/")[0]
    meta_error = ""
    if parsed.errors:
        meta_error = "; ".join(m for _, m in parsed.errors)
    return Article(
        path=rel, abs_path=abs_path, slug=slugify(abs_path.stem), title=title,
        category=folder, body=body, body_line=parsed.body_line,
        sha=hashlib.sha256(raw).hexdigest(),
        mtime=datetime.fromtimestamp(stat.st_mtime, UTC),
        summary=data.get("summary", ""),
        excerpt="" if data.get("summary") else excerpt(body), tags=data.get("tags", []),
        order=data.get("order", 0), draft=data.get("draft", False),
        aliases=[slugify(a) for a in data.get("aliases", [])], meta_error=meta_error,
        areas=tuple(data.get("areas", ())),
    )


def _load_category(root: Path, path: str, problems: list[Problem]) -> Category:
    name = path.rpartition("/")[2]
    category = Category(
        path=path, slug=path if path else "general",
        title=humanize(name) if path else ROOT_CATEGORY_TITLE,
        parent=path.rpartition("/")[0] if "/" in path else None,
    )
    if path:
        category.slug = "/".join(slugify(part) for part in path.split("/"))
    for meta_name in CATEGORY_FILES:
        meta_path = root / path / meta_name
        if not meta_path.is_file():
            continue
        rel = f"{path}/{meta_name}" if path else meta_name
        try:
            data = yaml.safe_load(meta_path.read_text("utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            mark = getattr(exc, "problem_mark", None)
            problems.append(Problem(rel, mark.line + 1 if mark else None,
                                    f"category file is not valid YAML: {exc}"))
            break
        if not isinstance(data, dict):
            problems.append(Problem(rel, 1, "category file must be a mapping"))
            break
        for key, value in data.items():
            if key in ("title", "description") and isinstance(value, str | int | float):
                setattr(category, key, str(value).strip())
            elif key == "order" and isinstance(value, int) and not isinstance(value, bool):
                category.order = value
            else:
                problems.append(Problem(rel, None, f"unknown or invalid field '{key}'",
                                        "warning"))
        break
    return category


ParseCache = dict[str, tuple[tuple[int, int], Article, list[Problem]]]


def load_tree(root: Path, cache: ParseCache | None = None) -> ContentTree:
    """Read every article and category under root. Bad files become problems.

    With a cache (kept by the caller between loads), files whose modification
    time and size are unchanged are not read or parsed again.
    """
    tree = ContentTree(root=root)
    seen: set[str] = set()
    for rel, abs_name in scan(root):
        seen.add(rel)
        key = None
        if cache is not None:
            try:
                stat = os.stat(abs_name)
                key = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                key = None
            hit = cache.get(rel)
            if key is not None and hit is not None and hit[0] == key:
                article = copy(hit[1])  # a copy: slugs may be reassigned below
                tree.problems.extend(hit[2])
                tree.articles.append(article)
                tree.by_path[rel] = article
                continue
        problems: list[Problem] = []
        article = load_article(root, rel, Path(abs_name), problems)
        tree.problems.extend(problems)
        if article is not None:
            if cache is not None and key is not None:
                cache[rel] = (key, copy(article), problems)
            tree.articles.append(article)
            tree.by_path[rel] = article
    if cache is not None:
        for stale in set(cache) - seen:
            del cache[stale]
    # Categories: every folder holding articles, and the folders above them.
    folders: set[str] = set()
    for article in tree.articles:
        folder = article.category
        folders.add(folder)
        while "/" in folder:
            folder = folder.rpartition("/")[0]
            folders.add(folder)
    for folder in sorted(folders):
        tree.categories[folder] = _load_category(root, folder, tree.problems)
    _assign_slugs(tree)
    return tree.finish()


def _assign_slugs(tree: ContentTree) -> None:
    for article in tree.articles:
        if article.slug in tree.by_slug:
            other = tree.by_slug[article.slug]
            tree.problems.append(Problem(
                article.path, None,
                f"slug '{article.slug}' is already used by {other.path}; rename one file"))
            article.slug = slugify(f"{article.category}-{Path(article.path).stem}")
            n = 2
            base = article.slug
            while article.slug in tree.by_slug:
                article.slug = f"{base}-{n}"
                n += 1
        tree.by_slug[article.slug] = article
    for article in tree.articles:
        for alias in article.aliases:
            if alias in tree.by_slug and tree.by_slug[alias] is not article:
                tree.problems.append(Problem(
                    article.path, None,
                    f"alias '{alias}' is the slug of {tree.by_slug[alias].path}"))
            elif alias in tree.aliases and tree.aliases[alias] != article.slug:
                tree.problems.append(Problem(
                    article.path, None,
                    f"alias '{alias}' is also claimed by "
                    f"{tree.by_slug[tree.aliases[alias]].path}"))
            else:
                tree.aliases[alias] = article.slug

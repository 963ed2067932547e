"""Plain data for articles, categories and the problems found in them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """Something wrong in the content, with where it is."""

    path: str  # relative to the articles folder
    line: int | None
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


@dataclass
class Category:
    path: str  # folder path relative to the articles folder, "/" separated
    slug: str
    title: str
    description: str = ""
    order: int = 0
    parent: str | None = None  # parent category path

    @property
    def depth(self) -> int:
        return self.path.count("/")


@dataclass
class Article:
    path: str  # file path relative to the articles folder, "/" separated
    abs_path: Path
    slug: str
    title: str
    category: str  # category path
    body: str  # Markdown without front matter
    body_line: int  # 1-based line in the file where the body starts
    sha: str  # sha256 of the file bytes
    mtime: datetime
    summary: str = ""
    excerpt: str = ""  # the first paragraph as plain text, for lists when there is no summary
    tags: list[str] = field(default_factory=list)
    order: int = 0
    draft: bool = False
    aliases: list[str] = field(default_factory=list)
    areas: tuple[str, ...] = ()  # product areas (content/areas.py area_key), for the widget
    meta_error: str = ""  # front matter that could not be read, shown as a notice
    extra_fields: list[str] = field(default_factory=list)

    @property
    def folder(self) -> str:
        return self.path.rpartition("/")[0]

"""The editors' check: everything wrong in a folder of articles, with file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from portal.content.loader import load_tree
from portal.content.model import Article, Problem
from portal.content.render import LinkContext, TemplateTag, find_template_tags, render_markdown
from portal.search.editorial import load_rules


@dataclass
class Report:
    articles: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")


def _line_of(text: str, needle: str, first_line: int) -> int | None:
    for offset, line in enumerate(text.splitlines()):
        if needle in line:
            return first_line + offset
    return None


def _template_problems(article: Article) -> list[Problem]:
    """One warning per line holding template syntax that this site does not run."""
    by_line: dict[int, list[TemplateTag]] = {}
    for tag in find_template_tags(article.body):
        by_line.setdefault(tag.line, []).append(tag)
    problems = []
    for line, tags in by_line.items():
        more = f" (and {len(tags) - 1} more on this line)" if len(tags) > 1 else ""
        problems.append(Problem(article.path, article.body_line + line, tags[0].message + more,
                                "warning"))
    return problems


def check_folder(root: Path) -> Report:
    """Load and render every article, and read the editors' search file, collecting
    problems instead of stopping."""
    tree = load_tree(root)
    report = Report(articles=len(tree.articles), problems=list(tree.problems))
    report.problems.extend(load_rules(root, tree)[1])
    def media(path: str) -> str | None:
        return f"/media/{path}" if (root / path).is_file() else None

    for article in tree.articles:
        drafts_linked: list[str] = []

        def link(path: str, drafts_linked: list[str] = drafts_linked) -> str | None:
            target = tree.by_path.get(path)
            if target is not None and target.draft:
                drafts_linked.append(path)
            return f"/articles/{target.slug}" if target else None

        rendered = render_markdown(article.body, LinkContext(article.path, link, media))
        if not article.draft:
            for path in drafts_linked:
                report.problems.append(Problem(
                    article.path, None, f"links to draft article {path}", "warning"))
        for href in rendered.broken_links:
            line = _line_of(article.body, f"]({href}", article.body_line) or _line_of(
                article.body, href, article.body_line)
            report.problems.append(Problem(article.path, line, f"broken link: {href}"))
        for src in rendered.missing_images:
            line = _line_of(article.body, src, article.body_line)
            report.problems.append(Problem(article.path, line, f"missing image: {src}"))
        report.problems.extend(_template_problems(article))
    report.problems.sort(key=lambda p: (p.path, p.line or 0))
    return report

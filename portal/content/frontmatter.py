"""Front matter: split it from the body, parse it (YAML, or Hugo's TOML), check its fields."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from portal.content.areas import area_key

# libyaml's safe loader is several times faster; same rules as yaml.SafeLoader.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KNOWN_FIELDS = {"title", "summary", "description", "tags", "order", "draft", "aliases", "areas",
                "product_areas"}
AREA_FIELDS = ("areas", "product_areas")  # the product areas an article belongs to (widget)
# Fields that Jekyll, Hugo, MkDocs, Docusaurus, Next.js/Nextra, VitePress and Astro put in
# front matter. Articles moved from those sites keep them, so they pass without a warning.
# A few are used: keywords add to tags; weight, sidebar_position and nav_order stand in for
# order; `published: false` hides the article like a draft. The others are ignored.
FOREIGN_FIELDS = frozenset("""
    aside audio author authors build cascade categories category collection comments cover
    covery created custom_edit_url date display displayed_sidebar editlink excerpt
    excerpt_separator expirydate features footer grand_parent has_children has_toc head
    headless hero heroimage hide hide_reading_time hide_table_of_contents hide_title icon id
    image images iscjklanguage keywords lang last_modified last_modified_at last_update
    last_updated lastmod lastupdated layout links linktitle markup menu modified nav_exclude
    nav_order navbar next ogimage outline output outputs pageclass pagination_label
    pagination_next pagination_prev params parent parse_number_prefixes permalink pin prev
    pubdate publishdate published readtime redirect_from redirect_to render_macros
    render_with_liquid resources search search_exclude searchable series sidebar
    sidebar_class_name sidebar_custom_props sidebar_label sidebar_position sidebartitle
    sitemap slug status subtitle tag template theme thumbnail titletemplate toc
    toc_max_heading_level toc_min_heading_level translationkey type unlisted updated
    updateddate url version videos weight
""".split())
ORDER_STAND_INS = ("weight", "sidebar_position", "nav_order")

_FENCES = {"---": ("---", "..."), "+++": ("+++",)}  # opening fence -> closing fences
_YAML_KEY = re.compile(r"([^\s:#][^:]*):")
_TOML_KEY = re.compile(r"\s*[\"']?([\w.-]+)[\"']?\s*=")
_TOML_LINE = re.compile(r"at line (\d+)")
_WHOLE_NUMBER = re.compile(r"[+-]?\d+")


@dataclass
class FrontMatter:
    data: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    errors: list[tuple[int | None, str]] = field(default_factory=list)  # (line, message)
    warnings: list[tuple[int | None, str]] = field(default_factory=list)


def _split(text: str) -> tuple[str | None, str, str, int]:
    """Return (fence, front matter text or None, body, body start line)."""
    lines = text.splitlines(keepends=True)
    fence = lines[0].strip() if lines else ""
    if fence not in _FENCES:
        return fence, None, text, 1
    for index in range(1, len(lines)):
        if lines[index].strip() in _FENCES[fence]:
            return fence, "".join(lines[1:index]), "".join(lines[index + 1:]), index + 2
    return fence, None, text, 1  # no closing fence: treat the whole file as Markdown


def parse(text: str) -> FrontMatter:
    """Parse front matter; errors are collected, never raised."""
    fence, raw, body, body_line = _split(text)
    result = FrontMatter(body=body, body_line=body_line)
    if raw is None:
        if fence in _FENCES:
            result.warnings.append((1, f"front matter starts with '{fence}' but is never closed"))
        return result
    if fence == "+++":
        data, key_pattern = _load_toml(raw, result), _TOML_KEY
    else:
        data, key_pattern = _load_yaml(raw, result), _YAML_KEY
    if data is None:
        return result
    if not isinstance(data, dict):
        result.errors.append((2, "front matter must be a mapping of field: value"))
        return result
    key_lines = {}
    for offset, line in enumerate(raw.splitlines()):
        match = key_pattern.match(line)
        if match:
            key_lines.setdefault(match.group(1).strip().strip("'\""), offset + 2)
    result.data = _validate(data, result, key_lines)
    return result


def _load_yaml(raw: str, result: FrontMatter) -> Any:
    try:
        return yaml.load(raw, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 fence, +1 one-based
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        result.errors.append((line, f"front matter is not valid YAML: {problem}"))
        return None


def _load_toml(raw: str, result: FrontMatter) -> Any:
    try:
        return tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        where = _TOML_LINE.search(str(exc))
        line = int(where.group(1)) + 1 if where else 1  # +1 for the fence
        problem = _TOML_LINE.sub("", str(exc)).rstrip(" ()")
        result.errors.append((line, f"front matter is not valid TOML: {problem}"))
        return None


def _is_text(value: Any) -> bool:
    return isinstance(value, str | int | float | date)  # dates: `title: 2024-01-05`


def _as_str_list(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(_is_text(v) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    return None


def _as_order(value: Any) -> int | None:
    """A whole number from an int, a whole float or a numeric string (" 10 "), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _as_areas(name: str, value: Any, line: int | None, result: FrontMatter) -> list[str] | None:
    """Area keys from a list of names or a comma-separated string; None (reported as an
    error, like tags) when it is neither. An item that is not text, or has no letter or
    digit, is left out with a warning and the others are kept."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        result.errors.append((line, f"'{name}' must be a list of product areas"))
        return None
    keys = []
    for item in value:
        key = area_key(item) if isinstance(item, str) else ""
        if not key:
            result.warnings.append((line, f"'{name}': {item!r} is not a product area name "
                                          "(ignored)"))
        elif key not in keys:
            keys.append(key)
    return keys


def _validate(
    data: dict[Any, Any], result: FrontMatter, key_lines: dict[str, int]
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    foreign: dict[str, tuple[int | None, Any]] = {}
    for key, value in data.items():
        name = str(key)
        line = key_lines.get(name)
        known = name.lower()  # Hugo reads field names in any case
        if known in FOREIGN_FIELDS:
            foreign.setdefault(known, (line, value))
            continue
        if known not in KNOWN_FIELDS:
            result.warnings.append((line, f"unknown front matter field '{name}' (ignored)"))
            continue
        if known in ("title", "summary", "description"):
            if value is None:
                continue
            if not _is_text(value):
                result.errors.append((line, f"'{name}' must be text"))
                continue
            clean[known] = str(value).strip()
        elif known in ("tags", "aliases"):
            items = _as_str_list(value)
            if items is None:
                result.errors.append((line, f"'{name}' must be a list of words"))
                continue
            clean[known] = items
        elif known in AREA_FIELDS:
            keys = _as_areas(name, value, line, result)
            if keys is not None:
                areas = clean.setdefault("areas", [])
                areas += [k for k in keys if k not in areas]
        elif known == "order":
            number = _as_order(value)
            if number is None:
                result.warnings.append((line, f"'order' must be a whole number, not {value!r}; "
                                              "the article is placed as if it had none"))
                continue
            clean[known] = number
        elif known == "draft":
            if not isinstance(value, bool):
                result.errors.append((line, f"'draft' must be true or false, not {value!r}"))
                continue
            clean[known] = value
    _use_foreign(clean, foreign, result)
    if "summary" not in clean and "description" in clean:
        clean["summary"] = clean["description"]
    clean.pop("description", None)
    return clean


def _use_foreign(
    clean: dict[str, Any], foreign: dict[str, tuple[int | None, Any]], result: FrontMatter
) -> None:
    """Take what other generators' fields mean for us: tags, order, draft."""
    if "keywords" in foreign:
        line, value = foreign["keywords"]
        words = _as_str_list(value)
        if words is None:
            result.warnings.append((line, "'keywords' must be a list of words (ignored)"))
        else:
            tags = clean.setdefault("tags", [])
            seen = {tag.lower() for tag in tags}
            for word in words:
                if word.lower() not in seen:
                    seen.add(word.lower())
                    tags.append(word)
    for name in ORDER_STAND_INS:
        if name in foreign and "order" not in clean:
            line, value = foreign[name]
            number = _as_order(value)
            if number is None:
                result.warnings.append((line, f"'{name}' must be a whole number, not {value!r} "
                                              "(ignored)"))
            else:
                clean["order"] = number
    published = foreign.get("published", (None, None))[1]
    if isinstance(published, bool) and "draft" not in clean:
        clean["draft"] = not published  # Jekyll: `published: false` keeps a page unpublished

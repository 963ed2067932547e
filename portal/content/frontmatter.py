"""YAML front matter: split it from the body, parse it, check its fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

# libyaml's safe loader is several times faster; same rules as yaml.SafeLoader.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KNOWN_FIELDS = {"title", "summary", "description", "tags", "order", "draft", "aliases"}


@dataclass
class FrontMatter:
    data: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    errors: list[tuple[int | None, str]] = field(default_factory=list)  # (line, message)
    warnings: list[tuple[int | None, str]] = field(default_factory=list)


def _split(text: str) -> tuple[str | None, str, int]:
    """Return (yaml text or None, body, body start line)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1:]), index + 2
    return None, text, 1  # no closing fence: treat the whole file as Markdown


def parse(text: str) -> FrontMatter:
    """Parse front matter; errors are collected, never raised."""
    raw, body, body_line = _split(text)
    result = FrontMatter(body=body, body_line=body_line)
    if raw is None:
        if text.startswith("---") and text.splitlines()[0].strip() == "---":
            result.warnings.append((1, "front matter starts with '---' but is never closed"))
        return result
    try:
        data = yaml.load(raw, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 fence, +1 one-based
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        result.errors.append((line, f"front matter is not valid YAML: {problem}"))
        return result
    if data is None:
        return result
    if not isinstance(data, dict):
        result.errors.append((2, "front matter must be a mapping of field: value"))
        return result
    key_lines = {}
    for offset, line in enumerate(raw.splitlines()):
        match = re.match(r"([^\s:#][^:]*):", line)
        if match:
            key_lines.setdefault(match.group(1).strip().strip("'\""), offset + 2)
    result.data = _validate(data, result, key_lines)
    return result


def _as_str_list(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    return None


def _validate(
    data: dict[Any, Any], result: FrontMatter, key_lines: dict[str, int]
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key)
        line = key_lines.get(name)
        if name not in KNOWN_FIELDS:
            result.warnings.append((line, f"unknown front matter field '{name}' (ignored)"))
            continue
        if name in ("title", "summary", "description"):
            if value is None:
                continue
            if not isinstance(value, str | int | float):
                result.errors.append((line, f"'{name}' must be text"))
                continue
            clean[name] = str(value).strip()
        elif name in ("tags", "aliases"):
            items = _as_str_list(value)
            if items is None:
                result.errors.append((line, f"'{name}' must be a list of words"))
                continue
            clean[name] = items
        elif name == "order":
            if isinstance(value, bool) or not isinstance(value, int):
                result.errors.append((line, f"'order' must be a whole number, not {value!r}"))
                continue
            clean[name] = value
        elif name == "draft":
            if not isinstance(value, bool):
                result.errors.append((line, f"'draft' must be true or false, not {value!r}"))
                continue
            clean[name] = value
    if "summary" not in clean and "description" in clean:
        clean["summary"] = clean["description"]
    clean.pop("description", None)
    return clean

"""Composition of input files: ``extends:`` (inherit another file), ``set:`` and ``--set``
(change fields by dotted path). Works on raw mappings before validation and keeps the
line map up to date, so errors point at the file or override a value came from."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from .yamlio import LineMap, parse_yaml, read_yaml

__all__ = ["apply_overrides", "merge", "parse_set", "read_with_extends"]

Overrides = dict[str, Any] | list[str]

#: How many files an ``extends:`` chain may hold.
MAX_EXTENDS = 20


def merge(base: Any, child: Any) -> Any:
    """Deep merge of mappings (``child`` wins); anything else is replaced by ``child``."""
    if isinstance(base, dict) and isinstance(child, dict):
        out = dict(base)
        for k, v in child.items():
            out[k] = merge(base.get(k), v) if k in base else v
        return out
    return child


def _line(lines: LineMap, key: tuple[Any, ...]) -> int | None:
    return lines.get(key, (None, None))[1]


def read_with_extends(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], LineMap]:
    """Read a scenario file, resolving ``extends:`` (recursively) and applying its ``set:``."""
    data, lines = _read_extends_only(path, seen)
    sets = data.pop("set", None)
    if sets is not None:
        if not isinstance(sets, dict):
            raise ScenarioError(
                "set must be a mapping of dotted field paths to values, e.g. {events.0.enabled: false}",
                source=str(path),
                line=_line(lines, ("set",)),
                path="set",
            )
        for dotted, value in sets.items():
            data = apply_overrides(
                data, {str(dotted): value}, lines, source=f"{path}:{lines.get(('set', dotted), (None, '?'))[1]} set"
            )
    return data, lines


def _read_extends_only(path: Path, seen: tuple[Path, ...]) -> tuple[dict[str, Any], LineMap]:
    data, lines = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError("a scenario must be a mapping of fields (name, start, days, ...)", source=str(path), line=1)
    parent = data.get("extends")
    if parent is None:
        return data, lines
    line = _line(lines, ("extends",))

    def error(message: str) -> ScenarioError:
        return ScenarioError(message, source=str(path), line=line, path="extends")

    if not isinstance(parent, str):
        raise error("extends must be a path to another scenario file")
    ppath = (path.parent / parent).resolve()
    if len(seen) >= MAX_EXTENDS:
        raise error(f"extends goes more than {MAX_EXTENDS} files deep; flatten the chain")
    if ppath in seen:
        raise error(f"extends forms a cycle through {ppath}")
    if not ppath.exists():
        raise error(f"extends names '{parent}', which does not exist (relative to this file)")
    base, base_lines = read_with_extends(ppath, (*seen, ppath))
    merged = merge(base, {k: v for k, v in data.items() if k != "extends"})
    # relative paths in the parent stay relative to the parent
    geo = base.get("geography") if isinstance(base.get("geography"), dict) else None
    if (
        geo
        and isinstance(geo.get("cities"), str)
        and not (isinstance(data.get("geography"), dict) and "cities" in data["geography"])
    ):
        merged["geography"] = dict(merged["geography"])
        merged["geography"]["cities"] = str(ppath.parent / geo["cities"])
    if isinstance(base.get("observed"), str) and "observed" not in data:
        merged["observed"] = str(ppath.parent / base["observed"])
    all_lines = dict(base_lines)
    all_lines.update(lines)
    return merged, all_lines


def parse_set(assignment: str) -> tuple[str, Any]:
    """Split ``PATH=VALUE`` (VALUE read as a YAML scalar or flow collection)."""
    if "=" not in assignment:
        raise ScenarioError(
            f"--set '{assignment}' needs the form PATH=VALUE, e.g. --set dynamics.influence.rate=0.2", source="--set"
        )
    key, text = assignment.split("=", 1)
    key = key.strip()
    if not key:
        raise ScenarioError(f"--set '{assignment}' has an empty PATH", source="--set")
    if not text.strip():
        return key, ""
    try:
        value, _ = parse_yaml(text, f"--set {key}")
    except ScenarioError as exc:
        if "not valid YAML" not in exc.message:
            raise  # hostile, not merely text: too deep, too many aliases
        value = text
    _check_plain(value, assignment)
    return key, value


def _check_plain(value: Any, assignment: str, depth: int = 0) -> None:
    """A --set value holds text, numbers, booleans, null, lists and mappings only."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return
    if isinstance(value, list):
        for v in value:
            _check_plain(v, assignment, depth + 1)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(k, assignment, depth + 1)
            _check_plain(v, assignment, depth + 1)
        return
    raise ScenarioError(
        f"--set '{assignment}': a value of type {type(value).__name__} is not allowed; "
        f"use text, numbers, true/false, lists or mappings",
        source="--set",
    )


def _set_one(out: dict[str, Any], dotted: str, value: Any, source: str) -> list[Any]:
    """Set one dotted path in ``out`` (in place); returns the path with list indices resolved."""
    parts: list[Any] = dotted.split(".")
    node: Any = out
    walked: list[Any] = []
    for k, part in enumerate(parts):
        last = k == len(parts) - 1
        if isinstance(node, list):
            if not part.lstrip("-").isdigit():
                raise ScenarioError(f"'{part}' must be a list index (0..{len(node) - 1})", source=source, path=dotted)
            idx = int(part)
            if last and idx == len(node):  # one past the end appends (e.g. a new event)
                node.append(value)
                parts[k] = idx
                walked.append(idx)
                continue
            if idx == len(node):  # one past the end, but a field inside it: there is nothing to change
                example = ".".join(map(str, parts[:k])) + f".{idx}" + "={kind: focal_date, day: 3}"
                raise ScenarioError(
                    f"index {idx} is one past the end of a list of {len(node)}: a new item is added whole, "
                    f"e.g. --set {example!s}, and changed field by field afterwards",
                    source=source,
                    path=dotted,
                )
            if not -len(node) <= idx < len(node):
                raise ScenarioError(
                    f"index {idx} is out of range; the list has {len(node)} items (index {len(node)} appends)",
                    source=source,
                    path=dotted,
                )
            parts[k] = idx % len(node)
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
        else:
            raise ScenarioError(
                f"cannot set '{part}' inside {'.'.join(map(str, walked)) or 'the scenario'}"
                f", which is a value, not a mapping",
                source=source,
                path=dotted,
            )
        walked.append(parts[k])
    return parts


def apply_overrides(
    raw: dict[str, Any], overrides: Overrides, lines: LineMap | None = None, source: str = "--set"
) -> dict[str, Any]:
    """Return a deep copy of ``raw`` with dotted-path ``overrides`` applied.

    Paths use dots for mapping keys and integers for list items
    (``events.2.backfire``). ``lines`` (if given) is updated so that errors
    about an overridden field point at the override, not the file.
    """
    out = copy.deepcopy(raw)
    items = overrides.items() if isinstance(overrides, dict) else [parse_set(a) for a in overrides]
    for dotted, value in items:
        parts = _set_one(out, dotted, value, source)
        if lines is not None:
            lines[tuple(parts)] = (f"{source} {dotted}={value}", None)
    return out

"""Safe YAML reading that remembers where every value came from.

The scenario validator reports ``file:line`` for every error. PyYAML's safe
loader gives us the data; composing the same text gives the node tree with
line marks, which we flatten into ``{path tuple: (source, line)}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import ScenarioError

Origin = tuple[str, int | None]


class Loader(yaml.SafeLoader):
    """The safe loader, except that dates stay text (the validator parses them,
    so that an impossible date such as 2019-13-01 gets a clear error)."""


Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)  # type: ignore[type-var]


def load(text: str):
    """``yaml.load`` with :class:`Loader` (safe: no arbitrary objects)."""
    return yaml.load(text, Loader=Loader)


LineMap = dict[tuple, Origin]


def _walk(node: yaml.Node, path: tuple, source: str, out: LineMap) -> None:
    out[path] = (source, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = (source, key_node.start_mark.line + 1)
            _walk(value_node, (*path, key), source, out)
            # the key's own line is more useful than the value's for scalars
            if isinstance(value_node, yaml.ScalarNode):
                out[(*path, key)] = (source, key_node.start_mark.line + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), source, out)


def read_yaml(path: str | Path) -> tuple[Any, LineMap]:
    """Read a YAML file with the safe loader.

    Returns
    -------
    data, lines
        The parsed document and a map from field path (tuple of keys and list
        indices) to ``(file name, 1-based line)``.

    Raises
    ------
    ScenarioError
        If the file is missing, unreadable, or not valid YAML.
    """
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("file not found; check the path", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the file ({exc})", source=source) from None
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str) -> tuple[Any, LineMap]:
    """Parse YAML text (safe loader only); see :func:`read_yaml`."""
    try:
        data = load(text)
        node = yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        raise ScenarioError(
            f"not valid YAML: {problem}; fix the syntax (indentation, colons, quotes)", source=source, line=line
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML: {exc}", source=source) from None
    lines: LineMap = {}
    if node is not None:
        _walk(node, (), source, lines)
    return data, lines

"""Safe YAML reading that remembers where every value came from.

The scenario validator reports ``file:line`` for every error. PyYAML's safe
loader gives us the data; composing the same text gives the node tree with
line marks, which we flatten into ``{path tuple: (source, line)}``.
"""

from __future__ import annotations

import copy
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

import yaml

from ..errors import ScenarioError

Origin = tuple[str, int | None]


#: Limits on input files, so that a hostile or mistaken file fails in seconds with one line.
MAX_FILE_BYTES = 2_000_000
MAX_VALUES = 200_000  # values after aliases are expanded ("billion laughs")
MAX_DEPTH = 64


class Loader(yaml.SafeLoader):
    """The safe loader, except that dates stay text (the validator parses them, so that an
    impossible date such as 2019-13-01 gets a clear error), and numbers such as ``1e3`` are
    numbers (YAML 1.2; YAML 1.1 reads them as text)."""


Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)  # type: ignore[type-var]
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load(text: str) -> Any:
    """``yaml.load`` with :class:`Loader` (safe: no arbitrary objects)."""
    return yaml.load(text, Loader=Loader)


LineMap = dict[tuple[Any, ...], Origin]

#: Parsed files kept by :func:`read_yaml` (a calibration reads its base scenario once per
#: simulation; parsing it cost about 30 ms, as much as two simulated days)
PARSED_FILES_KEPT = 32
_PARSED: OrderedDict[tuple[str, int, int], tuple[Any, LineMap]] = OrderedDict()


class _Walk:
    """Flattens a node tree into a line map, refusing duplicate keys, deep nesting and alias
    expansions beyond :data:`MAX_VALUES`."""

    def __init__(self, source: str):
        self.source = source
        self.lines: LineMap = {}
        self.count = 0

    def error(self, node: yaml.Node, message: str) -> ScenarioError:
        return ScenarioError(message, source=self.source, line=node.start_mark.line + 1)

    def walk(self, node: yaml.Node, path: tuple[Any, ...]) -> None:
        self.count += 1
        if self.count > MAX_VALUES:
            raise self.error(
                node,
                f"more than {MAX_VALUES:,} values once aliases are expanded; write the values out or use fewer aliases",
            )
        if len(path) > MAX_DEPTH:
            raise self.error(node, f"nested more than {MAX_DEPTH} levels deep (or an alias refers to itself)")
        self.lines[path] = (self.source, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.error(key_node, "a key must be a plain name, not a list or mapping")
                if key in seen:
                    raise self.error(
                        key_node, f"duplicate key '{key}' (first on line {seen[key]}); each key may appear once"
                    )
                seen[key] = key_node.start_mark.line + 1
                self.lines[(*path, key)] = (self.source, key_node.start_mark.line + 1)
                self.walk(value_node, (*path, key))
                # the key's own line is more useful than the value's for scalars
                if isinstance(value_node, yaml.ScalarNode):
                    self.lines[(*path, key)] = (self.source, key_node.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.walk(item, (*path, i))


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
        If the file is missing, not a regular file, larger than :data:`MAX_FILE_BYTES`,
        unreadable, or not valid YAML (or hostile: see :func:`parse_yaml`).
    """
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise ScenarioError("file not found; check the path", source=source)
    if not path.is_file():
        raise ScenarioError("not a regular file (a directory, device or pipe); give a YAML file", source=source)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                f"the file is {size:,} bytes; input files are limited to {MAX_FILE_BYTES:,} bytes", source=source
            )
        stat = path.stat()
        key = (f"{path.resolve()}\0{source}", stat.st_mtime_ns, stat.st_size)
        if key in _PARSED:  # the same file, unchanged: a copy of what was parsed
            _PARSED.move_to_end(key)
            data, lines = _PARSED[key]
            return copy.deepcopy(data), dict(lines)
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the file ({exc}); save it as UTF-8 text", source=source) from None
    data, lines = parse_yaml(text, source)
    _PARSED[key] = (copy.deepcopy(data), dict(lines))
    while len(_PARSED) > PARSED_FILES_KEPT:
        _PARSED.popitem(last=False)
    return data, lines


def parse_yaml(text: str, source: str) -> tuple[Any, LineMap]:
    """Parse YAML text (safe loader only); see :func:`read_yaml`.

    Refuses duplicate keys, nesting deeper than :data:`MAX_DEPTH` and aliases that expand to
    more than :data:`MAX_VALUES` values, before building anything from them.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(f"the text is longer than {MAX_FILE_BYTES:,} characters", source=source)
    loader = Loader(text)
    walker = _Walk(source)
    try:  # one parse: compose the node tree, check it, then build the data from the same nodes
        node = loader.get_single_node()
        if node is not None:
            walker.walk(node, ())
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        raise ScenarioError(
            f"not valid YAML: {problem}; fix the syntax (indentation, colons, quotes)", source=source, line=line
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML: {exc}", source=source) from None
    except RecursionError:
        raise ScenarioError(f"nested too deeply (more than {MAX_DEPTH} levels)", source=source) from None
    finally:
        loader.dispose()
    return data, walker.lines

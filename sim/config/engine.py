"""The one validation engine for every input file (scenarios, experiments, data tables).

A :class:`Ctx` knows where each value came from (file and line, from
:mod:`sim.config.yamlio`, or the ``--set`` override that put it there), so every
error names file, line and dotted field path. :func:`build` turns a mapping
into a frozen dataclass strictly: unknown keys, wrong types and values outside
the bounds declared with :func:`~sim.config.fields.param` are refused with one
message that says what is allowed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import re
import types
import typing
from collections.abc import Iterable
from typing import Any, Literal

from ..errors import ParameterError, ScenarioError
from .fields import bounds_text
from .yamlio import LineMap, Origin

__all__ = ["Ctx", "build", "check_keys", "dotted", "fmt", "hint", "hints", "scalar"]

Path_ = tuple[Any, ...]


def dotted(path: Path_) -> str:
    """``("events", 0, "salience")`` → ``events[0].salience``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def fmt(value: Any) -> str:
    """A value as shown in an error message (repr, cut at 60 characters)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def hint(value: Any, choices: Iterable[Any], *, cutoff: float = 0.6, paren: bool = False) -> str:
    """The "did you mean" part of a message: ``"did you mean 'x'? "``, or with ``paren``
    ``" (did you mean 'x'?)"``; empty when nothing is close enough."""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=cutoff)
    if not close:
        return ""
    return f" (did you mean '{close[0]}'?)" if paren else f"did you mean '{close[0]}'? "


class Ctx:
    """Where values came from, for error messages.

    Parameters
    ----------
    lines
        Field path → (source, line), as read by :func:`~sim.config.yamlio.read_yaml`.
    default_source
        The source named when a path has no recorded origin.
    error_class
        The :class:`~sim.errors.ScenarioError` subclass raised by default.
    """

    def __init__(self, lines: LineMap, default_source: str | None, error_class: type[ScenarioError] = ScenarioError):
        self.lines = lines
        self.default_source = default_source
        self.error_class = error_class

    def origin(self, path: Path_) -> Origin | tuple[str | None, None]:
        p = tuple(path)
        while True:
            if p in self.lines:
                return self.lines[p]
            if not p:
                return (self.default_source, None)
            p = p[:-1]

    def error(self, path: Path_, message: str, cls: type[ScenarioError] | None = None) -> ScenarioError:
        """An error at ``path`` (raise it)."""
        source, line = self.origin(path)
        return (cls or self.error_class)(message, source=source, line=line, path=dotted(path) or None)


def check_keys(raw: dict[Any, Any], allowed: list[str], path: Path_, ctx: Ctx) -> None:
    """Refuse keys of ``raw`` that are not in ``allowed``, with the closest valid one."""
    for key in raw:
        if key not in allowed:
            raise ctx.error(
                (*path, key), f"unknown field '{key}'; {hint(key, allowed)}valid fields here: {', '.join(allowed)}"
            )


def _number(value: Any, path: Path_, ctx: Ctx, meta: dict[str, Any], whole: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "a whole number" if whole else "a number"
        raise ctx.error(path, f"{fmt(value)} is not {kind}; allowed: {bounds_text(meta)}", ParameterError)
    if whole:
        if isinstance(value, float) and not value.is_integer():
            raise ctx.error(path, f"{fmt(value)} is not a whole number; allowed: {bounds_text(meta)}", ParameterError)
        return int(value)
    if not math.isfinite(value):
        raise ctx.error(path, f"{fmt(value)} is not finite; allowed: {bounds_text(meta)}", ParameterError)
    return float(value)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: Any, path: Path_, ctx: Ctx) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
            raise ValueError(value)  # Python also reads 20190901; the format is YYYY-MM-DD only
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ctx.error(
            path, f"{fmt(value)} is not a date; write YYYY-MM-DD, e.g. 2019-09-02", ParameterError
        ) from None


def scalar(value: Any, tp: Any, meta: dict[str, Any], path: Path_, ctx: Ctx) -> Any:
    """Check one scalar against its declared type (bool, int, float, str, date, Literal,
    optional) and bounds; returns the value converted to the type."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return scalar(value, inner[0], meta, path, ctx)
    if origin is Literal:
        if value not in args:
            raise ctx.error(
                path,
                f"{fmt(value)} is not allowed{hint(value, args, paren=True)}; allowed: {', '.join(map(str, args))}",
            )
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ctx.error(path, f"{fmt(value)} is not a boolean; use true or false", ParameterError)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ctx.error(path, f"{fmt(value)} is not text; quote it", ParameterError)
        return value
    if tp is dt.date:
        return _date(value, path, ctx)
    if tp in (int, float):
        value = _number(value, path, ctx, meta, whole=tp is int)
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ctx.error(path, f"{fmt(value)} is out of range; allowed: {bounds_text(meta)}", ParameterError)
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def hints(cls: type) -> dict[str, Any]:
    """Resolved type hints of a dataclass (cached)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


T = typing.TypeVar("T")


def build(cls: type[T], raw: Any, path: Path_, ctx: Ctx, skip: tuple[str, ...] = ()) -> T:
    """Build a (possibly nested) dataclass from a mapping, strictly; fields in ``skip`` are left
    to the caller."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ctx.error(path, f"expected a mapping of fields, got {fmt(raw)}")
    fields = [f for f in dataclasses.fields(cls) if f.init and f.name not in skip]  # type: ignore[arg-type]
    check_keys(raw, [f.name for f in fields], path, ctx)
    types_ = hints(cls)
    kwargs: dict[str, Any] = {}
    for f in fields:
        if f.name not in raw:
            continue
        tp, value = types_[f.name], raw[f.name]
        if dataclasses.is_dataclass(tp):
            kwargs[f.name] = build(tp, value, (*path, f.name), ctx)  # type: ignore[arg-type]
        else:
            kwargs[f.name] = scalar(value, tp, dict(f.metadata), (*path, f.name), ctx)
    return cls(**kwargs)

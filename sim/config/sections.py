"""Builders of the scenario sections that need more than :func:`~sim.config.engine.build`:
distributions (tagged variants, partial overrides), the population, the cities (inline or CSV)
and the calendar of events."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from .._io import memory_available
from ..errors import DataError, ParameterError, ScenarioError
from ..events import EVENT_KINDS, Event
from .csvio import read_csv_rows
from .engine import Ctx, build, check_keys, fmt, hint, hints, scalar
from .fields import bounds_text
from .schema import (
    ATTRIBUTES,
    CITY_COLUMNS,
    CITY_OPTIONAL_COLUMNS,
    DIST_KINDS,
    Beta,
    City,
    Dist,
    GeographySpec,
    NetworkParams,
    PopulationSpec,
    Uniform,
)

__all__ = ["build_dist", "build_events", "build_geography", "build_population", "check_city"]

Path_ = tuple[Any, ...]

_EXAMPLES = {
    "constant": "{dist: constant, value: 0.5}",
    "uniform": "{dist: uniform, low: 0, high: 1}",
    "normal": "{dist: normal, mean: 0.5, sd: 0.1}",
    "beta": "{dist: beta, mean: 0.4, sd: 0.15}",
}


def build_dist(raw: Any, path: Path_, ctx: Ctx, base: Dist | None = None) -> Dist:
    """A distribution from ``{dist: KIND, ...}``; without ``dist``, ``raw`` changes fields of ``base``."""
    if not isinstance(raw, dict):
        raise ctx.error(path, f"expected a distribution such as {{dist: beta, mean: 0.5, sd: 0.2}}, got {fmt(raw)}")
    if base is not None and "dist" not in raw:
        merged = {k: v for k, v in dataclasses.asdict(base).items() if v is not None}
        merged.update(raw)
        raw = merged
    kind = raw.get("dist", "beta")
    if kind not in DIST_KINDS:
        raise ctx.error(
            (*path, "dist"),
            f"{fmt(kind)} is not allowed{hint(kind, DIST_KINDS, paren=True)}; allowed: {', '.join(DIST_KINDS)}",
        )
    cls = DIST_KINDS[kind]
    needed = [f.name for f in dataclasses.fields(cls) if f.name != "dist" and f.default is not None]
    for name in needed:
        if name not in raw:
            raise ctx.error(path, f"dist '{kind}' needs '{name}'; e.g. {_EXAMPLES[kind]}")
    d = build(cls, raw, path, ctx)
    if isinstance(d, Uniform) and d.low > d.high:
        raise ctx.error((*path, "low"), f"low {d.low} is above high {d.high}; need low ≤ high", ParameterError)
    if isinstance(d, Beta):
        problem = d.problem()
        if problem is not None:
            where, message, missing = problem
            raise ctx.error(path + ((where,) if where else ()), message, ScenarioError if missing else ParameterError)
    elif getattr(d, "sd", 1.0) <= 0:
        raise ctx.error((*path, "sd"), "sd must be > 0 (use dist: constant for no spread)", ParameterError)
    return d


def check_city(name: Any, city_names: list[str], path: Path_, ctx: Ctx) -> None:
    """Refuse a city name that is not in the scenario, with the closest one."""
    if not isinstance(name, str) or name not in city_names:
        shown = ", ".join(city_names[:30]) + (" ..." if len(city_names) > 30 else "")
        raise ctx.error(
            path, f"unknown city '{name}'; {hint(name, city_names, cutoff=0.5)}cities in this scenario: {shown}"
        )


def build_population(raw: Any, path: Path_, ctx: Ctx, city_names: list[str]) -> PopulationSpec:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ctx.error(path, f"expected a mapping of attributes, got {fmt(raw)}")
    check_keys(raw, [*ATTRIBUTES, "overrides"], path, ctx)
    defaults = PopulationSpec()

    def dist(attr: str) -> Dist:
        base = defaults.default(attr)
        return build_dist(raw[attr], (*path, attr), ctx, base=base) if attr in raw else base

    spec = PopulationSpec(
        trust=dist("trust"),
        sinophobia=dist("sinophobia"),
        hardship=dist("hardship"),
        threshold=dist("threshold"),
        risk_aversion=dist("risk_aversion"),
    )
    overrides: dict[str, dict[str, Dist]] = {}
    raw_over = raw.get("overrides") or {}
    if not isinstance(raw_over, dict):
        raise ctx.error((*path, "overrides"), "expected a mapping city → {attribute: distribution}")
    for city, attrs in raw_over.items():
        cpath = (*path, "overrides", city)
        check_city(city, city_names, cpath, ctx)
        if not isinstance(attrs, dict):
            raise ctx.error(cpath, "expected a mapping attribute → distribution")
        check_keys(attrs, list(ATTRIBUTES), cpath, ctx)
        overrides[city] = {a: build_dist(v, (*cpath, a), ctx, base=spec.default(a)) for a, v in attrs.items()}
    return dataclasses.replace(spec, overrides=overrides)


def build_events(
    raw: Any, path: Path_, ctx: Ctx, start: dt.date, days: int, city_names: list[str]
) -> tuple[Event, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ctx.error(path, "expected a list of events, each {kind: ..., date: ..., ...}")
    end = start + dt.timedelta(days=days - 1)
    events = []
    for i, item in enumerate(raw):
        epath = (*path, i)
        if not isinstance(item, dict):
            raise ctx.error(epath, f"expected an event mapping, got {fmt(item)}")
        kind = item.get("kind")
        if not isinstance(kind, str) or kind not in EVENT_KINDS:
            raise ctx.error(
                (*epath, "kind") if "kind" in item else epath,
                f"event kind {fmt(kind)} is unknown{hint(kind, EVENT_KINDS, paren=True)}; "
                f"allowed: {', '.join(EVENT_KINDS)}",
            )
        body = {k: v for k, v in item.items() if k not in ("cities", "day", "date")}
        ev = build(EVENT_KINDS[kind], body, epath, ctx, skip=("day", "date", "cities"))
        if ("date" in item) == ("day" in item):
            raise ctx.error(epath, "give exactly one of 'date' (YYYY-MM-DD) or 'day' (days since start)")
        if "date" in item:
            date = scalar(item["date"], dt.date, {}, (*epath, "date"), ctx)
            if not start <= date <= end:
                raise ctx.error(
                    (*epath, "date"),
                    f"date {date} is outside the run; allowed: {start} to {end} (start + days − 1)",
                    ParameterError,
                )
            day = (date - start).days
        else:
            day = scalar(item["day"], int, {"lo": 0, "hi": days - 1, "unit": "days since start"}, (*epath, "day"), ctx)
            date = start + dt.timedelta(days=day)
        cities_raw = item.get("cities", "all")
        cities: tuple[str, ...] | Literal["all"]
        if cities_raw == "all":
            cities = "all"
        else:
            if isinstance(cities_raw, str):
                cities_raw = [cities_raw]
            if not isinstance(cities_raw, list) or not cities_raw:
                raise ctx.error((*epath, "cities"), "expected 'all' or a non-empty list of city names")
            for j, name in enumerate(cities_raw):
                check_city(name, city_names, (*epath, "cities", j), ctx)
                if name in cities_raw[:j]:
                    raise ctx.error((*epath, "cities", j), f"city '{name}' is listed twice; list each city once")
            cities = tuple(cities_raw)
        origin = getattr(ev, "origin", None)
        if origin is not None:
            check_city(origin, city_names, (*epath, "origin"), ctx)
        events.append(dataclasses.replace(ev, kind=kind, day=day, date=date, cities=cities))
    return tuple(events)


def network_bytes(cities: int) -> int:
    """Memory of the dense city-by-city distances and network weights, with their temporaries."""
    return 6 * cities * cities * 8


def _check_city_count(count: int, path: Path_, ctx: Ctx) -> None:
    """Refuse, before building any city, more cities than the dense network can hold in memory."""
    need, have = network_bytes(count), memory_available()
    if need > have:
        raise ctx.error(
            path,
            f"{count:,} cities need a dense network of {need / 2**30:.1f} GiB; use fewer cities "
            f"({have / 2**30:.1f} GiB is available)",
            ParameterError,
        )


def read_cities_csv(path: Path, ctx: Ctx, where: Path_) -> tuple[City, ...]:
    """Cities from a CSV (columns name, population, lat, lon; optional media_reach,
    police_per_1000, salience); problems inside the file raise :class:`DataError` at its line."""
    source = str(path)
    required = list(CITY_COLUMNS)
    header, rows = read_csv_rows(
        path,
        required,
        f"a cities CSV needs columns {', '.join(required)} (optional: {', '.join(CITY_OPTIONAL_COLUMNS)})",
        "cities",
    )
    _check_city_count(len(rows), where, ctx)
    types_ = hints(City)
    meta = {f.name: dict(f.metadata) for f in dataclasses.fields(City)}
    cities = []
    for line, row in rows:
        row_ctx = Ctx({(): (source, line)}, source, DataError)
        values: dict[str, Any] = {}
        for col in (*CITY_COLUMNS, *CITY_OPTIONAL_COLUMNS):
            text = (row.get(col) or "").strip()
            if col not in header or (text == "" and col not in required):
                continue
            if col == "name":
                if not text:
                    raise DataError("empty city name", source=source, line=line, path="name")
                values[col] = text
                continue
            try:
                number: Any = float(text)
            except ValueError:
                raise DataError(
                    f"{text!r} is not a number; allowed: {bounds_text(meta[col])}", source=source, line=line, path=col
                ) from None
            try:
                values[col] = scalar(number, types_[col], meta[col], (col,), row_ctx)
            except ScenarioError as exc:
                raise DataError(exc.message, source=exc.source, line=exc.line, path=exc.path) from None
        cities.append(City(**values))
    if not cities:
        raise DataError("no cities in the file; add at least one row", source=source, line=1)
    return tuple(cities)


def build_geography(raw: Any, path: Path_, ctx: Ctx, base_dir: Path) -> GeographySpec:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ctx.error(path, "expected a mapping with 'cities' and optional 'network'")
    check_keys(raw, ["cities", "network"], path, ctx)
    network = build(NetworkParams, raw.get("network"), (*path, "network"), ctx)
    craw = raw.get("cities")
    cities_file = None
    if craw is None:
        raise ctx.error(
            (*path, "cities"),
            "no cities; give a list of {name, population, lat, lon} or a CSV path relative to the scenario file",
        )
    if isinstance(craw, str):
        file = base_dir / craw
        if not file.exists():
            raise ctx.error(
                (*path, "cities"), f"cities file '{file}' not found; paths are relative to the scenario file"
            )
        cities_file = str(file)
        cities = read_cities_csv(file, ctx, (*path, "cities"))
    elif isinstance(craw, list) and craw:
        _check_city_count(len(craw), (*path, "cities"), ctx)
        for i, c in enumerate(craw):
            for req in CITY_COLUMNS:
                if not isinstance(c, dict) or req not in c:
                    raise ctx.error((*path, "cities", i), f"city needs '{req}' (each city: name, population, lat, lon)")
        cities = tuple(build(City, c, (*path, "cities", i), ctx) for i, c in enumerate(craw))
    else:
        raise ctx.error((*path, "cities"), "expected a non-empty list of cities or a CSV path")
    for i, c in enumerate(cities):
        if not c.name.strip():
            where = (*path, "cities", i, "name") if isinstance(craw, list) else (*path, "cities")
            raise ctx.error(where, f"city {i + 1} has an empty name; every city needs a name")
    names = [c.name for c in cities]
    dup = sorted(n for n, k in Counter(names).items() if k > 1)
    if dup:
        raise ctx.error((*path, "cities"), f"duplicate city name(s): {', '.join(dup)}; names must be unique")
    return GeographySpec(cities=cities, cities_file=cities_file, network=network)

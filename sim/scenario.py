"""Scenario files: YAML → validated, frozen :class:`Scenario`.

Every field has a default, a unit and bounds next to it (see ``param``), so a
five-line scenario runs. Validation happens here, before anything is
allocated; every problem raises one :class:`~sim.errors.ScenarioError` that
names the file, line, dotted field path, the bad value and what is allowed.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import datetime as dt
import difflib
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ._yamlio import LineMap, Origin, read_yaml
from ._yamlio import load as load_yaml
from .errors import DataError, ParameterError, ScenarioError

__all__ = [
    "Scenario", "Dist", "City", "GeographySpec", "NetworkParams", "PopulationSpec",
    "InfluenceParams", "MediaParams", "ProtestParams", "RepressionParams", "Dynamics",
    "Outputs", "Event", "EVENT_KINDS", "ATTRIBUTES", "load_scenario", "apply_overrides",
    "BYTES_PER_AGENT",
]

#: Person attributes drawn from a distribution, all in [0, 1].
ATTRIBUTES = ("trust", "sinophobia", "hardship", "threshold", "risk_aversion")

#: Bytes of state per agent (see ``Population``) and of per-step scratch buffers,
#: used to refuse scenarios that would not fit in memory before allocating.
BYTES_PER_AGENT = 31
SCRATCH_BYTES_PER_AGENT = 48


def param(default: Any, lo: float | None = None, hi: float | None = None, unit: str = "",
          doc: str = "") -> Any:
    """A dataclass field with bounds, unit and a one-line meaning."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "unit": unit, "doc": doc})


# --------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class Dist:
    """A distribution for a person attribute, clipped to [0, 1].

    ``constant`` (value), ``uniform`` (low, high), ``normal`` (mean, sd; clipped),
    ``beta`` (mean and sd, or a and b).
    """

    dist: Literal["constant", "uniform", "normal", "beta"] = "beta"
    value: float | None = param(None, 0.0, 1.0)
    low: float | None = param(None, 0.0, 1.0)
    high: float | None = param(None, 0.0, 1.0)
    mean: float | None = param(None, 0.0, 1.0)
    sd: float | None = param(None, 0.0, 1.0)
    a: float | None = param(None, 0.0, None)
    b: float | None = param(None, 0.0, None)

    def beta_ab(self) -> tuple[float, float]:
        """Shape parameters (a, b) of a ``beta`` distribution."""
        if self.a is not None:
            return float(self.a), float(self.b)
        m, s = self.mean, self.sd
        k = m * (1 - m) / (s * s) - 1
        return m * k, (1 - m) * k


@dataclass(frozen=True)
class City:
    """One city node. Optional fields fall back to the dynamics' defaults."""

    name: str = param("")
    population: int = param(1, 1, None, "people")
    lat: float = param(0.0, -90.0, 90.0, "degrees")
    lon: float = param(0.0, -180.0, 180.0, "degrees")
    media_reach: float | None = param(None, 0.0, 1.0, "share of people online",
                                      "overrides dynamics.media.reach")
    police_per_1000: float | None = param(None, 0.0, 1000.0, "officers per 1000 people",
                                          "overrides dynamics.repression.police_per_1000")
    salience: float = param(0.0, 0.0, 1.0, "", "initial salience of the China issue")


@dataclass(frozen=True)
class NetworkParams:
    """Gravity network w_ij ∝ P_j^gravity_exponent / d_ij^distance_exponent, row-normalised."""

    gravity_exponent: float = param(1.0, 0.0, 5.0, "", "weight of destination population")
    distance_exponent: float = param(2.0, 0.0, 5.0, "", "distance decay")
    min_distance_km: float = param(10.0, 0.001, None, "km", "floor on distances")


@dataclass(frozen=True)
class GeographySpec:
    """Cities (inline or from CSV, relative to the scenario file) and the network."""

    cities: tuple[City, ...] = ()
    cities_file: str | None = None
    network: NetworkParams = field(default_factory=NetworkParams)


@dataclass(frozen=True)
class PopulationSpec:
    """Distributions of person attributes; ``overrides[city][attribute]`` per city."""

    trust: Dist = field(default_factory=lambda: Dist("beta", mean=0.5, sd=0.2))
    sinophobia: Dist = field(default_factory=lambda: Dist("beta", mean=0.3, sd=0.2))
    hardship: Dist = field(default_factory=lambda: Dist("beta", mean=0.35, sd=0.15))
    threshold: Dist = field(default_factory=lambda: Dist("beta", mean=0.75, sd=0.08))
    risk_aversion: Dist = field(default_factory=lambda: Dist("beta", mean=0.5, sd=0.2))
    overrides: dict = field(default_factory=dict)

    def for_city(self, city: str, attribute: str) -> Dist:
        """The distribution of ``attribute`` in ``city`` (override or default)."""
        return self.overrides.get(city, {}).get(attribute, getattr(self, attribute))


@dataclass(frozen=True)
class InfluenceParams:
    """Within-city opinion dynamics (Deffuant bounded confidence + Friedkin–Johnsen anchors)."""

    enabled: bool = param(True)
    mode: Literal["pairwise", "mean_field"] = param(
        "pairwise", doc="pairwise: Deffuant contacts; mean_field: DeGroot/Friedkin-Johnsen pull to city mean")
    contacts_per_day: int = param(4, 1, 100, "contacts/day", "rounds of one random partner each")
    confidence_bound: float = param(0.3, 0.0, 1.0, "opinion units", "Deffuant epsilon")
    rate: float = param(0.3, 0.0, 1.0, "1/contact", "Deffuant mu: share of the gap closed")
    stubbornness: float = param(0.05, 0.0, 1.0, "1/day", "Friedkin-Johnsen pull to the anchor")


@dataclass(frozen=True)
class MediaParams:
    """Salience of the China issue and its effect on online people."""

    enabled: bool = param(True)
    reach: float = param(0.81, 0.0, 1.0, "share", "share of people online (internet users 2019)")
    salience_half_life_days: float = param(3.0, 0.01, 1000.0, "days")
    local_weight: float = param(0.3, 0.0, 10.0, "1/day", "own city's protest visibility → salience")
    network_weight: float = param(0.3, 0.0, 10.0, "1/day", "gravity-weighted visibility elsewhere")
    national_weight: float = param(0.3, 0.0, 10.0, "1/day", "national media / messengers")
    visibility_reference: float = param(1000.0, 1.0, None, "people",
                                        "crowd size whose visibility is 1")
    visibility_floor: float = param(5.0, 1.0, None, "people",
                                    "crowds up to this size are invisible (v = 0)")
    attention_fatigue: float = param(0.0, 0.0, 1.0, "1/day",
                                     "growth of attention fatigue at salience 1 (Downs 1972); 0 = none")
    fatigue_half_life_days: float = param(30.0, 0.01, 10000.0, "days", "recovery of attention")
    sinophobia_rate: float = param(0.01, 0.0, 1.0, "1/day", "online drift of sinophobia up at salience 1")
    trust_rate: float = param(0.005, 0.0, 1.0, "1/day", "online drift of trust down at salience 1")


@dataclass(frozen=True)
class ProtestParams:
    """Activation rule (Epstein 2002 with social proof)."""

    enabled: bool = param(True)
    social_proof: Literal["visibility", "fraction", "none"] = param("visibility")
    social_proof_weight: float = param(0.1, 0.0, 10.0, "", "beta_f")
    sinophobia_weight: float = param(0.5, 0.0, 10.0, "", "beta_s")
    arrest_constant: float = param(2.3, 0.0, 100.0, "", "Epstein k")
    grievance_weight: float = param(1.0, 0.0, 10.0, "", "weight of h(1-trust)")


@dataclass(frozen=True)
class RepressionParams:
    """Detention of active people and backlash."""

    enabled: bool = param(True)
    police_per_1000: float = param(3.0, 0.0, 1000.0, "officers per 1000 people")
    arrest_share: float = param(0.15, 0.0, 1.0, "1/day", "share of actives detained when arrest is certain")
    min_detention_days: int = param(1, 1, 250, "days")
    max_detention_days: int = param(15, 1, 250, "days")
    backlash: float = param(0.05, 0.0, 1.0, "", "trust lost by online people at detention visibility 1")


@dataclass(frozen=True)
class Dynamics:
    influence: InfluenceParams = field(default_factory=InfluenceParams)
    media: MediaParams = field(default_factory=MediaParams)
    protest: ProtestParams = field(default_factory=ProtestParams)
    repression: RepressionParams = field(default_factory=RepressionParams)


@dataclass(frozen=True)
class Outputs:
    onset_min_participants: float = param(10.0, 1.0, None, "people")
    histograms: bool = param(False)
    histogram_bins: int = param(20, 2, 200)
    plots: bool = param(True)


# --------------------------------------------------------------------------- events
@dataclass(frozen=True)
class Event:
    """Base of all events. ``day`` is resolved from ``date`` at load."""

    kind: str = ""
    day: int = param(0, 0, None, "days since start")
    cities: tuple[str, ...] | Literal["all"] = "all"
    date: dt.date | None = None
    label: str = ""
    enabled: bool = param(True, doc="false: the event does nothing (counterfactuals without it)")


@dataclass(frozen=True)
class InformationTrigger(Event):
    """A rumour or news item: salience up; online sinophobia up by ``sinophobia``·(1−s)."""

    salience: float = param(0.5, 0.0, 1.0, "", "added to city salience (capped at 1)")
    sinophobia: float = param(0.0, 0.0, 1.0, "", "share of the gap to 1 closed for online people")
    days: int = param(1, 1, 366, "days", "the item keeps circulating: applied on each of these days")


@dataclass(frozen=True)
class _Message(Event):
    reach: float = param(0.5, 0.0, 1.0, "share of online people who hear it")
    effect: float = param(0.05, 0.0, 1.0, "", "intended fall of sinophobia for a fully credulous hearer")
    backfire: float = param(0.5, 0.0, 10.0, "", "rise for a fully distrustful hearer, per unit effect")
    salience: float = param(0.05, 0.0, 1.0, "", "talk about the message adds salience")


@dataclass(frozen=True)
class DiplomaticMessage(_Message):
    """A foreign official's statement; credibility 1 − sinophobia."""


@dataclass(frozen=True)
class GovernmentMessage(_Message):
    """Officials' reassurance; credibility = trust in government."""


@dataclass(frozen=True)
class EconomicShock(Event):
    """Hardship change (e.g. a devaluation), added and clipped to [0, 1]."""

    hardship: float = param(0.1, -1.0, 1.0, "hardship units")


@dataclass(frozen=True)
class FocalDate(Event):
    """A date that concentrates mobilisation: motive + boost for ``days`` days."""

    boost: float = param(0.05, 0.0, 1.0, "motive units")
    days: int = param(1, 1, 366, "days")


@dataclass(frozen=True)
class Policing(Event):
    """Police capacity multiplied by ``factor`` from this day on (crackdown > 1, restraint < 1)."""

    factor: float = param(1.0, 0.0, 100.0, "×")


EVENT_KINDS: dict[str, type[Event]] = {
    "information_trigger": InformationTrigger,
    "diplomatic_message": DiplomaticMessage,
    "government_message": GovernmentMessage,
    "economic_shock": EconomicShock,
    "focal_date": FocalDate,
    "policing": Policing,
}


# --------------------------------------------------------------------------- scenario
@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Build with :func:`load_scenario`."""

    name: str = "scenario"
    description: str = ""
    start: dt.date = dt.date(2019, 9, 1)
    days: int = param(30, 1, 36500, "days")
    seed: int = param(0, 0, 2**63 - 1)
    scale: float = param(1.0, 1.0, None, "people per agent")
    geography: GeographySpec = field(default_factory=GeographySpec)
    population: PopulationSpec = field(default_factory=PopulationSpec)
    dynamics: Dynamics = field(default_factory=Dynamics)
    events: tuple[Event, ...] = ()
    outputs: Outputs = field(default_factory=Outputs)
    observed: str | None = None
    source: str | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    lines: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def cities(self) -> tuple[City, ...]:
        return self.geography.cities

    def agents_per_city(self) -> list[int]:
        """Agents per city: round(population / scale)."""
        return [int(round(c.population / self.scale)) for c in self.cities]

    @property
    def n_agents(self) -> int:
        return sum(self.agents_per_city())

    def date_of(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    def with_overrides(self, overrides: dict[str, Any] | list[str]) -> "Scenario":
        """A new, validated scenario with dotted-path overrides applied on top of this one."""
        base_dir = Path(self.source).parent if self.source and Path(self.source).is_file() else Path.cwd()
        lines: LineMap = dict(self.lines)
        raw = apply_overrides(self.raw, overrides, lines)
        return _validate(raw, lines, self.source or "<scenario>", base_dir)

    def resolved(self) -> dict:
        """The scenario as plain data (every default filled in), for manifests."""
        return _plain(self)


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            if f.name in ("raw", "lines"):
                continue
            out[f.name] = _plain(getattr(obj, f.name))
        if isinstance(obj, Dist):
            out = {k: v for k, v in out.items() if v is not None}
        return out
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    return obj


# --------------------------------------------------------------------------- validation
class _Ctx:
    """Where values came from, for error messages."""

    def __init__(self, lines: LineMap, default_source: str | None):
        self.lines = lines
        self.default_source = default_source

    def origin(self, path: tuple) -> Origin:
        p = tuple(path)
        while True:
            if p in self.lines:
                return self.lines[p]
            if not p:
                return (self.default_source, None)
            p = p[:-1]

    def error(self, path: tuple, message: str, cls: type[ScenarioError] = ScenarioError):
        source, line = self.origin(path)
        return cls(message, source=source, line=line, path=_dotted(path) or None)


def _dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _fmt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_keys(raw: dict, allowed: list[str], path: tuple, ctx: _Ctx,
                cls: type[ScenarioError] = ScenarioError) -> None:
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ctx.error(path + (key,), f"unknown field '{key}'; {hint}valid fields here: "
                                           f"{', '.join(allowed)}", cls)


def _bounds_text(meta: dict) -> str:
    lo, hi, unit = meta.get("lo"), meta.get("hi"), meta.get("unit", "")
    if lo is not None and hi is not None:
        text = f"{lo} ≤ value ≤ {hi}"
    elif lo is not None:
        text = f"value ≥ {lo}"
    elif hi is not None:
        text = f"value ≤ {hi}"
    else:
        text = "any value"
    return text + (f" ({unit})" if unit else "")


def _scalar(value: Any, tp: Any, meta: dict, path: tuple, ctx: _Ctx) -> Any:
    """Check one scalar against its declared type and bounds."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _scalar(value, inner[0], meta, path, ctx)
    if origin is Literal:
        if value not in args:
            close = difflib.get_close_matches(str(value), [str(a) for a in args], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ctx.error(path, f"{_fmt(value)} is not allowed{hint}; allowed: "
                                  f"{', '.join(map(str, args))}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ctx.error(path, f"{_fmt(value)} is not a boolean; use true or false", ParameterError)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not value.is_integer()):
            raise ctx.error(path, f"{_fmt(value)} is not a whole number; allowed: {_bounds_text(meta)}",
                            ParameterError)
        value = int(value)
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ctx.error(path, f"{_fmt(value)} is not a number; allowed: {_bounds_text(meta)}",
                            ParameterError)
        value = float(value)
        if not math.isfinite(value):
            raise ctx.error(path, f"{_fmt(value)} is not finite; allowed: {_bounds_text(meta)}",
                            ParameterError)
    elif tp is str:
        if not isinstance(value, str):
            raise ctx.error(path, f"{_fmt(value)} is not text; quote it", ParameterError)
        return value
    elif tp is dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ctx.error(path, f"{_fmt(value)} is not a date; write YYYY-MM-DD, e.g. 2019-09-02",
                            ParameterError) from None
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ctx.error(path, f"{_fmt(value)} is out of range; allowed: {_bounds_text(meta)}",
                        ParameterError)
    return value


_HINTS: dict[type, dict] = {}


def _hints(cls: type) -> dict:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _build(cls: type, raw: Any, path: tuple, ctx: _Ctx, skip: tuple[str, ...] = ()) -> Any:
    """Build a flat-or-nested params dataclass from a mapping, strictly."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ctx.error(path, f"expected a mapping of fields, got {_fmt(raw)}")
    names = [f.name for f in dataclasses.fields(cls) if f.name not in skip and f.name not in ("raw", "lines")]
    _check_keys(raw, names, path, ctx)
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in raw or f.name in skip:
            continue
        tp = hints[f.name]
        value = raw[f.name]
        if dataclasses.is_dataclass(tp):
            kwargs[f.name] = _build(tp, value, path + (f.name,), ctx)
        else:
            kwargs[f.name] = _scalar(value, tp, dict(f.metadata), path + (f.name,), ctx)
    return cls(**kwargs)


def _build_dist(raw: Any, path: tuple, ctx: _Ctx, base: Dist | None = None) -> Dist:
    if not isinstance(raw, dict):
        raise ctx.error(path, f"expected a distribution such as {{dist: beta, mean: 0.5, sd: 0.2}}, "
                              f"got {_fmt(raw)}")
    if base is not None and "dist" not in raw:
        merged = {k: v for k, v in dataclasses.asdict(base).items() if v is not None}
        merged.update(raw)
        raw = merged
    d = _build(Dist, raw, path, ctx)
    need = {"constant": ("value",), "uniform": ("low", "high"), "normal": ("mean", "sd"),
            "beta": ()}[d.dist]
    examples = {"constant": "{dist: constant, value: 0.5}", "uniform": "{dist: uniform, low: 0, high: 1}",
                "normal": "{dist: normal, mean: 0.5, sd: 0.1}"}
    for name in need:
        if getattr(d, name) is None:
            raise ctx.error(path, f"dist '{d.dist}' needs '{name}'; e.g. {examples[d.dist]}")
    if d.dist == "uniform" and d.low > d.high:
        raise ctx.error(path + ("low",), f"low {d.low} is above high {d.high}; need low ≤ high",
                        ParameterError)
    if d.dist == "normal" and d.sd <= 0:
        raise ctx.error(path + ("sd",), "sd must be > 0 (use dist: constant for no spread)", ParameterError)
    if d.dist == "beta":
        if d.a is not None or d.b is not None:
            if d.a is None or d.b is None or d.a <= 0 or d.b <= 0:
                raise ctx.error(path, "beta with shape parameters needs both a > 0 and b > 0",
                                ParameterError)
        elif d.mean is None or d.sd is None:
            raise ctx.error(path, "dist 'beta' needs mean and sd (or a and b), "
                                  "e.g. {dist: beta, mean: 0.4, sd: 0.15}")
        else:
            if not 0 < d.mean < 1:
                raise ctx.error(path + ("mean",), f"beta mean {d.mean} must be strictly between 0 and 1",
                                ParameterError)
            limit = math.sqrt(d.mean * (1 - d.mean))
            if not 0 < d.sd < limit:
                raise ctx.error(path + ("sd",), f"beta sd {d.sd} must be > 0 and < sqrt(mean·(1−mean)) "
                                                f"= {limit:.4f} for mean {d.mean}", ParameterError)
    return d


def _build_population(raw: Any, path: tuple, ctx: _Ctx, city_names: list[str]) -> PopulationSpec:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ctx.error(path, f"expected a mapping of attributes, got {_fmt(raw)}")
    allowed = list(ATTRIBUTES) + ["overrides"]
    _check_keys(raw, allowed, path, ctx)
    defaults = PopulationSpec()
    kwargs = {}
    for attr in ATTRIBUTES:
        if attr in raw:
            kwargs[attr] = _build_dist(raw[attr], path + (attr,), ctx, base=getattr(defaults, attr))
    spec = PopulationSpec(**kwargs)
    overrides: dict[str, dict[str, Dist]] = {}
    raw_over = raw.get("overrides") or {}
    if not isinstance(raw_over, dict):
        raise ctx.error(path + ("overrides",), "expected a mapping city → {attribute: distribution}")
    for city, attrs in raw_over.items():
        cpath = path + ("overrides", city)
        _check_city(city, city_names, cpath, ctx)
        if not isinstance(attrs, dict):
            raise ctx.error(cpath, "expected a mapping attribute → distribution")
        _check_keys(attrs, list(ATTRIBUTES), cpath, ctx)
        overrides[city] = {a: _build_dist(v, cpath + (a,), ctx, base=getattr(spec, a))
                           for a, v in attrs.items()}
    return dataclasses.replace(spec, overrides=overrides)


def _check_city(name: Any, city_names: list[str], path: tuple, ctx: _Ctx) -> None:
    if name not in city_names:
        close = difflib.get_close_matches(str(name), city_names, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        shown = ", ".join(city_names[:30]) + (" ..." if len(city_names) > 30 else "")
        raise ctx.error(path, f"unknown city '{name}'; {hint}cities in this scenario: {shown}")


def _build_events(raw: Any, path: tuple, ctx: _Ctx, start: dt.date, days: int,
                  city_names: list[str]) -> tuple[Event, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ctx.error(path, "expected a list of events, each {kind: ..., date: ..., ...}")
    end = start + dt.timedelta(days=days - 1)
    events = []
    for i, item in enumerate(raw):
        epath = path + (i,)
        if not isinstance(item, dict):
            raise ctx.error(epath, f"expected an event mapping, got {_fmt(item)}")
        kind = item.get("kind")
        if kind not in EVENT_KINDS:
            close = difflib.get_close_matches(str(kind), list(EVENT_KINDS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ctx.error(epath + ("kind",) if "kind" in item else epath,
                            f"event kind {_fmt(kind)} is unknown{hint}; allowed: {', '.join(EVENT_KINDS)}")
        cls = EVENT_KINDS[kind]
        body = {k: v for k, v in item.items() if k not in ("cities", "day", "date")}
        ev = _build(cls, body, epath, ctx, skip=("day", "date", "cities"))
        if ("date" in item) == ("day" in item):
            raise ctx.error(epath, "give exactly one of 'date' (YYYY-MM-DD) or 'day' (days since start)")
        if "date" in item:
            date = _scalar(item["date"], dt.date, {}, epath + ("date",), ctx)
            if not start <= date <= end:
                raise ctx.error(epath + ("date",), f"date {date} is outside the run; allowed: "
                                                   f"{start} to {end} (start + days − 1)", ParameterError)
            day = (date - start).days
        else:
            day = _scalar(item["day"], int, {"lo": 0, "hi": days - 1, "unit": "days since start"},
                          epath + ("day",), ctx)
            date = start + dt.timedelta(days=day)
        cities_raw = item.get("cities", "all")
        if cities_raw == "all":
            cities: tuple[str, ...] | str = "all"
        else:
            if isinstance(cities_raw, str):
                cities_raw = [cities_raw]
            if not isinstance(cities_raw, list) or not cities_raw:
                raise ctx.error(epath + ("cities",), "expected 'all' or a non-empty list of city names")
            for j, name in enumerate(cities_raw):
                _check_city(name, city_names, epath + ("cities", j), ctx)
            cities = tuple(cities_raw)
        events.append(dataclasses.replace(ev, kind=kind, day=day, date=date, cities=cities))
    return tuple(events)


def _read_cities_csv(path: Path, ctx_path: tuple, ctx: _Ctx) -> tuple[City, ...]:
    """Read a cities CSV; problems inside the file raise :class:`DataError`."""
    try:
        handle = open(path, newline="", encoding="utf-8")
    except OSError:
        raise ctx.error(ctx_path, f"cities file '{path}' not found; paths are relative to the scenario "
                                  f"file") from None
    try:
        with handle:
            return _parse_cities_csv(handle, str(path))
    except DataError:
        raise
    except ScenarioError as exc:
        raise DataError(exc.message, source=exc.source, line=exc.line, path=exc.path) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot parse the CSV ({exc}); save it as UTF-8 comma-separated text",
                        source=str(path)) from None


def _parse_cities_csv(handle, source: str) -> tuple[City, ...]:
    """Parse an open cities CSV (name, population, lat, lon; optional columns)."""
    reader = csv.DictReader(handle)
    header = reader.fieldnames or []
    required = ["name", "population", "lat", "lon"]
    missing = [c for c in required if c not in header]
    if missing:
        raise ScenarioError(f"missing column(s) {', '.join(missing)}; a cities CSV needs columns "
                            f"{', '.join(required)} (optional: media_reach, police_per_1000, salience)",
                            source=source, line=1)
    hints = _hints(City)
    meta = {f.name: dict(f.metadata) for f in dataclasses.fields(City)}
    cities = []
    for row in reader:
        line = reader.line_num
        values: dict[str, Any] = {}
        for col in ["name", "population", "lat", "lon", "media_reach", "police_per_1000", "salience"]:
            text = (row.get(col) or "").strip()
            if col not in header or (text == "" and col not in required):
                continue
            tp = hints[col]
            row_ctx = _Ctx({(): (source, line)}, source)
            if col == "name":
                if not text:
                    raise ScenarioError("empty city name", source=source, line=line, path="name")
                values[col] = text
                continue
            try:
                number: Any = float(text)
            except ValueError:
                raise ScenarioError(f"{text!r} is not a number; allowed: {_bounds_text(meta[col])}",
                                    source=source, line=line, path=col) from None
            values[col] = _scalar(number, tp, meta[col], (col,), row_ctx)
        cities.append(City(**values))
    if not cities:
        raise ScenarioError("no cities in the file; add at least one row", source=source, line=1)
    return tuple(cities)


def _build_geography(raw: Any, path: tuple, ctx: _Ctx, base_dir: Path) -> GeographySpec:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ctx.error(path, "expected a mapping with 'cities' and optional 'network'")
    _check_keys(raw, ["cities", "network"], path, ctx)
    network = _build(NetworkParams, raw.get("network"), path + ("network",), ctx)
    craw = raw.get("cities")
    cities_file = None
    if craw is None:
        raise ctx.error(path + ("cities",), "no cities; give a list of {name, population, lat, lon} "
                                            "or a CSV path relative to the scenario file")
    if isinstance(craw, str):
        cities_file = str((base_dir / craw))
        cities = _read_cities_csv(base_dir / craw, path + ("cities",), ctx)
    elif isinstance(craw, list) and craw:
        for i, c in enumerate(craw):
            for req in ("name", "population", "lat", "lon"):
                if not isinstance(c, dict) or req not in c:
                    raise ctx.error(path + ("cities", i), f"city needs '{req}' "
                                                          f"(each city: name, population, lat, lon)")
        cities = tuple(_build(City, c, path + ("cities", i), ctx) for i, c in enumerate(craw))
    else:
        raise ctx.error(path + ("cities",), "expected a non-empty list of cities or a CSV path")
    names = [c.name for c in cities]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ctx.error(path + ("cities",), f"duplicate city name(s): {', '.join(dup)}; names must be unique")
    return GeographySpec(cities=cities, cities_file=cities_file, network=network)


def _memory_available() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def estimated_bytes(n_agents: int) -> int:
    """Memory a run of ``n_agents`` needs: state plus scratch buffers."""
    return n_agents * (BYTES_PER_AGENT + SCRATCH_BYTES_PER_AGENT)


_TOP = ["name", "description", "start", "days", "seed", "scale", "geography", "population",
        "dynamics", "events", "outputs", "observed", "extends", "set"]


def _merge(base: Any, child: Any) -> Any:
    if isinstance(base, dict) and isinstance(child, dict):
        out = dict(base)
        for k, v in child.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return child


def _read_with_extends(path: Path, seen: tuple = ()) -> tuple[dict, LineMap]:
    data, lines = _read_extends_only(path, seen)
    sets = data.pop("set", None)
    if sets is not None:
        if not isinstance(sets, dict):
            raise ScenarioError("set must be a mapping of dotted field paths to values, e.g. "
                                "{events.0.enabled: false}", source=str(path),
                                line=lines.get(("set",), (None, None))[1], path="set")
        for dotted, value in sets.items():
            data = apply_overrides(data, {str(dotted): value}, lines, source=f"{path}:"
                                   f"{lines.get(('set', dotted), (None, '?'))[1]} set")
    return data, lines


def _read_extends_only(path: Path, seen: tuple = ()) -> tuple[dict, LineMap]:
    data, lines = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError("a scenario must be a mapping of fields (name, start, days, ...)",
                            source=str(path), line=1)
    parent = data.get("extends")
    if parent is None:
        return data, lines
    if not isinstance(parent, str):
        raise ScenarioError("extends must be a path to another scenario file", source=str(path),
                            line=lines.get(("extends",), (None, None))[1], path="extends")
    ppath = (path.parent / parent).resolve()
    if ppath in seen:
        raise ScenarioError(f"extends forms a cycle through {ppath}", source=str(path),
                            line=lines.get(("extends",), (None, None))[1], path="extends")
    if not ppath.exists():
        raise ScenarioError(f"extends names '{parent}', which does not exist (relative to this file)",
                            source=str(path), line=lines.get(("extends",), (None, None))[1],
                            path="extends")
    base, base_lines = _read_with_extends(ppath, seen + (ppath,))
    merged = _merge(base, {k: v for k, v in data.items() if k != "extends"})
    # relative paths in the parent stay relative to the parent
    geo = base.get("geography") if isinstance(base.get("geography"), dict) else None
    if geo and isinstance(geo.get("cities"), str) and not (
            isinstance(data.get("geography"), dict) and "cities" in data["geography"]):
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
        raise ScenarioError(f"--set '{assignment}' needs the form PATH=VALUE, "
                            f"e.g. --set dynamics.influence.rate=0.2", source="--set")
    key, text = assignment.split("=", 1)
    key = key.strip()
    if not key:
        raise ScenarioError(f"--set '{assignment}' has an empty PATH", source="--set")
    try:
        value = load_yaml(text) if text.strip() else ""
    except yaml.YAMLError:
        value = text
    return key, value


def apply_overrides(raw: dict, overrides: dict[str, Any] | list[str], lines: LineMap | None = None,
                    source: str = "--set") -> dict:
    """Return a deep copy of ``raw`` with dotted-path ``overrides`` applied.

    Paths use dots for mapping keys and integers for list items
    (``events.2.backfire``). ``lines`` (if given) is updated so that errors
    about an overridden field point at the override, not the file.
    """
    out = copy.deepcopy(raw)
    items = overrides.items() if isinstance(overrides, dict) else [parse_set(a) for a in overrides]
    for dotted, value in items:
        parts: list[Any] = dotted.split(".")
        node: Any = out
        walked: list[Any] = []
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            if isinstance(node, list):
                if not part.lstrip("-").isdigit():
                    raise ScenarioError(f"'{part}' must be a list index (0..{len(node) - 1})",
                                        source=source, path=dotted)
                idx = int(part)
                if last and idx == len(node):          # one past the end appends (e.g. a new event)
                    node.append(value)
                    parts[k] = idx
                    walked.append(idx)
                    continue
                if not -len(node) <= idx < len(node):
                    raise ScenarioError(f"index {idx} is out of range; the list has {len(node)} items "
                                        f"(index {len(node)} appends)", source=source, path=dotted)
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
                raise ScenarioError(f"cannot set '{part}' inside {'.'.join(map(str, walked)) or 'the scenario'}"
                                    f", which is a value, not a mapping", source=source, path=dotted)
            walked.append(parts[k])
        if lines is not None:
            lines[tuple(parts)] = (f"{source} {dotted}={value}", None)
    return out


def load_scenario(source: str | Path | dict, overrides: dict[str, Any] | list[str] | None = None) -> Scenario:
    """Load and validate a scenario.

    Parameters
    ----------
    source
        Path to a YAML file, or a mapping with the same structure (relative
        paths in a mapping are resolved against the current directory).
    overrides
        Dotted-path overrides, as a mapping (``{"seed": 3}``) or a list of
        ``"PATH=VALUE"`` strings (the CLI's ``--set``).

    Returns
    -------
    Scenario
        Frozen, fully defaulted and validated.

    Raises
    ------
    ScenarioError
        On any invalid input, naming file, line, field path and what is allowed.
    """
    if isinstance(source, dict):
        raw = copy.deepcopy(source)
        lines: LineMap = {}
        name = "<scenario dict>"
        base_dir = Path.cwd()
    else:
        path = Path(source)
        raw, lines = _read_with_extends(path)
        name = str(path)
        base_dir = path.parent
    if overrides:
        raw = apply_overrides(raw, overrides, lines)
    return _validate(raw, lines, name, base_dir)


def _validate(raw: dict, lines: LineMap, name: str, base_dir: Path) -> Scenario:
    ctx = _Ctx(lines, name)
    if not isinstance(raw, dict):
        raise ctx.error((), "a scenario must be a mapping of fields (name, start, days, ...)")
    _check_keys(raw, _TOP, (), ctx)
    top = {k: raw[k] for k in ("name", "description", "start", "days", "seed", "scale") if k in raw}
    base = _build(Scenario, top, (), ctx, skip=("geography", "population", "dynamics", "events",
                                                 "outputs", "observed", "source", "lines"))
    geography = _build_geography(raw.get("geography"), ("geography",), ctx, base_dir)
    names = [c.name for c in geography.cities]
    population = _build_population(raw.get("population"), ("population",), ctx, names)
    dynamics = _build(Dynamics, raw.get("dynamics"), ("dynamics",), ctx)
    rep = dynamics.repression
    if rep.min_detention_days > rep.max_detention_days:
        raise ctx.error(("dynamics", "repression", "min_detention_days"),
                        f"min_detention_days {rep.min_detention_days} exceeds max_detention_days "
                        f"{rep.max_detention_days}", ParameterError)
    med = dynamics.media
    if med.visibility_floor >= med.visibility_reference:
        raise ctx.error(("dynamics", "media", "visibility_floor"),
                        f"visibility_floor {med.visibility_floor:g} must be below visibility_reference "
                        f"{med.visibility_reference:g} (people)", ParameterError)
    events = _build_events(raw.get("events"), ("events",), ctx, base.start, base.days, names)
    outputs = _build(Outputs, raw.get("outputs"), ("outputs",), ctx)
    observed = raw.get("observed")
    if observed is not None:
        if not isinstance(observed, str):
            raise ctx.error(("observed",), "expected a path to an observed-onsets CSV")
        observed = str(base_dir / observed)
        if not Path(observed).exists():
            raise ctx.error(("observed",), f"file '{observed}' not found; paths are relative to the "
                                           f"scenario file")
    scenario = dataclasses.replace(base, geography=geography, population=population, dynamics=dynamics,
                                   events=events, outputs=outputs, observed=observed, source=name,
                                   raw=raw, lines=lines)
    for city, n in zip(scenario.cities, scenario.agents_per_city()):
        if n < 1:
            raise ctx.error(("scale",), f"scale {scenario.scale:g} leaves city '{city.name}' "
                                        f"(population {city.population}) with no agent; use scale ≤ "
                                        f"{city.population}", ParameterError)
    need = estimated_bytes(scenario.n_agents)
    have = _memory_available()
    if need > have:
        factor = math.ceil(need / have * scenario.scale)
        raise ctx.error(("scale",), f"{scenario.n_agents:,} agents need about {need / 2**30:.1f} GiB but "
                                    f"{have / 2**30:.1f} GiB is available; use scale ≥ {factor}",
                        ParameterError)
    return scenario

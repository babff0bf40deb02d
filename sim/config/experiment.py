"""Experiment files: a base scenario, swept parameters (dotted scenario paths), a design,
replicates and outcomes. Validated by the same engine as scenarios, before any run: every
parameter value (both ends of a range, every list item) is applied to the base scenario."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ScenarioError, SweepError
from .engine import Ctx, check_keys, hint
from .scenario import Scenario, load_scenario
from .yamlio import read_yaml

__all__ = ["DESIGNS", "FIT_OUTCOMES", "OUTCOMES", "Experiment", "Parameter", "load_experiment"]

#: Outcomes that need the base scenario's observed onsets.
FIT_OUTCOMES = ("onset_error_mean", "share_reached_by_observed", "kendall_tau")

#: Outcomes a sweep can keep, per run.
OUTCOMES = (
    "cities_reached",
    "first_onset_day",
    "last_onset_day",
    "national_peak",
    "national_peak_day",
    "total_detained",
    "onset_error_mean",
    "share_reached_by_observed",
    "kendall_tau",
    "final_mean_trust",
    "final_mean_sinophobia",
)

#: ``saltelli`` and ``morris`` are SALib's designs for ``sim sensitivity`` (:mod:`sim.inference.sensitivity`).
DESIGNS = ("grid", "lhs", "sobol", "saltelli", "morris")

#: Most runs one experiment may hold (points × replicates), checked before any design is built.
MAX_RUNS = 1_000_000

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")

_KEYS = [
    "name",
    "description",
    "base",
    "set",
    "design",
    "samples",
    "seed",
    "replicates",
    "parameters",
    "outcomes",
    "keep_timeseries",
    "common_seeds",
    "population_pool",
]


@dataclass(frozen=True)
class Parameter:
    """One swept parameter: a list of values or a numeric range."""

    path: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    steps: int | None = None
    log: bool = False
    integer: bool = False

    def grid(self) -> list[Any]:
        """The values of a grid design."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        space = np.geomspace if self.log else np.linspace
        return [self.cast(v) for v in space(self.low, self.high, self.steps or 1)]

    def from_unit(self, u: float) -> Any:
        """Map u ∈ [0, 1) to a value (uniform or log-uniform; lists by index)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        assert self.low is not None and self.high is not None
        if self.log:
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + u * (self.high - self.low)
        return self.cast(v)

    def cast(self, v: float) -> Any:
        return int(round(v)) if self.integer else float(v)


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file."""

    name: str
    base: str
    design: str
    seed: int
    replicates: int
    parameters: tuple[Parameter, ...]
    outcomes: tuple[str, ...]
    fixed: dict[str, Any] = field(default_factory=dict)
    samples: int | None = None
    keep_timeseries: bool = False
    common_seeds: bool = False
    population_pool: int = 0
    description: str = ""
    source: str = ""

    def plain(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "parameters": [dataclasses.asdict(p) for p in self.parameters]}


def _lookup(data: Any, dotted: str) -> Any:
    node = data
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _whole(raw: dict[str, Any], key: str, default: int | None, lo: int, ctx: Ctx) -> int | None:
    v = raw.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ctx.error((key,), f"{v!r} must be a whole number ≥ {lo}")
    return v


def _parameter(name: str, spec: Any, design: str, base: Scenario, resolved: dict[str, Any], ctx: Ctx) -> Parameter:
    ppath = ("parameters", name)
    if name == "seed":
        raise ctx.error(
            ppath,
            "'seed' cannot be swept: each run's seed derives from the experiment's 'seed', point and "
            "replicate; set 'seed' at the top level, and 'replicates'",
        )
    current = _lookup(resolved, name)
    is_int = isinstance(current, int) and not isinstance(current, bool)
    if isinstance(spec, list):
        if not spec:
            raise ctx.error(ppath, "empty list of values; give at least one")
        p = Parameter(name, values=tuple(spec), integer=is_int)
        probes = list(spec)
    elif isinstance(spec, dict):
        unknown = set(spec) - {"low", "high", "steps", "log"}
        if unknown:
            raise ctx.error(ppath, f"unknown key(s) {sorted(unknown)}; a range takes low, high, steps (grid), log")
        lo, hi = spec.get("low"), spec.get("high")
        if (
            not (isinstance(lo, (int, float)) and isinstance(hi, (int, float)))
            or isinstance(lo, bool)
            or isinstance(hi, bool)
            or lo > hi
        ):
            raise ctx.error(ppath, "a range needs numbers low ≤ high, e.g. {low: 0, high: 1}")
        log = bool(spec.get("log", False))
        if log and lo <= 0:
            raise ctx.error(ppath, "log ranges need low > 0")
        steps = spec.get("steps")
        if design == "grid" and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 1):
            raise ctx.error(ppath, "a range in a grid design needs 'steps' (a whole number ≥ 1)")
        p = Parameter(name, low=float(lo), high=float(hi), steps=steps, log=log, integer=is_int)
        probes = [p.cast(lo), p.cast(hi)]
    else:
        raise ctx.error(ppath, f"expected a list of values or a range {{low, high, ...}}, got {spec!r}")
    for value in probes:
        try:
            base.with_overrides({name: value})
        except ScenarioError as exc:
            raise ctx.error(
                ppath,
                f"value {value!r} is rejected by the scenario: {exc.message}"
                + (f" (field {exc.path})" if exc.path else ""),
            ) from None
    return p


def read_study(path: Path, keys: list[str], what: str) -> tuple[dict[str, Any], Ctx]:
    """Read a study file (experiment, calibration): a YAML mapping with only ``keys``.

    ``what`` names the file and its main fields for the error when it is not a mapping.
    """
    raw, lines = read_yaml(path)
    if not isinstance(raw, dict):
        raise SweepError(f"{what} must be a mapping", source=str(path), line=1)
    ctx = Ctx(lines, str(path), SweepError)
    check_keys(raw, keys, (), ctx)
    return raw, ctx


def study_base(raw: dict[str, Any], path: Path, ctx: Ctx) -> tuple[Path, dict[str, Any], Scenario]:
    """A study's ``base`` scenario (relative to the file) with its ``set`` overrides applied."""
    if not isinstance(raw.get("base"), str):
        raise ctx.error(("base",), "needs 'base': the path of a scenario file, relative to this file")
    base = (path.parent / raw["base"]).resolve()
    if not base.exists():
        raise ctx.error(("base",), f"base scenario '{raw['base']}' not found (relative to this file)")
    fixed = raw.get("set") or {}
    if not isinstance(fixed, dict):
        raise ctx.error(("set",), "expected a mapping of dotted paths to values, e.g. {scale: 2}")
    try:
        scenario = load_scenario(base, fixed)
    except ScenarioError as exc:
        raise ctx.error(("set",), f"the base scenario rejects these overrides: {exc}") from None
    return base, fixed, scenario


def study_name(raw: dict[str, Any], path: Path, ctx: Ctx) -> str:
    """A study's ``name`` (default: the file's stem), which names its output folder."""
    name = str(raw.get("name", path.stem))
    if not _SAFE_NAME.match(name) or name in (".", ".."):
        raise ctx.error(("name",), f"name {name!r} names the output folder; use letters, digits, '-', '_' and '.'")
    return name


def load_experiment(path: str | Path) -> Experiment:
    """Load and validate an experiment file (and its base scenario) before any run.

    Every parameter value (both ends of a range, every list item) is applied
    to the base scenario and validated, so a value the scenario would reject
    fails here, naming the experiment file, line and parameter.

    Raises
    ------
    SweepError
        Naming file, line, field and what is allowed.
    """
    path = Path(path)
    src = str(path)
    raw, ctx = read_study(path, _KEYS, "an experiment (name, base, design, parameters, ...)")
    base, fixed, base_scenario = study_base(raw, path, ctx)
    design = raw.get("design", "grid")
    if design not in DESIGNS:
        raise ctx.error(("design",), f"design {design!r} is unknown; allowed: {', '.join(DESIGNS)}")
    seed = _whole(raw, "seed", 0, 0, ctx) or 0
    replicates = _whole(raw, "replicates", 1, 1, ctx) or 1
    samples = _whole(raw, "samples", None, 1, ctx)
    if design != "grid" and samples is None:
        raise ctx.error(("design",), f"design '{design}' needs 'samples' (number of points)")
    params_raw = raw.get("parameters")
    if not isinstance(params_raw, dict) or not params_raw:
        raise ctx.error(
            ("parameters",),
            "needs 'parameters': a mapping of dotted scenario paths to a list of values or {low, high[, steps][, log]}",
        )
    resolved = base_scenario.resolved()
    params = [_parameter(str(name), spec, design, base_scenario, resolved, ctx) for name, spec in params_raw.items()]
    if design == "grid":
        points = math.prod(len(p.values) if p.values is not None else (p.steps or 1) for p in params)
    else:
        points = samples or 0
    if points * replicates > MAX_RUNS:
        where = ("replicates",) if points <= MAX_RUNS else (("parameters",) if design == "grid" else ("samples",))
        raise ctx.error(
            where,
            f"the design has {points:,} points × {replicates:,} replicates = {points * replicates:,} runs; "
            f"at most {MAX_RUNS:,} runs per experiment",
        )
    name = study_name(raw, path, ctx)
    outcomes = raw.get("outcomes", ["cities_reached", "first_onset_day", "national_peak", "total_detained"])
    if not isinstance(outcomes, list) or not outcomes:
        raise ctx.error(("outcomes",), f"expected a non-empty list; allowed: {', '.join(OUTCOMES)}")
    for i, o in enumerate(outcomes):
        if o not in OUTCOMES:
            raise ctx.error(
                ("outcomes", i),
                f"outcome {o!r} is unknown{hint(o, OUTCOMES, paren=True)}; allowed: {', '.join(OUTCOMES)}",
            )
    needs_obs = set(FIT_OUTCOMES) & set(outcomes)
    if needs_obs and base_scenario.observed is None:
        raise ctx.error(("outcomes",), f"{sorted(needs_obs)} need the base scenario's 'observed' onsets")
    keep = raw.get("keep_timeseries", False)
    if not isinstance(keep, bool):
        raise ctx.error(("keep_timeseries",), "use true or false")
    common = raw.get("common_seeds", False)
    if not isinstance(common, bool):
        raise ctx.error(("common_seeds",), "use true or false (true: every point runs the same seeds)")
    return Experiment(
        name=name,
        base=str(base),
        design=design,
        seed=seed,
        replicates=replicates,
        parameters=tuple(params),
        outcomes=tuple(outcomes),
        fixed=dict(fixed),
        samples=samples,
        keep_timeseries=keep,
        common_seeds=common,
        population_pool=_whole(raw, "population_pool", 0, 0, ctx) or 0,
        description=str(raw.get("description", "")),
        source=src,
    )

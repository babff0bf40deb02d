"""Calibration files: a base scenario, priors over dotted scenario paths, observations, a
budget and a seed (``sim calibrate``, docs/inference.md).

Validated like experiments, before any run: every prior's central 99.8% interval ends are
applied to the base scenario, so a value the scenario would reject fails here, naming the
file, line and prior.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from .engine import Ctx, hint
from .experiment import _lookup, _whole, read_study, study_base, study_name
from .scenario import Scenario, load_scenario

__all__ = ["Calibration", "load_calibration"]

_KEYS = [
    "name",
    "description",
    "base",
    "set",
    "priors",
    "observed",
    "exclude",
    "budget",
    "seed",
    "alpha",
    "min_epsilon",
    "predictive",
    "population_pool",
    "early_rejection",
]
_DIST_KEYS = {
    "uniform": ({"low", "high"}, set()),
    "loguniform": ({"low", "high"}, set()),
    "normal": ({"mean", "sd"}, {"low", "high"}),
    "beta": ({"a", "b"}, {"low", "high"}),
}


@dataclass(frozen=True)
class Calibration:
    """A validated calibration file."""

    name: str
    base: str
    priors: tuple[Any, ...]  # sim.inference.priors.Prior
    observed: tuple[str, ...]
    particles: int
    populations: int
    max_simulations: int
    seed: int
    fixed: dict[str, Any] = field(default_factory=dict)
    exclude: tuple[tuple[str, int], ...] = ()
    alpha: float = 0.5
    min_epsilon: float = 0.0
    predictive_draws: int = 100
    population_pool: int = 0
    early_rejection: bool = True
    description: str = ""
    source: str = ""

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.priors]

    def scenario(self) -> Scenario:
        """The base scenario with the fixed overrides."""
        return load_scenario(self.base, self.fixed)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _prior(name: str, spec: Any, base: Scenario, resolved: dict[str, Any], ctx: Ctx) -> Any:
    from ..inference.priors import Prior

    where = ("priors", name)
    if name == "seed":
        raise ctx.error(where, "'seed' cannot be calibrated: each simulation's seed derives from the calibration's")
    current = _lookup(resolved, name)
    if current is None or isinstance(current, (dict, list, str, bool)):
        raise ctx.error(where, f"'{name}' is not a numeric field of the base scenario; give a dotted path to a number")
    if not isinstance(spec, dict) or "dist" not in spec:
        raise ctx.error(
            where, "expected {dist: uniform|loguniform|normal|beta, ...}, e.g. {dist: uniform, low: 0, high: 1}"
        )
    dist = spec["dist"]
    if dist not in _DIST_KEYS:
        raise ctx.error(
            (*where, "dist"),
            f"dist {dist!r} is unknown{hint(dist, _DIST_KEYS, paren=True)}; allowed: {', '.join(_DIST_KEYS)}",
        )
    need, optional = _DIST_KEYS[dist]
    keys = set(spec) - {"dist"}
    if keys - need - optional or need - keys:
        raise ctx.error(
            where,
            f"{dist} takes {', '.join(sorted(need))}"
            + (f" and optionally {', '.join(sorted(optional))}" if optional else ""),
        )
    for k in keys:
        if not _number(spec[k]):
            raise ctx.error((*where, k), f"{spec[k]!r} must be a finite number")
    low, high = (
        spec.get("low", 0.0 if dist == "beta" else -math.inf),
        spec.get("high", 1.0 if dist == "beta" else math.inf),
    )
    if low >= high:
        raise ctx.error(where, "needs low < high")
    if dist == "loguniform" and low <= 0:
        raise ctx.error((*where, "low"), "loguniform needs low > 0")
    if dist == "normal" and spec["sd"] <= 0:
        raise ctx.error((*where, "sd"), "sd must be > 0")
    if dist == "beta" and (spec["a"] <= 0 or spec["b"] <= 0):
        raise ctx.error(where, "beta needs a > 0 and b > 0")
    prior = Prior(
        path=name,
        dist=dist,
        low=float(low),
        high=float(high),
        mean=float(spec.get("mean", 0.0)),
        sd=float(spec.get("sd", 1.0)),
        a=float(spec.get("a", 1.0)),
        b=float(spec.get("b", 1.0)),
        integer=isinstance(current, int),
    )
    for value in prior.interval(0.998):
        try:
            base.with_overrides({name: prior.value(value)})
        except ScenarioError as exc:
            raise ctx.error(
                where,
                f"the prior reaches {value:.4g}, which the scenario rejects: {exc.message}; narrow the prior",
            ) from None
    return prior


def load_calibration(path: str | Path) -> Calibration:
    """Load and validate a calibration file (and its base scenario and observation files).

    Raises
    ------
    SweepError
        Naming file, line, field and what is allowed.
    """
    from .observations import read_observations

    path = Path(path)
    raw, ctx = read_study(path, _KEYS, "a calibration file (name, base, priors, observed, budget, seed)")
    base, fixed, scenario = study_base(raw, path, ctx)
    if scenario.scale > scenario.valid_scale * (1 + 1e-9):
        raise ctx.error(
            ("set",) if "scale" in fixed else ("base",),
            f"scale {scenario.scale:g} is coarser than the scenario's valid scale {scenario.valid_scale:g} "
            f"(docs/scale.md): results there depend on the scale; set scale: {scenario.valid_scale:g} or finer",
        )
    priors_raw = raw.get("priors")
    if not isinstance(priors_raw, dict) or not priors_raw:
        raise ctx.error(("priors",), "needs 'priors': a mapping of dotted scenario paths to {dist: ..., ...}")
    resolved = scenario.resolved()
    priors = tuple(_prior(str(k), v, scenario, resolved, ctx) for k, v in priors_raw.items())
    observed = raw.get("observed")
    if isinstance(observed, str):
        observed = [observed]
    if not isinstance(observed, list) or not observed or not all(isinstance(o, str) for o in observed):
        raise ctx.error(("observed",), "needs 'observed': a list of observation CSV files, relative to this file")
    files = []
    names = [c.name for c in scenario.cities]
    for i, o in enumerate(observed):
        f = (path.parent / o).resolve()
        if not f.is_file():
            raise ctx.error(("observed", i), f"observation file '{o}' not found (relative to this file)")
        read_observations(f, names, scenario.start, scenario.days)  # errors name the data file and line
        files.append(str(f))
    exclude = []
    for i, item in enumerate(raw.get("exclude") or []):
        m = re.fullmatch(r"(.+):(\d+)", str(item))
        if not m or not any(Path(f).name == m.group(1) for f in files):
            raise ctx.error(
                ("exclude", i),
                f"{item!r}: give FILE:LINE of a row to leave out, FILE being the name of an observed file",
            )
        exclude.append((m.group(1), int(m.group(2))))
    budget = raw.get("budget") or {}
    if not isinstance(budget, dict) or set(budget) - {"populations", "particles", "simulations"}:
        raise ctx.error(("budget",), "expected {populations: G, particles: N} and/or {simulations: S}")
    for k, v in budget.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < (2 if k == "particles" else 1):
            raise ctx.error(("budget", k), f"{v!r} must be a whole number ≥ {2 if k == 'particles' else 1}")
    seed = _whole(raw, "seed", 0, 0, ctx) or 0
    alpha = raw.get("alpha", 0.5)
    if not _number(alpha) or not 0 < alpha < 1:
        raise ctx.error(("alpha",), f"{alpha!r}: the quantile that sets the next tolerance, between 0 and 1")
    min_eps = raw.get("min_epsilon", 0.0)
    if not _number(min_eps) or min_eps < 0:
        raise ctx.error(("min_epsilon",), f"{min_eps!r} must be a number ≥ 0")
    pred = raw.get("predictive", {"draws": 100})
    if not isinstance(pred, dict) or set(pred) - {"draws"}:
        raise ctx.error(("predictive",), "expected {draws: K} (posterior draws for the predictive checks)")
    draws = pred.get("draws", 100)
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 0:
        raise ctx.error(("predictive", "draws"), f"{draws!r} must be a whole number ≥ 0")
    pool = _whole(raw, "population_pool", 0, 0, ctx) or 0
    early = raw.get("early_rejection", True)
    if not isinstance(early, bool):
        raise ctx.error(("early_rejection",), f"{early!r} must be true or false (stop runs that cannot be accepted)")
    return Calibration(
        name=study_name(raw, path, ctx),
        base=str(base),
        priors=priors,
        observed=tuple(files),
        particles=int(budget.get("particles", 200)),
        populations=int(budget.get("populations", 8)),
        max_simulations=int(budget.get("simulations", 10**9)),
        seed=seed,
        fixed=dict(fixed),
        exclude=tuple(exclude),
        alpha=float(alpha),
        min_epsilon=float(min_eps),
        predictive_draws=draws,
        population_pool=pool,
        early_rejection=early,
        description=str(raw.get("description", "")),
        source=str(path),
    )

"""The :class:`Scenario` and its loader: YAML (or a mapping) → one validated, frozen object.

Every field has a default, so a five-line scenario runs. Validation happens
here, before anything is allocated; every problem raises one
:class:`~sim.errors.ScenarioError` that names the file, line, dotted field
path, the bad value and what is allowed.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import memory_available
from ..errors import ParameterError
from ..events import Event
from ..facts import AGENTS_PER_ONSET, BYTES_PER_AGENT, RECORDED, SCRATCH_BYTES_PER_AGENT
from .engine import Ctx, build, check_keys
from .fields import param
from .observed import read_observed
from .overrides import Overrides, apply_overrides, read_with_extends
from .schema import City, Dynamics, GeographySpec, Outputs, PopulationSpec
from .sections import build_events, build_geography, build_population, network_bytes
from .yamlio import LineMap

__all__ = ["Scenario", "estimated_bytes", "load_scenario", "memory_parts", "plain", "scale_warning"]

#: Top-level keys of a scenario file.
TOP_KEYS = [
    "name",
    "description",
    "start",
    "days",
    "seed",
    "scale",
    "warmup_days",
    "geography",
    "population",
    "dynamics",
    "events",
    "outputs",
    "observed",
    "extends",
    "set",
]


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Build with :func:`load_scenario`."""

    name: str = "scenario"
    description: str = ""
    start: dt.date = dt.date(2019, 9, 1)
    days: int = param(30, 1, 36500, "days")
    seed: int = param(0, 0, 2**63 - 1)
    scale: float = param(1.0, 1.0, None, "people per agent")
    warmup_days: int = param(
        0, 0, 3650, "days", "influence-only days run before day 0, so that opinions start at their resting state"
    )
    geography: GeographySpec = field(default_factory=GeographySpec)
    population: PopulationSpec = field(default_factory=PopulationSpec)
    dynamics: Dynamics = field(default_factory=Dynamics)
    events: tuple[Event, ...] = ()
    outputs: Outputs = field(default_factory=Outputs)
    observed: str | None = None
    source: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    lines: LineMap = field(default_factory=dict, repr=False, compare=False)

    @property
    def cities(self) -> tuple[City, ...]:
        return self.geography.cities

    def agents_per_city(self) -> list[int]:
        """Agents per city: round(population / scale)."""
        return [int(round(c.population / self.scale)) for c in self.cities]

    @property
    def n_agents(self) -> int:
        return sum(self.agents_per_city())

    @property
    def valid_scale(self) -> float:
        """The coarsest ``scale`` whose results match scale 1: ``AGENTS_PER_ONSET`` agents in the
        onset threshold (docs/scale.md)."""
        return max(1.0, self.outputs.onset_min_participants / AGENTS_PER_ONSET)

    def date_of(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=int(day))

    def with_overrides(self, overrides: Overrides) -> Scenario:
        """A new, validated scenario with dotted-path overrides applied on top of this one."""
        base_dir = Path(self.source).parent if self.source and Path(self.source).is_file() else Path.cwd()
        lines: LineMap = dict(self.lines)
        raw = apply_overrides(self.raw, overrides, lines)
        return validate(raw, lines, self.source or "<scenario>", base_dir)

    def resolved(self) -> dict[str, Any]:
        """The scenario as plain data (every default filled in), for manifests."""
        return plain(self)


def scale_warning(scenario: Scenario) -> str | None:
    """A warning when the scenario runs coarser than its valid scale (docs/scale.md), else None."""
    if scenario.scale <= scenario.valid_scale * (1 + 1e-9):
        return None
    return (
        f"{scenario.name}: scale {scenario.scale:g} is coarser than the valid scale {scenario.valid_scale:g} "
        f"(an onset of {scenario.outputs.onset_min_participants:g} people needs at least {AGENTS_PER_ONSET} "
        f"agents); results can differ from scale 1 beyond seed noise (docs/scale.md)"
    )


def plain(obj: Any) -> Any:
    """Dataclasses, tuples and dates as JSON-ready data (None fields of distributions dropped)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name not in ("raw", "lines")}
        if "dist" in out:
            out = {k: v for k, v in out.items() if v is not None}
        return out
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    return obj


def memory_parts(scenario: Scenario) -> dict[str, int]:
    """Bytes a run of ``scenario`` needs, by what grows with the input: per-agent state and
    scratch buffers, the dense city-by-city distances and network weights (with temporaries),
    the daily records (arrays and tables) and, if kept, the histograms and their table."""
    cities, days = len(scenario.cities), scenario.days
    hist = scenario.outputs.histograms
    return {
        "people": scenario.n_agents * (BYTES_PER_AGENT + SCRATCH_BYTES_PER_AGENT),
        "cities": network_bytes(cities),
        "records": days * cities * (len(RECORDED) + 1) * 8 * 3,
        "histograms": days * cities * 2 * scenario.outputs.histogram_bins * 8 * 6 if hist else 0,
    }


def estimated_bytes(scenario: Scenario) -> int:
    """Memory a run of ``scenario`` needs (the sum of :func:`memory_parts`)."""
    return sum(memory_parts(scenario).values())


def load_scenario(source: str | Path | dict[str, Any], overrides: Overrides | None = None) -> Scenario:
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
        raw, lines = read_with_extends(path)
        name = str(path)
        base_dir = path.parent
    if overrides:
        raw = apply_overrides(raw, overrides, lines)
    return validate(raw, lines, name, base_dir)


def validate(raw: dict[str, Any], lines: LineMap, name: str, base_dir: Path) -> Scenario:
    """Build a :class:`Scenario` from raw data (after ``extends``/``set``), checking everything."""
    ctx = Ctx(lines, name)
    if not isinstance(raw, dict):
        raise ctx.error((), "a scenario must be a mapping of fields (name, start, days, ...)")
    check_keys(raw, TOP_KEYS, (), ctx)
    top = {k: raw[k] for k in ("name", "description", "start", "days", "seed", "scale", "warmup_days") if k in raw}
    base = build(
        Scenario,
        top,
        (),
        ctx,
        skip=("geography", "population", "dynamics", "events", "outputs", "observed", "source", "raw", "lines"),
    )
    try:
        base.start + dt.timedelta(days=base.days)
    except OverflowError:
        raise ctx.error(
            ("start",), f"start {base.start} plus {base.days} days goes past the year 9999", ParameterError
        ) from None
    geography = build_geography(raw.get("geography"), ("geography",), ctx, base_dir)
    names = [c.name for c in geography.cities]
    population = build_population(raw.get("population"), ("population",), ctx, names)
    dynamics = build(Dynamics, raw.get("dynamics"), ("dynamics",), ctx)
    _check_dynamics(dynamics, ctx)
    events = build_events(raw.get("events"), ("events",), ctx, base.start, base.days, names)
    outputs = build(Outputs, raw.get("outputs"), ("outputs",), ctx)
    observed = raw.get("observed")
    if observed is not None:
        if not isinstance(observed, str):
            raise ctx.error(("observed",), "expected a path to an observed-onsets CSV")
        observed = str(base_dir / observed)
        if not Path(observed).exists():
            raise ctx.error(("observed",), f"file '{observed}' not found; paths are relative to the scenario file")
        read_observed(observed, names, base.start)  # a malformed file fails now, not after the run
    scenario = dataclasses.replace(
        base,
        geography=geography,
        population=population,
        dynamics=dynamics,
        events=events,
        outputs=outputs,
        observed=observed,
        source=name,
        raw=raw,
        lines=lines,
    )
    _check_size(scenario, ctx)
    return scenario


def _check_dynamics(dynamics: Dynamics, ctx: Ctx) -> None:
    """Rules across fields of the dynamics."""
    rep = dynamics.repression
    if rep.min_detention_days > rep.max_detention_days:
        raise ctx.error(
            ("dynamics", "repression", "min_detention_days"),
            f"min_detention_days {rep.min_detention_days} exceeds max_detention_days {rep.max_detention_days}",
            ParameterError,
        )
    scales = (  # log scales: (section, floor field, reference field, unit)
        ("protest", "proof_floor_share", "proof_reference_share", "shares of the city"),
        ("media", "visibility_floor", "visibility_reference", "people"),
    )
    for section, floor, reference, unit in scales:
        params = getattr(dynamics, section)
        lo, hi = getattr(params, floor), getattr(params, reference)
        if lo >= hi:
            message = f"{floor} {lo:g} must be below {reference} {hi:g} ({unit})"
            raise ctx.error(("dynamics", section, floor), message, ParameterError)


def _check_size(scenario: Scenario, ctx: Ctx) -> None:
    """Every city gets an agent, and the run fits in memory."""
    for city, n in zip(scenario.cities, scenario.agents_per_city(), strict=True):
        if n < 1:
            raise ctx.error(
                ("scale",),
                f"scale {scenario.scale:g} leaves city '{city.name}' "
                f"(population {city.population}) with no agent; use scale ≤ "
                f"{city.population}",
                ParameterError,
            )
    parts = memory_parts(scenario)
    need, have = sum(parts.values()), memory_available()
    if need > have:
        gib = {k: v / 2**30 for k, v in parts.items()}
        biggest = max(parts, key=lambda k: parts[k])
        fix = {
            "people": ("scale", f"use scale ≥ {math.ceil(need / have * scenario.scale)}"),
            "cities": (
                "geography",
                f"{len(scenario.cities):,} cities need a dense network of {gib['cities']:.1f} GiB; use fewer cities",
            ),
            "records": ("days", f"{scenario.days:,} days of records need {gib['records']:.1f} GiB; use fewer days"),
            "histograms": (
                "outputs",
                f"histograms need {gib['histograms']:.1f} GiB; set outputs.histograms: false or use fewer days or bins",
            ),
        }[biggest]
        raise ctx.error(
            (fix[0],),
            f"{scenario.n_agents:,} agents in {len(scenario.cities):,} cities over {scenario.days:,} days need about "
            f"{need / 2**30:.1f} GiB but {have / 2**30:.1f} GiB is available; {fix[1]}",
            ParameterError,
        )

"""Warm starts: a pool of set-up populations shared by the runs of one worker process.

A run of the Kazakhstan scenario at its valid scale spends about half its time before day 0:
drawing 4.8 million people's attributes and running the 30 influence-only warm-up days. Neither
depends on the parameters a calibration or a sensitivity analysis varies (protest, media and
police parameters, events), so thousands of runs can share a few set-ups.

With a pool of ``size`` replicates, a run picks replicate ``p`` with its own generator (a
uniform draw), then takes replicate ``p``'s warmed opinions (and, for the other attributes, the
draws of replicate ``p``'s own stream under *this run's* distribution). Replicate ``p`` is built
from ``SeedSequence([pool_seed, p])`` only, so a run's result depends on (pool seed, pool size,
run seed, scenario) and never on what the process's cache held: a cached set-up and a fresh one
are the same arrays. After set-up the run continues with its own generator.

What changes against fresh set-ups (``pool: 0``, the default of ``sim run``): the set-up
randomness is a uniform mixture over ``size`` populations instead of a new one per run. The
equivalence of the two on the 2019 outcomes is measured in ``experiments/pool_equivalence.py``
(docs/performance.md, "Warm starts").
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .facts import ATTRIBUTES

if TYPE_CHECKING:
    from .config import Scenario
    from .geography import Geography
    from .population import Population

__all__ = ["CACHE_BYTES", "PopulationPool", "cache_info", "clear_cache", "pooled_population"]

#: Attributes the warm-up changes or reads (drawn, then warmed, once per replicate).
OPINION_ATTRIBUTES = ("trust", "sinophobia")
#: Attributes drawn per run from the replicate's own stream (the warm-up does not touch them).
OTHER_ATTRIBUTES = tuple(a for a in ATTRIBUTES if a not in OPINION_ATTRIBUTES)

#: Bytes of set-ups a process keeps (least recently used dropped first): 16 replicates of the
#: 2019 scenario at scale 2 take 16 × 4.8 M × 17 B ≈ 1.3 GB.
CACHE_BYTES = 3 * 2**30


@dataclass(frozen=True)
class PopulationPool:
    """``size`` set-up replicates built from ``seed``; ``size == 0`` means a fresh set-up per run."""

    size: int
    seed: int

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"a population pool has size >= 0, got {self.size}")

    @classmethod
    def of(cls, spec: list[int] | tuple[int, int] | None) -> PopulationPool | None:
        """The pool of an engine task's ``pool`` field (``[size, seed]``, or None: fresh set-ups)."""
        return cls(*spec) if spec else None


class _Cache:
    """A thread-safe least-recently-used map of arrays, bounded in bytes."""

    def __init__(self, limit: int):
        self.limit = limit
        self.entries: OrderedDict[tuple[object, ...], tuple[np.ndarray, ...]] = OrderedDict()
        self.seen: set[tuple[object, ...]] = set()
        self.lock = threading.Lock()
        self.builds = 0
        self.hits = 0

    def get(self, key: tuple[object, ...]) -> tuple[np.ndarray, ...] | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
                self.hits += 1
            return value

    def put(self, key: tuple[object, ...], value: tuple[np.ndarray, ...]) -> None:
        size = sum(a.nbytes for a in value)
        with self.lock:
            if size > self.limit:
                return
            self.entries[key] = value
            while sum(a.nbytes for v in self.entries.values() for a in v) > self.limit:
                self.entries.popitem(last=False)

    def second_request(self, key: tuple[object, ...]) -> bool:
        """True from the second time ``key`` is asked for: worth keeping then."""
        with self.lock:
            if key in self.seen:
                return True
            self.seen.add(key)
            return False


_CACHE = _Cache(CACHE_BYTES)


def cache_info() -> dict[str, int]:
    """Set-up parts drawn (warmed opinions, or one attribute), cache hits, entries and bytes held
    in this process."""
    with _CACHE.lock:
        held = sum(a.nbytes for v in _CACHE.entries.values() for a in v)
        return {"builds": _CACHE.builds, "hits": _CACHE.hits, "entries": len(_CACHE.entries), "bytes": held}


def clear_cache() -> None:
    """Forget every set-up (tests; a worker that needs its memory back)."""
    with _CACHE.lock:
        _CACHE.entries.clear()
        _CACHE.seen.clear()
        _CACHE.builds = _CACHE.hits = 0


def _city_key(geography: Geography) -> tuple[object, ...]:
    t = geography.table
    return (
        tuple(geography.names),
        tuple(t["agents"].tolist()),
        tuple(t["population"].tolist()),
        tuple(t["media_reach"].tolist()),
    )


def _dists(scenario: Scenario, geography: Geography, attribute: str) -> str:
    return repr([scenario.population.for_city(name, attribute) for name in geography.names])


def _stream(pool: PopulationPool, replicate: int, part: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([pool.seed, replicate, part]))


def _warm_opinions(
    scenario: Scenario, geography: Geography, pool: PopulationPool, replicate: int, blank: Population
) -> tuple[np.ndarray, ...]:
    """Opinions (after the warm-up), anchors and online flags of one replicate."""
    from .model import warm_population  # the warm-up is the model's influence phase

    key = (
        "opinions",
        pool.seed,
        replicate,
        _city_key(geography),
        _dists(scenario, geography, "trust"),
        _dists(scenario, geography, "sinophobia"),
        repr(scenario.dynamics.influence),
        scenario.warmup_days,
    )
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    rng = _stream(pool, replicate, 0)
    _CACHE.builds += 1
    t = geography.table
    for c, name in enumerate(geography.names):
        sl = blank.city(c)
        n = sl.stop - sl.start
        for attr in OPINION_ATTRIBUTES:
            blank.array(attr)[sl] = scenario.population.for_city(name, attr).draw(n, rng)
        blank.online[sl] = rng.random(n) < t["media_reach"].iat[c]
    blank.anchors[:] = blank.opinions
    warm_population(scenario, blank, rng)
    value = (blank.opinions.copy(), blank.anchors.copy(), blank.online.copy())
    _CACHE.put(key, value)
    return value


def _attribute(
    scenario: Scenario, geography: Geography, pool: PopulationPool, replicate: int, attr: str, out: np.ndarray
) -> None:
    """Replicate ``replicate``'s draw of ``attr`` under this scenario's distribution, into ``out``."""
    dists = _dists(scenario, geography, attr)
    key = ("attribute", pool.seed, replicate, attr, _city_key(geography), dists)
    cached = _CACHE.get(key)
    if cached is not None:
        out[:] = cached[0]
        return
    rng = _stream(pool, replicate, 1 + ATTRIBUTES.index(attr))
    _CACHE.builds += 1
    starts, stops = geography.table["start"].tolist(), geography.table["stop"].tolist()
    for name, s, e in zip(geography.names, starts, stops):
        out[s:e] = scenario.population.for_city(name, attr).draw(e - s, rng)
    if _CACHE.second_request(key):  # a distribution a calibration varies is drawn, not stored
        _CACHE.put(key, (out.copy(),))


def pooled_population(
    scenario: Scenario, geography: Geography, pool: PopulationPool, rng: np.random.Generator
) -> Population:
    """A warmed population for one run: replicate ``rng.integers(pool.size)`` of ``pool``.

    Parameters
    ----------
    scenario, geography
        The run's scenario and its cities.
    pool
        The pool (``size`` ≥ 1).
    rng
        The run's generator; one integer is drawn from it.

    Returns
    -------
    Population
        Own arrays (a copy of the cached set-up), opinions already warmed up.
    """
    from .population import Population

    if pool.size < 1:
        raise ValueError("pooled_population needs a pool of size >= 1")
    replicate = int(rng.integers(pool.size))
    t = geography.table
    weights = t["population"].to_numpy(dtype=np.float64) / t["agents"].to_numpy(dtype=np.float64)
    pop = Population(t["start"].to_numpy(), t["stop"].to_numpy(), weights)
    opinions, anchors, online = _warm_opinions(scenario, geography, pool, replicate, pop)
    pop.opinions[:] = opinions
    pop.anchors[:] = anchors
    pop.online[:] = online
    for attr in OTHER_ATTRIBUTES:
        _attribute(scenario, geography, pool, replicate, attr, pop.array(attr))
    return pop

"""The people: one struct of fixed-dtype NumPy arrays, sorted by city.

:class:`Population` is the single owner of agent state. City *c* owns the
contiguous slice ``starts[c]:stops[c]`` of every array, so per-city work is a
slice and per-city sums are ``np.add.reduceat``. State is 32 bytes per agent.

The two opinions are stored interleaved, ``opinions[:, 0]`` = trust and
``opinions[:, 1]`` = sinophobia (and likewise the anchors), because the
influence phase gathers both opinions of a random partner: one 8-byte gather
costs about as much as one 4-byte gather (both are a cache miss), so the pair
layout halves the cost of the hottest operation (docs/performance.md).
``trust`` and ``sinophobia`` are views into it.

========== ======= ====================================================
array      dtype   meaning
========== ======= ====================================================
trust      float32 trust in government τ ∈ [0, 1]
sinophobia float32 s ∈ [0, 1]
hardship   float32 perceived economic hardship h ∈ [0, 1]
threshold  float32 activation threshold θ ∈ [0, 1]
risk_aversion float32 r ∈ [0, 1]
trust0     float32 anchor τ₀ (initial trust, Friedkin–Johnsen)
sinophobia0 float32 anchor s₀
online     bool    reached by social media and messengers
heard      bool    heard the current call to rally
status     uint8   0 quiet, 1 active, 2 detained
detention  uint8   days of detention left
========== ======= ====================================================
"""

from __future__ import annotations

import numpy as np

from .config import Dist, Scenario
from .facts import ACTIVE, ATTRIBUTES, DETAINED, QUIET
from .geography import Geography

__all__ = ["ACTIVE", "DETAINED", "QUIET", "Population", "sample"]

_FLOATS = ("trust", "sinophobia", "hardship", "threshold", "risk_aversion", "trust0", "sinophobia0")
_OWNED = (
    "opinions",
    "anchors",
    "hardship",
    "threshold",
    "risk_aversion",
    "online",
    "heard",
    "status",
    "detention",
)


def sample(dist: Dist, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` values of a distribution (:data:`sim.config.Dist`), clipped to [0, 1], as float32."""
    return dist.draw(n, rng)


class Population:
    """Agent state arrays. Build with :meth:`from_scenario`.

    Attributes are NumPy arrays by name (``pop.trust``, ``pop.status``, ...);
    ``starts``/``stops`` give each city's slice.
    """

    __slots__ = (
        *_FLOATS,
        "opinions",
        "anchors",
        "online",
        "heard",
        "status",
        "detention",
        "starts",
        "stops",
        "weights",
    )

    def __init__(self, starts: np.ndarray, stops: np.ndarray, weights: np.ndarray | None = None):
        self.starts = np.asarray(starts, dtype=np.int64)
        self.stops = np.asarray(stops, dtype=np.int64)
        #: People each agent of a city stands for: the city's population over its agents (the
        #: scenario's ``scale`` rounded per city, so that counts never exceed a city's population).
        self.weights: np.ndarray = (
            np.ones(self.starts.shape[0]) if weights is None else np.asarray(weights, dtype=np.float64)
        )
        n = int(self.stops[-1]) if len(self.stops) else 0
        self.opinions: np.ndarray = np.zeros((n, 2), dtype=np.float32)
        self.anchors: np.ndarray = np.zeros((n, 2), dtype=np.float32)
        self.hardship: np.ndarray = np.zeros(n, dtype=np.float32)
        self.threshold: np.ndarray = np.zeros(n, dtype=np.float32)
        self.risk_aversion: np.ndarray = np.zeros(n, dtype=np.float32)
        self.online: np.ndarray = np.zeros(n, dtype=bool)
        self.heard: np.ndarray = np.zeros(n, dtype=bool)
        self.status: np.ndarray = np.zeros(n, dtype=np.uint8)
        self.detention: np.ndarray = np.zeros(n, dtype=np.uint8)
        self._views()

    def _views(self) -> None:
        self.trust: np.ndarray = self.opinions[:, 0]
        self.sinophobia: np.ndarray = self.opinions[:, 1]
        self.trust0: np.ndarray = self.anchors[:, 0]
        self.sinophobia0: np.ndarray = self.anchors[:, 1]

    def array(self, name: str) -> np.ndarray:
        """A per-agent array by name (one of ``_FLOATS``, ``online``, ``heard``, ``status``, ``detention``,
        ``opinions``, ``anchors``); a view, not a copy."""
        if name not in _FLOATS + _OWNED:
            raise KeyError(f"no per-agent array {name!r}")
        array: np.ndarray = getattr(self, name)
        return array

    @classmethod
    def from_scenario(cls, scenario: Scenario, geography: Geography, rng: np.random.Generator) -> Population:
        """Allocate and draw initial state, city by city, attribute by attribute."""
        t = geography.table
        weights = t["population"].to_numpy(dtype=np.float64) / t["agents"].to_numpy(dtype=np.float64)
        pop = cls(t["start"].to_numpy(), t["stop"].to_numpy(), weights)
        for c, name in enumerate(geography.names):
            sl = pop.city(c)
            n = sl.stop - sl.start
            for attr in ATTRIBUTES:
                pop.array(attr)[sl] = sample(scenario.population.for_city(name, attr), n, rng)
            pop.online[sl] = rng.random(n) < t["media_reach"].iat[c]
        pop.anchors[:] = pop.opinions
        return pop

    # ------------------------------------------------------------------ views
    @property
    def n(self) -> int:
        """Number of agents."""
        return self.status.shape[0]

    @property
    def n_cities(self) -> int:
        return self.starts.shape[0]

    @property
    def sizes(self) -> np.ndarray:
        """Agents per city."""
        return self.stops - self.starts

    def city(self, c: int) -> slice:
        """The slice of city ``c`` in every array."""
        return slice(int(self.starts[c]), int(self.stops[c]))

    def hearers(self, people: slice, rng: np.random.Generator, reach: float) -> np.ndarray:
        """Who hears a message or call among ``people``: online, each with probability ``reach``
        (one uniform draw per person, in order: ``online & (rng.random(n) < reach)``, compiled,
        :func:`sim.rules.draws.bernoulli_masked`)."""
        from .rules.draws import bernoulli_masked

        return bernoulli_masked(rng, reach, self.online[people])

    def city_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of a per-agent array (or of the rows of an (N, k) array) within each city.

        Booleans are counted (int64). Floats are summed in their own precision
        by ``np.add.reduceat`` (pairwise within blocks; relative error about
        1e-7 at two million float32 values, measured) and returned as float64.
        """
        if values.dtype == bool:
            return np.array(
                [np.count_nonzero(values[s:e]) for s, e in zip(self.starts.tolist(), self.stops.tolist())],
                dtype=np.int64,
            )
        if np.issubdtype(values.dtype, np.integer):
            return np.add.reduceat(values, self.starts, axis=0, dtype=np.int64)
        return np.add.reduceat(values, self.starts, axis=0).astype(np.float64)

    def tallies(self, grievance: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The day's per-city counts and means in one pass (:func:`sim.rules.kernels.tallies`).

        Returns
        -------
        counts
            (C, 2) int64: active agents, detained agents.
        means
            (C, 3) float64: mean trust, sinophobia and ``grievance`` (summed in float64).
        """
        from .rules import kernels

        C = self.n_cities
        counts = np.zeros((C, 2), dtype=np.int64)
        sums = np.zeros((C, 3), dtype=np.float64)
        flat = self.opinions.reshape(-1)
        kernels.tallies(flat, grievance, active, self.status, self.starts, self.stops, counts, sums)
        return counts, sums / np.maximum(self.sizes, 1)[:, None]

    @property
    def nbytes(self) -> int:
        """Bytes of per-agent state (owned arrays, views not counted twice)."""
        return sum(self.array(name).nbytes for name in _OWNED)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every per-agent attribute by name (views, not copies)."""
        return {name: self.array(name) for name in (*_FLOATS, "online", "heard", "status", "detention")}

    def copy(self) -> Population:
        """A deep copy (own arrays)."""
        other = Population(self.starts.copy(), self.stops.copy(), self.weights.copy())
        for name in _OWNED:
            other.array(name)[...] = self.array(name)
        return other

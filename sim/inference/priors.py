"""Prior distributions over dotted scenario paths, with the working space the sampler moves in.

========== ====================== ============================ =====================
dist       keys                   working coordinate ``z``     density of ``z``
========== ====================== ============================ =====================
uniform    low, high              θ                            1 / (high − low)
loguniform low, high (> 0)        log θ                        1 / log(high / low)
normal     mean, sd [, low, high] θ                            N(mean, sd), truncated
beta       a, b [, low, high]     θ                            Beta(a, b) on [low, high]
========== ====================== ============================ =====================

The SMC kernel perturbs ``z``, so a log-uniform parameter moves by factors.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["DISTS", "Prior"]

DISTS = ("uniform", "loguniform", "normal", "beta")


@dataclass(frozen=True)
class Prior:
    """One parameter's prior.

    Parameters
    ----------
    path
        Dotted scenario path (``dynamics.protest.sinophobia_weight``).
    dist
        One of :data:`DISTS`.
    low, high
        Support (uniform, loguniform; optional truncation for normal; the interval a beta is
        stretched over, default [0, 1]).
    mean, sd
        Normal.
    a, b
        Beta shape parameters.
    integer
        Round to a whole number when applied to the scenario.
    """

    path: str
    dist: str
    low: float = -math.inf
    high: float = math.inf
    mean: float = 0.0
    sd: float = 1.0
    a: float = 1.0
    b: float = 1.0
    integer: bool = False

    # ---------------------------------------------------------------- working space
    def to_z(self, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, float)
        if self.dist == "loguniform":
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.log(theta)
        return theta

    def from_z(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, float)
        return np.exp(z) if self.dist == "loguniform" else z

    @functools.cached_property
    def z_bounds(self) -> tuple[float, float]:
        """Support of the working coordinate."""
        lo, hi = self.low, self.high
        if self.dist == "loguniform":
            return math.log(lo), math.log(hi)
        return lo, hi

    @functools.cached_property
    def _dist(self) -> Any:
        return self._make_frozen()

    def _frozen(self) -> Any:
        return self._dist

    def _make_frozen(self) -> Any:
        if self.dist == "normal":
            lo, hi = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
            return stats.truncnorm(lo, hi, loc=self.mean, scale=self.sd)
        if self.dist == "beta":
            return stats.beta(self.a, self.b, loc=self.low, scale=self.high - self.low)
        if self.dist == "loguniform":
            return stats.uniform(math.log(self.low), math.log(self.high) - math.log(self.low))
        return stats.uniform(self.low, self.high - self.low)

    def logpdf_z(self, z: np.ndarray) -> np.ndarray:
        """Log density of the working coordinate (−inf outside the support)."""
        with np.errstate(divide="ignore"):
            return np.asarray(self._frozen().logpdf(np.asarray(z, float)), float)

    def sample_z(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.asarray(self._frozen().rvs(size=n, random_state=rng), float)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function of θ (for unit-cube designs)."""
        return self.from_z(self._frozen().ppf(np.asarray(u, float)))

    def value(self, theta: float) -> float | int:
        """θ as applied to the scenario."""
        return int(round(theta)) if self.integer else float(theta)

    def plain(self) -> dict[str, Any]:
        """The prior's fields (JSON-ready)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def describe(self) -> str:
        if self.dist in ("uniform", "loguniform"):
            return f"{self.dist}({self.low:g}, {self.high:g})"
        if self.dist == "normal":
            trunc = "" if math.isinf(self.low) and math.isinf(self.high) else f" on [{self.low:g}, {self.high:g}]"
            return f"normal({self.mean:g}, {self.sd:g}){trunc}"
        return f"beta({self.a:g}, {self.b:g}) on [{self.low:g}, {self.high:g}]"

    def interval(self, q: float = 0.9) -> tuple[float, float]:
        """Central prior interval of θ with probability ``q``."""
        lo, hi = self.ppf(np.array([(1 - q) / 2, (1 + q) / 2]))
        return float(lo), float(hi)

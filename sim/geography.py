"""Cities, great-circle distances and the gravity network.

The network says how much city *i* hears about city *j*:

    w_ij = P_j^β / max(d_ij, d_min)^γ   for i ≠ j,   rows normalised to sum 1,

stored as a ``scipy.sparse.csr_array`` (see docs/model.md, "Network").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from .config import Scenario

__all__ = ["Geography", "gravity_matrix", "haversine_km"]

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distances (km) between all pairs of points.

    Parameters
    ----------
    lat, lon
        Degrees, arrays of length C.

    Returns
    -------
    ndarray, shape (C, C)
        Symmetric distance matrix with zero diagonal.
    """
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    a = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def gravity_matrix(
    population: np.ndarray,
    distance_km: np.ndarray,
    gravity_exponent: float,
    distance_exponent: float,
    min_distance_km: float,
) -> sparse.csr_array:
    """Row-normalised gravity weights (zero diagonal) as CSR.

    A single city has no neighbours: its row is all zeros.
    """
    pop = np.asarray(population, dtype=np.float64)
    d = np.maximum(distance_km, min_distance_km)
    w = pop[None, :] ** gravity_exponent / d**distance_exponent
    np.fill_diagonal(w, 0.0)
    rows = w.sum(axis=1, keepdims=True)
    w = np.divide(w, rows, out=np.zeros_like(w), where=rows > 0)
    return sparse.csr_array(w)


@dataclass(frozen=True)
class Geography:
    """The city table and network of a scenario, with agent slices.

    Attributes
    ----------
    table
        One row per city: name, population, lat, lon, media_reach,
        police_per_1000, agents, start, stop (agent index range).
    distance_km
        (C, C) great-circle distances.
    network
        (C, C) CSR row-normalised gravity weights.
    """

    table: pd.DataFrame
    distance_km: np.ndarray
    network: sparse.csr_array

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Geography:
        dyn = scenario.dynamics
        cities = scenario.cities
        agents = np.array(scenario.agents_per_city(), dtype=np.int64)
        stop = np.cumsum(agents)
        table = pd.DataFrame(
            {
                "city": [c.name for c in cities],
                "population": np.array([c.population for c in cities], dtype=np.int64),
                "lat": [c.lat for c in cities],
                "lon": [c.lon for c in cities],
                "media_reach": [dyn.media.reach if c.media_reach is None else c.media_reach for c in cities],
                "police_per_1000": [
                    dyn.repression.police_per_1000 if c.police_per_1000 is None else c.police_per_1000 for c in cities
                ],
                "initial_salience": [c.salience for c in cities],
                "agents": agents,
                "start": stop - agents,
                "stop": stop,
            }
        )
        dist = haversine_km(table["lat"].to_numpy(), table["lon"].to_numpy())
        net = scenario.geography.network
        w = gravity_matrix(
            table["population"].to_numpy(), dist, net.gravity_exponent, net.distance_exponent, net.min_distance_km
        )
        return cls(table=table, distance_km=dist, network=w)

    @property
    def names(self) -> list[str]:
        return self.table["city"].tolist()

    @property
    def n_cities(self) -> int:
        return len(self.table)

    def index(self, names: tuple[str, ...] | str) -> np.ndarray:
        """City indices for a list of names, or all cities for ``"all"``."""
        if names == "all":
            return np.arange(self.n_cities)
        lookup = {n: i for i, n in enumerate(self.names)}
        return np.array([lookup[n] for n in names], dtype=np.int64)

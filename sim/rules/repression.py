"""Phase 5, repression: detention of active people, release, and backlash.

Each active person is detained with probability q_c = a P_c, where a is the
arrest share (share of actives detained per day when arrest is certain) and
P_c the arrest probability with today's crowd. Detention lasts a uniformly
drawn whole number of days in [d_min, d_max]. Detentions lower the trust of
the city's online people:  τ ← τ (1 − b v(D_c)),  D_c new detainees (people).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..facts import DETAINED, QUIET
from . import kernels

if TYPE_CHECKING:
    from ..population import Population

__all__ = ["backlash", "candidates", "detain", "detain_cities", "release"]


def release(status: np.ndarray, detention: np.ndarray) -> int:
    """One day of detention served; those with none left become quiet. In place, one compiled
    pass (:func:`sim.rules.kernels.release`).

    Returns the number of agents released.
    """
    return int(kernels.release(status, detention, np.uint8(DETAINED), np.uint8(QUIET)))


def candidates(
    active: np.ndarray, starts: np.ndarray, stops: np.ndarray, counts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Today's active agents, ascending, and where each city's run of them starts and ends.

    Parameters
    ----------
    active
        Who is active (bool per agent).
    starts, stops
        The cities' slices.
    counts
        Active agents per city, when already counted (:func:`sim.rules.protest.decide_day`):
        cities with none are then not scanned. The result is the same.

    Returns
    -------
    candidates, lo, hi
        ``candidates[lo[c]:hi[c]]`` are the active agents of city c (``hi - lo`` per city).
    """
    if counts is None:
        cand = np.flatnonzero(active)
        return cand, np.searchsorted(cand, starts), np.searchsorted(cand, stops)
    counts = np.asarray(counts, dtype=np.int64)
    hi = np.cumsum(counts)
    lo = hi - counts
    runs = [np.flatnonzero(active[s:e]) + s for s, e, k in zip(starts.tolist(), stops.tolist(), counts.tolist()) if k]
    cand = np.concatenate(runs) if runs else np.zeros(0, dtype=np.intp)
    return cand, lo, hi


def detain_cities(
    status: np.ndarray,
    detention: np.ndarray,
    candidates: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    q: np.ndarray,
    rng: np.random.Generator,
    min_days: int,
    max_days: int,
) -> np.ndarray:
    """Detain today's active agents with their city's probability, in place; the daily step's path.

    Draws one uniform per candidate (``rng.random``), then one detention length in
    [``min_days``, ``max_days``] per candidate (``rng.integers``, uint8), both in candidate order,
    and applies :func:`detain`'s rule city by city in one compiled loop
    (:func:`sim.rules.kernels.detain`): the same draws and the same outcome as :func:`detain`
    with ``q[city of each candidate]``, without looking up each candidate's city.

    Parameters
    ----------
    status, detention
        Per-agent state.
    candidates, lo, hi
        From :func:`candidates`.
    q
        Detention probability per city (float64).
    rng
        The model's generator.
    min_days, max_days
        Detention length bounds, days.

    Returns
    -------
    ndarray
        Newly detained agents per city (int64).
    """
    new = np.zeros(lo.shape[0], dtype=np.int64)
    if candidates.size == 0:
        return new
    u = rng.random(candidates.size)
    days = rng.integers(min_days, max_days + 1, size=candidates.size, dtype=np.uint8)
    q = np.ascontiguousarray(q, dtype=np.float64)
    kernels.detain(status, detention, candidates, lo, hi, q, u, days, np.uint8(DETAINED), new)
    return new


def detain(
    status: np.ndarray,
    detention: np.ndarray,
    candidates: np.ndarray,
    probability: np.ndarray,
    u: np.ndarray,
    days: np.ndarray,
) -> np.ndarray:
    """Detain active agents, in place (the rule on index arrays; :func:`detain_cities`, the step's
    compiled path, must agree with it).

    Parameters
    ----------
    status, detention
        Per-agent state.
    candidates
        Indices of today's active agents.
    probability
        Detention probability of each candidate (q of their city).
    u
        One uniform [0, 1) draw per candidate.
    days
        Detention length drawn for each candidate (used for those detained).

    Returns
    -------
    ndarray
        Indices of the newly detained.
    """
    caught = u < probability
    hit = candidates[caught]
    status[hit] = DETAINED
    detention[hit] = days[caught]
    return hit


def backlash(pop: Population, loss: np.ndarray) -> None:
    """τ ← τ (1 − b_c) for the online people of each city c, in place (``loss`` b_c per city in
    [0, 1]); one compiled pass (:func:`sim.rules.kernels.backlash`)."""
    kernels.backlash(pop.opinions.reshape(-1), pop.online, pop.starts, pop.stops, np.asarray(loss, dtype=np.float32))

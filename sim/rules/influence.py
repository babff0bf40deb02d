"""Phase 3, influence: bounded confidence (Deffuant et al. 2000) within each city,
anchored by stubbornness (Friedkin & Johnsen 1990).

A day is ``contacts_per_day`` rounds. In each round every person *i* meets one
partner *j* drawn uniformly from their own city (themselves included, with
probability 1/N_c, which changes nothing) and moves toward the partner's
opinion of the previous round if they are close enough:

    x_i ← x_i + μ (x_j − x_i)   if |x_j − x_i| < ε.

Rounds are applied one after another; within a round all reads come before
any write. After the rounds, x ← x + λ (x₀ − x).
"""

from __future__ import annotations

import numpy as np

__all__ = ["draw_partners", "deffuant_round", "mean_field_round", "anchor"]


def draw_partners(rng: np.random.Generator, starts: np.ndarray, stops: np.ndarray,
                  out: np.ndarray | None = None) -> np.ndarray:
    """One uniformly drawn partner per person, from the person's own city.

    Parameters
    ----------
    rng
        The run's generator (one call per city).
    starts, stops
        City slices.
    out
        Optional int32 buffer of length N.

    Returns
    -------
    ndarray of int32
        Global agent index of each person's partner.
    """
    n = int(stops[-1]) if len(stops) else 0
    if out is None:
        out = np.empty(n, dtype=np.int32)
    for s, e in zip(starts.tolist(), stops.tolist()):
        out[s:e] = rng.integers(s, e, size=e - s, dtype=np.int32)
    return out


def deffuant_round(x: np.ndarray, partners: np.ndarray, confidence_bound: float, rate: float,
                   scratch: np.ndarray | None = None) -> np.ndarray:
    """One synchronous bounded-confidence round, in place on ``x``.

    Parameters
    ----------
    x
        Opinions in [0, 1] (float32), modified in place and returned.
    partners
        Partner index per person (from :func:`draw_partners`).
    confidence_bound
        ε, opinion units: partners further apart than this are ignored.
    rate
        μ ∈ [0, 1]: share of the gap closed per accepted contact.
    scratch
        Optional float32 buffer of the same length as ``x``.

    Notes
    -----
    Convex combination of two values in [0, 1], so bounds are preserved.
    """
    d = np.take(x, partners, out=scratch) if scratch is not None else x[partners]
    d -= x                                   # gap x_j − x_i, all from the old state
    d *= np.float32(rate) * (np.abs(d) < np.float32(confidence_bound))
    x += d
    return x


def mean_field_round(x: np.ndarray, starts: np.ndarray, rate: float) -> np.ndarray:
    """DeGroot-style round: everyone moves toward their city's mean, in place.

    x_i ← x_i + μ (x̄_c − x_i), with x̄_c the city mean of the old state.
    """
    sizes = np.diff(np.append(starts, x.shape[0]))
    means = np.add.reduceat(x, starts, dtype=np.float64) / sizes
    x += np.float32(rate) * (np.repeat(means.astype(np.float32), sizes) - x)
    return x


def anchor(x: np.ndarray, x0: np.ndarray, stubbornness: float) -> np.ndarray:
    """Friedkin–Johnsen pull toward the initial opinion: x ← x + λ (x₀ − x), in place."""
    if stubbornness > 0:
        x += np.float32(stubbornness) * (x0 - x)
    return x

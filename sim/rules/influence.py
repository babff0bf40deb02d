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

__all__ = ["anchor", "deffuant_round", "draw_partners", "gather", "mean_field_round"]


def draw_partners(
    rng: np.random.Generator, starts: np.ndarray, stops: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """One uniformly drawn partner per person, from the person's own city.

    Parameters
    ----------
    rng
        The run's generator (one call per city).
    starts, stops
        City slices.
    out
        Optional ``np.intp`` buffer of length N.

    Returns
    -------
    ndarray of intp
        Global agent index of each person's partner. (Native-width indices:
        ``np.take`` converts narrower ones to ``intp`` on every call.)
    """
    n = int(stops[-1]) if len(stops) else 0
    if out is None:
        out = np.empty(n, dtype=np.intp)
    for s, e in zip(starts.tolist(), stops.tolist()):
        out[s:e] = rng.integers(s, e, size=e - s, dtype=np.intp)
    return out


def gather(x: np.ndarray, partners: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Rows ``x[partners]``; an (N, 2) float32 array is gathered as one 8-byte word per row."""
    if x.ndim == 2 and x.shape[1] == 2 and x.dtype == np.float32 and x.flags.c_contiguous:
        words = x.view(np.uint64).reshape(x.shape[0])
        if out is None:
            out = np.empty_like(x)
        # mode="clip" skips the bounds-error path; partners are in range by construction
        np.take(words, partners, out=out.view(np.uint64).reshape(x.shape[0]), mode="clip")
        return out
    return np.take(x, partners, axis=0, out=out)


def deffuant_round(
    x: np.ndarray,
    partners: np.ndarray,
    confidence_bound: float,
    rate: float,
    scratch: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    mask2: np.ndarray | None = None,
) -> np.ndarray:
    """One synchronous bounded-confidence round, in place on ``x``.

    Parameters
    ----------
    x
        Opinions in [0, 1] (float32), shape (N,) or (N, k) for k opinions that
        share the partner; modified in place and returned.
    partners
        Partner index per person (from :func:`draw_partners`).
    confidence_bound
        ε, opinion units: partners further apart than this are ignored.
    rate
        μ ∈ [0, 1]: share of the gap closed per accepted contact.
    scratch, mask, mask2
        Optional float32 and bool buffers shaped like ``x`` (no allocation when given).

    Notes
    -----
    Convex combination of two values in [0, 1], so bounds are preserved.
    """
    eps = np.float32(confidence_bound)
    d = gather(x, partners, out=scratch)
    d -= x  # gap x_j − x_i, all from the old state
    close = np.less(d, eps, out=mask)  # |d| < ε as two comparisons: no float temporary
    close &= np.greater(d, -eps, out=mask2)
    d *= close  # (np.add(..., where=close) is twice as slow, measured)
    d *= np.float32(rate)
    x += d
    return x


def mean_field_round(x: np.ndarray, starts: np.ndarray, rate: float) -> np.ndarray:
    """DeGroot-style round: everyone moves toward their city's mean, in place.

    x_i ← x_i + μ (x̄_c − x_i), with x̄_c the city mean of the old state.
    """
    sizes = np.diff(np.append(starts, x.shape[0]))
    means = np.add.reduceat(x, starts, axis=0, dtype=np.float64) / sizes.reshape((-1,) + (1,) * (x.ndim - 1))
    x += np.float32(rate) * (np.repeat(means.astype(np.float32), sizes, axis=0) - x)
    return x


def anchor(x: np.ndarray, x0: np.ndarray, stubbornness: float, scratch: np.ndarray | None = None) -> np.ndarray:
    """Friedkin–Johnsen pull toward the initial opinion: x ← x + λ (x₀ − x), in place."""
    if stubbornness > 0:
        d = np.subtract(x0, x, out=scratch)
        d *= np.float32(stubbornness)
        x += d
    return x

"""Phase 3, influence: bounded confidence (Deffuant et al. 2000) within each city,
anchored by stubbornness (Friedkin & Johnsen 1990).

A day is ``contacts_per_day`` rounds. In each round every person *i* meets one
partner *j* from their own city and moves toward the partner's opinion of the
previous round if they are close enough:

    x_i ← x_i + μ (x_j − x_i)   if |x_j − x_i| < ε.

Rounds are applied one after another; within a round all reads come before
any write. After the rounds, x ← x + λ (x₀ − x).

Two contact schemes choose the partners (``influence.contacts``):

- ``uniform``: j drawn uniformly from the city, independently for every person
  (themselves included, with probability 1/N_c, which changes nothing); each
  round gathers partners from random places in memory (:func:`deffuant_round`).
- ``circulant`` (default): one offset o_c drawn uniformly from 1..N_c−1 per city
  and round, and person k of the city meets person (k + o_c) mod N_c. People
  are stored in random order within their city (their attributes are drawn
  independently), so j is uniform over the others for every i and rounds are
  independent; a round is a cyclic shift, read as a stream by one compiled
  loop (:func:`circulant_round`, :func:`circulant_day`). docs/model.md, "Contact schemes", gives the
  mixing argument and the equivalence evidence.
"""

from __future__ import annotations

import numpy as np

from . import kernels

__all__ = [
    "BLOCK_ROWS",
    "anchor",
    "circulant_day",
    "circulant_round",
    "deffuant_round",
    "draw_offsets",
    "draw_partners",
    "gather",
    "mean_field_round",
]

#: Rows per block of the compiled circulant pull (:data:`sim.rules.kernels.PULL_BLOCK`).
BLOCK_ROWS = kernels.PULL_BLOCK


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


def draw_offsets(rng: np.random.Generator, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """One offset per city for a circulant round: uniform on 1..N_c−1 (0 for a city of one).

    One draw per city with two or more people, in city order, from the run's generator.
    """
    sizes = np.asarray(stops) - np.asarray(starts)
    out = np.zeros(sizes.shape[0], dtype=np.int64)
    for c, n in enumerate(sizes.tolist()):
        if n >= 2:
            out[c] = rng.integers(1, n)
    return out


def circulant_round(
    x: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    offsets: np.ndarray,
    confidence_bound: float,
    rate: float,
    *,
    saved: np.ndarray | None = None,
    block: int = BLOCK_ROWS,
) -> np.ndarray:
    """One synchronous bounded-confidence round with circulant partners, in place on ``x``.

    Person k of city c (row ``starts[c] + k``) moves toward person (k + o_c) mod N_c, with
    both opinions read from before the round.

    Parameters
    ----------
    x
        Opinions in [0, 1], float32, C-contiguous, shape (N,) or (N, k); modified in place and
        returned.
    starts, stops
        City slices.
    offsets
        o_c per city (from :func:`draw_offsets`); 0 leaves the city unchanged.
    confidence_bound, rate
        ε and μ, as in :func:`deffuant_round`.
    saved
        Optional buffer with at least as many elements as ``x`` (at most half of the largest
        city's rows are used).
    block
        Rows per block of the compiled pull.

    Notes
    -----
    The round is done in place without a copy of the city (:mod:`sim.rules.kernels`): with
    o ≤ N_c/2 rows are updated in ascending order, so a partner k + o > k is read before it is
    written, except for the last o rows, whose partners (the first o rows) are saved before the
    pass; with o > N_c/2 the pass descends with the mirrored offset N_c − o. Each block reads its
    rows and their partners as two contiguous streams, in one compiled loop.
    """
    flat, w, buf = _flat(x, saved)
    kernels.circulant_round(
        flat, w, _int64(starts), _int64(stops), _int64(offsets), *_eps_mu(confidence_bound, rate), buf, int(block)
    )
    return x


def circulant_day(
    x: np.ndarray,
    x0: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    offsets: np.ndarray,
    confidence_bound: float,
    rate: float,
    stubbornness: float,
    *,
    saved: np.ndarray | None = None,
    block: int = BLOCK_ROWS,
) -> np.ndarray:
    """A day of circulant rounds and the pull to the anchors, in place on ``x``.

    The same as :func:`circulant_round` for each row of ``offsets`` (shape (rounds, C)) in turn
    and then :func:`anchor`, done city by city so that a city's opinions stay in cache over its
    rounds (cities do not interact in this phase, so the order of cities changes nothing).
    """
    flat, w, buf = _flat(x, saved)
    flat0 = x0.reshape(-1)
    if flat0.shape != flat.shape or x0.dtype != np.float32 or not x0.flags.c_contiguous:
        raise ValueError("anchors must be a C-contiguous float32 array shaped like the opinions")
    kernels.circulant_day(
        flat,
        flat0,
        w,
        _int64(starts),
        _int64(stops),
        np.ascontiguousarray(offsets, dtype=np.int64).reshape(-1, len(starts)),
        *_eps_mu(confidence_bound, rate),
        np.float32(stubbornness),
        buf,
        int(block),
    )
    return x


def _flat(x: np.ndarray, saved: np.ndarray | None) -> tuple[np.ndarray, int, np.ndarray]:
    """The opinions as one flat float32 array, their width and a flat buffer for saved rows."""
    if x.dtype != np.float32 or not x.flags.c_contiguous:
        raise ValueError("circulant rounds need C-contiguous float32 opinions")
    flat = x.reshape(-1)
    w = int(np.prod(x.shape[1:], dtype=np.int64))
    if saved is None or saved.size < flat.size or saved.dtype != np.float32:
        saved = np.empty(flat.size, dtype=np.float32)
    return flat, w, saved.reshape(-1)


def _eps_mu(confidence_bound: float, rate: float) -> tuple[np.float32, np.float32]:
    return np.float32(confidence_bound), np.float32(rate)


def _int64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)

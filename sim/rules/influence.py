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
  independent; a round is a cyclic shift, read as a stream, in cache-sized
  blocks (:func:`circulant_round`). docs/model.md, "Contact schemes", gives the
  mixing argument and the equivalence evidence.
"""

from __future__ import annotations

import numpy as np

from ..facts import BLOCK

__all__ = [
    "BLOCK_ROWS",
    "anchor",
    "circulant_round",
    "deffuant_round",
    "draw_offsets",
    "draw_partners",
    "gather",
    "mean_field_round",
]

#: Rows of the opinion pairs processed at a time by :func:`circulant_round` (8 bytes a row: the
#: block and its temporaries stay in the L2 cache). Measured in docs/performance.md.
BLOCK_ROWS = BLOCK

#: Cities of at most this many rows are updated together, by one gather (per-city calls would
#: cost more than the arithmetic).
SMALL_CITY_ROWS = 2048


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
        Opinions in [0, 1], float32, shape (N, k); modified in place and returned.
    starts, stops
        City slices.
    offsets
        o_c per city (from :func:`draw_offsets`); 0 leaves the city unchanged.
    confidence_bound, rate
        ε and μ, as in :func:`deffuant_round`.
    saved
        Optional buffer shaped like ``x`` (at least half of the largest city's rows are used).
    block
        Rows per block.

    Notes
    -----
    The round is done in place without a copy of the city: with o ≤ N_c/2 rows are updated
    in ascending order, so a partner k + o > k is read before it is written, except for the
    last o rows, whose partners (the first o rows) are saved before the pass; with o > N_c/2
    the pass descends with the mirrored offset N_c − o. Each block reads its rows and their
    partners as two contiguous streams and does all its arithmetic in cache.
    """
    eps, mu = np.float32(confidence_bound), np.float32(rate)
    width = x.shape[1:]
    d = np.empty((block, *width), dtype=x.dtype)
    inside = np.empty((block, *width), dtype=bool)
    below = np.empty((block, *width), dtype=bool)

    def update(rows: np.ndarray, partners: np.ndarray) -> None:
        k = rows.shape[0]
        dd, a, b = d[:k], inside[:k], below[:k]
        np.subtract(partners, rows, out=dd)  # read both before writing the rows
        np.less(dd, eps, out=a)
        np.greater(dd, -eps, out=b)
        a &= b
        dd *= a
        dd *= mu
        rows += dd

    sizes = np.asarray(stops) - np.asarray(starts)
    small = (sizes <= min(block, SMALL_CITY_ROWS)) & (np.asarray(offsets) > 0)
    if small.any():  # small cities, where call overhead would dominate: all in one gathered update
        rows, partners = _small_city_pairs(np.asarray(starts)[small], sizes[small], np.asarray(offsets)[small])
        own, other = _take(x, rows), _take(x, partners)  # copies, both read before any write
        for i in range(0, own.shape[0], block):
            update(own[i : i + block], other[i : i + block])
        _scatter(x, rows, own)
    for s, e, o in zip(starts.tolist(), stops.tolist(), offsets.tolist()):
        n = e - s
        if o <= 0 or n < 2 or n <= min(block, SMALL_CITY_ROWS):
            continue
        city = x[s:e]
        if o <= n // 2:  # ascending: rows [0, n−o) read [o, n); rows [n−o, n) read the saved [0, o)
            keep = _save(city[:o], saved)
            for i in range(0, n - o, block):
                j = min(i + block, n - o)
                update(city[i:j], city[i + o : j + o])
            for i in range(n - o, n, block):
                j = min(i + block, n)
                update(city[i:j], keep[i - (n - o) : j - (n - o)])
        else:  # descending with m = n − o: rows [m, n) read [0, n−m); rows [0, m) read the saved [n−m, n)
            m = n - o
            keep = _save(city[n - m :], saved)
            for j in range(n, m, -block):
                i = max(j - block, m)
                update(city[i:j], city[i - m : j - m])
            for j in range(m, 0, -block):
                i = max(j - block, 0)
                update(city[i:j], keep[i:j])
    return x


def _small_city_pairs(starts: np.ndarray, sizes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the given cities and each row's circulant partner (global indices)."""
    total = int(sizes.sum())
    first = np.repeat(starts, sizes)
    local = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    partners = first + (local + np.repeat(offsets, sizes)) % np.repeat(sizes, sizes)
    return first + local, partners


def _take(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x[rows]`` (a copy); (N, 2) float32 rows are read as one 8-byte word each."""
    if x.ndim == 2 and x.shape[1] == 2 and x.dtype == np.float32 and x.flags.c_contiguous:
        return np.take(x.view(np.uint64).reshape(x.shape[0]), rows).view(np.float32).reshape(-1, 2)
    return x[rows]


def _scatter(x: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``x[rows] = values``; (N, 2) float32 rows are written as one 8-byte word each."""
    if x.ndim == 2 and x.shape[1] == 2 and x.dtype == np.float32 and x.flags.c_contiguous:
        np.put(x.view(np.uint64).reshape(x.shape[0]), rows, np.ascontiguousarray(values).view(np.uint64))
    else:
        x[rows] = values


def _save(rows: np.ndarray, buffer: np.ndarray | None) -> np.ndarray:
    """A copy of ``rows``, in ``buffer`` when one is given."""
    if buffer is None:
        return rows.copy()
    out = buffer[: rows.shape[0]]
    np.copyto(out, rows)
    return out

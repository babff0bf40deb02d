"""Compiled loops of the daily step (numba), one pass over the people where NumPy needs several.

Each kernel does the same float32 operations, in the same order, as the NumPy expression it
replaces (no fused multiply-add, no reassociation: ``fastmath`` is off), so results are
bit-identical to the NumPy versions these kernels replaced (``tests/test_rules.py`` checks them
against plain-loop references; ``tests/test_fingerprint.py`` pins whole runs). What they save is
memory traffic and interpreter calls: the NumPy versions made seven passes over each block of
an influence round and nine in the protest decision; a kernel makes one (docs/performance.md,
"Compiled kernels"). Detention is compiled for another reason: the NumPy version looked up the
city of every active person, which made repression the costliest phase on days when millions are
out (calibration proposals whose crowds explode).

The loops run over contiguous slices, city by city, and are written so that LLVM vectorises
them: the influence pull works on blocks of ``PULL_BLOCK`` rows, short enough that a row block
and its partner block rarely overlap (the vectoriser's run-time alias check then passes).

Compiled on first use and cached next to this file (``cache=True``; numba falls back to a
user cache directory when the package directory is read-only).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "PULL_BLOCK",
    "backlash",
    "circulant_day",
    "circulant_round",
    "decide",
    "decide_day",
    "detain",
    "exposure",
    "message",
    "release",
    "settle",
    "tallies",
]

#: Rows per block of the influence pull (measured: docs/performance.md, "Compiled kernels").
PULL_BLOCK = 1024

_jit = numba.njit(cache=True, nogil=True, boundscheck=False, fastmath=False)


@_jit
def _pull_up(rows, partners, eps, mu):  # pragma: no cover - compiled
    """rows[i] += μ (partners[i] − rows[i]) where |gap| < ε, for i ascending (flat float32 views;
    ``partners`` may overlap ``rows`` from above: each partner is read before it is written)."""
    for i in range(rows.shape[0]):
        d = partners[i] - rows[i]
        close = (d < eps) & (d > -eps)  # no branch: the loop vectorises
        rows[i] = rows[i] + d * np.float32(close) * mu


@_jit
def _pull_down(rows, partners, eps, mu):  # pragma: no cover - compiled
    """As :func:`_pull_up`, for i descending (``partners`` may overlap ``rows`` from below)."""
    for i in range(rows.shape[0] - 1, -1, -1):
        d = partners[i] - rows[i]
        close = (d < eps) & (d > -eps)
        rows[i] = rows[i] + d * np.float32(close) * mu


@_jit
def _city_round(city, w, o, eps, mu, saved, block):  # pragma: no cover - compiled
    """One circulant round of one city's flat opinions (rows of width ``w``), in place: row k
    moves toward row (k + o) mod n, both read from before the round."""
    n = city.shape[0] // w
    if o <= 0 or n < 2:
        return
    if o <= n // 2:  # ascending: rows [0, n−o) read [o, n); rows [n−o, n) read the saved [0, o)
        keep = saved[: o * w]
        keep[:] = city[: o * w]
        for i in range(0, n - o, block):
            j = min(i + block, n - o)
            _pull_up(city[i * w : j * w], city[(i + o) * w : (j + o) * w], eps, mu)
        _pull_up(city[(n - o) * w :], keep, eps, mu)
    else:  # descending with m = n − o: rows [m, n) read [0, n−m); rows [0, m) read the saved [n−m, n)
        m = n - o
        keep = saved[: m * w]
        keep[:] = city[(n - m) * w :]
        j = n
        while j > m:
            i = max(j - block, m)
            _pull_down(city[i * w : j * w], city[(i - m) * w : (j - m) * w], eps, mu)
            j = i
        _pull_up(city[: m * w], keep, eps, mu)


@_jit
def circulant_round(x, w, starts, stops, offsets, eps, mu, saved, block):  # pragma: no cover - compiled
    """One round over every city (flat opinions ``x`` of width ``w``; ``saved`` ≥ half a city)."""
    for c in range(starts.shape[0]):
        _city_round(x[starts[c] * w : stops[c] * w], w, offsets[c], eps, mu, saved, block)


@_jit
def circulant_day(x, x0, w, starts, stops, offsets, eps, mu, lam, saved, block):  # pragma: no cover - compiled
    """A day of influence city by city: the rounds ``offsets[r, c]`` one after another, then the
    pull to the anchors x ← x + λ (x₀ − x) (skipped for λ = 0), while the city is in cache."""
    for c in range(starts.shape[0]):
        city = x[starts[c] * w : stops[c] * w]
        for r in range(offsets.shape[0]):
            _city_round(city, w, offsets[r, c], eps, mu, saved, block)
        if lam > 0:
            anchors = x0[starts[c] * w : stops[c] * w]
            for i in range(city.shape[0]):
                city[i] = city[i] + (anchors[i] - city[i]) * lam


@_jit
def decide(
    opinions, hardship, risk_aversion, threshold, status, heard, starts, stops, salience, lift, risk, call, gw,
    active, grievance,
):  # pragma: no cover - compiled  # fmt: skip
    """Epstein's decision with the city's scalars (docs/model.md, "Protest").

    ``opinions`` is the flat interleaved (trust, sinophobia) array; ``salience`` is β_s σ_c,
    ``lift`` b_c + S_c, ``risk`` P_c, ``call`` b_call (0: none) per city; ``gw`` the grievance
    weight. Multiplying by a weight of 1 and adding a call of 0 change no value, so the loop has
    no branch and vectorises.
    """
    for c in range(starts.shape[0]):
        s, e = starts[c], stops[c]
        _decide_city(
            opinions[2 * s : 2 * e], hardship[s:e], risk_aversion[s:e], threshold[s:e], status[s:e], heard[s:e],
            salience[c], lift[c], risk[c], call[c], gw, active[s:e], grievance[s:e],
        )  # fmt: skip


@_jit
def _decide_city(op, h, ra, theta, status, heard, sal, up, p, b, gw, active, grievance):  # pragma: no cover
    for i in range(h.shape[0]):
        g = (np.float32(1) - op[2 * i]) * h[i] * gw
        sc = op[2 * i + 1] * sal + g + up + np.float32(heard[i]) * b - ra[i] * p
        grievance[i] = g
        active[i] = (sc >= theta[i]) & (status[i] != 2)


@_jit
def decide_day(
    opinions, hardship, risk_aversion, threshold, status, detention, heard, starts, stops, salience, lift, risk,
    call, gw, release, active, grievance, counts,
):  # pragma: no cover - compiled  # fmt: skip
    """The protest phase's pass and the release of the repression phase in one: :func:`decide`,
    then :func:`settle`, then (``release`` true) :func:`release`, person by person.

    The three are elementwise and nothing runs between them in the step (protest, then
    repression's release first), so each person's result is the one the three passes give. Per
    city, ``counts[c]`` = (active agents, agents held after the release); the release count is not
    kept. No branch in the loop: it vectorises like :func:`decide`.
    """
    rel = np.uint8(1 if release else 0)
    for c in range(starts.shape[0]):
        s, e = starts[c], stops[c]
        n_active, n_held = _decide_day_city(
            opinions[2 * s : 2 * e], hardship[s:e], risk_aversion[s:e], threshold[s:e], status[s:e],
            detention[s:e], heard[s:e], salience[c], lift[c], risk[c], call[c], gw, rel, active[s:e], grievance[s:e],
        )  # fmt: skip
        counts[c, 0], counts[c, 1] = n_active, n_held


@_jit
def _decide_day_city(
    op, h, ra, theta, status, detention, heard, sal, up, p, b, gw, rel, active, grievance
):  # pragma: no cover - compiled
    n_active, n_held = 0, 0
    for i in range(h.shape[0]):
        g = (np.float32(1) - op[2 * i]) * h[i] * gw
        sc = op[2 * i + 1] * sal + g + up + np.float32(heard[i]) * b - ra[i] * p
        grievance[i] = g
        held = np.uint8(status[i] == 2)
        a = np.uint8(sc >= theta[i]) & (np.uint8(1) - held)
        active[i] = a
        served = held & rel  # release: one day served by the held
        left = detention[i] - served
        detention[i] = left
        freed = served & np.uint8(left == 0)
        status[i] = a + np.uint8(2) * (held - freed)
        n_active += int(a)
        n_held += int(held - freed)
    return n_active, n_held


@_jit
def exposure(opinions, online, starts, stops, up, down):  # pragma: no cover - compiled
    """Online drift s ← s + α_s σ_c (1 − s), τ ← τ − α_τ σ_c τ on the flat interleaved (trust,
    sinophobia) array, with ``up`` = α_s σ_c and ``down`` = α_τ σ_c per city (float32; adding
    0 changes no value, so a city with both 0 is skipped and the loop has no branch)."""
    for c in range(starts.shape[0]):
        a, b = up[c], down[c]
        if a == 0 and b == 0:
            continue
        op, on = opinions[2 * starts[c] : 2 * stops[c]], online[starts[c] : stops[c]]
        for i in range(on.shape[0]):
            f = np.float32(on[i])
            op[2 * i + 1] = op[2 * i + 1] + (np.float32(1) - op[2 * i + 1]) * f * a
            op[2 * i] = op[2 * i] - op[2 * i] * f * b


@_jit
def backlash(opinions, online, starts, stops, loss):  # pragma: no cover - compiled
    """τ ← τ − τ (b_c · online) on the flat interleaved (trust, sinophobia) array, with the
    city's loss b_c (float32; a city with 0 is skipped)."""
    for c in range(starts.shape[0]):
        b = loss[c]
        if b == 0:
            continue
        op, on = opinions[2 * starts[c] : 2 * stops[c]], online[starts[c] : stops[c]]
        for i in range(on.shape[0]):
            op[2 * i] = op[2 * i] - op[2 * i] * (b * np.float32(on[i]))


@_jit
def settle(status, active):  # pragma: no cover - compiled
    """The day's status from the decision: 1 for the active, 0 for the other free, 2 kept for the
    detained (``status = active + 2·(status == 2)``, one pass instead of NumPy's three)."""
    for i in range(status.shape[0]):
        status[i] = np.uint8(active[i]) + np.uint8(2) * np.uint8(status[i] == 2)


@_jit
def message(opinions, start, hears, effect, backfire, from_trust):  # pragma: no cover - compiled
    """A message's effect on sinophobia in one city, on the flat interleaved (trust, sinophobia)
    array from person ``start`` on: s ← clip(s + e (f d − (1 − d)) · hears, 0, 1), d = 1 − τ
    (``from_trust``) or s, as float32 in NumPy's order; the clip as ``np.clip`` does it (−0 and NaN
    kept). Branch-free loops (one per kind of distrust), so that they vectorise."""
    one, zero = np.float32(1), np.float32(0)
    op = opinions[2 * start : 2 * (start + hears.shape[0])]
    if from_trust:
        for i in range(hears.shape[0]):
            s, d = op[2 * i + 1], one - op[2 * i]
            x = s + effect * (backfire * d - (one - d)) * np.float32(hears[i])
            x = zero if x < zero else x
            op[2 * i + 1] = one if x > one else x
    else:
        for i in range(hears.shape[0]):
            s = op[2 * i + 1]
            x = s + effect * (backfire * s - (one - s)) * np.float32(hears[i])
            x = zero if x < zero else x
            op[2 * i + 1] = one if x > one else x


@_jit
def release(status, detention, detained, quiet):  # pragma: no cover - compiled
    """One day served by every detained agent (uint8 ``detention`` − 1); those with none left
    become ``quiet``. Returns the number released. No branch: the loop vectorises."""
    done = 0
    drop = detained - quiet
    for i in range(status.shape[0]):
        h = np.uint8(status[i] == detained)
        left = detention[i] - h
        detention[i] = left
        d = h & np.uint8(left == 0)
        status[i] = status[i] - d * drop
        done += int(d)
    return done


@_jit
def detain(status, detention, candidates, lo, hi, q, u, days, detained, new):  # pragma: no cover - compiled
    """Detain active agents city by city, in place: candidate j (``candidates`` ascending; those
    of city c are ``lo[c]:hi[c]``) is detained when ``u[j] < q[c]`` (float64), for ``days[j]``
    days. ``new[c]`` counts the newly detained of city c."""
    for c in range(lo.shape[0]):
        qc = q[c]
        n = 0
        for j in range(lo[c], hi[c]):
            if u[j] < qc:
                i = candidates[j]
                status[i] = detained
                detention[i] = days[j]
                n += 1
        new[c] = n


@numba.njit(cache=True, nogil=True, boundscheck=False, fastmath={"reassoc"})
def tallies(opinions, grievance, active, status, starts, stops, counts, sums):  # pragma: no cover - compiled
    """Per city, in one pass: ``counts[c]`` = (active, detained) agents and ``sums[c]`` = the
    float64 sums of trust, sinophobia and grievance. Sums may be reassociated (``reassoc``: the
    loop vectorises); in float64 their relative error at millions of values stays near 1e-15."""
    for c in range(starts.shape[0]):
        s, e = starts[c], stops[c]
        op, g, a, st = opinions[2 * s : 2 * e], grievance[s:e], active[s:e], status[s:e]
        n_active, n_held = 0, 0
        t_sum, s_sum, g_sum = 0.0, 0.0, 0.0
        for i in range(g.shape[0]):
            n_active += a[i]
            n_held += st[i] == 2
            t_sum += np.float64(op[2 * i])
            s_sum += np.float64(op[2 * i + 1])
            g_sum += np.float64(g[i])
        counts[c, 0], counts[c, 1] = n_active, n_held
        sums[c, 0], sums[c, 1], sums[c, 2] = t_sum, s_sum, g_sum

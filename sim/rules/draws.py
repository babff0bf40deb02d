"""Compiled random draws that reproduce NumPy's ``Generator`` bit for bit, faster.

The calibration redraws every person's activation threshold for each simulation (the threshold
mean is calibrated), 4.8 million beta variates per run at the valid scale: NumPy's
``Generator.beta`` spent about a fifth of a late-generation simulation on it (docs/performance.md,
"Where a calibration simulation's time goes"). NumPy's loop calls the bit generator and the gamma
sampler through function pointers and recomputes the Marsaglia-Tsang constants at every draw;
:func:`beta32` runs the same algorithms in one compiled loop — the PCG64 step (128-bit LCG,
XSL-RR output), the 256-layer ziggurat normal, Marsaglia-Tsang gamma for shapes above 1, then
``Ga / (Ga + Gb)`` — consuming the generator's stream exactly as NumPy does. The values, and the
generator's state afterwards, are identical to ``rng.beta(a, b, size=n)`` (``tests/test_draws.py``
checks both over many seeds and shapes; ``tests/test_fingerprint.py`` pins whole runs).

:func:`bernoulli_masked` does the same for ``mask & (rng.random(n) < p)`` — who hears a call or a
message — in one pass, without the float64 array of draws.

Anything outside the fast paths — another bit generator than PCG64, or a shape of at most 1
(NumPy then uses other algorithms) — is drawn by NumPy itself, so the result never depends on
which path ran.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

try:  # NumPy's ziggurat tables, as numba ships them for its own Generator support
    from numba.np.random import _constants as _zig

    _KI, _WI, _FI = _zig.ki_double, _zig.wi_double, _zig.fi_double
    _NOR_R, _NOR_INV_R = _zig.ziggurat_nor_r, _zig.ziggurat_nor_inv_r
except (ImportError, AttributeError):  # pragma: no cover - a numba without them: NumPy draws
    _KI = None  # type: ignore[assignment]

__all__ = ["bernoulli_masked", "beta32"]

_jit = numba.njit(cache=True, nogil=True, boundscheck=False, fastmath=False)
# the samplers are inlined into the loop: as calls, each would pass (and reference-count) the
# state and table arrays per draw, which cost more than the draw itself
_inline = numba.njit(cache=True, nogil=True, boundscheck=False, fastmath=False, inline="always")

_MASK64 = (1 << 64) - 1
_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645  # PCG64's default 128-bit multiplier
_S64M = np.uint64(63)
_S58 = np.uint64(58)
_S11 = np.uint64(11)
_S8 = np.uint64(8)
_S1 = np.uint64(1)
_FF = np.uint64(0xFF)
_MANT = np.uint64(0x000FFFFFFFFFFFFF)
_INV53 = 1.0 / 9007199254740992.0


@intrinsic
def _lcg128(typingctx, s_hi, s_lo, inc_hi, inc_lo):  # pragma: no cover - compiled
    """(state * multiplier + increment) mod 2**128 on (hi, lo) halves, as one native 128-bit
    multiply (LLVM's i128; numba has no 128-bit integer type)."""
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i128, i64 = ir.IntType(128), ir.IntType(64)

        def join(hi, lo):
            return builder.or_(builder.shl(builder.zext(hi, i128), ir.Constant(i128, 64)), builder.zext(lo, i128))

        new = builder.add(builder.mul(join(args[0], args[1]), ir.Constant(i128, _MULTIPLIER)), join(args[2], args[3]))
        hi = builder.trunc(builder.lshr(new, ir.Constant(i128, 64)), i64)
        return context.make_tuple(builder, signature.return_type, (hi, builder.trunc(new, i64)))

    return sig, codegen


@_inline
def _step(s_hi, s_lo, inc_hi, inc_lo):  # pragma: no cover - compiled
    """One PCG64 step: the new state (hi, lo) and its XSL-RR output. The state travels in local
    variables, not an array, so that it stays in registers."""
    new_hi, new_lo = _lcg128(s_hi, s_lo, inc_hi, inc_lo)  # type: ignore[call-arg,var-annotated]
    x = new_hi ^ new_lo
    rot = new_hi >> _S58
    return new_hi, new_lo, (x >> rot) | (x << ((np.uint64(64) - rot) & _S64M))


@_inline
def _double(s_hi, s_lo, inc_hi, inc_lo):  # pragma: no cover - compiled
    """NumPy's ``next_double``: the top 53 bits of one output, in [0, 1)."""
    s_hi, s_lo, r = _step(s_hi, s_lo, inc_hi, inc_lo)
    return s_hi, s_lo, np.float64(r >> _S11) * _INV53


@_inline
def _normal(s_hi, s_lo, inc_hi, inc_lo, ki, wi, fi, nor_r, nor_inv_r):  # pragma: no cover - compiled
    """NumPy's ziggurat standard normal (``random_standard_normal``), same stream use."""
    while True:
        s_hi, s_lo, r = _step(s_hi, s_lo, inc_hi, inc_lo)
        idx = np.intp(r & _FF)
        r = r >> _S8
        rabs = (r >> _S1) & _MANT
        x = np.float64(rabs) * wi[idx]
        if r & _S1:
            x = -x
        if rabs < ki[idx]:
            return s_hi, s_lo, x
        if idx == 0:
            while True:
                s_hi, s_lo, u1 = _double(s_hi, s_lo, inc_hi, inc_lo)
                xx = -nor_inv_r * np.log1p(-u1)
                s_hi, s_lo, u2 = _double(s_hi, s_lo, inc_hi, inc_lo)
                yy = -np.log1p(-u2)
                if yy + yy > xx * xx:
                    if (rabs >> _S8) & _S1:
                        return s_hi, s_lo, -(nor_r + xx)
                    return s_hi, s_lo, nor_r + xx
        else:
            s_hi, s_lo, u = _double(s_hi, s_lo, inc_hi, inc_lo)
            if (fi[idx - 1] - fi[idx]) * u + fi[idx] < np.exp(-0.5 * x * x):
                return s_hi, s_lo, x


@_inline
def _gamma(s_hi, s_lo, inc_hi, inc_lo, b, c, ki, wi, fi, nor_r, nor_inv_r):  # pragma: no cover - compiled
    """Marsaglia-Tsang for a shape above 1, given ``b = shape - 1/3`` and ``c = 1/sqrt(9b)``."""
    while True:
        while True:
            s_hi, s_lo, x = _normal(s_hi, s_lo, inc_hi, inc_lo, ki, wi, fi, nor_r, nor_inv_r)
            v = 1.0 + c * x
            if v > 0.0:
                break
        v = v * v * v
        s_hi, s_lo, u = _double(s_hi, s_lo, inc_hi, inc_lo)
        if u < 1.0 - 0.0331 * (x * x) * (x * x):
            return s_hi, s_lo, b * v
        if np.log(u) < 0.5 * x * x + b * (1.0 - v + np.log(v)):
            return s_hi, s_lo, b * v


@_jit
def _beta_into(st, a, b, out, ki, wi, fi, nor_r, nor_inv_r):  # pragma: no cover - compiled
    """``out[i]`` = Beta(a, b) for a, b > 1, clipped to [0, 1] and rounded to float32; ``st`` =
    [state_hi, state_lo, inc_hi, inc_lo] in, the state after the draws out."""
    s_hi, s_lo, inc_hi, inc_lo = st[0], st[1], st[2], st[3]
    ba = a - 1.0 / 3.0
    ca = 1.0 / np.sqrt(9 * ba)
    bb = b - 1.0 / 3.0
    cb = 1.0 / np.sqrt(9 * bb)
    for i in range(out.shape[0]):
        s_hi, s_lo, ga = _gamma(s_hi, s_lo, inc_hi, inc_lo, ba, ca, ki, wi, fi, nor_r, nor_inv_r)
        s_hi, s_lo, gb = _gamma(s_hi, s_lo, inc_hi, inc_lo, bb, cb, ki, wi, fi, nor_r, nor_inv_r)
        v = ga / (ga + gb)
        if v < 0.0:
            v = 0.0
        elif v > 1.0:
            v = 1.0
        out[i] = np.float32(v)
    st[0], st[1] = s_hi, s_lo


@_jit
def _bernoulli_into(st, p, mask, out):  # pragma: no cover - compiled
    """``out[i] = mask[i] and u_i < p``, u_i the i-th ``next_double`` (drawn for every i)."""
    s_hi, s_lo, inc_hi, inc_lo = st[0], st[1], st[2], st[3]
    for i in range(out.shape[0]):
        s_hi, s_lo, u = _double(s_hi, s_lo, inc_hi, inc_lo)
        out[i] = mask[i] & (u < p)
    st[0], st[1] = s_hi, s_lo


def _pcg64_state(rng: np.random.Generator) -> tuple[Any, np.ndarray] | None:
    """The generator's state dict and [state_hi, state_lo, inc_hi, inc_lo], or None if its bit
    generator is not PCG64 (or numba lacks NumPy's tables)."""
    bg = rng.bit_generator
    if _KI is None or type(bg) is not np.random.PCG64:
        return None
    state = bg.state
    s, inc = int(state["state"]["state"]), int(state["state"]["inc"])
    return state, np.array([s >> 64, s & _MASK64, inc >> 64, inc & _MASK64], dtype=np.uint64)


def _store(rng: np.random.Generator, state: Any, st: np.ndarray) -> None:
    state["state"]["state"] = (int(st[0]) << 64) | int(st[1])
    rng.bit_generator.state = state


def beta32(rng: np.random.Generator, a: float, b: float, n: int) -> np.ndarray:
    """``np.clip(rng.beta(a, b, size=n), 0, 1).astype(np.float32)``, bit for bit, and faster.

    Parameters
    ----------
    rng
        The generator to draw from; its state advances exactly as under ``rng.beta``.
    a, b
        Shape parameters (> 0).
    n
        Number of draws.

    Returns
    -------
    numpy.ndarray
        ``n`` float32 values in [0, 1].

    Notes
    -----
    The compiled path needs a PCG64 bit generator and both shapes above 1 (where NumPy uses
    Marsaglia-Tsang gamma draws); otherwise NumPy draws.
    """
    a, b = float(a), float(b)
    pcg = _pcg64_state(rng) if a > 1.0 and b > 1.0 and n > 0 else None
    if pcg is None:
        return np.clip(rng.beta(a, b, size=n), 0.0, 1.0).astype(np.float32)
    out = np.empty(n, dtype=np.float32)
    _beta_into(pcg[1], a, b, out, _KI, _WI, _FI, _NOR_R, _NOR_INV_R)
    _store(rng, *pcg)
    return out


def bernoulli_masked(rng: np.random.Generator, p: float, mask: np.ndarray) -> np.ndarray:
    """``mask & (rng.random(mask.size) < p)``, bit for bit, in one compiled pass.

    Parameters
    ----------
    rng
        The generator; it advances by ``mask.size`` doubles, as under ``rng.random``.
    p
        Probability of a draw below it (any float; ≤ 0 gives none, ≥ 1 all).
    mask
        Boolean array (1-d, contiguous): who can be drawn at all.

    Returns
    -------
    numpy.ndarray
        Boolean array of ``mask``'s size: in the mask and drawn.
    """
    mask = np.ascontiguousarray(mask, dtype=bool)
    pcg = _pcg64_state(rng) if mask.size else None
    if pcg is None:
        return mask & (rng.random(mask.size) < p)
    out = np.empty(mask.size, dtype=bool)
    _bernoulli_into(pcg[1], float(p), mask, out)
    _store(rng, *pcg)
    return out

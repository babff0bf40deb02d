"""Phase 2, salience: how present the China issue is in each city's conversation,
and its pull on online people's opinions.

Visibility of a crowd of A people, on a log scale between a floor A_0 (a few
scattered people are not a rally) and a reference crowd A_ref:

    v(A) = clip(ln(A / A_0) / ln(A_ref / A_0), 0, 1)

so that a rally of dozens is already news. Each day:

    drive_c = w_loc v(A_c) + w_net Σ_j W_cj v(A_j) + w_nat ρ_c max_j v(A_j)
    σ_c ← δ σ_c + (1 − δ σ_c) (1 − exp(−(1 − F_c) drive_c)),   δ = 2^(−1/half_life)
    F_c ← δ_F F_c + κ σ_c (1 − δ_F F_c),                         δ_F = 2^(−1/fatigue_half_life)

F_c is attention fatigue (Downs 1972, the issue-attention cycle): the longer
an issue has been salient, the less new rallies add to it.

with A yesterday's participants (people), W the gravity network, ρ_c the
city's media reach. Online people then drift:

    s ← s + α_s σ_c (1 − s),     τ ← τ − α_τ σ_c τ.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from ..config import MediaParams
from . import kernels

if TYPE_CHECKING:
    from ..population import Population

__all__ = ["exposure", "update_fatigue", "update_salience", "visibility"]


def visibility(people: np.ndarray | float, reference: float, floor: float = 1.0) -> np.ndarray:
    """v(A) = clip(ln(A/A_0)/ln(A_ref/A_0), 0, 1); A in people, A_0 = ``floor`` < A_ref."""
    a = np.maximum(np.asarray(people, dtype=np.float64), floor)
    return np.minimum(1.0, np.log(a / floor) / np.log(reference / floor))


def update_salience(
    salience: np.ndarray,
    participants: np.ndarray,
    network: sparse.csr_array,
    reach: np.ndarray,
    params: MediaParams,
    fatigue: np.ndarray | None = None,
    online: np.ndarray | None = None,
) -> np.ndarray:
    """New per-city salience (float64, in [0, 1]); see the module docstring.

    Parameters
    ----------
    salience
        σ per city, yesterday.
    participants
        Yesterday's participants per city (people).
    network
        Row-normalised gravity weights W (C × C).
    reach
        Media reach ρ per city (share online).
    params
        Weights w_loc, w_net, w_nat, half-life and the visibility scale (A_0, A_ref).
    fatigue
        Attention fatigue F per city in [0, 1] (None: no fatigue).
    online
        Share of online access left per city, ω_c ∈ [0, 1] (a media restriction; None: 1). The
        network and national channels travel by messenger and internet and are scaled by it; seeing
        one's own city's rally is not.
    """
    v = visibility(participants, params.visibility_reference, params.visibility_floor)
    national = v.max() if v.size else 0.0
    net = params.network_weight * (network @ v)
    nat = params.national_weight * reach * national
    if online is not None:
        net, nat = net * online, nat * online
    drive = params.local_weight * v + net + nat
    if fatigue is not None:
        drive = drive * (1.0 - fatigue)
    kept = salience * 0.5 ** (1.0 / params.salience_half_life_days)
    return kept + (1.0 - kept) * (-np.expm1(-drive))


def update_fatigue(fatigue: np.ndarray, salience: np.ndarray, rate: float, half_life_days: float) -> np.ndarray:
    """F ← δ_F F + κ σ (1 − δ_F F): attention fatigue grows with salience and recovers slowly."""
    kept = fatigue * 0.5 ** (1.0 / half_life_days)
    return kept + rate * salience * (1.0 - kept)


def exposure(pop: Population, salience: np.ndarray, params: MediaParams) -> None:
    """Online people's drift under their city's salience, in place (bounds preserved).

    s ← s + α_s σ_c (1 − s) and τ ← τ − α_τ σ_c τ for online people; one compiled pass
    (:func:`sim.rules.kernels.exposure`), city by city with α σ_c as a float32 scalar. α_s, α_τ
    are ``params.sinophobia_rate`` and ``trust_rate``.
    """
    sal = np.asarray(salience, dtype=np.float64)
    sal = np.where(sal > 0, sal, 0.0)
    up = (params.sinophobia_rate * sal).astype(np.float32)
    down = (params.trust_rate * sal).astype(np.float32)
    kernels.exposure(pop.opinions.reshape(-1), pop.online, pop.starts, pop.stops, up, down)

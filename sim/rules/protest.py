"""Phase 4, protest decision: Epstein (2002) civil violence with social proof
(Granovetter 1978).

    G = w_g h (1 − τ)                         grievance
    M = G + β_s s σ_c + b_c                   motive (b_c: focal-date boost)
    P_c = 1 − exp(−k K_c / (A_c + 1))         perceived arrest probability
    R = r P_c                                 net risk
    S_c = β_f v(A_c)       (visibility)   or  β_f A_c / N_c   (fraction)
    active  ⇔  not detained and M + S_c − R ≥ θ

A_c is yesterday's participants in people, K_c the police officers (people).
The ratio K/(A+1) is continuous: NetLogo's Rebellion floors it, which makes
the arrest probability jump in steps and produces Epstein's bursts; with
crowds counted in people and police in the thousands the floor changes
nothing but the smoothness, and the continuous form does not depend on scale.
"""

from __future__ import annotations

import numpy as np

from ..population import DETAINED

__all__ = ["arrest_probability", "social_proof", "decide"]


def arrest_probability(police: np.ndarray, active: np.ndarray, arrest_constant: float) -> np.ndarray:
    """P = 1 − exp(−k K / (A + 1)) per city; police and active in people."""
    return -np.expm1(-arrest_constant * np.asarray(police, dtype=np.float64)
                     / (np.asarray(active, dtype=np.float64) + 1.0))


def social_proof(mode: str, active: np.ndarray, population: np.ndarray, weight: float,
                 visibility_reference: float, visibility_floor: float = 1.0) -> np.ndarray:
    """Social proof per city from yesterday's participants (people)."""
    active = np.asarray(active, dtype=np.float64)
    if mode == "none" or weight == 0:
        return np.zeros_like(active)
    if mode == "fraction":
        return weight * active / np.asarray(population, dtype=np.float64)
    from .media import visibility
    return weight * visibility(active, visibility_reference, visibility_floor)


def decide(hardship: np.ndarray, trust: np.ndarray, sinophobia: np.ndarray,
           risk_aversion: np.ndarray, threshold: np.ndarray, status: np.ndarray,
           starts: np.ndarray, stops: np.ndarray, salience: np.ndarray, proof: np.ndarray,
           arrest: np.ndarray, boost: np.ndarray, grievance_weight: float, sinophobia_weight: float,
           active: np.ndarray | None = None, grievance: np.ndarray | None = None,
           scratch: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Who is active today.

    Parameters
    ----------
    hardship, trust, sinophobia, risk_aversion, threshold, status
        Per-agent arrays.
    starts, stops
        City slices.
    salience, proof, arrest, boost
        Per-city σ_c, S_c, P_c and focal boost b_c.
    active, grievance, scratch
        Optional output buffers (bool, float32, float32 of length 2N).

    Returns
    -------
    active, grievance
        Boolean mask of active agents and the grievance G (float32).

    Notes
    -----
    Works city by city on contiguous slices with the city's values as
    scalars: a loop over cities, never over people.
    """
    n = status.shape[0]
    if active is None:
        active = np.empty(n, dtype=bool)
    if grievance is None:
        grievance = np.empty(n, dtype=np.float32)
    if scratch is None:
        scratch = np.empty(2 * n, dtype=np.float32)
    score, tmp = scratch[:n], scratch[n:2 * n]
    gw, sw = np.float32(grievance_weight), np.float32(sinophobia_weight)
    for c, (s, e) in enumerate(zip(starts.tolist(), stops.tolist())):
        g, sc, tm = grievance[s:e], score[s:e], tmp[s:e]
        np.subtract(np.float32(1), trust[s:e], out=g)
        g *= hardship[s:e]
        if gw != 1:
            g *= gw
        np.multiply(sinophobia[s:e], sw * np.float32(salience[c]), out=sc)
        sc += g
        sc += np.float32(boost[c] + proof[c])
        np.multiply(risk_aversion[s:e], np.float32(arrest[c]), out=tm)
        sc -= tm
        np.greater_equal(sc, threshold[s:e], out=active[s:e])
    active &= status != DETAINED
    return active, grievance

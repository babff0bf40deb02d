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
           salience: np.ndarray, proof: np.ndarray, arrest: np.ndarray, boost: np.ndarray,
           grievance_weight: float, sinophobia_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Who is active today.

    Parameters
    ----------
    hardship, trust, sinophobia, risk_aversion, threshold, status
        Per-agent arrays.
    salience, proof, arrest, boost
        Per-agent broadcasts of the per-city σ_c, S_c, P_c and focal boost b_c.

    Returns
    -------
    active, grievance
        Boolean mask of active agents and the grievance G (float32).
    """
    grievance = np.float32(grievance_weight) * hardship * (1 - trust)
    score = grievance + np.float32(sinophobia_weight) * sinophobia * salience
    score += boost
    score += proof
    score -= risk_aversion * arrest
    active = score >= threshold
    active &= status != DETAINED
    return active, grievance

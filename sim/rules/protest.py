"""Phase 4, protest decision: Epstein (2002) civil violence with social proof
(Granovetter 1978).

    G = w_g h (1 − τ)                         grievance
    M = G + β_s s σ_c + b_c + b_call heard    motive (b_c: focal-date boost; b_call: a call
                                              to rally, for those who heard it)
    P_c = 1 − exp(−k min(d K_c / (A_c + 1), m))   perceived arrest probability
    R = r P_c                                 net risk
    S_c = β_f v(A_c)  (visibility),  β_f A_c / N_c  (fraction)
          or β_f v_share(A_c / N_c)  (share)
    v_share(a) = clip(ln(a / a_0) / ln(a_ref / a_0), 0, 1)
    active  ⇔  not detained and M + S_c − R ≥ θ

A_c is yesterday's participants in people, K_c the city's police officers
(people), d the largest share of them sent to one rally and m the officers
sent per protester: the police at the rally are min(d K_c, m (A_c + 1)), as
in Epstein's local vision (the cops an agent sees are those around it, not
the city's whole force). Without m (None) all d K_c are at the rally.
The ratio K/(A+1) is continuous: NetLogo's Rebellion floors it, which makes
the arrest probability jump in steps and produces Epstein's bursts; with
crowds counted in people and police in the thousands the floor changes
nothing but the smoothness, and the continuous form does not depend on scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..config import MediaParams, ProtestParams
from . import kernels
from .media import visibility

if TYPE_CHECKING:
    from ..population import Population

__all__ = ["CityDrive", "arrest_probability", "decide", "decide_day", "social_proof"]


@dataclass(frozen=True)
class CityDrive:
    """Per-city inputs of the decision (arrays of length C): salience σ_c, social proof S_c,
    arrest probability P_c, focal boost b_c and call strength b_call (None: no call)."""

    salience: np.ndarray
    proof: np.ndarray
    arrest: np.ndarray
    boost: np.ndarray
    call: np.ndarray | None = None


def arrest_probability(
    police: np.ndarray,
    active: np.ndarray,
    arrest_constant: float,
    deployed_share: float = 1.0,
    per_protester: float | None = None,
) -> np.ndarray:
    """P = 1 − exp(−k min(d K / (A + 1), m)) per city; police K and active A in people,
    d the deployed share, m officers per protester (None: no limit)."""
    ratio = deployed_share * np.asarray(police, dtype=np.float64) / (np.asarray(active, dtype=np.float64) + 1.0)
    if per_protester is not None:
        ratio = np.minimum(ratio, per_protester)
    return -np.expm1(-arrest_constant * ratio)


def social_proof(active: np.ndarray, population: np.ndarray, params: ProtestParams, media: MediaParams) -> np.ndarray:
    """Social proof S_c per city from yesterday's participants (people): ``params.social_proof``
    is ``visibility`` (β_f v(A_c), with the visibility scale of ``media``), ``fraction``
    (β_f A_c / N_c, Granovetter), ``share`` (β_f v_share(A_c / N_c), a log scale of the crowd
    per head between ``proof_floor_share`` and ``proof_reference_share``) or ``none``."""
    active = np.asarray(active, dtype=np.float64)
    weight = params.social_proof_weight
    if params.social_proof == "none" or weight == 0:
        return np.zeros_like(active)
    if params.social_proof == "fraction":
        return weight * active / np.asarray(population, dtype=np.float64)
    if params.social_proof == "share":
        share = active / np.asarray(population, dtype=np.float64)
        return weight * visibility(share, params.proof_reference_share, params.proof_floor_share)
    return weight * visibility(active, media.visibility_reference, media.visibility_floor)


def decide(
    pop: Population,
    city: CityDrive,
    params: ProtestParams,
    *,
    active: np.ndarray | None = None,
    grievance: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Who is active today.

    Parameters
    ----------
    pop
        The people: hardship, trust, sinophobia, risk_aversion, threshold, status, heard and
        the city slices ``starts``/``stops`` are read.
    city
        Per-city σ_c, S_c, P_c and focal boost b_c.
    params
        Grievance and sinophobia weights (w_g, β_s).
    active, grievance
        Optional output buffers (bool and float32 of length N).

    Returns
    -------
    active, grievance
        Boolean mask of active agents and the grievance G (float32).

    Notes
    -----
    One compiled pass over the people (:func:`sim.rules.kernels.decide`), city by city with the
    city's values as float32 scalars, in the order of operations of the formulas above.
    """
    n = pop.status.shape[0]
    if active is None:
        active = np.empty(n, dtype=bool)
    if grievance is None:
        grievance = np.empty(n, dtype=np.float32)
    kernels.decide(
        pop.opinions.reshape(-1),
        pop.hardship,
        pop.risk_aversion,
        pop.threshold,
        pop.status,
        pop.heard,
        pop.starts,
        pop.stops,
        *_city_scalars(pop, city, params),
        active,
        grievance,
    )
    return active, grievance


def decide_day(
    pop: Population,
    city: CityDrive,
    params: ProtestParams,
    release: bool,
    active: np.ndarray,
    grievance: np.ndarray,
) -> np.ndarray:
    """The step's protest phase and the day's release in one compiled pass: :func:`decide`, the
    status update (the active become 1, the other free 0, the detained stay 2) and, with
    ``release``, one day of detention served (:func:`sim.rules.repression.release`), person by
    person (:func:`sim.rules.kernels.decide_day`); the same state as the three one after another.

    Parameters
    ----------
    pop
        The people; ``status`` and ``detention`` are updated in place.
    city, params
        As for :func:`decide`.
    release
        Serve a day of detention (the repression phase is on).
    active, grievance
        Output buffers (bool and float32 of length N).

    Returns
    -------
    ndarray
        (C, 2) int64 per city: active agents, agents held after the release.
    """
    counts = np.zeros((pop.n_cities, 2), dtype=np.int64)
    kernels.decide_day(
        pop.opinions.reshape(-1),
        pop.hardship,
        pop.risk_aversion,
        pop.threshold,
        pop.status,
        pop.detention,
        pop.heard,
        pop.starts,
        pop.stops,
        *_city_scalars(pop, city, params),
        bool(release),
        active,
        grievance,
        counts,
    )
    return counts


def _city_scalars(
    pop: Population, city: CityDrive, params: ProtestParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.float32]:
    """The decision's per-city float32 scalars (β_s σ_c, b_c + S_c, P_c, b_call) and w_g."""
    sw = np.float32(params.sinophobia_weight)
    salience = (sw * np.asarray(city.salience, dtype=np.float32)).astype(np.float32)  # β_s σ_c, float32
    lift = (np.asarray(city.boost, dtype=np.float64) + np.asarray(city.proof, dtype=np.float64)).astype(np.float32)
    call = np.zeros(pop.n_cities, dtype=np.float32) if city.call is None else np.asarray(city.call, dtype=np.float32)
    arrest = np.asarray(city.arrest, dtype=np.float32)
    return salience, lift, arrest, call, np.float32(params.grievance_weight)

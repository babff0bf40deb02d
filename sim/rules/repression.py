"""Phase 5, repression: detention of active people, release, and backlash.

Each active person is detained with probability q_c = a P_c, where a is the
arrest share (share of actives detained per day when arrest is certain) and
P_c the arrest probability with today's crowd. Detention lasts a uniformly
drawn whole number of days in [d_min, d_max]. Detentions lower the trust of
the city's online people:  τ ← τ (1 − b v(D_c)),  D_c new detainees (people).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..facts import DETAINED, QUIET
from . import kernels

if TYPE_CHECKING:
    from ..population import Population

__all__ = ["backlash", "detain", "release"]


def release(status: np.ndarray, detention: np.ndarray) -> int:
    """One day of detention served; those with none left become quiet. In place.

    Returns the number of agents released.
    """
    held = np.flatnonzero(status == DETAINED)
    if held.size == 0:
        return 0
    left = detention[held] - np.uint8(1)
    detention[held] = left
    done = held[left == 0]
    status[done] = QUIET
    return int(done.size)


def detain(
    status: np.ndarray,
    detention: np.ndarray,
    candidates: np.ndarray,
    probability: np.ndarray,
    u: np.ndarray,
    days: np.ndarray,
) -> np.ndarray:
    """Detain active agents, in place.

    Parameters
    ----------
    status, detention
        Per-agent state.
    candidates
        Indices of today's active agents.
    probability
        Detention probability of each candidate (q of their city).
    u
        One uniform [0, 1) draw per candidate.
    days
        Detention length drawn for each candidate (used for those detained).

    Returns
    -------
    ndarray
        Indices of the newly detained.
    """
    caught = u < probability
    hit = candidates[caught]
    status[hit] = DETAINED
    detention[hit] = days[caught]
    return hit


def backlash(pop: Population, loss: np.ndarray) -> None:
    """τ ← τ (1 − b_c) for the online people of each city c, in place (``loss`` b_c per city in
    [0, 1]); one compiled pass (:func:`sim.rules.kernels.backlash`)."""
    kernels.backlash(pop.opinions.reshape(-1), pop.online, pop.starts, pop.stops, np.asarray(loss, dtype=np.float32))

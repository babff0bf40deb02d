"""Calls to rally: scheduled (the ``call`` event) and endogenous (``dynamics.calls``).

A call reaches the people of its cities: each online person hears it with
probability ρ_call (the call's reach). For ``days`` days from the called day,
those who heard it add the call's strength b_call to their motive:

    M_i = G_i + β_s s_i σ_c + b_c + b_call · heard_i

Endogenous calls (Tilly's repertoires: protesters announce the next rally):
when a city's crowd A_c reaches ``min_crowd`` people, its protesters call a
rally in every city ``delay_days`` later; a city calls again only after
``cooldown_days``. A later call replaces the hearers of an earlier one.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..config import CallParams
    from ..population import Population
    from .events import CityState

__all__ = ["CallBook", "issue_call", "issue_call_reference"]


def issue_call(
    cities: np.ndarray,
    slices: list[slice],
    pop: Population,
    state: CityState,
    rng: np.random.Generator,
    day: int,
    strength: float,
    reach: float,
    days: int,
) -> None:
    """Make a call in ``cities`` (indices; ``slices`` their people): draw who hears it and set the
    per-city strength until ``day + days − 1``. In place."""
    state.call[cities] = strength
    state.call_until[cities] = day + days - 1
    for c, sl in zip(np.asarray(cities).tolist(), slices):
        pop.heard[sl] = pop.hearers(sl, rng, reach * state.online[c])


def issue_call_reference(model: Any, city: int, strength: float, reach: float, days: int) -> None:
    """The same call in one city of the per-agent reference model, person by person."""
    model.call[city] = strength
    model.call_until[city] = model.day + days - 1
    reach = reach * model.online_factor[city]
    for p in model.members[city]:
        p.heard = bool(model.rng.random() < reach) and p.online


class CallBook:
    """Endogenous calls: who called when, and the calls still to come.

    Parameters
    ----------
    params
        ``dynamics.calls``.
    n_cities
        Number of cities.
    """

    def __init__(self, params: CallParams, n_cities: int):
        self.params = params
        self.last_call = np.full(n_cities, -(10**9), dtype=np.int64)
        self.pending: dict[int, list[int]] = defaultdict(list)
        #: (day the crowd was out, calling city index, called day), in order.
        self.log: list[tuple[int, int, int]] = []

    def observe(self, day: int, crowd: np.ndarray) -> None:
        """Record calls made by the crowds of ``day`` (people per city)."""
        p = self.params
        if not p.enabled:
            return
        callers = np.flatnonzero((np.asarray(crowd) >= p.min_crowd) & (day - self.last_call >= p.cooldown_days))
        for c in callers.tolist():
            self.last_call[c] = day
            self.pending[day + p.delay_days].append(c)
            self.log.append((day, c, day + p.delay_days))

    def due(self, day: int) -> bool:
        """Whether a call falls on ``day`` (and forget it)."""
        return bool(self.pending.pop(day, None))

"""Phase 1, events: the scenario's calendar applied to people and cities.

=================== ==========================================================
kind                effect in its cities on its day
=================== ==========================================================
information_trigger σ_c ← min(1, σ_c + salience); online s ← s + δ (1 − s)
diplomatic_message  hearers (online, with prob. reach): Δs = e (f s − (1 − s)),
                    credibility of a foreign messenger = 1 − s; σ_c += salience
government_message  hearers: Δs = e (f (1 − τ) − τ), credibility = τ; σ_c += salience
economic_shock      h ← clip(h + Δh, 0, 1)
focal_date          motive + boost for ``days`` days
policing            police capacity × factor from this day on
=================== ==========================================================

e is the intended effect, f the backfire factor. A message lowers sinophobia
in those who believe the messenger and raises it in those who distrust it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scenario import (DiplomaticMessage, EconomicShock, Event, FocalDate, GovernmentMessage,
                        InformationTrigger, Policing)

__all__ = ["CityState", "apply_event"]


@dataclass
class CityState:
    """Per-city mutable state, float64 arrays of length C."""

    salience: np.ndarray
    fatigue: np.ndarray
    police_factor: np.ndarray
    boost: np.ndarray
    boost_until: np.ndarray   # last day (inclusive) a focal boost applies


def _add_salience(state: CityState, cities: np.ndarray, amount: float) -> None:
    state.salience[cities] = np.minimum(1.0, state.salience[cities] + amount)


def apply_event(event: Event, cities: np.ndarray, slices: list[slice], pop, state: CityState,
                rng: np.random.Generator, day: int) -> None:
    """Apply one event to the cities with indices ``cities`` (slices: their agent ranges)."""
    if isinstance(event, InformationTrigger):
        _add_salience(state, cities, event.salience)
        if event.sinophobia > 0:
            for sl in slices:
                s = pop.sinophobia[sl]
                s += np.float32(event.sinophobia) * pop.online[sl] * (1 - s)
    elif isinstance(event, (DiplomaticMessage, GovernmentMessage)):
        _add_salience(state, cities, event.salience)
        for sl in slices:
            hears = pop.online[sl] & (rng.random(sl.stop - sl.start) < event.reach)
            s = pop.sinophobia[sl]
            distrust = s if isinstance(event, DiplomaticMessage) else 1 - pop.trust[sl]
            delta = np.float32(event.effect) * (np.float32(event.backfire) * distrust - (1 - distrust))
            s += delta * hears
            np.clip(s, 0, 1, out=s)
    elif isinstance(event, EconomicShock):
        for sl in slices:
            h = pop.hardship[sl]
            h += np.float32(event.hardship)
            np.clip(h, 0, 1, out=h)
    elif isinstance(event, FocalDate):
        state.boost[cities] = event.boost
        state.boost_until[cities] = day + event.days - 1
    elif isinstance(event, Policing):
        state.police_factor[cities] = event.factor
    else:  # pragma: no cover - the loader admits only known kinds
        raise TypeError(f"unknown event {event!r}")

"""Phase 1, events: the scenario's calendar applied to people and cities.

What each kind does is defined with the kind, in :mod:`sim.events`; this
module holds the per-city state events act on and the day's schedule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..events import Event

__all__ = ["CityState", "schedule"]


@dataclass
class CityState:
    """Per-city mutable state, float64 arrays of length C."""

    salience: np.ndarray
    fatigue: np.ndarray
    police_factor: np.ndarray
    boost: np.ndarray
    boost_until: np.ndarray  # last day (inclusive) a focal boost applies

    @classmethod
    def initial(cls, salience: np.ndarray) -> CityState:
        """Day-0 state: the cities' initial salience, no fatigue, police as deployed, no boost."""
        n = salience.shape[0]
        return cls(
            salience=salience.astype(np.float64, copy=True),
            fatigue=np.zeros(n),
            police_factor=np.ones(n),
            boost=np.zeros(n),
            boost_until=np.full(n, -1, dtype=np.int64),
        )


def schedule(events: Iterable[Event], days: int) -> dict[int, list[Event]]:
    """Enabled events by the days they apply on (an event repeats for ``repeat_days``)."""
    out: dict[int, list[Event]] = defaultdict(list)
    for ev in events:
        if not ev.enabled:
            continue
        for d in range(ev.day, min(ev.day + ev.repeat_days, days)):
            out[d].append(ev)
    return out

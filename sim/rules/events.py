"""Phase 1, events: the scenario's calendar applied to people and cities.

What each kind does is defined with the kind, in :mod:`sim.events`; this
module holds the per-city state events act on and the day's schedule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
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
    call: np.ndarray  # motive added for those who heard a call
    call_until: np.ndarray  # last day (inclusive) of the call
    participants: np.ndarray  # yesterday's crowd (people), read by conditional calls
    index: dict[str, int]  # city name → index
    online: np.ndarray  # share of online access left (1: none restricted; media_restriction)
    online_until: np.ndarray  # last day (inclusive) of the restriction
    curfew: np.ndarray  # police multiplier of a curfew or state of emergency (1: none)
    curfew_until: np.ndarray  # last day (inclusive) of the curfew

    @classmethod
    def initial(cls, salience: np.ndarray, names: list[str] | None = None) -> CityState:
        """Day-0 state: the cities' initial salience, no fatigue, police as deployed, no boost, call,
        media restriction or curfew."""
        n = salience.shape[0]
        return cls(
            salience=salience.astype(np.float64, copy=True),
            fatigue=np.zeros(n),
            police_factor=np.ones(n),
            boost=np.zeros(n),
            boost_until=np.full(n, -1, dtype=np.int64),
            call=np.zeros(n),
            call_until=np.full(n, -1, dtype=np.int64),
            participants=np.zeros(n),
            index={name: i for i, name in enumerate(names or [])},
            online=np.ones(n),
            online_until=np.full(n, -1, dtype=np.int64),
            curfew=np.ones(n),
            curfew_until=np.full(n, -1, dtype=np.int64),
        )

    def expire(self, day: int) -> None:
        """End the focal boosts, calls, media restrictions and curfews whose last day is before ``day``."""
        self.boost[self.boost_until < day] = 0.0
        self.call[self.call_until < day] = 0.0
        self.online[self.online_until < day] = 1.0
        self.curfew[self.curfew_until < day] = 1.0


def schedule(events: Iterable[Event], days: int) -> dict[int, list[Event]]:
    """Enabled events by the days they apply on (an event repeats for ``repeat_days``)."""
    out: dict[int, list[Event]] = defaultdict(list)
    for ev in events:
        if not ev.enabled:
            continue
        for d in range(ev.day, min(ev.day + ev.repeat_days, days)):
            out[d].append(ev)
    return out

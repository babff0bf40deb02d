"""Outcomes of a run: per-city onset, peak and detentions; national reach."""

from __future__ import annotations

import numpy as np

__all__ = ["onset_days", "city_outcomes", "national_outcomes"]


def onset_days(participants: np.ndarray, min_participants: float) -> np.ndarray:
    """First day with participants ≥ ``min_participants``, per city; −1 when never.

    Parameters
    ----------
    participants
        (days, cities) participants in people.
    min_participants
        Onset threshold in people.
    """
    hit = participants >= min_participants
    first = hit.argmax(axis=0)
    return np.where(hit.any(axis=0), first, -1)


def city_outcomes(records: dict[str, np.ndarray], min_participants: float) -> dict[str, np.ndarray]:
    """Per-city onset day, peak participants and its day, total detained."""
    part = records["participants"]
    onset = onset_days(part, min_participants)
    return {
        "onset_day": onset,
        "peak_participants": part.max(axis=0),
        "peak_day": part.argmax(axis=0),
        "total_detained": records["new_detained"].sum(axis=0),
    }


def national_outcomes(records: dict[str, np.ndarray], min_participants: float) -> dict[str, float]:
    """National outcomes: cities reached, first/last onset day, national peak, detained.

    Onset days are NaN when no city was reached.
    """
    onset = onset_days(records["participants"], min_participants)
    reached = onset[onset >= 0]
    national = records["participants"].sum(axis=1)
    return {
        "cities_reached": int(reached.size),
        "first_onset_day": float(reached.min()) if reached.size else float("nan"),
        "last_onset_day": float(reached.max()) if reached.size else float("nan"),
        "national_peak": float(national.max()) if national.size else 0.0,
        "national_peak_day": int(national.argmax()) if national.size else -1,
        "total_detained": float(records["new_detained"].sum()),
    }

"""Scenario builders for textbook special cases: one city, chosen mechanisms on."""

import numpy as np

import sim


def one_city(
    n: int,
    days: int,
    seed: int = 0,
    population: dict | None = None,
    influence: dict | None = None,
    media: bool = False,
    protest: dict | None = None,
    repression: bool = False,
    police_per_1000: float = 0.0,
) -> dict:
    """A one-city scenario with every mechanism off unless asked for."""
    return {
        "name": "textbook",
        "start": "2019-09-01",
        "days": days,
        "seed": seed,
        "geography": {"cities": [{"name": "A", "population": n, "lat": 0.0, "lon": 0.0}]},
        "population": population or {},
        "dynamics": {
            "influence": influence or {"enabled": False},
            "media": {"enabled": media},
            "protest": protest or {"enabled": False},
            "repression": {"enabled": repression, "police_per_1000": police_per_1000},
        },
    }


def run_to_end(raw: dict, setup=None) -> sim.OpinionModel:
    """Build the model, let ``setup(model)`` set state, and run every day."""
    model = sim.OpinionModel(raw)
    if setup is not None:
        setup(model)
    while model.running:
        model.step()
    return model


def clusters(x: np.ndarray, min_share: float = 0.02, gap: float = 0.02) -> int:
    """Number of opinion clusters: runs of sorted opinions separated by gaps > ``gap``,
    holding at least ``min_share`` of the people (minor clusters of stragglers not counted)."""
    x = np.sort(np.asarray(x))
    cuts = np.flatnonzero(np.diff(x) > gap)
    sizes = np.diff(np.concatenate([[0], cuts + 1, [len(x)]]))
    return int((sizes >= min_share * len(x)).sum())

"""Benchmark workloads: the Kazakhstan geography rescaled to N people."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CITIES = ROOT / "data" / "kazakhstan_cities.csv"


def kazakhstan_cities(n_people: int) -> list[dict]:
    """The 24 cities with populations rescaled to sum (about) ``n_people``."""
    with open(CITIES, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    pop = np.array([float(r["population"]) for r in rows])
    scaled = np.maximum(1, np.round(pop / pop.sum() * n_people)).astype(int)
    return [
        {"name": r["name"], "population": int(p), "lat": float(r["lat"]), "lon": float(r["lon"])}
        for r, p in zip(rows, scaled)
    ]


def scenario(n_people: int, days: int = 10) -> dict:
    """Default parameters on the rescaled geography, with a rumour in the first city on day 1,
    so that every phase has work to do (salience, protest, detentions)."""
    cities = kazakhstan_cities(n_people)
    return {
        "name": f"bench-{n_people}",
        "start": "2019-09-01",
        "days": days,
        "seed": 1,
        "geography": {"cities": cities},
        "events": [
            {"kind": "information_trigger", "day": 1, "cities": [cities[0]["name"]], "salience": 1.0, "sinophobia": 0.3}
        ],
    }

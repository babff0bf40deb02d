"""Fingerprints of model output, to pin refactorings: the same scenario and seed must give the
same numbers before and after a change that is not meant to change the model.

A fingerprint hashes the recorded arrays and the histograms (each value written with 12 significant
digits) and the summary table as CSV text, not the Parquet files (whose bytes also depend on the pyarrow
version that wrote them). Twelve digits, not the float64 bytes: NumPy's logarithms and exponentials
take a different SIMD path on CPUs with and without AVX-512 and can differ in the last bit, which
changed the salience record (and nothing else) between two machines of the same kind; a change to
the model moves far more than the 13th digit.

Regenerate (only when a change is *meant* to change the output, and say so in the commit)::

    python -m tests.fingerprint --write
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

import sim

ROOT = Path(__file__).resolve().parent.parent
FILE = Path(__file__).resolve().parent / "data" / "fingerprints.json"

_EVERY_KIND = {
    "name": "every-kind",
    "start": "2019-09-01",
    "days": 14,
    "seed": 7,
    "geography": {
        "cities": [
            {"name": "A", "population": 30000, "lat": 43.3, "lon": 52.9},
            {"name": "B", "population": 60000, "lat": 51.1, "lon": 71.4, "police_per_1000": 1.0},
            {"name": "C", "population": 15000, "lat": 49.8, "lon": 73.1, "media_reach": 0.5, "salience": 0.2},
        ]
    },
    "population": {
        "hardship": {"dist": "uniform", "low": 0.2, "high": 0.8},
        "risk_aversion": {"dist": "normal", "mean": 0.4, "sd": 0.2},
        "sinophobia": {"dist": "beta", "a": 2, "b": 4},
        "threshold": {"dist": "beta", "mean": 0.7, "sd": 0.1},
        "overrides": {"C": {"trust": {"dist": "constant", "value": 0.3}}},
    },
    "dynamics": {
        "media": {"attention_fatigue": 0.3},
        "protest": {"sinophobia_weight": 1.0},
        "repression": {"backlash": 0.2},
    },
    "events": [
        {"kind": "information_trigger", "day": 1, "cities": ["A"], "salience": 0.8, "sinophobia": 0.2, "days": 2},
        {"kind": "diplomatic_message", "day": 3, "cities": "all", "reach": 0.6, "backfire": 1.5},
        {"kind": "government_message", "day": 4, "cities": ["B", "C"], "effect": 0.1},
        {"kind": "economic_shock", "day": 5, "cities": ["B"], "hardship": 0.15},
        {"kind": "focal_date", "day": 7, "cities": "all", "boost": 0.05, "days": 2},
        {"kind": "policing", "day": 9, "cities": ["A"], "factor": 3.0},
    ],
    "outputs": {"histograms": True, "histogram_bins": 10},
}

#: The kinds added for the 2016 and 2022 episodes (issue 13), with endogenous calls.
_EPISODE_KINDS = {
    **_EVERY_KIND,
    "name": "episode-kinds",
    "dynamics": {**_EVERY_KIND["dynamics"], "calls": {"enabled": True, "min_crowd": 20}},
    "events": [
        *_EVERY_KIND["events"],
        {"kind": "media_restriction", "day": 2, "cities": ["A", "B"], "strength": 0.6, "days": 3},
        {"kind": "curfew", "day": 4, "cities": ["A"], "factor": 2.5, "days": 3},
        {"kind": "concession", "day": 6, "cities": "all", "salience": 0.4, "hardship": 0.05},
    ],
}

_UNIFORM = {"dynamics.influence.contacts": "uniform"}
_TWO_TOWNS = str(ROOT / "scenarios" / "two_towns.yaml")
_KAZAKHSTAN = str(ROOT / "scenarios" / "kazakhstan_2019.yaml")

#: name -> (scenario, overrides). The first four were recorded before the circulant contact
#: scheme existed and pin the uniform scheme; the ``_circulant`` ones pin the default.
CASES: dict[str, tuple] = {
    "two_towns": (_TWO_TOWNS, _UNIFORM),
    "kazakhstan_scale50": (_KAZAKHSTAN, {"scale": 50, "outputs.histograms": True, **_UNIFORM}),
    "every_kind": (_EVERY_KIND, _UNIFORM),
    "every_kind_mean_field_fraction": (
        _EVERY_KIND,
        {
            "dynamics.influence.mode": "mean_field",
            "dynamics.protest.social_proof": "fraction",
            "dynamics.protest.social_proof_weight": 2.0,
            **_UNIFORM,
        },
    ),
    "two_towns_circulant": (_TWO_TOWNS, {}),
    "kazakhstan_scale50_circulant": (_KAZAKHSTAN, {"scale": 50, "outputs.histograms": True}),
    "every_kind_circulant": (_EVERY_KIND, {}),
    "episode_kinds_circulant": (_EPISODE_KINDS, {}),
}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def _values(arr: np.ndarray) -> bytes:
    """The values of ``arr`` with 12 significant digits, in C order, as text."""
    return ",".join(f"{v:.12g}" for v in np.asarray(arr, dtype=np.float64).ravel().tolist()).encode()


def fingerprint(result: sim.Result) -> dict[str, str]:
    """Hashes of a result's records (one per name), summary CSV and histograms."""
    out = {name: _digest(_values(arr)) for name, arr in sorted(result.records.items())}
    out["summary.csv"] = _digest(result.summary.to_csv(index=False, lineterminator="\n").encode())
    if result.histograms is not None:
        out["histograms"] = _digest(_values(result.histograms))
    return out


def compute(name: str) -> dict[str, str]:
    scenario, overrides = CASES[name]
    return fingerprint(sim.run(scenario, overrides=dict(overrides)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    table = {name: compute(name) for name in CASES}
    if args.write:
        FILE.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
        print(f"wrote {FILE}")
    else:
        print(json.dumps(table, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()

"""Share of people who would be active under the static activation rule.

Draws the default attribute distributions (docs/model.md, "People") and
evaluates the protest rule with arrest certain (P = 1, crowds far below police
capacity) at a few salience levels. This is the calibration logic behind the
high, narrow default threshold: protest must be a tail event.

Usage: python experiments/threshold_tails.py [--n 4000000] [--seed 1]
"""

from __future__ import annotations

import argparse

import numpy as np

from sim.config import PopulationSpec, ProtestParams
from sim.population import sample


def active_share(
    spec: PopulationSpec, salience: float, proof: float, sinophobia_shift: float, n: int, rng: np.random.Generator
) -> float:
    p = ProtestParams()
    h = sample(spec.hardship, n, rng)
    t = sample(spec.trust, n, rng)
    s = sample(spec.sinophobia, n, rng)
    s = s + sinophobia_shift * (1 - s)
    theta = sample(spec.threshold, n, rng)
    r = sample(spec.risk_aversion, n, rng)
    motive = p.grievance_weight * h * (1 - t) + p.sinophobia_weight * s * salience
    return float(((motive + proof - r) >= theta).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=4_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    spec = PopulationSpec()
    rows = [
        ("quiet city, salience 0", 0.0, 0.0, 0.0),
        ("salience 0.4, a visible rally", 0.4, 0.03, 0.05),
        ("salience 1, rumour (+0.2 sinophobia), rally", 1.0, 0.1, 0.2),
    ]
    print(f"{'situation':45s} active share   (n = {args.n:,})")
    for label, sal, proof, shift in rows:
        share = active_share(spec, sal, proof, shift, args.n, rng)
        print(f"{label:45s} {share:.2e}")


if __name__ == "__main__":
    main()

"""Figures of the textbook special cases, for docs/validation.md.

- Deffuant diagram: final opinions of 1,000 people against the confidence bound ε (uniform
  initial opinions, μ = 0.3, 3,000 contact rounds), with ⌊1/(2ε)⌋ marked;
- Granovetter curve: final share active against the spread σ of normally distributed thresholds
  (mean 0.25, N = 20,000), simulated and from the fixed point of r = F(r).

Usage: python experiments/validation_figures.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.plotting import save  # noqa: E402
from tests.validation.common import one_city, run_to_end  # noqa: E402
from tests.validation.test_granovetter import GRANOVETTER, fixed_point_from_zero  # noqa: E402


def deffuant_diagram() -> Figure:
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    eps_values = np.round(np.arange(0.05, 0.51, 0.025), 3)
    for eps in eps_values:
        raw = one_city(
            1000,
            150,
            seed=1,
            population={"sinophobia": {"dist": "uniform", "low": 0, "high": 1}},
            influence={"contacts_per_day": 20, "confidence_bound": float(eps), "rate": 0.3, "stubbornness": 0},
        )
        x = run_to_end(raw).population.sinophobia
        ax.scatter(np.full(x.size, eps), x, s=2, alpha=0.15, color="tab:blue")
    ax.set_xlabel("confidence bound ε")
    ax.set_ylabel("final opinion")
    top = ax.twinx()
    top.step(eps_values, np.floor(1 / (2 * eps_values)), where="mid", color="tab:red")
    top.set_ylabel("⌊1/(2ε)⌋ (red)", color="tab:red")
    ax.set_title("Deffuant et al. (2000): final opinions against ε (N = 1000, μ = 0.3)")
    return fig


def granovetter_curve() -> Figure:
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    mean, n = 0.25, 20_000
    sds = np.round(np.arange(0.02, 0.41, 0.02), 3)
    sim_share, theory = [], []
    for sd in sds:
        cdf = lambda r, sd=sd: float(stats.norm.cdf((r - mean) / sd)) if r < 1 else 1.0  # noqa: E731
        theory.append(fixed_point_from_zero(cdf))
        raw = one_city(
            n,
            150,
            seed=2,
            protest=GRANOVETTER,
            population={"threshold": {"dist": "normal", "mean": mean, "sd": float(sd)}},
        )
        sim_share.append(run_to_end(raw).records["active_agents"][-1, 0] / n)
    ax.plot(sds, theory, "-", color="tab:red", label="fixed point of r = F(r) from 0")
    ax.plot(sds, sim_share, "o", color="tab:blue", ms=4, label="sim (one run each)")
    ax.set_xlabel("spread σ of thresholds (mean 0.25)")
    ax.set_ylabel("final share active")
    ax.set_title("Granovetter (1978): equilibrium of a threshold model")
    ax.legend()
    return fig


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    args = ap.parse_args()
    out = Path(args.out)
    for name, fig in (
        ("validation_deffuant.png", deffuant_diagram()),
        ("validation_granovetter.png", granovetter_curve()),
    ):
        save(fig, out / name)
        print(out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

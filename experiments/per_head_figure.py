"""Peak crowd per head against city population: the model's 2019 ensemble and the reports.

    sim run scenarios/kazakhstan_2019.yaml --seeds 20          # writes runs/kazakhstan-2019-seeds20/
    python experiments/per_head_figure.py [runs/kazakhstan-2019-seeds20] [--out docs/img/kazakhstan_per_head.png]

Per city: the median over seeds of the peak daily crowd divided by the population, with the
10–90% range, for cities reached (≥ 10 people) in at least half of the seeds; the reported crowd
ranges of data/episodes/kz2019_observations.csv (largest reported range per city) as vertical bars.
Prints the log-log slope of peak crowd against population over the cities reached, with and
without the rumour's city (1 = the same share everywhere).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from sim.ensemble import Ensemble

ROOT = Path(__file__).resolve().parents[1]
OBSERVATIONS = ROOT / "data" / "episodes" / "kz2019_observations.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ensemble", nargs="?", default=str(ROOT / "runs" / "kazakhstan-2019-seeds20"))
    ap.add_argument("--out", default=str(ROOT / "docs" / "img" / "kazakhstan_per_head.png"))
    args = ap.parse_args()
    ens = Ensemble.load(args.ensemble)
    people = ens.cities["population"].to_numpy(float)
    names = ens.city_names
    peak = ens.records["participants"].max(axis=1)  # seeds × cities
    reached = (peak >= ens.scenario.outputs.onset_min_participants).mean(axis=0) >= 0.5
    share = peak / people
    med, lo, hi = (np.quantile(share, q, axis=0) for q in (0.5, 0.1, 0.9))
    obs = pd.read_csv(OBSERVATIONS)
    obs = obs[obs["quantity"] == "participants"].groupby("city")[["low", "high"]].max()
    slope = np.polyfit(np.log(people[reached]), np.log(np.median(peak, axis=0)[reached]), 1)[0]
    print(f"{ens.scenario.name}, {len(ens.seeds)} seeds, scale {ens.scenario.scale:g}")
    print(f"log-log slope of median peak against population, {reached.sum()} cities reached: {slope:.2f}")
    rumour = [names.index(c) for ev in ens.scenario.events if ev.kind == "information_trigger" for c in ev.cities]
    rest = reached.copy()
    rest[rumour] = False
    if rest.sum() >= 2:
        slope_rest = np.polyfit(np.log(people[rest]), np.log(np.median(peak, axis=0)[rest]), 1)[0]
        print(f"  without the rumour's city ({rest.sum()} cities): {slope_rest:.2f}")
    for c in np.flatnonzero(reached):
        rep = (
            f"reported {obs.loc[names[c], 'low']:,.0f}–{obs.loc[names[c], 'high']:,.0f}"
            if names[c] in obs.index
            else ""
        )
        print(f"  {names[c]:12s} {people[c]:>10,.0f} people  peak {np.median(peak[:, c]):>6,.0f}  {rep}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    r = reached
    ax.errorbar(
        people[r],
        med[r],
        yerr=[med[r] - lo[r], hi[r] - med[r]],
        fmt="o",
        color="C0",
        capsize=2,
        label=f"model: median peak / population, 10–90% ({len(ens.seeds)} seeds)",
    )
    for c in np.flatnonzero(r):
        ax.annotate(names[c], (people[c], med[c]), fontsize=7, xytext=(4, 2), textcoords="offset points")
    for i, (city, row) in enumerate(obs.iterrows()):
        c = names.index(city)
        ax.plot(
            [people[c]] * 2,
            [row["low"] / people[c], row["high"] / people[c]],
            color="C3",
            lw=5,
            alpha=0.6,
            solid_capstyle="butt",
            label="reported range" if i == 0 else None,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("city population")
    ax.set_ylabel("peak daily crowd / population")
    ax.set_title("Kazakhstan 2019: crowds per head, model and reports")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()

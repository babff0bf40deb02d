"""Figures of ensembles: bands over seeds, onset distributions, and comparisons of scenarios."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ..metrics import observed_table
from ._common import save

__all__ = ["compare_figure", "ensemble_bands", "ensemble_figures", "ensemble_onsets"]


def _observed(ens):
    if not ens.scenario.observed:
        return None
    return observed_table(ens.scenario.observed, ens.city_names, ens.scenario.start)


def ensemble_bands(ens, top: int = 9) -> Figure:
    """Participants per city over seeds: median and 5–95% band, the ``top`` cities by median peak."""
    part = ens.records["participants"]  # seeds × days × cities
    days = part.shape[1]
    dates = np.array([ens.scenario.date_of(d) for d in range(days)], dtype="datetime64[D]")
    ranked = np.argsort(-np.median(part.max(axis=1), axis=0))[:top].tolist()
    order = [c for c in ranked if part[:, :, c].max() > 0] or ranked[:1]
    ncols = 3
    nrows = int(np.ceil(len(order) / ncols))
    fig = Figure(figsize=(11, 2.6 * nrows), layout="constrained")
    axes = np.array(fig.subplots(nrows, ncols, squeeze=False, sharex=True)).reshape(-1)
    obs = _observed(ens)
    for ax, c in zip(axes, order):
        q = np.quantile(part[:, :, c], [0.05, 0.5, 0.95], axis=0)
        ax.fill_between(dates, q[0], q[2], alpha=0.3, color="tab:red", label="5–95%")
        ax.plot(dates, q[1], color="tab:red", lw=1.5, label="median")
        ax.axhline(ens.onset_min, color="k", ls=":", lw=0.7)
        name = ens.city_names[c]
        if obs is not None and name in set(obs["city"]):
            row = obs[obs["city"] == name].iloc[0]
            ax.axvspan(
                dates[0] + np.timedelta64(int(row["earliest_day"]), "D"),
                dates[0] + np.timedelta64(int(row["latest_day"]) + 1, "D"),
                color="tab:blue",
                alpha=0.15,
                label="observed onset",
            )
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylim(bottom=0)
        ax.set_title(name, fontsize=9)
    for ax in axes[len(order) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.supylabel("participants (people)")
    fig.suptitle(f"{ens.scenario.name}: participants over {len(ens.seeds)} seeds")
    fig.autofmt_xdate()
    return fig


def ensemble_onsets(ens) -> Figure:
    """Onset day of each city in each seed (dots), with observed onset intervals (bars)."""
    per = ens.per_seed
    reached = per[per["onset_day"].notna()]
    share = per.groupby("city")["onset_day"].apply(lambda s: s.notna().mean())
    obs = _observed(ens)
    cities = [c for c in ens.city_names if share.get(c, 0) > 0 or (obs is not None and c in set(obs["city"]))]
    med = reached.groupby("city")["onset_day"].median()
    cities.sort(key=lambda c: (med.get(c, np.inf), c))
    fig = Figure(figsize=(9, max(3, 0.32 * len(cities) + 1.2)), layout="constrained")
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)  # jitter only, not model randomness
    for y, c in enumerate(cities):
        d = reached.loc[reached["city"] == c, "onset_day"].to_numpy(float)
        ax.scatter(d, y + rng.uniform(-0.2, 0.2, d.size), s=10, color="tab:red", alpha=0.6)
        if obs is not None and c in set(obs["city"]):
            row = obs[obs["city"] == c].iloc[0]
            ax.barh(
                y,
                row["latest_day"] - row["earliest_day"] + 1,
                left=row["earliest_day"] - 0.5,
                height=0.6,
                color="tab:blue",
                alpha=0.25,
            )
    ax.set_yticks(range(len(cities)), [f"{c} ({share.get(c, 0):.0%})" for c in cities], fontsize=8)
    ax.invert_yaxis()
    days = ens.records["participants"].shape[1]
    ticks = np.arange(0, days, max(1, days // 10))
    ax.set_xticks(ticks, [ens.scenario.date_of(int(t)).strftime("%d %b") for t in ticks], fontsize=8)
    ax.set_xlim(-0.5, days - 0.5)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Onset per seed (dots; share of seeds reached in brackets); observed intervals (blue)")
    return fig


def ensemble_figures(ens, out_dir: str | Path | None = None) -> dict[str, Figure]:
    figs = {"bands": ensemble_bands(ens), "onsets": ensemble_onsets(ens)}
    if out_dir is not None:
        for name, f in figs.items():
            save(f, Path(out_dir) / f"{name}.png")
    return figs


def compare_figure(ensembles) -> Figure:
    """National participants (median, 5–95%) per scenario, and onset distributions of the cities
    reached in any of them."""
    fig = Figure(figsize=(13, 5), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1, 1.2])
    cmap = matplotlib.colormaps["tab10"]
    first = ensembles[0]
    days = first.records["participants"].shape[1]
    dates = np.array([first.scenario.date_of(d) for d in range(days)], dtype="datetime64[D]")
    for k, e in enumerate(ensembles):
        nat = e.records["participants"].sum(axis=2)
        q = np.quantile(nat, [0.05, 0.5, 0.95], axis=0)
        ax1.fill_between(dates[: q.shape[1]], q[0], q[2], alpha=0.2, color=cmap(k))
        ax1.plot(dates[: q.shape[1]], q[1], color=cmap(k), lw=1.6, label=e.scenario.name)
    ax1.set_yscale("symlog", linthresh=1)
    ax1.set_ylim(bottom=0)
    ax1.set_ylabel("national participants (people)")
    ax1.legend(fontsize=8)
    ax1.set_title("National participants: median and 5–95% over seeds")
    fig.autofmt_xdate()
    pers = [e.per_seed for e in ensembles]
    reached_any = sorted(
        {c for p in pers for c in p.loc[p["onset_day"].notna(), "city"]},
        key=lambda c: min(
            (
                p.loc[(p["city"] == c) & p["onset_day"].notna(), "onset_day"].median()
                for p in pers
                if ((p["city"] == c) & p["onset_day"].notna()).any()
            ),
            default=np.inf,
        ),
    )[:16]
    width = 0.8 / max(1, len(ensembles))
    for k, p in enumerate(pers):
        for y, c in enumerate(reached_any):
            d = p.loc[(p["city"] == c) & p["onset_day"].notna(), "onset_day"].to_numpy(float)
            if d.size:
                ax2.scatter(d, np.full(d.size, y - 0.4 + (k + 0.5) * width), s=8, color=cmap(k), alpha=0.6)
    ax2.set_yticks(range(len(reached_any)), reached_any, fontsize=8)
    ax2.invert_yaxis()
    onsets = np.concatenate([p["onset_day"].dropna().to_numpy(float) for p in pers] + [np.zeros(0)])
    lo, hi = (onsets.min() - 2, onsets.max() + 3) if onsets.size else (0, days)
    ticks = np.arange(max(0, int(lo)), min(days, int(hi) + 1), max(1, int(hi - lo) // 8))
    ax2.set_xticks(ticks, [first.scenario.date_of(int(t)).strftime("%d %b") for t in ticks], fontsize=8)
    ax2.set_xlim(lo, hi)
    ax2.grid(axis="x", alpha=0.3)
    ax2.set_title("Onset day per seed (each colour a scenario)")
    return fig

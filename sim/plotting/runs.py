"""Figures of one run: participants over time, onsets, map, opinion distributions."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ._common import save

__all__ = ["distributions", "network_map", "onset", "run_figures", "timeseries"]


def _cities_by_onset(result) -> tuple[list[int], np.ndarray]:
    onset = result.summary["onset_day"].to_numpy(dtype=float, na_value=np.nan)
    order = sorted(range(len(onset)), key=lambda c: (np.isnan(onset[c]), onset[c], result.city_names[c]))
    return order, onset


def timeseries(result, top: int = 12) -> Figure:
    """Participants per city per day (log scale), the ``top`` largest peaks labelled."""
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.add_subplot()
    part = result.records["participants"]
    dates = np.array(result.dates, dtype="datetime64[D]")
    peaks = part.max(axis=0)
    order = np.argsort(-peaks)
    cmap = matplotlib.colormaps["tab20"]
    for rank, c in enumerate(order):
        if peaks[c] <= 0:
            continue
        labelled = rank < top
        ax.plot(
            dates,
            part[:, c],
            lw=1.6 if labelled else 0.8,
            alpha=1.0 if labelled else 0.4,
            color=cmap(rank % 20) if labelled else "0.6",
            label=result.city_names[c] if labelled else None,
        )
    ax.axhline(result.onset_min, color="k", ls=":", lw=0.8, label=f"onset ({result.onset_min:g} people)")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("participants (people)")
    ax.set_title(f"{result.scenario.name}: participants per city (seed {result.seed})")
    ax.legend(fontsize=7, ncols=2, loc="upper right")
    fig.autofmt_xdate()
    return fig


def onset(result) -> Figure:
    """Onset timeline: cities ordered by onset day, marker size ∝ peak participants."""
    order, onset_day = _cities_by_onset(result)
    reached = [c for c in order if not np.isnan(onset_day[c])]
    fig = Figure(figsize=(8, max(2.5, 0.3 * len(order) + 1)), layout="constrained")
    ax = fig.add_subplot()
    peaks = result.summary["peak_participants"].to_numpy()
    y = np.arange(len(order))
    for yi, c in zip(y, order):
        if np.isnan(onset_day[c]):
            continue
        size = 20 + 200 * np.sqrt(peaks[c] / max(peaks.max(), 1))
        ax.scatter(onset_day[c], yi, s=size, color="tab:red", alpha=0.7, zorder=3)
    ax.set_yticks(y, [result.city_names[c] + ("" if c in reached else "  (not reached)") for c in order], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(-0.5, result.days - 0.5)
    ticks = np.arange(0, result.days, max(1, result.days // 10))
    ax.set_xticks(ticks, [result.scenario.date_of(int(t)).strftime("%d %b") for t in ticks], fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(f"onset date (first day with ≥ {result.onset_min:g} participants)")
    ax.set_title(f"Onset timeline: {len(reached)} of {len(order)} cities reached")
    return fig


def network_map(result, links_per_city: int = 2) -> Figure:
    """Cities at lon/lat, sized by population, coloured by onset day, with strongest links."""
    t = result.cities
    lon, lat = t["lon"].to_numpy(), t["lat"].to_numpy()
    pop = t["population"].to_numpy(dtype=float)
    onset_day = result.summary["onset_day"].to_numpy(dtype=float, na_value=np.nan)
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax = fig.add_subplot()
    w = result.network
    wmax = w.max() if w.size and w.max() > 0 else 1.0
    for i in range(len(t)):
        for j in np.argsort(w[i])[::-1][:links_per_city]:
            if w[i, j] > 0:
                ax.plot(
                    [lon[i], lon[j]], [lat[i], lat[j]], color="0.5", lw=0.4 + 2.5 * w[i, j] / wmax, alpha=0.5, zorder=1
                )
    size = 30 + 600 * np.sqrt(pop / pop.max())
    reached = ~np.isnan(onset_day)
    ax.scatter(
        lon[~reached],
        lat[~reached],
        s=size[~reached],
        facecolor="white",
        edgecolor="0.4",
        zorder=2,
        label="not reached",
    )
    lo = float(np.nanmin(onset_day)) if reached.any() else 0.0
    hi = max(lo + 1, float(np.nanmax(onset_day)) if reached.any() else 1.0)
    sc = ax.scatter(
        lon[reached],
        lat[reached],
        s=size[reached],
        c=onset_day[reached],
        cmap="plasma_r",
        vmin=lo,
        vmax=hi,
        edgecolor="k",
        zorder=3,
    )
    for i, name in enumerate(result.city_names):
        ax.annotate(name, (lon[i], lat[i]), xytext=(4, 4), textcoords="offset points", fontsize=7)
    cb = fig.colorbar(sc, ax=ax, shrink=0.8)
    ticks = np.unique(np.linspace(lo, hi, min(int(hi - lo) + 1, 8)).round())
    cb.set_ticks(ticks.tolist(), labels=[result.scenario.date_of(int(t)).strftime("%d %b") for t in ticks])
    cb.set_label("onset date")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect(1 / np.cos(np.radians(np.mean(lat))))
    ax.set_title("Cities (size ∝ population), onset day, strongest network links")
    if (~reached).any():
        ax.legend(loc="lower left", fontsize=8)
    return fig


def distributions(result, cities: list[str] | None = None, snapshots: int = 5) -> Figure:
    """Trust and sinophobia distributions at a few days (people-weighted, all or given cities)."""
    if result.histograms is None:
        raise ValueError("this run kept no histograms; set outputs.histograms: true")
    h = result.histograms
    if cities is not None:
        idx = [result.city_names.index(c) for c in cities]
        h = h[:, idx]
    h = h.sum(axis=1)  # days × variables × bins
    bins = h.shape[-1]
    edges = np.linspace(0, 1, bins + 1)
    days = np.unique(np.linspace(0, result.days - 1, min(snapshots, result.days)).round().astype(int))
    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    cmap = matplotlib.colormaps["viridis"]
    for v, (ax, name) in enumerate(zip(axes, ("trust in government", "sinophobia"))):
        for k, d in enumerate(days):
            share = h[d, v] / max(h[d, v].sum(), 1)
            ax.stairs(
                share,
                edges,
                color=cmap(k / max(len(days) - 1, 1)),
                lw=1.5,
                label=result.scenario.date_of(int(d)).strftime("%d %b"),
            )
        ax.set_xlabel(name)
    axes[0].set_ylabel("share of people")
    axes[1].legend(fontsize=8, title="day")
    fig.suptitle("Opinion distributions over time" + (f" ({', '.join(cities)})" if cities else ""))
    return fig


def run_figures(result, out_dir: str | Path | None = None) -> dict[str, Figure]:
    """The standard figures of a run; saved as ``<name>.png`` in ``out_dir`` if given."""
    figs = {"timeseries": timeseries(result), "onset": onset(result), "map": network_map(result)}
    if result.histograms is not None:
        figs["distributions"] = distributions(result)
    if out_dir is not None:
        for name, fig in figs.items():
            save(fig, Path(out_dir) / f"{name}.png")
    return figs

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


def _label_offsets(
    names: list[str], x: np.ndarray, y: np.ndarray, sizes: np.ndarray, width_points: float
) -> list[tuple[float, float, str, str]]:
    """A label position per city, beside its marker, that overlaps other labels and markers as
    little as possible (greedy, largest cities first; label boxes estimated in points).

    ``sizes`` are the markers' areas (points²); ``width_points`` the axes' width in points, from
    which data units per point follow (the y axis is stretched by 1/cos(latitude), as drawn).
    """
    per_x = (float(np.ptp(x)) * 1.1 or 1.0) / width_points
    per_y = per_x * float(np.cos(np.radians(np.mean(y))))
    radius = np.sqrt(np.asarray(sizes, dtype=float) / np.pi)
    markers = [
        (x[k] - radius[k] * per_x, y[k] - radius[k] * per_y, x[k] + radius[k] * per_x, y[k] + radius[k] * per_y)
        for k in range(len(names))
    ]
    placed: list[tuple[float, float, float, float]] = []
    out: list[tuple[float, float, str, str]] = [(4.0, 4.0, "left", "bottom")] * len(names)
    for i in np.argsort(-np.asarray(sizes)).tolist():
        r = radius[i] + 1.5
        d = r * 0.72
        spots = (
            (d, d, "left", "bottom"),
            (r, 0.0, "left", "center"),
            (d, -d, "left", "top"),
            (-d, d, "right", "bottom"),
            (-r, 0.0, "right", "center"),
            (-d, -d, "right", "top"),
            (0.0, r, "center", "bottom"),
            (0.0, -r, "center", "top"),
        )
        w, h = 3.9 * len(names[i]), 8.0
        best, best_cost, best_box = spots[0], float("inf"), (0.0, 0.0, 0.0, 0.0)
        for dx, dy, ha, va in spots:
            x0 = dx - (w if ha == "right" else w / 2 if ha == "center" else 0.0)
            y0 = dy - (h if va == "top" else h / 2 if va == "center" else 0.0)
            box = (x[i] + x0 * per_x, y[i] + y0 * per_y, x[i] + (x0 + w) * per_x, y[i] + (y0 + h) * per_y)
            cost = sum(_overlap(box, o) for o in placed) + sum(
                _overlap(box, m) for k, m in enumerate(markers) if k != i
            )
            if cost < best_cost - 1e-12:
                best, best_cost, best_box = (dx, dy, ha, va), cost, box
        placed.append(best_box)
        out[i] = best
    return out


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


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
    width_points = 0.72 * fig.get_figwidth() * 72  # the axes' share of the figure, beside the colour bar
    for i, (dx, dy, ha, va) in enumerate(_label_offsets(result.city_names, lon, lat, size, width_points)):
        ax.annotate(
            result.city_names[i],
            (lon[i], lat[i]),
            xytext=(dx, dy),
            textcoords="offset points",
            fontsize=7,
            ha=ha,
            va=va,
        )
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

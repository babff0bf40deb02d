"""Figures from results (never from models). Each function returns a Figure.

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot
state), so plotting works headless and inside worker processes.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ._io import atomic_write

__all__ = ["timeseries", "onset", "network_map", "distributions", "run_figures", "save"]


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
        ax.plot(dates, part[:, c], lw=1.6 if labelled else 0.8, alpha=1.0 if labelled else 0.4,
                color=cmap(rank % 20) if labelled else "0.6",
                label=result.city_names[c] if labelled else None)
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
    ax.set_yticks(y, [result.city_names[c] + ("" if c in reached else "  (not reached)") for c in order],
                  fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(-0.5, result.days - 0.5)
    ticks = np.arange(0, result.days, max(1, result.days // 10))
    ax.set_xticks(ticks, [result.scenario.date_of(int(t)).strftime("%d %b") for t in ticks], fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("onset date (first day with ≥ %g participants)" % result.onset_min)
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
                ax.plot([lon[i], lon[j]], [lat[i], lat[j]], color="0.5", lw=0.4 + 2.5 * w[i, j] / wmax,
                        alpha=0.5, zorder=1)
    size = 30 + 600 * np.sqrt(pop / pop.max())
    reached = ~np.isnan(onset_day)
    ax.scatter(lon[~reached], lat[~reached], s=size[~reached], facecolor="white", edgecolor="0.4",
               zorder=2, label="not reached")
    lo = float(np.nanmin(onset_day)) if reached.any() else 0.0
    hi = max(lo + 1, float(np.nanmax(onset_day)) if reached.any() else 1.0)
    sc = ax.scatter(lon[reached], lat[reached], s=size[reached], c=onset_day[reached], cmap="plasma_r",
                    vmin=lo, vmax=hi, edgecolor="k", zorder=3)
    for i, name in enumerate(result.city_names):
        ax.annotate(name, (lon[i], lat[i]), xytext=(4, 4), textcoords="offset points", fontsize=7)
    cb = fig.colorbar(sc, ax=ax, shrink=0.8)
    ticks = np.unique(np.linspace(lo, hi, min(int(hi - lo) + 1, 8)).round())
    cb.set_ticks(ticks, labels=[result.scenario.date_of(int(t)).strftime("%d %b") for t in ticks])
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
            ax.stairs(share, edges, color=cmap(k / max(len(days) - 1, 1)), lw=1.5,
                      label=result.scenario.date_of(int(d)).strftime("%d %b"))
        ax.set_xlabel(name)
    axes[0].set_ylabel("share of people")
    axes[1].legend(fontsize=8, title="day")
    fig.suptitle("Opinion distributions over time" + (f" ({', '.join(cities)})" if cities else ""))
    return fig


def save(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save a figure as PNG atomically."""
    return atomic_write(Path(path), lambda p: fig.savefig(p, dpi=dpi, format="png"))


def run_figures(result, out_dir: str | Path | None = None) -> dict[str, Figure]:
    """The standard figures of a run; saved as ``<name>.png`` in ``out_dir`` if given."""
    figs = {"timeseries": timeseries(result), "onset": onset(result), "map": network_map(result)}
    if result.histograms is not None:
        figs["distributions"] = distributions(result)
    if out_dir is not None:
        for name, fig in figs.items():
            save(fig, Path(out_dir) / f"{name}.png")
    return figs


# --------------------------------------------------------------------------- sweeps
def _sweep_meta(store: Path) -> tuple[list[str], list[str]]:
    import json

    exp = json.loads((Path(store) / "manifest.json").read_text())["experiment"]
    return [p["path"] for p in exp["parameters"]], list(exp["outcomes"])


def _binned(x: np.ndarray, bins: int = 8) -> np.ndarray:
    """Bin labels (bin centres) for a parameter: its values if few, else quantile bins."""
    values = np.unique(x)
    if len(values) <= bins:
        return x
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    centres = (edges[:-1] + edges[1:]) / 2
    return centres[idx]


def correlation_ratio(x: np.ndarray, y: np.ndarray, bins: int = 8) -> float:
    """η² = Var(E[y | binned x]) / Var(y): the share of the outcome's variance the parameter
    explains on its own (a first-order, Sobol-like importance)."""
    ok = np.isfinite(y)
    x, y = _binned(np.asarray(x, dtype=float)[ok], bins), np.asarray(y, dtype=float)[ok]
    if len(y) < 2 or np.var(y) == 0:
        return 0.0
    groups = [y[x == v] for v in np.unique(x)]
    between = sum(len(g) * (g.mean() - y.mean()) ** 2 for g in groups) / len(y)
    return float(between / np.var(y))


def sweep_figures(results, store: str | Path, out_dir: str | Path | None = None) -> dict[str, Figure]:
    """Figures of a sweep: outcome vs parameter (median, 90% band over replicates) for one
    parameter; median heatmaps for two; binned panels and a parameter-importance chart for more."""
    params, outcomes = _sweep_meta(Path(store))
    ok = results[results["status"] == "ok"]
    figs: dict[str, Figure] = {}
    if len(params) == 2:
        fig = Figure(figsize=(4.2 * len(outcomes), 3.8), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(outcomes)))
        a, b = params
        xa, xb = _binned(ok[a].to_numpy(float)), _binned(ok[b].to_numpy(float))
        for ax, o in zip(axes, outcomes):
            table = ok.assign(_a=xa, _b=xb).pivot_table(index="_b", columns="_a", values=o, aggfunc="median",
                                                         dropna=False)
            ax.set_title(f"median {o}", fontsize=9)
            if table.empty or not np.isfinite(table.to_numpy(dtype=float)).any():
                ax.text(0.5, 0.5, "no value in any run", ha="center", va="center", transform=ax.transAxes)
                continue
            im = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(table.shape[1]), [f"{v:.3g}" for v in table.columns], rotation=45, fontsize=7)
            ax.set_yticks(range(table.shape[0]), [f"{v:.3g}" for v in table.index], fontsize=7)
            ax.set_xlabel(a, fontsize=8)
            ax.set_ylabel(b, fontsize=8)
            fig.colorbar(im, ax=ax, shrink=0.8)
        figs["heatmap"] = fig
    fig = Figure(figsize=(4 * len(params), 2.8 * len(outcomes)), layout="constrained")
    axes = np.array(fig.subplots(len(outcomes), len(params), squeeze=False))
    for j, p in enumerate(params):
        x = _binned(ok[p].to_numpy(float))
        for i, o in enumerate(outcomes):
            g = ok.assign(_x=x).groupby("_x")[o]
            med, lo, hi = g.median(), g.quantile(0.05), g.quantile(0.95)
            ax = axes[i, j]
            ax.fill_between(med.index, lo, hi, alpha=0.25, color="tab:blue", label="5–95%")
            ax.plot(med.index, med, "o-", color="tab:blue", ms=3, label="median")
            if p.endswith(("confidence_bound",)) or (len(med) > 2 and med.index.min() > 0
                                                       and med.index.max() / med.index.min() > 50):
                ax.set_xscale("log")
            if i == len(outcomes) - 1:
                ax.set_xlabel(p, fontsize=8)
            if j == 0:
                ax.set_ylabel(o, fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{len(ok)} runs ok of {len(results)}: outcome against each parameter "
                 "(median and 90% band over runs)")
    figs["outcomes"] = fig
    if len(params) > 2:
        fig = Figure(figsize=(max(6, 1.2 * len(params) * len(outcomes) / 2), 4), layout="constrained")
        ax = fig.add_subplot()
        width = 0.8 / len(outcomes)
        for k, o in enumerate(outcomes):
            eta = [correlation_ratio(ok[p].to_numpy(float), ok[o].to_numpy(float)) for p in params]
            ax.bar(np.arange(len(params)) + k * width, eta, width, label=o)
        ax.set_xticks(np.arange(len(params)) + width * (len(outcomes) - 1) / 2, params, rotation=20,
                      ha="right", fontsize=8)
        ax.set_ylabel("share of variance explained (η²)")
        ax.set_title("Parameter importance (first-order, binned correlation ratio)")
        ax.legend(fontsize=7)
        figs["importance"] = fig
    if out_dir is not None:
        for name, f in figs.items():
            save(f, Path(out_dir) / f"{name}.png")
    return figs


# --------------------------------------------------------------------------- ensembles
def _observed(ens):
    if not ens.scenario.observed:
        return None
    from .metrics import observed_table

    return observed_table(ens.scenario.observed, ens.city_names, ens.scenario.start)


def ensemble_bands(ens, top: int = 9) -> Figure:
    """Participants per city over seeds: median and 5–95% band, the ``top`` cities by median peak."""
    part = ens.records["participants"]                              # seeds × days × cities
    days = part.shape[1]
    dates = np.array([ens.scenario.date_of(d) for d in range(days)], dtype="datetime64[D]")
    order = np.argsort(-np.median(part.max(axis=1), axis=0))[:top]
    order = [c for c in order if part[:, :, c].max() > 0] or list(order[:1])
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
            ax.axvspan(dates[0] + np.timedelta64(int(row["earliest_day"]), "D"),
                       dates[0] + np.timedelta64(int(row["latest_day"]) + 1, "D"), color="tab:blue", alpha=0.15,
                       label="observed onset")
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylim(bottom=0)
        ax.set_title(name, fontsize=9)
    for ax in axes[len(order):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.supylabel("participants (people)")
    fig.suptitle(f"{ens.scenario.name}: participants over {len(ens.seeds)} seeds")
    fig.autofmt_xdate()
    return fig


def ensemble_onsets(ens) -> Figure:
    """Onset day of each city in each seed (dots), with observed onset intervals (bars)."""
    per = ens.per_seed()
    reached = per[per["onset_day"].notna()]
    share = per.groupby("city")["onset_day"].apply(lambda s: s.notna().mean())
    obs = _observed(ens)
    cities = [c for c in ens.city_names if share.get(c, 0) > 0 or (obs is not None and c in set(obs["city"]))]
    med = reached.groupby("city")["onset_day"].median()
    cities.sort(key=lambda c: (med.get(c, np.inf), c))
    fig = Figure(figsize=(9, max(3, 0.32 * len(cities) + 1.2)), layout="constrained")
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)                                   # jitter only, not model randomness
    for y, c in enumerate(cities):
        d = reached.loc[reached["city"] == c, "onset_day"].to_numpy(float)
        ax.scatter(d, y + rng.uniform(-0.2, 0.2, d.size), s=10, color="tab:red", alpha=0.6)
        if obs is not None and c in set(obs["city"]):
            row = obs[obs["city"] == c].iloc[0]
            ax.barh(y, row["latest_day"] - row["earliest_day"] + 1, left=row["earliest_day"] - 0.5, height=0.6,
                    color="tab:blue", alpha=0.25)
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
    pers = [e.per_seed() for e in ensembles]
    reached_any = sorted({c for p in pers for c in p.loc[p["onset_day"].notna(), "city"]},
                         key=lambda c: min((p.loc[(p["city"] == c) & p["onset_day"].notna(), "onset_day"].median()
                                            for p in pers if ((p["city"] == c) & p["onset_day"].notna()).any()),
                                           default=np.inf))[:16]
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

"""Figures of a sweep store: outcome against one parameter, heatmaps over two, importance over more."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ._common import save

__all__ = ["correlation_ratio", "sweep_figures"]


def _sweep_meta(store: Path) -> tuple[list[str], list[str]]:
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


def label(path: str) -> str:
    """A readable axis label for a dotted scenario path: ``events.3.backfire`` → ``backfire (event 3)``,
    ``population.hardship.mean`` → ``hardship mean``, ``dynamics.media.national_weight`` →
    ``media: national weight``."""
    parts = path.split(".")
    if parts[0] == "events" and len(parts) >= 3 and parts[1].isdigit():
        return f"{' '.join(parts[2:]).replace('_', ' ')} (event {parts[1]})"
    if parts[0] == "population" and len(parts) >= 3:
        return " ".join(parts[1:]).replace("_", " ")
    if parts[0] == "dynamics" and len(parts) >= 3:
        return f"{parts[1]}: {' '.join(parts[2:]).replace('_', ' ')}"
    return path.replace("_", " ")


def sweep_figures(results, store: str | Path, out_dir: str | Path | None = None) -> dict[str, Figure]:
    """Figures of a sweep: outcome vs parameter (median, 90% band over replicates) for one
    parameter; median heatmaps for two; binned panels and a parameter-importance chart for more."""
    params, outcomes = _sweep_meta(Path(store))
    ok = results[results["status"] == "ok"]
    figs: dict[str, Figure] = {}
    if len(params) == 2:
        a, b = params
        xa, xb = _binned(ok[a].to_numpy(float)), _binned(ok[b].to_numpy(float))
        tables = {
            o: ok.assign(_a=xa, _b=xb).pivot_table(index="_b", columns="_a", values=o, aggfunc="median", dropna=False)
            for o in outcomes
        }
        values = {
            o: np.unique(t.to_numpy(dtype=float)[np.isfinite(t.to_numpy(dtype=float))]) for o, t in tables.items()
        }
        varying = [o for o in outcomes if len(values[o]) > 1]
        constant = [o for o in outcomes if o not in varying]
        ncols = min(3, max(1, len(varying)))
        nrows = max(1, -(-len(varying) // ncols))
        fig = Figure(figsize=(4.6 * ncols, 3.9 * nrows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
        for ax in axes[len(varying) :]:
            ax.set_visible(False)
        if constant:
            same = [
                f"{o.replace('_', ' ')} {values[o][0]:.4g}" if len(values[o]) else f"{o} (no value)" for o in constant
            ]
            fig.suptitle("median the same in every cell: " + ", ".join(same), fontsize=9)
        for ax, o in zip(axes, varying):
            table = tables[o]
            ax.set_title(f"median {o.replace('_', ' ')}", fontsize=9)
            im = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(table.shape[1]), [f"{v:.3g}" for v in table.columns], rotation=45, fontsize=7)
            ax.set_yticks(range(table.shape[0]), [f"{v:.3g}" for v in table.index], fontsize=7)
            ax.set_xlabel(label(a), fontsize=8)
            ax.set_ylabel(label(b), fontsize=8)
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
            if p.endswith(("confidence_bound",)) or (
                len(med) > 2 and med.index.min() > 0 and med.index.max() / med.index.min() > 50
            ):
                ax.set_xscale("log")
            if i == len(outcomes) - 1:
                ax.set_xlabel(label(p), fontsize=8)
            if j == 0:
                ax.set_ylabel(o, fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{len(ok)} runs ok of {len(results)}: outcome against each parameter (median and 90% band over runs)")
    figs["outcomes"] = fig
    if len(params) > 2:
        fig = Figure(figsize=(max(6, 1.2 * len(params) * len(outcomes) / 2), 4), layout="constrained")
        ax = fig.add_subplot()
        width = 0.8 / len(outcomes)
        for k, o in enumerate(outcomes):
            eta = [correlation_ratio(ok[p].to_numpy(float), ok[o].to_numpy(float)) for p in params]
            ax.bar(np.arange(len(params)) + k * width, eta, width, label=o)
        ax.set_xticks(
            np.arange(len(params)) + width * (len(outcomes) - 1) / 2,
            [label(p) for p in params],
            rotation=20,
            ha="right",
            fontsize=8,
        )
        ax.set_ylabel("share of variance explained (η²)")
        ax.set_title("Parameter importance (first-order, binned correlation ratio)")
        ax.legend(fontsize=7)
        figs["importance"] = fig
    if out_dir is not None:
        for name, f in figs.items():
            save(f, Path(out_dir) / f"{name}.png")
    return figs


# --------------------------------------------------------------------------- ensembles

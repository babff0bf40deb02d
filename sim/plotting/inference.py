"""Figures of a calibration (marginals, pairs, ε/ESS per generation, posterior predictive
checks), of scores against null models, and of sensitivity indices."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ._common import save
from .sweeps import label

__all__ = ["calibration_figures", "plot_calibration", "predictive_figure", "score_figure", "sensitivity_figure"]


def _last(posterior: pd.DataFrame) -> pd.DataFrame:
    return posterior[posterior["generation"] == posterior["generation"].max()]


def _prior_curve(prior: Any, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(lo, hi, 200)
    z = prior.to_z(x)
    dens = np.exp(prior.logpdf_z(z))
    if prior.dist == "loguniform":
        dens = dens / x  # density of θ = density of log θ / θ
    return x, dens


def marginals_figure(priors: list[Any], posterior: pd.DataFrame) -> Figure:
    """Weighted histogram of each parameter's posterior with its prior density."""
    last = _last(posterior)
    n = len(priors)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(4.2 * cols, 3.0 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    w = last["weight"].to_numpy(float)
    for ax, p in zip(axes, priors):
        lo, hi = p.interval(0.999)
        v = last[p.path].to_numpy(float)
        bins = np.geomspace(lo, hi, 30) if p.dist == "loguniform" else np.linspace(lo, hi, 30)
        ax.hist(v, bins=bins, weights=w, density=True, color="tab:blue", alpha=0.7, label="posterior")
        x, d = _prior_curve(p, lo, hi)
        ax.plot(x, d, color="k", lw=1, ls="--", label="prior")
        if p.dist == "loguniform":
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(label(p.path))
        ax.set_yticks([])
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8)
    fig.suptitle("Posterior marginals (last generation) and priors")
    return fig


def pairs_figure(priors: list[Any], posterior: pd.DataFrame) -> Figure:
    """Pairwise scatter of the last generation (point size ∝ weight), prior range as the axes."""
    last = _last(posterior)
    n = len(priors)
    fig = Figure(figsize=(2.2 * n + 1, 2.2 * n + 1), layout="constrained")
    axes = fig.subplots(n, n, squeeze=False)
    w = last["weight"].to_numpy(float)
    size = 4 + 40 * w / w.max()
    for i, pi in enumerate(priors):
        for j, pj in enumerate(priors):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(last[pi.path], bins=25, weights=w, color="tab:blue", alpha=0.7)
                ax.set_yticks([])
            else:
                ax.scatter(last[pj.path], last[pi.path], s=size, alpha=0.4, color="tab:blue", lw=0)
                ax.set_ylim(*pi.interval(0.999))
                if pi.dist == "loguniform":
                    ax.set_yscale("log")
                    ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_xlim(*pj.interval(0.999))
            if pj.dist == "loguniform":
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
            if i == n - 1:
                ax.set_xlabel(label(pj.path), fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(label(pi.path), fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle("Posterior pairs (point size ∝ weight; axes span the prior)")
    return fig


def progress_figure(diagnostics: dict[str, Any]) -> Figure:
    """ε, acceptance rate and ESS per generation."""
    g = pd.DataFrame(diagnostics["generations"])
    fig = Figure(figsize=(10, 3.2), layout="constrained")
    a, b, c = fig.subplots(1, 3)
    eps = g["epsilon"].astype(float)
    a.plot(g["generation"], eps, "o-")
    a.set_yscale("log")
    a.set_title("tolerance ε")
    b.plot(g["generation"], g["acceptance_rate"], "o-")
    b.set_yscale("log")
    b.set_title("acceptance rate")
    c.plot(g["generation"], g["ess"], "o-")
    c.set_ylim(0, diagnostics["particles"] * 1.05)
    c.set_title(f"effective sample size (of {diagnostics['particles']})")
    for ax in (a, b, c):
        ax.set_xlabel("generation")
    return fig


def predictive_figure(table: pd.DataFrame, title: str = "Posterior predictive check") -> Figure:
    """Per observation row: the simulated 5–95% band and median against the reported interval."""
    rows = table.reset_index(drop=True)
    labels = [f"{r.city} {r.quantity}" + (f" d{r.day_lo}" if r.quantity != "onset" else "") for r in rows.itertuples()]
    onset = rows["quantity"] == "onset"
    fig = Figure(figsize=(11, 0.35 * len(rows) + 1.6), layout="constrained")
    a, b = fig.subplots(1, 2, width_ratios=[int(onset.sum()) or 1, int((~onset).sum()) or 1])
    for ax, mask, log in ((a, onset, False), (b, ~onset, True)):
        sub = rows[mask]
        y = np.arange(len(sub))
        names = [labels[i] for i in sub.index]
        if log:
            lo, hi = np.log1p(sub["low"]), np.log1p(sub["high"])
            s_lo, s_md, s_hi = np.log1p(sub["q05"]), np.log1p(sub["median"]), np.log1p(sub["q95"])
            ax.set_xlabel("log(1 + people)")
        else:
            lo, hi = sub["day_lo"] - 0.4, sub["day_hi"] + 0.4
            s_lo, s_md, s_hi = sub["q05"], sub["median"], sub["q95"]
            ax.set_xlabel("onset day")
        ax.barh(y, hi - lo, left=lo, height=0.6, color="tab:orange", alpha=0.5, label="reported")
        ax.hlines(y, s_lo, s_hi, color="tab:blue", lw=2, label="simulated 5–95%")
        ax.plot(s_md, y, "o", color="tab:blue", ms=4)
        ax.set_yticks(y, names, fontsize=8)
        ax.invert_yaxis()
    a.legend(fontsize=8, loc="lower right")
    fig.suptitle(title)
    return fig


def calibration_figures(
    priors: list[Any], posterior: pd.DataFrame, diagnostics: dict[str, Any], predictive: pd.DataFrame | None
) -> dict[str, Figure]:
    figs = {
        "marginals": marginals_figure(priors, posterior),
        "pairs": pairs_figure(priors, posterior),
        "progress": progress_figure(diagnostics),
    }
    if predictive is not None:
        figs["predictive"] = predictive_figure(predictive)
    return figs


def plot_calibration(
    cal: Any, posterior: pd.DataFrame, diagnostics: dict[str, Any], predictive: pd.DataFrame | None, out: Path
) -> dict[str, Path]:
    """Write the calibration's figures to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    return {
        name: save(fig, out / f"{name}.png")
        for name, fig in calibration_figures(list(cal.priors), posterior, diagnostics, predictive).items()
    }


def score_figure(table: pd.DataFrame) -> Figure:
    """Mean onset CRPS and Brier score of reaching the reported cities, per predictor."""
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    a, b = fig.subplots(1, 2)
    y = np.arange(len(table))
    a.barh(y, table["onset_crps"], color="tab:blue")
    a.set_yticks(y, table["predictor"])
    a.invert_yaxis()
    a.set_xlabel("mean onset CRPS (days, lower is better)")
    b.barh(y, table["brier_reached"], color="tab:green")
    b.set_yticks(y, [])
    b.invert_yaxis()
    b.set_xlabel("Brier score, reported cities reached (lower is better)")
    return fig


def onsets_figure(rows: pd.DataFrame) -> Figure:
    """Predicted against reported onset day per reported city: the reported interval (grey), the
    model's median and 5–95% band, and each null model's point prediction."""
    on = rows[rows["quantity"] == "onset"]
    model = on[on["predictor"] == "model"].reset_index(drop=True)
    fig = Figure(figsize=(8, 0.38 * len(model) + 1.6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(model))
    ax.barh(
        y,
        model["day_hi"] - model["day_lo"] + 1,
        left=model["day_lo"] - 0.5,
        color="0.8",
        label="reported (interval)",
    )
    ax.errorbar(
        model["median"],
        y,
        xerr=[model["median"] - model["q05"], model["q95"] - model["median"]],
        fmt="o",
        color="tab:blue",
        capsize=3,
        label="model: median, 5–95%",
    )
    markers = iter("sDv^<>")
    for name in dict.fromkeys(on["predictor"]):
        if name == "model":
            continue
        other = on[on["predictor"] == name].set_index("city").reindex(model["city"])
        ax.plot(other["median"], y + 0.2, next(markers, "x"), ms=5, alpha=0.8, label=name)
    ax.set_yticks(y, model["city"])
    ax.invert_yaxis()
    ax.set_xlabel("onset day (days since the scenario's start; right edge = never)")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def sensitivity_figure(indices: pd.DataFrame, method: str) -> Figure:
    """Bars of total (and first-order) Sobol' indices, or Morris μ*, per outcome."""
    outcomes = list(dict.fromkeys(indices["outcome"]))
    fig = Figure(figsize=(4.2 * len(outcomes), 0.35 * indices["parameter"].nunique() + 1.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outcomes), sharey=True))
    for ax, o in zip(axes, outcomes):
        sub = indices[indices["outcome"] == o]
        y = np.arange(len(sub))
        if method == "sobol":
            ax.barh(y - 0.2, sub["ST"], height=0.4, xerr=sub["ST_conf"], color="tab:blue", label="total ST")
            ax.barh(y + 0.2, sub["S1"], height=0.4, xerr=sub["S1_conf"], color="tab:orange", label="first-order S1")
            ax.set_xlim(left=min(0, float(sub["S1"].min()) - 0.05))
        else:
            ax.barh(y, sub["mu_star"], xerr=sub["mu_star_conf"], color="tab:blue", label="μ*")
        ax.set_yticks(y, [label(p) for p in sub["parameter"]], fontsize=8)
        ax.invert_yaxis()
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
        ax.set_title(o, fontsize=10)
    axes[0].legend(fontsize=8)
    return fig

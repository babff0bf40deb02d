"""Figures from results (never from models). Each function returns a Figure.

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot
state), so plotting works headless and inside worker processes. The package
is imported only when a figure is drawn (matplotlib takes a while to import).
"""

from ._common import save
from .ensembles import compare_figure, ensemble_bands, ensemble_figures, ensemble_onsets
from .runs import distributions, network_map, onset, run_figures, timeseries
from .sweeps import correlation_ratio, sweep_figures

__all__ = [
    "compare_figure",
    "correlation_ratio",
    "distributions",
    "ensemble_bands",
    "ensemble_figures",
    "ensemble_onsets",
    "network_map",
    "onset",
    "run_figures",
    "save",
    "sweep_figures",
    "timeseries",
]

"""sim: agent-based opinion diffusion and protest spread.

Public API::

    scenario = sim.load_scenario("scenarios/kazakhstan_2019.yaml")
    result = sim.run(scenario, seed=1)
    result.timeseries, result.summary, result.save("runs/x"), result.plot()
    model = sim.OpinionModel(scenario, seed=1); model.step(); model.population.trust
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

try:
    __version__ = metadata.version("sim")  # the one place the version is written: pyproject.toml
except metadata.PackageNotFoundError:  # pragma: no cover - running from a tree without install
    __version__ = "0+unknown"

import importlib
from typing import TYPE_CHECKING

from .errors import DataError, ParameterError, ScenarioError, SimError

if TYPE_CHECKING:
    from . import ensemble
    from .config import Scenario, load_scenario
    from .model import OpinionModel, ScenarioLike
    from .results import Result
    from .sweep import load_sweep, run_sweep

# The public names load on first use (PEP 562), so that `sim --version` and `sim --help` answer
# without importing Mesa, pandas and SciPy (seconds).
_LAZY = {
    "ensemble": ("sim.ensemble", None),
    "Scenario": ("sim.config", "Scenario"),
    "load_scenario": ("sim.config", "load_scenario"),
    "OpinionModel": ("sim.model", "OpinionModel"),
    "Result": ("sim.results", "Result"),
    "load_sweep": ("sim.sweep", "load_sweep"),
    "run_sweep": ("sim.sweep", "run_sweep"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = importlib.import_module(module)
    value = value if attr is None else getattr(value, attr)
    globals()[name] = value
    return value


__all__ = [
    "DataError",
    "OpinionModel",
    "ParameterError",
    "Result",
    "Scenario",
    "ScenarioError",
    "SimError",
    "__version__",
    "ensemble",
    "load_scenario",
    "load_sweep",
    "run",
    "run_sweep",
]


def run(
    scenario: ScenarioLike, seed: int | None = None, *, overrides: dict[str, Any] | None = None, progress: bool = False
) -> Result:
    """Run a scenario once.

    Parameters
    ----------
    scenario
        A :class:`Scenario`, a YAML path, or a mapping.
    seed
        Overrides the scenario's ``seed``.
    overrides
        Dotted-path overrides (``{"dynamics.influence.rate": 0.2}``), applied
        and validated before anything is allocated.
    progress
        Show a progress bar on stderr for long runs.

    Returns
    -------
    Result
    """
    from .config import Scenario, load_scenario
    from .model import OpinionModel

    if isinstance(scenario, Scenario):
        if overrides:
            scenario = scenario.with_overrides(overrides)
    else:
        scenario = load_scenario(scenario, overrides)
    return OpinionModel(scenario, seed=seed).run(progress=progress)

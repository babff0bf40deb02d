"""``sim serve``: a browser dashboard for a scenario (Mesa's SolaraViz; optional extra ``viz``).

The page is Mesa 3.3's SolaraViz around :class:`DashboardModel` (an :class:`~sim.model.OpinionModel`
built from a scenario plus the page's inputs): Reset / ▶ / Step, a slider for every numeric
parameter of the scenario's dynamics (bounds and units from the schema), a switch per event, scale
and seed; a map of the cities, per-city crowd curves, national totals, the trust and sinophobia
histograms and the day's date; "Run to the end" with a progress bar.

The scenario comes from the environment (``SIM_SERVE_SCENARIO``, ``SIM_SERVE_SCALE``), set by
``sim serve``, which runs ``solara run sim.dashboard:Page``. An invalid scenario shows the same
file:line message as the command line, on the page.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import numpy as np

from .config import Scenario, load_scenario
from .config.experiment import _lookup
from .errors import SimError
from .metrics import onset_days
from .model import OpinionModel

__all__ = ["DEFAULT_SCALE", "DashboardModel", "model_params", "numeric_parameters", "status_text"]

#: People per agent on the page unless ``--scale`` says otherwise: a day of the 2019 scenario
#: renders well under a second (docs/dashboard.md).
DEFAULT_SCALE = 20.0

_SECTIONS = ("influence", "media", "protest", "repression", "calls")


def numeric_parameters(scenario: Scenario) -> list[tuple[str, float, float, float, str, bool]]:
    """Every numeric field of the scenario's dynamics, from the schema: (dotted path, value, low,
    high, unit, integer). A field without an upper bound gets one of max(3 × value, low + 1)."""
    out = []
    for section in _SECTIONS:
        params = getattr(scenario.dynamics, section)
        for f in dataclasses.fields(params):
            value = getattr(params, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
            lo = 0.0 if lo is None else float(lo)
            hi = max(3.0 * float(value), lo + 1.0) if hi is None else float(hi)
            out.append(
                (f"dynamics.{section}.{f.name}", float(value), lo, hi, f.metadata.get("unit", ""), type(value) is int)
            )
    return out


def model_params(scenario: Scenario, scale: float) -> dict[str, Any]:
    """SolaraViz's ``model_params``: scale, seed, one slider per numeric parameter, a switch per event."""
    import warnings

    warnings.filterwarnings("ignore", message=r".*found despite early return", category=UserWarning)
    from mesa.visualization import Slider

    params: dict[str, Any] = {
        "scale": {
            "type": "Select",
            "value": scale,
            "values": sorted({1.0, 2.0, 5.0, 10.0, 20.0, 50.0, scale}),
            "label": "scale (people per agent)",
        },
        "seed": Slider("seed", int(scenario.seed), 0, 100, 1),
    }
    for path, value, lo, hi, unit, integer in numeric_parameters(scenario):
        label = path.removeprefix("dynamics.") + (f" ({unit})" if unit else "")
        if integer:
            params[path] = Slider(label, int(value), int(lo), int(hi), 1)
            continue
        step = _step(lo, hi, value)
        low = lo if lo == 0 or lo >= step else step  # every position of the slider is a valid value
        params[path] = Slider(label, value, low, hi, step)
        DashboardModel.steps[path] = step
    for i, ev in enumerate(scenario.events):
        name = ev.label or f"{ev.kind} in {ev.cities if ev.cities == 'all' else ', '.join(ev.cities)}"
        params[f"events.{i}.enabled"] = {"type": "Checkbox", "value": ev.enabled, "label": f"{ev.date}: {name}"}
    return params


def _step(lo: float, hi: float, value: float) -> float:
    """A slider step of about 1/100 of the range, finer when the value is smaller than that."""
    span = hi - lo
    step = 10 ** math.floor(math.log10(span / 100)) if span > 0 else 0.01
    if value > 0:
        step = min(step, 10 ** math.floor(math.log10(value)) / 10)
    return step


def _page_scenario() -> tuple[Scenario | None, str, float]:
    path = os.environ.get("SIM_SERVE_SCENARIO", "")
    scale = float(os.environ.get("SIM_SERVE_SCALE", DEFAULT_SCALE))
    if not path:
        return None, "no scenario: start the page with `sim serve SCENARIO.yaml`", scale
    try:
        return load_scenario(path), "", scale
    except SimError as exc:
        return None, str(exc), scale


class DashboardModel(OpinionModel):
    """An :class:`OpinionModel` of the served scenario with the page's inputs applied.

    Parameters
    ----------
    scale, seed
        People per agent and the run's seed.
    **kwargs
        Dotted scenario paths and their values (the sliders and event switches); named
        ``kwargs`` because SolaraViz accepts any parameter name only for that name.
    """

    scenario_source: Scenario | None = None
    #: slider step per dotted path: a value within half a step of the scenario's is the scenario's
    steps: dict[str, float] = {}  # noqa: RUF012

    def __init__(self, scale: float = DEFAULT_SCALE, seed: int = 1, **kwargs: Any):
        base = self.scenario_source
        if base is None:
            raise SimError("DashboardModel.scenario_source is not set")
        resolved = base.resolved()
        overrides: dict[str, Any] = {"scale": float(scale)}
        for path, value in kwargs.items():
            current = _lookup(resolved, path)
            if path.endswith(".enabled"):
                overrides[path] = bool(value)
            elif current is None or abs(float(value) - float(current)) > self.steps.get(path, 0.0) / 2:
                overrides[path] = value  # moved: the slider's value; untouched: the scenario's exact value
        super().__init__(base.with_overrides(overrides), seed=int(seed))


# ---------------------------------------------------------------------------------- page parts
def _date(model: OpinionModel) -> str:
    import datetime as dt

    day = max(model.day - 1, 0)
    return (model.scenario.start + dt.timedelta(days=day)).isoformat()


def status_text(model: OpinionModel) -> str:
    """The day's headline: date, crowds and detentions (what the browser test reads)."""
    if model.day == 0:
        return f"**{model.scenario.name}** — {model.scenario.start.isoformat()}, before day 1: press Step or ▶"
    rec = model.records
    today = rec["participants"][model.day - 1]
    rallies = int((today >= model.scenario.outputs.onset_min_participants).sum())
    onsets = onset_days(rec["participants"][: model.day], model.scenario.outputs.onset_min_participants)
    return (
        f"**{model.scenario.name}** — {_date(model)} (day {model.day} of {model.scenario.days}): "
        f"{today.sum():,.0f} people protesting in {rallies} "
        f"cities; {int((onsets >= 0).sum())} cities reached so far; "
        f"{rec['new_detained'][model.day - 1].sum():,.0f} detained today"
    )


def map_figure(model: OpinionModel):
    """Cities at their coordinates, sized by today's crowd, red once reached."""
    from matplotlib.figure import Figure

    t = model.cities
    fig = Figure(figsize=(6.5, 3.6), dpi=80)  # no constrained layout: it doubles the drawing time
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.13, top=0.91)
    ax = fig.subplots()
    d = model.day
    crowd = model.records["participants"][d - 1] if d else np.zeros(len(t))
    onset = (
        onset_days(model.records["participants"][:d], model.scenario.outputs.onset_min_participants)
        if d
        else -np.ones(len(t))
    )
    colour = np.where(onset >= 0, "tab:red", "0.6")
    size = 12 + np.minimum(4 * np.sqrt(crowd), 1500)
    ax.scatter(t["lon"], t["lat"], s=size, c=colour, alpha=0.7, edgecolors="k", linewidths=0.3)
    for name, x, y in zip(t["city"], t["lon"], t["lat"]):
        ax.annotate(name, (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"{_date(model) if d else 'before day 1'}: crowd (size), reached (red)", fontsize=9)
    return fig


def curves_figure(model: OpinionModel):
    """Participants per day in the cities with the largest crowds, and national totals."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 3.2), dpi=80)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.9, wspace=0.3)
    a, b = fig.subplots(1, 2)
    d = model.day
    p = model.records["participants"][:d]
    days = np.arange(1, d + 1)
    if d:
        for c in np.argsort(p.max(axis=0))[::-1][:6]:
            a.plot(days, p[:, c], label=model.cities["city"].iat[c])
        a.legend(fontsize=6)
        b.plot(days, p.sum(axis=1), label="participants")
        b.plot(days, model.records["detained"][:d].sum(axis=1), label="held")
        b.legend(fontsize=6)
    a.set_title("participants per city", fontsize=9)
    b.set_title("national", fontsize=9)
    for ax in (a, b):
        ax.set_xlabel("day")
        ax.set_xlim(0, model.scenario.days)
    return fig


def histogram_figure(model: OpinionModel):
    """Trust and sinophobia of everyone, today."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 2.4), dpi=80)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.88, wspace=0.25)
    axes = fig.subplots(1, 2)
    pop = model.population
    for ax, arr, name in zip(axes, (pop.trust, pop.sinophobia), ("trust in government", "sinophobia")):
        counts, edges = np.histogram(arr, bins=20, range=(0, 1))
        ax.bar(edges[:-1], counts / max(counts.sum(), 1), width=0.05, align="edge", color="tab:purple")
        ax.set_title(name, fontsize=9)
    return fig


def _components() -> list[tuple[Any, int]]:
    """The page's parts. Plain functions of the model, not ``solara.component``s: SolaraViz wraps
    plain functions in a component that re-renders after every step (a component it gets as is)."""
    import solara

    def Status(model):
        solara.Markdown(status_text(model))

    def Map(model):
        solara.FigureMatplotlib(map_figure(model), format="png")

    def Curves(model):
        solara.FigureMatplotlib(curves_figure(model), format="png")

    def Histograms(model):
        solara.FigureMatplotlib(histogram_figure(model), format="png")

    def RunToEnd(model):
        from mesa.visualization.utils import force_update

        def run() -> None:
            start, total = model.day, max(model.scenario.days - model.day, 1)
            while model.running and model.day < model.scenario.days:
                model.step()
                task.progress = 100.0 * (model.day - start) / total
            force_update()

        task = solara.lab.use_task(run, dependencies=None, prefer_threaded=True)
        solara.Button("Run to the end", on_click=task, disabled=task.pending or not model.running)
        if task.pending:
            solara.ProgressLinear(task.progress or True)

    return [(Status, 0), (Map, 0), (Curves, 0), (Histograms, 0), (RunToEnd, 0)]


def _page():
    import warnings

    import solara

    # Mesa 3.3.1's own ComponentsView trips Solara's hook checker at import: not ours to fix
    warnings.filterwarnings("ignore", message=r".*found despite early return", category=UserWarning)
    from mesa.visualization import SolaraViz

    scenario, error, scale = _page_scenario()
    if scenario is None:

        @solara.component
        def ErrorPage():
            solara.Title("sim serve: scenario error")
            solara.Error(error)

        return ErrorPage
    DashboardModel.scenario_source = scenario
    params = model_params(scenario, scale)

    @solara.component
    def Dashboard():
        # one model per browser session (a module-level model would be shared by every tab)
        model = solara.use_memo(lambda: DashboardModel(scale=scale, seed=scenario.seed), [])
        solara.Title(scenario.name)
        SolaraViz(model, components=_components(), model_params=params, name=f"sim — {scenario.name}")

    return Dashboard


def __getattr__(name: str) -> Any:  # the page is built on first use (solara imports ``Page``)
    if name == "Page":
        page = _page()
        globals()["Page"] = page
        return page
    raise AttributeError(name)

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

__all__ = [
    "DEFAULT_SCALE",
    "CurvesView",
    "DashboardModel",
    "HistogramView",
    "LiveFigure",
    "MapView",
    "model_params",
    "numeric_parameters",
    "status_text",
]

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
        self.page_inputs: dict[str, Any] = {"seed": int(seed), **kwargs}

    def at_scale(self, scale: float) -> DashboardModel:
        """A new model with this one's inputs (sliders, switches, seed) at another ``scale``."""
        return DashboardModel(scale=scale, **self.page_inputs)

    def step(self) -> None:
        """One day; nothing once the scenario's days are all run (the page's ▶ and Step may still
        be pressed after "Run to the end at scale 1" swapped in a finished model)."""
        if self.running:
            super().step()


# ---------------------------------------------------------------------------------- page parts
def _date(model: OpinionModel) -> str:
    import datetime as dt

    day = max(model.day - 1, 0)
    return (model.scenario.start + dt.timedelta(days=day)).isoformat()


def _per_agent(model: OpinionModel) -> str:
    k = model.scenario.scale
    return "one agent per person" if k == 1 else f"{k:g} people per agent"


def _today(model: OpinionModel) -> tuple[np.ndarray, np.ndarray]:
    """Today's participants per city and each city's onset day (-1: not reached)."""
    n, d = len(model.cities), model.day
    if not d:
        return np.zeros(n), -np.ones(n, dtype=int)
    p = model.records["participants"]
    return p[d - 1], onset_days(p[:d], model.scenario.outputs.onset_min_participants)


def status_text(model: OpinionModel) -> str:
    """The day's headline: date, crowds and detentions (what the browser test reads)."""
    if model.day == 0:
        return (
            f"**{model.scenario.name}** — {model.scenario.start.isoformat()}, before day 1 "
            f"({_per_agent(model)}): press Step or ▶"
        )
    today, onsets = _today(model)
    rallies = int((today >= model.scenario.outputs.onset_min_participants).sum())
    return (
        f"**{model.scenario.name}** — {_date(model)} (day {model.day} of {model.scenario.days}; "
        f"{_per_agent(model)}): "
        f"{today.sum():,.0f} people protesting in {rallies} "
        f"cities; {int((onsets >= 0).sum())} cities reached so far; "
        f"{model.records['new_detained'][model.day - 1].sum():,.0f} detained today"
    )


class LiveFigure:
    """A matplotlib figure redrawn cheaply day after day, by blitting.

    The parts that do not change with the day (axes, ticks, labels, city names) are drawn once and
    kept as a background; each day only the artists that change are drawn over a copy of it, and the
    image is encoded as PNG. A new ``key`` (say, an axis limit that moved) redraws the background.
    Drawing a whole figure costs 0.1–0.4 s in matplotlib, most of it text; blitting a day costs
    15–70 ms for the page's three figures (docs/dashboard.md).
    """

    def __init__(self, fig: Any):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self._background: Any = None
        self._key: Any = None

    def png(self, artists: list[Any], key: Any = None) -> bytes:
        """The figure with ``artists`` (each marked animated, so the background leaves them out)
        drawn over the background, as PNG bytes."""
        import io

        from PIL import Image

        for a in artists:
            a.set_animated(True)
        if self._background is None or key != self._key:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._key = key
        else:
            self.canvas.restore_region(self._background)
        for a in artists:
            self.fig.draw_artist(a)
        buf = io.BytesIO()
        Image.fromarray(np.asarray(self.canvas.buffer_rgba())).save(buf, format="png", compress_level=1)
        return buf.getvalue()


class MapView:
    """Cities at their coordinates, sized by today's crowd, red once reached."""

    def __init__(self, model: OpinionModel):
        from matplotlib.figure import Figure

        t = model.cities
        self.fig = Figure(figsize=(6.5, 3.6), dpi=80)
        self.fig.subplots_adjust(left=0.09, right=0.98, bottom=0.13, top=0.91)
        ax = self.fig.subplots()
        lon, lat = t["lon"].to_numpy(float), t["lat"].to_numpy(float)
        for name, x, y in zip(t["city"], lon, lat):
            ax.annotate(name, (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
        pad_x, pad_y = max(np.ptp(lon) * 0.08, 0.5), max(np.ptp(lat) * 0.1, 0.5)
        ax.set_xlim(lon.min() - pad_x, lon.max() + pad_x)
        ax.set_ylim(lat.min() - pad_y, lat.max() + pad_y)
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
        self.dots = ax.scatter(lon, lat, s=12, c="0.6", alpha=0.7, edgecolors="k", linewidths=0.3)
        self.title = ax.set_title("", fontsize=9)
        self.live = LiveFigure(self.fig)

    def png(self, model: OpinionModel) -> bytes:
        crowd, onset = _today(model)
        self.dots.set_sizes(12 + np.minimum(4 * np.sqrt(crowd), 1500))
        self.dots.set_facecolor(["tab:red" if o >= 0 else "0.6" for o in onset])
        self.title.set_text(f"{_date(model) if model.day else 'before day 1'}: crowd (size), reached (red)")
        return self.live.png([self.dots, self.title])


class CurvesView:
    """Participants per day in the six cities with the largest crowds so far, and national totals."""

    TOP = 6

    def __init__(self, model: OpinionModel):
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=(6.5, 3.2), dpi=80)
        self.fig.subplots_adjust(left=0.1, right=0.98, bottom=0.15, top=0.9, wspace=0.35)
        self.a, self.b = self.fig.subplots(1, 2)
        self.a.set_title("participants per city", fontsize=9)
        self.b.set_title("national", fontsize=9)
        # people on a symmetric-log scale whose top moves only by whole decades: curves of cities
        # of every size stay readable, and the drawn background is rarely redone
        for ax in (self.a, self.b):
            ax.set_xlabel("day")
            ax.set_xlim(0, model.scenario.days)
            ax.set_yscale("symlog", linthresh=1.0)
        self.a.set_ylabel("people")
        self.city_lines = [self.a.plot([], [], color=f"C{i}")[0] for i in range(self.TOP)]
        self.total = self.b.plot([], [], color="C0", label="participants")[0]
        self.held = self.b.plot([], [], color="C1", label="held")[0]
        self.live = LiveFigure(self.fig)

    def png(self, model: OpinionModel) -> bytes:
        d = model.day
        p = model.records["participants"][:d]
        days = np.arange(1, d + 1)
        top = np.argsort(p.max(axis=0))[::-1][: self.TOP] if d else np.arange(0)
        names = model.cities["city"]
        for i, line in enumerate(self.city_lines):
            if i < len(top):
                line.set_data(days, p[:, top[i]])
                line.set_label(names.iat[top[i]])
            else:
                line.set_data([], [])
        total = p.sum(axis=1)
        held = model.records["detained"][:d].sum(axis=1)
        self.total.set_data(days, total)
        self.held.set_data(days, held)
        most = max(float(total.max()), float(held.max())) if d else 0.0
        ceiling = 10.0 ** max(4, math.ceil(math.log10(most + 1)))
        for ax in (self.a, self.b):
            ax.set_ylim(0, ceiling)
        artists: list[Any] = [*self.city_lines, self.total, self.held]
        if d:
            artists.append(self.a.legend(handles=self.city_lines[: len(top)], fontsize=6, loc="upper right"))
            artists.append(self.b.legend(handles=[self.total, self.held], fontsize=6, loc="upper right"))
        return self.live.png(artists, key=ceiling)


class HistogramView:
    """Trust in government and sinophobia of everyone, today (share of people per bin)."""

    BINS = np.linspace(0.0, 1.0, 21)

    def __init__(self, model: OpinionModel):
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=(6.5, 2.4), dpi=80)
        self.fig.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.88, wspace=0.25)
        self.axes = self.fig.subplots(1, 2)
        self.bars = []
        for ax, name in zip(self.axes, ("trust in government", "sinophobia")):
            ax.set_title(name, fontsize=9)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            self.bars.append(ax.stairs(np.zeros(len(self.BINS) - 1), self.BINS, fill=True, color="tab:purple"))
        self.live = LiveFigure(self.fig)

    def png(self, model: OpinionModel) -> bytes:
        pop = model.population
        for bars, arr in zip(self.bars, (pop.trust, pop.sinophobia)):
            counts, _ = np.histogram(arr, bins=self.BINS)
            bars.set_data(counts / max(counts.sum(), 1))
        return self.live.png(self.bars)


def _view(model: OpinionModel, kind: type) -> Any:
    """The model's view of ``kind``, built on first use (one per model: a Reset builds new ones)."""
    views = model.__dict__.setdefault("_dashboard_views", {})
    if kind not in views:
        views[kind] = kind(model)
    return views[kind]


def _components(current: Any) -> list[tuple[Any, int]]:
    """The page's parts. Plain functions of the model, not ``solara.component``s: SolaraViz wraps
    plain functions in a component that re-renders after every step (a component it gets as is).
    ``current`` is the page's reactive model, which "Run at scale 1" replaces."""
    import solara

    def Status(model):
        solara.Markdown(status_text(model))

    def Map(model):
        solara.Image(_view(model, MapView).png(model), format="png")

    def Curves(model):
        solara.Image(_view(model, CurvesView).png(model), format="png")

    def Histograms(model):
        solara.Image(_view(model, HistogramView).png(model), format="png")

    def RunToEnd(model):
        from mesa.visualization.utils import force_update

        stage = solara.use_reactive("")

        def run() -> None:
            start, total = model.day, max(model.scenario.days - model.day, 1)
            while model.running and model.day < model.scenario.days:
                model.step()
                task.progress = 100.0 * (model.day - start) / total
            force_update()

        def run_full() -> None:
            stage.value = f"building {model.scenario.name} at scale 1 (one agent per person)…"
            full = model.at_scale(1.0)
            stage.value = f"running {full.population.n:,} agents"
            total = full.scenario.days
            while full.running:
                full.step()
                full_task.progress = 100.0 * full.day / total
                stage.value = f"running {full.population.n:,} agents: day {full.day} of {total}"
            stage.value = ""
            current.value = full
            force_update()

        task = solara.lab.use_task(run, dependencies=None, prefer_threaded=True)
        full_task = solara.lab.use_task(run_full, dependencies=None, prefer_threaded=True)
        busy = task.pending or full_task.pending
        with solara.Row():
            solara.Button("Run to the end", on_click=task, disabled=busy or not model.running)
            solara.Button(
                "Run to the end at scale 1",
                on_click=full_task,
                disabled=busy or model.scenario.scale == 1.0,
            )
        if task.pending:
            solara.ProgressLinear(task.progress or True)
        if full_task.pending:
            solara.Text(stage.value)
            solara.ProgressLinear(full_task.progress or True)
        if full_task.error:
            solara.Error(f"the run at scale 1 failed: {full_task.exception}")

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
        first = solara.use_memo(lambda: DashboardModel(scale=scale, seed=scenario.seed), [])
        current: Any = solara.use_reactive(first)
        solara.Title(scenario.name)
        SolaraViz(current, components=_components(current), model_params=params, name=f"sim — {scenario.name}")

    return Dashboard


def __getattr__(name: str) -> Any:  # the page is built on first use (solara imports ``Page``)
    if name == "Page":
        page = _page()
        globals()["Page"] = page
        return page
    raise AttributeError(name)

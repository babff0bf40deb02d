"""Input layer: the schema of scenarios and experiment files, one validation engine with
file:line provenance, composition (``extends``, ``set``, ``--set``) and the data-table reader.

=============== ==========================================================
module          holds
=============== ==========================================================
``fields``      :func:`param`: a field's default, bounds, unit and meaning
``schema``      scenario sections (frozen dataclasses; tagged distributions)
``engine``      the validator: provenance, key checks, scalars, hints
``sections``    distributions, population, cities, events
``overrides``   ``extends``, ``set`` and ``--set``
``scenario``    :class:`Scenario` and :func:`load_scenario`
``experiment``  experiment files (sweeps, sensitivity designs)
``yamlio``      safe YAML with line numbers
``csvio``       CSV tables with line numbers
=============== ==========================================================

Event kinds live in :mod:`sim.events` (one class each, registered by name).
"""

from ..events import EVENT_KINDS, Event
from .experiment import Experiment, Parameter, load_experiment
from .overrides import apply_overrides, parse_set
from .scenario import Scenario, estimated_bytes, load_scenario, scale_warning
from .schema import (
    ATTRIBUTES,
    Beta,
    CallParams,
    City,
    Constant,
    Dist,
    Dynamics,
    GeographySpec,
    InfluenceParams,
    MediaParams,
    NetworkParams,
    Normal,
    Outputs,
    PopulationSpec,
    ProtestParams,
    RepressionParams,
    Uniform,
)

__all__ = [
    "ATTRIBUTES",
    "EVENT_KINDS",
    "Beta",
    "CallParams",
    "City",
    "Constant",
    "Dist",
    "Dynamics",
    "Event",
    "Experiment",
    "GeographySpec",
    "InfluenceParams",
    "MediaParams",
    "NetworkParams",
    "Normal",
    "Outputs",
    "Parameter",
    "PopulationSpec",
    "ProtestParams",
    "RepressionParams",
    "Scenario",
    "Uniform",
    "apply_overrides",
    "estimated_bytes",
    "load_experiment",
    "load_scenario",
    "parse_set",
    "scale_warning",
]

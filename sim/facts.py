"""Facts shared by the model, its outputs, the reference model, benchmarks and tests.

Each list exists once, here; everything that needs one imports it.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ACTIVE",
    "AGENTS_PER_ONSET",
    "ATTRIBUTES",
    "BYTES_PER_AGENT",
    "DETAINED",
    "OPINIONS",
    "PHASES",
    "QUIET",
    "RECORDED",
    "SCRATCH_BYTES_PER_AGENT",
    "STATUS_NAMES",
]

#: Person attributes drawn from a scenario distribution, all in [0, 1].
ATTRIBUTES = ("trust", "sinophobia", "hardship", "threshold", "risk_aversion")

#: The opinions that influence moves (stored interleaved, in this order).
OPINIONS = ("trust", "sinophobia")

#: The phases of a day, in the order ``OpinionModel.step`` runs them (docs/model.md, "A day").
PHASES = ("events", "salience", "influence", "protest", "repression", "record")

#: Per-city daily records (all counts in people except ``active_agents``).
RECORDED = (
    "participants",
    "active_agents",
    "detained",
    "new_detained",
    "mean_trust",
    "mean_sinophobia",
    "mean_grievance",
    "salience",
)
#: The records of per-city means (left NaN by ``OpinionModel(..., means=False)``).
MEANS = ("mean_trust", "mean_sinophobia", "mean_grievance")

#: Person status codes (``Population.status``, uint8).
QUIET, ACTIVE, DETAINED = np.uint8(0), np.uint8(1), np.uint8(2)
STATUS_NAMES = {int(QUIET): "quiet", int(ACTIVE): "active", int(DETAINED): "detained"}

#: Bytes of state per agent (see ``Population``) and of per-step scratch buffers,
#: used to refuse scenarios that would not fit in memory before allocating.
BYTES_PER_AGENT = 32
SCRATCH_BYTES_PER_AGENT = 48

#: The coarsest valid ``scale`` puts at least this many agents in the onset threshold
#: (``outputs.onset_min_participants`` people): measured on the 2019 scenario, where scale 2
#: (5 agents) matches scale 1 and scale 5 (2 agents) does not (docs/scale.md).
AGENTS_PER_ONSET = 5

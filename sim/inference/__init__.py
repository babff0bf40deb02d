"""Inference: the observation model, ABC-SMC calibration, scores against null models, and
global sensitivity analysis (docs/inference.md)."""

#: Null models ``sim score`` knows (:mod:`sim.inference.score`); here so the command line can list
#: them without importing the model.
NULLS = ("population_rank", "focal_date", "national_only", "gravity_only")

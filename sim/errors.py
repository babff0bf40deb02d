"""Typed errors. Every user-facing failure is a :class:`SimError` subclass.

Errors about input carry where the problem is (file, line, field path) and say
what is allowed, so that the command line can print one clear line and exit 2.
"""

from __future__ import annotations

__all__ = ["DataError", "ParameterError", "ScenarioError", "SimError", "SweepError"]


class SimError(Exception):
    """Base class of every error ``sim`` raises on purpose."""


class ScenarioError(SimError):
    """A scenario (YAML, ``--set`` override or referenced CSV) is invalid.

    Parameters
    ----------
    message
        What is wrong and what is allowed.
    source
        File name (or ``--set`` for a command-line override).
    line
        1-based line in ``source``, when known.
    path
        Dotted field path, e.g. ``dynamics.influence.rate``.
    """

    def __init__(self, message: str, source: str | None = None, line: int | None = None, path: str | None = None):
        self.message = message
        self.source = source
        self.line = line
        self.path = path
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.source:
            where = self.source + (f":{self.line}" if self.line else "")
        parts = [p for p in (where, self.path) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class ParameterError(ScenarioError):
    """A parameter value is out of its documented range or of the wrong type."""


class DataError(ScenarioError):
    """A data file referenced by a scenario (cities CSV, observed onsets) is malformed."""


class SweepError(ScenarioError):
    """An experiment file (sweep or sensitivity design) is invalid."""

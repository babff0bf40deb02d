"""Saving figures."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from .._io import atomic_write

__all__ = ["save"]


def save(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save a figure as PNG atomically."""
    return atomic_write(Path(path), lambda p: fig.savefig(p, dpi=dpi, format="png"))

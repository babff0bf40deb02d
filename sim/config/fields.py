"""Declared fields: a default with bounds, unit and meaning beside it (read by the validator and docs)."""

from __future__ import annotations

from dataclasses import field
from typing import Any

__all__ = ["bounds_text", "param"]


def param(default: Any, lo: float | None = None, hi: float | None = None, unit: str = "", doc: str = "") -> Any:
    """A dataclass field with bounds, unit and a one-line meaning."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "unit": unit, "doc": doc})


def bounds_text(meta: dict[str, Any]) -> str:
    """What a field allows, in words: ``0 ≤ value ≤ 1 (days)``."""
    lo, hi, unit = meta.get("lo"), meta.get("hi"), meta.get("unit", "")
    if lo is not None and hi is not None:
        text = f"{lo} ≤ value ≤ {hi}"
    elif lo is not None:
        text = f"value ≥ {lo}"
    elif hi is not None:
        text = f"value ≤ {hi}"
    else:
        text = "any value"
    return text + (f" ({unit})" if unit else "")

"""Episode observations: what was reported, per city (or nationally) and day.

Two layouts are read (``data/episodes/README.md``):

- the full one, ``city, quantity, date_earliest, date_latest, low, high`` (plus any
  ``note``/``source`` columns), where ``quantity`` is ``onset``, ``participants`` or
  ``detained`` and ``city`` may be ``national``;
- an onsets-only one, ``city, onset_earliest, onset_latest`` (the 2016/2022 files and
  the scenarios' ``observed:`` tables), read as ``onset`` rows.

Dates become days since the scenario's ``start``. Every problem is a
:class:`~sim.errors.DataError` naming the file, line and column.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .csvio import read_csv_rows

__all__ = ["NATIONAL", "QUANTITIES", "read_observations"]

#: What a row can report.
QUANTITIES = ("onset", "participants", "detained")

#: The ``city`` of a row about the whole country (counts summed over cities).
NATIONAL = "national"

COLUMNS = ["city", "quantity", "day_lo", "day_hi", "low", "high", "line"]


def _day(text: str | None, start: dt.date, source: str, line: int, col: str) -> int:
    try:
        return (dt.date.fromisoformat((text or "").strip()) - start).days
    except ValueError:
        raise DataError(f"{text!r} is not a date (YYYY-MM-DD)", source=source, line=line, path=col) from None


def _count(text: str | None, source: str, line: int, col: str) -> float:
    try:
        v = float((text or "").strip())
    except ValueError:
        raise DataError(
            f"{text!r} is not a number; participants and detained rows need low and high counts (people)",
            source=source,
            line=line,
            path=col,
        ) from None
    if not math.isfinite(v) or v < 0:
        raise DataError(f"{text!r}: counts are numbers ≥ 0", source=source, line=line, path=col)
    return v


def read_observations(path: str | Path, city_names: list[str], start: dt.date, days: int) -> pd.DataFrame:
    """Observation rows of one episode, in the file's order.

    Parameters
    ----------
    path
        CSV file (either layout, see the module docstring).
    city_names
        The scenario's cities; a row naming another city is an error.
    start
        The scenario's first day (day 0).
    days
        The run's length: count rows must lie inside it; an onset interval may end after it
        (a city not reached by the end is then censored, not wrong).

    Returns
    -------
    pandas.DataFrame
        Columns ``city, quantity, day_lo, day_hi, low, high, line``; ``low``/``high`` are NaN on
        onset rows.

    Raises
    ------
    DataError
        Naming file, line and column: unknown city or quantity, bad date or count,
        reversed interval, count window outside the run.
    """
    source = str(path)
    header, _ = read_csv_rows(
        path,
        ["city"],
        "need city and either quantity, date_earliest, date_latest, low, high or onset_earliest, onset_latest",
        "observations",
    )
    full = "quantity" in header
    need = ["city", "quantity", "date_earliest", "date_latest"] if full else ["city", "onset_earliest", "onset_latest"]
    hint = (
        "need city, quantity, date_earliest, date_latest, low, high"
        if full
        else "need city, onset_earliest, onset_latest (or the full layout with a quantity column)"
    )
    _, table = read_csv_rows(path, need, hint, "observations")
    rows = []
    for line, row in table:
        city = (row.get("city") or "").strip()
        quantity = (row.get("quantity") or "").strip() if full else "onset"
        if quantity not in QUANTITIES:
            raise DataError(
                f"quantity {quantity!r} is unknown; allowed: {', '.join(QUANTITIES)}",
                source=source,
                line=line,
                path="quantity",
            )
        allowed = city_names + ([NATIONAL] if quantity != "onset" else [])
        if city not in allowed:
            extra = f" or '{NATIONAL}'" if quantity != "onset" else ""
            raise DataError(
                f"city {city!r} is not in the scenario; use one of its cities{extra}",
                source=source,
                line=line,
                path="city",
            )
        cols = ("date_earliest", "date_latest") if full else ("onset_earliest", "onset_latest")
        lo_day, hi_day = (_day(row.get(c), start, source, line, c) for c in cols)
        if lo_day > hi_day:
            raise DataError(f"{cols[0]} is after {cols[1]}", source=source, line=line, path=cols[0])
        low = high = float("nan")
        if quantity != "onset":
            if lo_day < 0 or hi_day >= days:
                raise DataError(
                    f"the dates fall outside the run (day 0 = {start}, {days} days); "
                    f"move the scenario's start or lengthen 'days'",
                    source=source,
                    line=line,
                    path=cols[0] if lo_day < 0 else cols[1],
                )
            low, high = _count(row.get("low"), source, line, "low"), _count(row.get("high"), source, line, "high")
            if low > high:
                raise DataError("low is above high", source=source, line=line, path="low")
        elif hi_day < 0:
            raise DataError(f"the onset is before the run starts ({start})", source=source, line=line, path=cols[1])
        rows.append(
            {
                "city": city,
                "quantity": quantity,
                "day_lo": lo_day,
                "day_hi": hi_day,
                "low": low,
                "high": high,
                "line": line,
            }
        )
    if not rows:
        raise DataError("no observations in the file", source=source, line=1)
    return pd.DataFrame(rows, columns=COLUMNS)

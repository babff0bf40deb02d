"""Observed onsets: a table of the dates each city's protest was first reported."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..errors import DataError
from .csvio import read_csv_rows

__all__ = ["read_observed"]


def read_observed(path: str, city_names: list[str], start: dt.date) -> pd.DataFrame:
    """Observed onset intervals (``city, onset_earliest, onset_latest``) as days since ``start``.

    Raises
    ------
    DataError
        On a missing column, an unparsable date, a reversed interval or a city
        that is not in the scenario, naming the file and line.
    """
    need = ["city", "onset_earliest", "onset_latest"]
    _, table = read_csv_rows(path, need, f"need {', '.join(need)}", "observed onsets")
    rows = []
    for line, row in table:
        city = (row["city"] or "").strip()
        if city not in city_names:
            raise DataError(f"city '{city}' is not in the scenario", source=str(path), line=line, path="city")
        days = []
        for col in ("onset_earliest", "onset_latest"):
            try:
                days.append((dt.date.fromisoformat(row[col].strip()) - start).days)
            except (ValueError, AttributeError):
                raise DataError(
                    f"{row[col]!r} is not a date (YYYY-MM-DD)", source=str(path), line=line, path=col
                ) from None
        if days[0] > days[1]:
            raise DataError("onset_earliest is after onset_latest", source=str(path), line=line)
        rows.append({"city": city, "earliest_day": days[0], "latest_day": days[1]})
    return pd.DataFrame(rows, columns=["city", "earliest_day", "latest_day"])

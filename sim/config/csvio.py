"""The one reader of data tables (cities, observed onsets): CSV rows with their line numbers."""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import DataError

__all__ = ["MAX_CSV_BYTES", "read_csv_rows"]

#: Largest data table read (a cities table of every municipality in a country is far smaller).
MAX_CSV_BYTES = 50_000_000


def read_csv_rows(
    path: str | Path, required: list[str], columns_hint: str, what: str = "data"
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Read a UTF-8 CSV table.

    Parameters
    ----------
    path
        The file.
    required
        Columns that must be in the header.
    columns_hint
        Said after a missing column, e.g. ``"need city, onset_earliest, onset_latest"``.
    what
        What the file is, for the not-found message (``"observed onsets"``).

    Returns
    -------
    header, rows
        The column names and ``(line, row)`` pairs, ``line`` 1-based in the file.

    Raises
    ------
    DataError
        Naming the file (and line): missing file, undecodable text, bad CSV, missing columns.
    """
    source = str(path)
    p = Path(path)
    if p.exists() and not p.is_file():
        raise DataError("not a regular file (a directory, device or pipe); give a CSV file", source=source)
    if p.is_file() and p.stat().st_size > MAX_CSV_BYTES:
        raise DataError(
            f"the file is {p.stat().st_size:,} bytes; data tables are limited to {MAX_CSV_BYTES:,}", source=source
        )
    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # a byte-order mark is dropped  # noqa: SIM115 - closed by the with below
    except OSError:
        raise DataError(f"{what} file not found", source=source) from None
    try:
        with handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            missing = [c for c in required if c not in header]
            if missing:
                raise DataError(f"missing column(s) {', '.join(missing)}; {columns_hint}", source=source, line=1)
            rows = [(reader.line_num, row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot parse the CSV ({exc}); save it as UTF-8 comma-separated text", source=source) from None
    return header, rows

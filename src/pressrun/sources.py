"""Data sources: CSV, JSON, JSON Lines and Excel files read into numbered raw rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DataError

SUPPORTED_SUFFIXES = (".csv", ".json", ".jsonl", ".ndjson", ".xlsx")


@dataclass(frozen=True)
class RawRow:
    """One record as read, before the schema coerces it.

    `number` is what a person looks up: the spreadsheet row for CSV and Excel (the header is
    row 1), the line for JSON Lines, the 1-based position in a JSON array.
    """

    number: int
    values: Mapping[str, Any]
    problem: str | None = field(default=None)


def read_rows(path: str | Path, *, delimiter: str = ",", sheet: str | None = None) -> list[RawRow]:
    """Read every record of a data file; the format follows the file's suffix."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, delimiter)
    if suffix == ".json":
        return _read_json(path)
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if suffix == ".xlsx":
        return _read_xlsx(path, sheet)
    raise DataError(f"{path}: unsupported data format {suffix!r} (use {', '.join(SUPPORTED_SUFFIXES)})")


def rows_from_records(records: Iterable[Mapping[str, Any]]) -> list[RawRow]:
    """Wrap records that come from Python (a SQL query, an API) as numbered rows."""
    return [RawRow(number, record) for number, record in enumerate(records, start=1)]


def _read_csv(path: Path, delimiter: str) -> list[RawRow]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        if not reader.fieldnames:
            raise DataError(f"{path}: empty file, expected a header row")
        rows = []
        for number, record in enumerate(reader, start=2):
            extra = record.pop(None, None)  # type: ignore[call-overload]
            problem = f"has {len(extra)} more cells than the header" if extra else None
            rows.append(RawRow(number, record, problem))
        return rows


def _read_json(path: Path) -> list[RawRow]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(document, list):
        raise DataError(f"{path}: expected a JSON array of objects at the top level")
    return [_object_row(number, item) for number, item in enumerate(document, start=1)]


def _read_jsonl(path: Path) -> list[RawRow]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(_object_row(number, json.loads(line)))
            except json.JSONDecodeError as exc:
                rows.append(RawRow(number, {}, f"not valid JSON: {exc.msg}"))
    return rows


def _object_row(number: int, item: Any) -> RawRow:
    if isinstance(item, dict):
        return RawRow(number, item)
    return RawRow(number, {}, f"expected an object, got {type(item).__name__}")


def _read_xlsx(path: Path, sheet: str | None) -> list[RawRow]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise DataError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(workbook.sheetnames)})")
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        lines = worksheet.iter_rows(values_only=True)
        header = next(lines, None)
        if not header:
            raise DataError(f"{path}: empty sheet, expected a header row")
        names = [str(cell).strip() if cell is not None else "" for cell in header]
        rows = []
        for number, cells in enumerate(lines, start=2):
            if all(cell is None or cell == "" for cell in cells):
                continue
            rows.append(RawRow(number, {n: c for n, c in zip(names, cells) if n}))
        return rows
    finally:
        workbook.close()

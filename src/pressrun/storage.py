"""The output folder: asset files written atomically, the journal that makes runs resumable,
and the manifest and rejects files people read.

Layout: `OUT/<key>/<format>-<colorway>.<ext>`, `OUT/manifest.csv`, `OUT/rejects.csv`, and
`OUT/.pressrun/journal.jsonl`, one line per finished asset, appended as soon as its file is in
place, so a run killed at any moment keeps everything it finished.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO

from .results import Reject

MANIFEST_COLUMNS = (
    "key", "email", "format", "colorway", "output", "path", "bytes", "sha256", "width", "height", "qa",
)
REJECT_COLUMNS = ("row", "key", "field", "reason")
_STATE_DIR = ".pressrun"
_TEMP_SUFFIX = ".partial"


@dataclass(frozen=True)
class AssetRecord:
    """One finished asset file, as the journal and the manifest know it."""

    key: str
    email: str | None
    format: str
    colorway: str
    output: str
    path: str
    bytes: int
    sha256: str
    width: int
    height: int
    qa: tuple[str, ...]
    fingerprint: str

    def journal_line(self) -> str:
        # not dataclasses.asdict, which deep-copies every field: 2.5 times slower on a large journal
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        return json.dumps(values, ensure_ascii=False) + "\n"

    def manifest_row(self) -> dict[str, object]:
        row = {column: getattr(self, column) for column in MANIFEST_COLUMNS}
        row["qa"] = "; ".join(self.qa)
        return row


def asset_path(key: str, format_name: str, colorway: str, output: str) -> str:
    return f"{key}/{format_name}-{colorway}.{output}"


class OutputStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._journal_file = root / _STATE_DIR / "journal.jsonl"
        self._journal: IO[str] | None = None

    def open(self) -> dict[str, AssetRecord]:
        """Prepare the folder for a run; returns the assets earlier runs finished, by path."""
        self._journal_file.parent.mkdir(parents=True, exist_ok=True)
        self._remove_partial_files()
        finished = self.finished()
        self._journal = self._journal_file.open("a", encoding="utf-8")
        return finished

    def finished(self) -> dict[str, AssetRecord]:
        records: dict[str, AssetRecord] = {}
        if not self._journal_file.exists():
            return records
        with self._journal_file.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    data = json.loads(line)
                    data["qa"] = tuple(data["qa"])
                    record = AssetRecord(**data)
                except (ValueError, TypeError, KeyError):
                    continue  # a line cut short by a kill: that asset is simply redone
                records[record.path] = record
        return records

    def is_current(self, record: AssetRecord | None, fingerprint: str) -> bool:
        if record is None or record.fingerprint != fingerprint:
            return False
        try:
            return (self.root / record.path).stat().st_size == record.bytes
        except FileNotFoundError:
            return False

    def save(self, record_fields: dict[str, object], data: bytes) -> AssetRecord:
        """Write an asset under its final name atomically, then journal it."""
        assert self._journal is not None, "open() the store first"
        target = self.root / str(record_fields["path"])
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + _TEMP_SUFFIX)
        partial.write_bytes(data)
        record = AssetRecord(
            **record_fields, bytes=len(data), sha256=hashlib.sha256(data).hexdigest()  # type: ignore[arg-type]
        )
        line = record.journal_line()
        # everything is ready before the rename: a kill between rename and journal (the file is
        # then rendered again on resume) has as small a window as it can have
        os.replace(partial, target)
        self._journal.write(line)
        self._journal.flush()
        return record

    def close(self, current: Iterable[AssetRecord], rejects: Iterable[Reject]) -> Path:
        """Write manifest.csv and rejects.csv, and compact the journal to the current assets."""
        current = sorted(current, key=lambda r: (r.key, r.format, r.colorway, r.output))
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        _write_csv(self.root / "manifest.csv", MANIFEST_COLUMNS, (r.manifest_row() for r in current))
        self.write_rejects(rejects)
        _atomic_text(self._journal_file, "".join(record.journal_line() for record in current))
        return self.root / "manifest.csv"

    def write_rejects(self, rejects: Iterable[Reject]) -> Path:
        path = self.root / "rejects.csv"
        _write_csv(path, REJECT_COLUMNS, (asdict(r) for r in rejects))
        return path

    def _remove_partial_files(self) -> None:
        for leftover in self.root.rglob(f"*{_TEMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)


def _write_csv(path: Path, columns: tuple[str, ...], rows: Iterable[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + _TEMP_SUFFIX)
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(partial, path)


def _atomic_text(path: Path, text: str) -> None:
    partial = path.with_name(path.name + _TEMP_SUFFIX)
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)

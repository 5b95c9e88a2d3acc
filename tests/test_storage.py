from __future__ import annotations

import csv
import json

from pressrun import OutputStore, Reject
from pressrun.storage import asset_path


def fields(path: str, fingerprint: str = "f1") -> dict[str, object]:
    return {
        "key": "ana", "email": "ana@example.com", "format": "story", "colorway": "midnight", "output": "png",
        "path": path, "width": 1080, "height": 1920, "qa": ("overflow: h1",), "fingerprint": fingerprint,
    }


def test_save_is_atomic_journaled_and_survives_reopen(tmp_path):
    store = OutputStore(tmp_path)
    store.open()
    path = asset_path("ana", "story", "midnight", "png")
    record = store.save(fields(path), b"\x89PNG...")
    assert (tmp_path / path).read_bytes() == b"\x89PNG..."
    assert record.bytes == 7 and len(record.sha256) == 64
    assert not list(tmp_path.rglob("*.partial"))

    reopened = OutputStore(tmp_path).finished()
    assert reopened[path] == record
    assert OutputStore(tmp_path).is_current(record, "f1")
    assert not OutputStore(tmp_path).is_current(record, "f2")
    (tmp_path / path).write_bytes(b"truncated")
    assert not OutputStore(tmp_path).is_current(record, "f1")


def test_open_removes_partial_files_and_ignores_a_torn_journal_line(tmp_path):
    store = OutputStore(tmp_path)
    store.open()
    store.save(fields("ana/a.png"), b"a")
    store.close([], [])
    (tmp_path / "ana" / "b.png.partial").write_bytes(b"half")
    with (tmp_path / ".pressrun" / "journal.jsonl").open("a") as journal:
        journal.write('{"key": "ana", "pa')
    finished = OutputStore(tmp_path).open()
    assert finished == {}  # close() compacted the journal to the current assets: none were passed
    assert not (tmp_path / "ana" / "b.png.partial").exists()


def test_close_writes_sorted_manifest_and_rejects(tmp_path):
    store = OutputStore(tmp_path)
    store.open()
    second = store.save({**fields("bo/x.png"), "key": "bo"}, b"b")
    first = store.save(fields("ana/x.png"), b"a")
    store.close([second, first], [Reject(7, "cy", "email", "'x' is not an email address")])
    manifest = list(csv.DictReader((tmp_path / "manifest.csv").open()))
    assert [row["key"] for row in manifest] == ["ana", "bo"]
    assert manifest[0]["qa"] == "overflow: h1"
    assert list(manifest[0]) == ["key", "email", "format", "colorway", "output", "path", "bytes", "sha256",
                                 "width", "height", "qa"]
    rejects = list(csv.DictReader((tmp_path / "rejects.csv").open()))
    assert rejects == [{"row": "7", "key": "cy", "field": "email", "reason": "'x' is not an email address"}]
    assert set(OutputStore(tmp_path).finished()) == {"ana/x.png", "bo/x.png"}


def test_journal_lines_hold_every_field_and_compact_to_the_same_records(tmp_path):
    store = OutputStore(tmp_path)
    store.open()
    record = store.save(fields("ana/story-midnight.png"), b"png")
    line = (tmp_path / ".pressrun" / "journal.jsonl").read_text()
    assert line == record.journal_line() and line.endswith("\n")
    assert json.loads(line) == {
        **fields("ana/story-midnight.png"), "qa": ["overflow: h1"], "bytes": 3, "sha256": record.sha256,
    }
    store.close([record], [])
    assert OutputStore(tmp_path).finished() == {record.path: record}

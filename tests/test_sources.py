from __future__ import annotations

import json

import pytest
from openpyxl import Workbook

from pressrun import DataError, read_rows, rows_from_records


def test_csv_rows_are_numbered_like_a_spreadsheet(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("\ufeffid,name\na,Ann\nb,\"Bo, Jr\"\nc,Cy,extra\n", encoding="utf-8")
    rows = read_rows(path)
    assert [(r.number, dict(r.values)) for r in rows[:2]] == [(2, {"id": "a", "name": "Ann"}), (3, {"id": "b", "name": "Bo, Jr"})]
    assert rows[2].problem == "has 1 more cells than the header"


def test_csv_delimiter(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id;n\na;1\n")
    assert dict(read_rows(path, delimiter=";")[0].values) == {"id": "a", "n": "1"}


def test_json_and_jsonl(tmp_path):
    (tmp_path / "d.json").write_text(json.dumps([{"id": "a"}, 3]))
    rows = read_rows(tmp_path / "d.json")
    assert rows[0].values == {"id": "a"} and rows[1].problem == "expected an object, got int"
    (tmp_path / "d.jsonl").write_text('{"id": "a"}\n\n{broken\n')
    rows = read_rows(tmp_path / "d.jsonl")
    assert [r.number for r in rows] == [1, 3]
    assert rows[1].problem.startswith("not valid JSON")


def test_xlsx_keeps_types_and_skips_empty_rows(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "streams"])
    sheet.append(["a", 1234])
    sheet.append([None, None])
    sheet.append(["b", 5.5])
    book.save(tmp_path / "d.xlsx")
    rows = read_rows(tmp_path / "d.xlsx")
    assert [(r.number, dict(r.values)) for r in rows] == [(2, {"id": "a", "streams": 1234}), (4, {"id": "b", "streams": 5.5})]


def test_unreadable_sources(tmp_path):
    with pytest.raises(DataError, match="no such data file"):
        read_rows(tmp_path / "missing.csv")
    (tmp_path / "d.txt").write_text("x")
    with pytest.raises(DataError, match="unsupported data format"):
        read_rows(tmp_path / "d.txt")
    (tmp_path / "d.json").write_text("{}")
    with pytest.raises(DataError, match="JSON array"):
        read_rows(tmp_path / "d.json")


def test_records_from_python():
    rows = rows_from_records([{"id": "x"}, {"id": "y"}])
    assert [(r.number, r.values["id"]) for r in rows] == [(1, "x"), (2, "y")]

from __future__ import annotations

import datetime as dt

import pytest

from pressrun.schema import FieldError, Schema
from pressrun.spec import FieldSpec


def coerce(raw, **spec):
    values, errors = Schema({"f": FieldSpec(**spec)}).coerce({"f": raw})
    return values.get("f"), [e.reason for e in errors]


@pytest.mark.parametrize(
    ("spec", "raw", "expected"),
    [
        ({"type": "integer"}, "42", 42),
        ({"type": "integer"}, " -7 ", -7),
        ({"type": "integer"}, 3.0, 3),
        ({"type": "number"}, "1.5", 1.5),
        ({"type": "number"}, "12", 12),
        ({"type": "number"}, "2e3", 2000.0),
        ({"type": "boolean"}, "Yes", True),
        ({"type": "boolean"}, "0", False),
        ({"type": "date"}, "2026-11-23", dt.date(2026, 11, 23)),
        ({"type": "date"}, dt.datetime(2026, 1, 2, 3, 4), dt.date(2026, 1, 2)),
        ({"type": "email"}, "ana@example.com", "ana@example.com"),
        ({"type": "url"}, "https://example.com/x", "https://example.com/x"),
        ({"type": "string"}, "  padded  ", "padded"),
        ({"type": "string"}, 90210, "90210"),
        ({"type": "list"}, "a| b |c", ["a", "b", "c"]),
        ({"type": "list", "separator": ";"}, "a;b", ["a", "b"]),
        ({"type": "list", "items": "integer"}, "[1, 2]", [1, 2]),
        ({"type": "list"}, ["x"], ["x"]),
        ({"type": "enum", "enum": [1, 2]}, "2", 2),
        ({"type": "string", "enum": ["en", "es"]}, "es", "es"),
    ],
)
def test_coercion(spec, raw, expected):
    assert coerce(raw, **spec) == (expected, [])


@pytest.mark.parametrize(
    ("spec", "raw", "reason"),
    [
        ({"type": "integer"}, "1,234", "'1,234' is not an integer (thousands separators are not allowed)"),
        ({"type": "integer"}, "12.5", "'12.5' is not an integer"),
        ({"type": "integer"}, True, "True is not an integer"),
        ({"type": "number"}, "1,5", "'1,5' is not a number (use '.' as the decimal separator)"),
        ({"type": "number"}, "abc", "'abc' is not a number"),
        ({"type": "number"}, float("nan"), "nan is not a finite number"),
        ({"type": "boolean"}, "maybe", "'maybe' is not a boolean (use true/false, yes/no or 1/0)"),
        ({"type": "date"}, "23/11/2026", "'23/11/2026' is not a date (use YYYY-MM-DD)"),
        ({"type": "email"}, "not-an-email", "'not-an-email' is not an email address"),
        ({"type": "url"}, "ftp://x", "'ftp://x' is not an http(s) URL"),
        ({"type": "string", "enum": ["en", "es"]}, "fr", "'fr' is not one of en, es"),
        ({"type": "integer", "minimum": 0}, "-1", "-1 is below the minimum 0"),
        ({"type": "number", "maximum": 10}, "11", "11 is above the maximum 10"),
        ({"type": "string", "max_length": 3}, "abcd", "4 characters, longer than max_length 3"),
        ({"type": "string", "min_length": 2}, "a", "1 characters, shorter than min_length 2"),
        ({"type": "string", "pattern": "^[a-z]+$"}, "A1", "'A1' does not match the pattern ^[a-z]+$"),
        ({"type": "list", "max_items": 2}, "a|b|c", "3 items, more than max_items 2"),
        ({"type": "list", "items": "integer"}, "1|x", "item 2: 'x' is not an integer"),
        ({"type": "list"}, "[1, ", "'[1, ' starts with '[' but is not a JSON list"),
        ({"type": "string"}, "", "required, but missing"),
        ({"type": "string"}, {"a": 1}, "{'a': 1} is not text"),
    ],
)
def test_errors_give_the_reason(spec, raw, reason):
    assert coerce(raw, **spec) == (None, [reason])


def test_optional_and_default():
    assert coerce("", type="string", required=False) == (None, [])
    assert coerce(None, type="string", default="en") == ("en", [])
    assert coerce(" ", type="integer", default=0) == (0, [])


def test_every_field_error_is_reported_and_unknown_columns_listed():
    schema = Schema({"a": FieldSpec(type="integer"), "b": FieldSpec(type="email")})
    values, errors = schema.coerce({"a": "x", "b": "y", "c": "z"})
    assert [e.field for e in errors] == ["a", "b"]
    assert isinstance(errors[0], FieldError)
    assert schema.unknown_columns({"a", "b", "c"}) == ["c"]


def test_without_fields_values_pass_through():
    assert Schema({}).coerce({"a": "1", "b": ""}) == ({"a": "1", "b": None}, [])

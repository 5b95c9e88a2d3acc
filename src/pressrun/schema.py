"""The recipient schema: coerces raw values to typed ones and says exactly what is wrong."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .spec import FieldSpec

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str


class _Invalid(ValueError):
    """A value that cannot be coerced; its message is the reason shown to the user."""


class Schema:
    """Coerces one record at a time; with no fields declared, values pass through as read."""

    def __init__(self, fields: Mapping[str, FieldSpec]) -> None:
        self.fields = dict(fields)

    def coerce(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
        if not self.fields:
            return {k: None if _is_missing(v) else v for k, v in values.items()}, []
        result: dict[str, Any] = {}
        errors: list[FieldError] = []
        for name, spec in self.fields.items():
            try:
                result[name] = _coerce_field(spec, values.get(name))
            except _Invalid as exc:
                errors.append(FieldError(name, str(exc)))
        return result, errors

    def unknown_columns(self, columns: set[str]) -> list[str]:
        return sorted(columns - set(self.fields)) if self.fields else []


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _coerce_field(spec: FieldSpec, raw: Any) -> Any:
    if _is_missing(raw):
        if spec.has_default:
            return spec.default
        if spec.required:
            raise _Invalid("required, but missing")
        return None
    value = _coerce_list(spec, raw) if spec.type == "list" else _COERCERS[spec.type](raw)
    if spec.enum is not None:
        value = _match_enum(spec.enum, value)
    _check_constraints(spec, value)
    return value


def _match_enum(options: list[Any], value: Any) -> Any:
    """The declared option equal to `value`, compared as text since CSV values are text."""
    for option in options:
        if str(option) == str(value):
            return option
    raise _Invalid(f"{_show(value)} is not one of {', '.join(str(o) for o in options)}")


def _coerce_list(spec: FieldSpec, raw: Any) -> list[Any]:
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError:
                raise _Invalid(f"{_show(raw)} starts with '[' but is not a JSON list") from None
        else:
            raw = [item.strip() for item in text.split(spec.separator) if item.strip()]
    if not isinstance(raw, list):
        raise _Invalid(f"{_show(raw)} is not a list")
    coerce = _COERCERS[spec.items or "string"]
    items = []
    for position, item in enumerate(raw, start=1):
        try:
            items.append(coerce(item))
        except _Invalid as exc:
            raise _Invalid(f"item {position}: {exc}") from None
    return items


def _check_constraints(spec: FieldSpec, value: Any) -> None:
    if spec.minimum is not None and value < spec.minimum:
        raise _Invalid(f"{_show(value)} is below the minimum {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise _Invalid(f"{_show(value)} is above the maximum {spec.maximum:g}")
    if isinstance(value, str):
        if spec.max_length is not None and len(value) > spec.max_length:
            raise _Invalid(f"{len(value)} characters, longer than max_length {spec.max_length}")
        if spec.min_length is not None and len(value) < spec.min_length:
            raise _Invalid(f"{len(value)} characters, shorter than min_length {spec.min_length}")
        if spec.pattern is not None and not re.search(spec.pattern, value):
            raise _Invalid(f"{_show(value)} does not match the pattern {spec.pattern}")
    if isinstance(value, list) and spec.max_items is not None and len(value) > spec.max_items:
        raise _Invalid(f"{len(value)} items, more than max_items {spec.max_items}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _to_string(raw: Any) -> str:
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return str(raw)
    raise _Invalid(f"{_show(raw)} is not text")


def _to_integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise _Invalid(f"{_show(raw)} is not an integer")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = str(raw).strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    if re.fullmatch(r"[+-]?\d{1,3}([,.' ]\d{3})+", text):
        raise _Invalid(f"{_show(raw)} is not an integer (thousands separators are not allowed)")
    raise _Invalid(f"{_show(raw)} is not an integer")


def _to_number(raw: Any) -> float | int:
    if isinstance(raw, bool):
        raise _Invalid(f"{_show(raw)} is not a number")
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise _Invalid(f"{_show(raw)} is not a finite number")
        return raw
    text = str(raw).strip()
    if _NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if _INTEGER.fullmatch(text) else number
    if re.fullmatch(r"[+-]?\d+,\d+", text):
        raise _Invalid(f"{_show(raw)} is not a number (use '.' as the decimal separator)")
    raise _Invalid(f"{_show(raw)} is not a number")


def _to_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Invalid(f"{_show(raw)} is not a boolean (use true/false, yes/no or 1/0)")


def _to_date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise _Invalid(f"{_show(raw)} is not a date (use YYYY-MM-DD)") from None


def _to_email(raw: Any) -> str:
    text = _to_string(raw)
    if not _EMAIL.fullmatch(text):
        raise _Invalid(f"{_show(raw)} is not an email address")
    return text


def _to_url(raw: Any) -> str:
    text = _to_string(raw)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _Invalid(f"{_show(raw)} is not an http(s) URL")
    return text


_COERCERS: dict[str, Callable[[Any], Any]] = {
    "string": _to_string,
    "enum": _to_string,
    "integer": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
    "date": _to_date,
    "email": _to_email,
    "url": _to_url,
}

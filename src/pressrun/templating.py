"""The sandboxed Jinja environment, the template context, and the page decoration the engine adds."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from .errors import CampaignError
from .spec import FormatSpec

_HEAD_OPEN = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_HTML_OPEN = re.compile(r"<html\b[^>]*>", re.IGNORECASE)
_BODY_OPEN = re.compile(r"<body\b([^>]*)>", re.IGNORECASE)
_CLASS_ATTR = re.compile(r"""\bclass\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
_UNDEFINED_NAME = re.compile(r"has no (?:attribute|field) '([^']+)'|'([^']+)' is undefined")


class Record:
    """A recipient as templates and rules see it: `r.name` and `r['name']`, nothing else.

    Not a dict, so a field called `items` or `values` is the field, never a method.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"recipient has no field '{name}'") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("recipients are read-only")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Record({self._values!r})"


@dataclass(frozen=True)
class Colorway:
    name: str
    tokens: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignInfo:
    name: str
    vars: Mapping[str, Any]


def make_environment(template_dir: Path | None = None) -> SandboxedEnvironment:
    """A sandboxed, strict environment: any undefined name is an error, never an empty string."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(template_dir) if template_dir else None,
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=_number, compact=_compact, percent=_percent, date=_date)
    return env


def load_template(env: SandboxedEnvironment, name: str) -> Any:
    try:
        return env.get_template(name)
    except TemplateNotFound:
        raise CampaignError(f"template {name!r} not found") from None
    except TemplateError as exc:
        raise CampaignError(f"template {name!r}: {exc}") from None


def undefined_field(exc: Exception) -> str | None:
    """The field an undefined-variable error is about, so a reject can name it."""
    match = _UNDEFINED_NAME.search(str(exc))
    return (match.group(1) or match.group(2)) if match else None


def decorate(html: str, fmt: FormatSpec, colorway: Colorway) -> str:
    """Inject the colorway tokens as CSS properties, the PDF page size and the body classes."""
    tokens = "".join(f"--{name}:{value};" for name, value in colorway.tokens.items())
    style = (
        f"<style data-pressrun>:root{{{tokens}}}"
        f"@page{{size:{fmt.width}px {fmt.height}px;margin:0}}</style>"
    )
    html = _insert_into_head(html, style)
    classes = f"format-{fmt.name} orientation-{fmt.orientation} colorway-{colorway.name}"
    return _add_body_classes(html, classes)


def _insert_into_head(html: str, markup: str) -> str:
    if head := _HEAD_OPEN.search(html):
        return html[: head.end()] + markup + html[head.end() :]
    if root := _HTML_OPEN.search(html):
        return html[: root.end()] + f"<head>{markup}</head>" + html[root.end() :]
    return f"<head>{markup}</head>" + html


def _add_body_classes(html: str, classes: str) -> str:
    body = _BODY_OPEN.search(html)
    if body is None:
        close_head = html.lower().find("</head>")
        at = close_head + len("</head>") if close_head >= 0 else 0
        return html[:at] + f'<body class="{classes}">' + html[at:]
    attributes = body.group(1)
    if existing := _CLASS_ATTR.search(attributes):
        merged = f'class="{existing.group(2)} {classes}"'
        attributes = attributes[: existing.start()] + merged + attributes[existing.end() :]
    else:
        attributes += f' class="{classes}"'
    return html[: body.start()] + f"<body{attributes}>" + html[body.end() :]


def _number(value: float, locale: str = "en", decimals: int | None = None) -> str:
    return _apply_locale_pattern("decimal", value, locale, decimals)


def _percent(value: float, locale: str = "en", decimals: int = 0) -> str:
    return _apply_locale_pattern("percent", value, locale, decimals)


def _compact(value: float, locale: str = "en", fraction_digits: int = 1) -> str:
    return babel_numbers.format_compact_decimal(
        value, format_type="short", locale=locale, fraction_digits=fraction_digits
    )


def _apply_locale_pattern(kind: str, value: float, locale: str, decimals: int | None) -> str:
    """Format with the locale's own pattern (grouping, spacing, sign), fixing the decimals if asked."""
    parsed = Locale.parse(locale)
    formats = parsed.decimal_formats if kind == "decimal" else parsed.percent_formats
    pattern = copy.copy(formats[None])
    if decimals is not None:
        pattern.frac_prec = (decimals, decimals)
    return pattern.apply(value, parsed)


def _date(value: Any, locale: str = "en", format: str = "medium") -> str:
    return babel_dates.format_date(value, format=format, locale=locale)

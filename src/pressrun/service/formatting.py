"""Template filters: rates, file sizes and amounts as people read them."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %"


def file_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def money(amount: Decimal, currency: str) -> str:
    try:
        return format_currency(amount, currency, locale="en_US")
    except (ValueError, KeyError):
        return f"{amount} {currency}"

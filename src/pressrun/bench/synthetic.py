"""Synthetic recipients: N rows made from a campaign's own valid sample rows."""

from __future__ import annotations

import random
from typing import Any

from ..campaign import Campaign
from ..spec import FieldSpec

_GOLDEN = 0.6180339887498949
_SEED = 2026


def synthetic_rows(campaign: Campaign, n: int) -> list[dict[str, Any]]:
    """N valid rows with unique keys, each field taken from a different sample row.

    Field by field, sample values are picked in a low-discrepancy order over the samples sorted
    by that field, so even a handful of rows spans each field's range (the growth sign, hence
    both colorways and both branches of the template, is hit within the first four rows).
    Integers are scaled by 0.7-1.3 where the schema allows, so numbers vary beyond the samples.
    """
    samples = _valid_samples(campaign)
    data = campaign.spec.data
    rng = random.Random(_SEED)
    columns = list(samples[0])
    orders = {column: sorted(samples, key=lambda row: _sort_key(row[column])) for column in columns}
    rows = []
    for index in range(n):
        row = {}
        for offset, column in enumerate(columns):
            pick = ((index + offset * 7) * _GOLDEN) % 1.0
            row[column] = orders[column][int(pick * len(samples))][column]
            field = data.fields.get(column)
            if field is not None and field.type == "integer" and row[column] not in ("", None):
                row[column] = _jitter(int(row[column]), field, rng)
        row[data.key] = f"bench-{index:06d}"
        if data.email_field:
            row[data.email_field] = f"bench-{index:06d}@example.com"
        rows.append(row)
    return rows


def _valid_samples(campaign: Campaign) -> list[dict[str, Any]]:
    valid = {recipient.row for recipient in campaign.validate().recipients}
    samples = [dict(raw.values) for raw in campaign.read_rows() if raw.number in valid]
    if not samples:
        raise ValueError(f"{campaign.name}: no valid sample row to derive synthetic rows from")
    return samples


def _sort_key(value: Any) -> tuple[int, float, str]:
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def _jitter(value: int, field: FieldSpec, rng: random.Random) -> int:
    scaled = round(value * rng.uniform(0.7, 1.3))
    low = field.minimum if field.minimum is not None else float("-inf")
    high = field.maximum if field.maximum is not None else float("inf")
    return scaled if low <= scaled <= high else value

"""A campaign's numbers: sends, opens, downloads, shares, clicks, conversions and revenue.

- sent: deliveries marked sent when the campaign was mailed through pressrun, otherwise the
  recipients whose assets are ready (the service cannot know how they were sent).
- unique opens: recipients with at least one open, human and machine (mail-privacy proxy) apart;
  the open rate counts human opens only.
- download rate (24 h): recipients who downloaded a file within 24 hours of their send (or of
  their assets being ready) over sent.
- revenue per send: conversion amounts over sent, per currency.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from . import models

DOWNLOAD_WINDOW = dt.timedelta(hours=24)
TIMELINE_KINDS = ("open", "view", "download", "click", "share", "conversion")


@dataclass(frozen=True)
class Metrics:
    sent: int
    sent_basis: str  # "deliveries" or "ready assets"
    human_opens: int
    machine_opens: int
    views: int
    downloads: int
    downloaders: int
    downloaders_24h: int
    shares: int
    clicks: int
    conversions: int
    revenue: dict[str, Decimal]

    @property
    def open_rate(self) -> float | None:
        return _rate(self.human_opens, self.sent)

    @property
    def download_rate_24h(self) -> float | None:
        return _rate(self.downloaders_24h, self.sent)

    @property
    def revenue_per_send(self) -> dict[str, Decimal]:
        if not self.sent:
            return {}
        return {
            currency: (total / self.sent).quantize(Decimal("0.01"), ROUND_HALF_UP)
            for currency, total in self.revenue.items()
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "sent_basis": self.sent_basis,
            "unique_opens": {"human": self.human_opens, "machine": self.machine_opens},
            "open_rate": self.open_rate,
            "views": self.views,
            "downloads": self.downloads,
            "unique_downloaders": self.downloaders,
            "download_rate_24h": self.download_rate_24h,
            "shares": self.shares,
            "clicks": self.clicks,
            "conversions": self.conversions,
            "revenue": {currency: str(total) for currency, total in self.revenue.items()},
            "revenue_per_send": {
                currency: str(value) for currency, value in self.revenue_per_send.items()
            },
        }


def campaign_metrics(session: Session, campaign_id: int) -> Metrics:
    sent_at, basis = _send_times(session, campaign_id)
    E = models.Event
    of_campaign = E.campaign_id == campaign_id
    counts: Counter[str] = Counter(
        dict(
            session.execute(
                select(E.kind, func.count())
                .where(of_campaign, E.machine.is_(False))
                .group_by(E.kind)
            ).all()
        )
    )
    opens = dict(
        session.execute(
            select(E.machine, func.count(distinct(E.recipient_id)))
            .where(of_campaign, E.kind == "open")
            .group_by(E.machine)
        ).all()
    )
    first_download = session.execute(
        select(E.recipient_id, func.min(E.at))
        .where(of_campaign, E.kind == "download")
        .group_by(E.recipient_id)
    ).all()
    revenue = session.execute(
        select(E.currency, func.sum(E.amount))
        .where(of_campaign, E.kind == "conversion")
        .group_by(E.currency)
    ).all()
    return Metrics(
        sent=len(sent_at),
        sent_basis=basis,
        human_opens=opens.get(False, 0),
        machine_opens=opens.get(True, 0),
        views=counts["view"],
        downloads=counts["download"],
        downloaders=len(first_download),
        downloaders_24h=sum(
            1
            for recipient_id, first in first_download
            if recipient_id in sent_at
            and models.as_utc(first) - sent_at[recipient_id] <= DOWNLOAD_WINDOW
        ),
        shares=counts["share"],
        clicks=counts["click"],
        conversions=counts["conversion"],
        revenue={currency or "": Decimal(total or 0) for currency, total in revenue},
    )


def _send_times(session: Session, campaign_id: int) -> tuple[dict[int, dt.datetime], str]:
    """When each sent recipient got their assets: the delivery time, else when they were ready."""
    D = models.Delivery
    delivered = session.execute(
        select(D.recipient_id, func.min(D.sent_at))
        .where(D.campaign_id == campaign_id, D.status == "sent")
        .group_by(D.recipient_id)
    ).all()
    if delivered:
        return {
            recipient_id: models.as_utc(at) for recipient_id, at in delivered if at is not None
        }, "deliveries"
    R = models.Recipient
    ready = session.execute(
        select(R.id, R.ready_at).where(R.campaign_id == campaign_id, R.ready_at.is_not(None))
    ).all()
    return {
        recipient_id: models.as_utc(at) for recipient_id, at in ready if at is not None
    }, "ready assets"


@dataclass
class Timeline:
    """Event counts per time bucket (hours for the first three days of activity, then days)."""

    unit: str
    buckets: list[dt.datetime] = field(default_factory=list)
    series: dict[str, list[int]] = field(default_factory=dict)


def timeline(session: Session, campaign_id: int) -> Timeline:
    E = models.Event
    rows = session.execute(
        select(E.at, E.kind).where(
            E.campaign_id == campaign_id, E.kind.in_(TIMELINE_KINDS), E.machine.is_(False)
        )
    ).all()
    if not rows:
        return Timeline("day")
    times = [models.as_utc(at) for at, _ in rows]
    start, end = min(times), max(times)
    hourly = end - start <= dt.timedelta(days=3)
    step = dt.timedelta(hours=1) if hourly else dt.timedelta(days=1)
    first = (
        start.replace(minute=0, second=0, microsecond=0)
        if hourly
        else start.replace(hour=0, minute=0, second=0, microsecond=0)
    )
    size = int((end - first) / step) + 1
    result = Timeline("hour" if hourly else "day", [first + i * step for i in range(size)])
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * size)
    for at, (_, kind) in zip(times, rows):
        counts[kind][int((at - first) / step)] += 1
    result.series = {kind: counts[kind] for kind in TIMELINE_KINDS if kind in counts}
    return result


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None

"""Campaign metrics from recorded events: rates, the 24-hour download window, deliveries, the chart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pressrun.service import models
from pressrun.service.chart import timeline_svg
from pressrun.service.db import Database
from pressrun.service.events import record_event
from pressrun.service.metrics import campaign_metrics, timeline

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def campaign(db: Database) -> tuple[int, list[int]]:
    """A campaign with four recipients whose assets were ready at T0."""
    with db.session() as session:
        campaign = models.Campaign(slug="m", name="m", folder="/x", click_urls=[])
        session.add(campaign)
        session.flush()
        people = [
            models.Recipient(
                campaign_id=campaign.id, key=f"k{i}", row=i + 2, values={}, ready_at=T0
            )
            for i in range(4)
        ]
        session.add_all(people)
        session.flush()
        return campaign.id, [p.id for p in people]


def _event(
    db: Database, campaign_id: int, recipient_id: int, kind: str, at: dt.datetime, **extra: object
) -> None:
    with db.session() as session:
        event = record_event(
            session, campaign_id=campaign_id, recipient_id=recipient_id, kind=kind, **extra
        )  # type: ignore[arg-type]
        event.at = at


def test_rates_count_unique_human_recipients(db: Database, campaign: tuple[int, list[int]]) -> None:
    campaign_id, (a, b, c, d) = campaign
    _event(db, campaign_id, a, "open", T0 + dt.timedelta(minutes=5))
    _event(db, campaign_id, a, "open", T0 + dt.timedelta(hours=2))
    _event(db, campaign_id, b, "open", T0 + dt.timedelta(minutes=1), machine=True)
    _event(db, campaign_id, c, "open", T0 + dt.timedelta(minutes=1), machine=True)
    _event(db, campaign_id, c, "open", T0 + dt.timedelta(hours=3))
    _event(db, campaign_id, a, "download", T0 + dt.timedelta(hours=23, minutes=59))
    _event(db, campaign_id, a, "download", T0 + dt.timedelta(hours=30))
    _event(
        db, campaign_id, b, "download", T0 + dt.timedelta(hours=24, minutes=1)
    )  # too late for the 24 h rate
    _event(
        db,
        campaign_id,
        d,
        "conversion",
        T0,
        amount=Decimal("30.00"),
        currency="EUR",
        external_id="o1",
    )
    _event(
        db,
        campaign_id,
        d,
        "conversion",
        T0,
        amount=Decimal("10.50"),
        currency="EUR",
        external_id="o2",
    )
    with db.session() as session:
        metrics = campaign_metrics(session, campaign_id)
    assert (metrics.sent, metrics.sent_basis) == (4, "ready assets")
    assert (metrics.human_opens, metrics.machine_opens, metrics.open_rate) == (2, 2, 0.5)
    assert (
        metrics.downloads,
        metrics.downloaders,
        metrics.downloaders_24h,
        metrics.download_rate_24h,
    ) == (3, 2, 1, 0.25)
    assert metrics.conversions == 2 and metrics.revenue == {"EUR": Decimal("40.50")}
    assert metrics.revenue_per_send == {"EUR": Decimal("10.13")}


def test_deliveries_define_sent_and_the_download_window(
    db: Database, campaign: tuple[int, list[int]]
) -> None:
    campaign_id, (a, b, _, _) = campaign
    with db.session() as session:
        session.add(
            models.Delivery(
                campaign_id=campaign_id,
                recipient_id=a,
                status="sent",
                sent_at=T0 + dt.timedelta(days=2),
            )
        )
        session.add(models.Delivery(campaign_id=campaign_id, recipient_id=b, status="failed"))
    _event(
        db, campaign_id, a, "download", T0 + dt.timedelta(days=2, hours=20)
    )  # 20 h after the email
    with db.session() as session:
        metrics = campaign_metrics(session, campaign_id)
    assert (metrics.sent, metrics.sent_basis, metrics.download_rate_24h) == (1, "deliveries", 1.0)


def test_no_sends_means_no_rates(db: Database) -> None:
    with db.session() as session:
        campaign = models.Campaign(slug="empty", name="empty", folder="/x", click_urls=[])
        session.add(campaign)
        session.flush()
        metrics = campaign_metrics(session, campaign.id)
    assert metrics.sent == 0 and metrics.open_rate is None and metrics.revenue_per_send == {}
    assert metrics.as_dict()["open_rate"] is None


def test_timeline_buckets_human_events_by_hour(
    db: Database, campaign: tuple[int, list[int]]
) -> None:
    campaign_id, (a, b, _, _) = campaign
    _event(db, campaign_id, a, "open", T0 + dt.timedelta(minutes=10))
    _event(db, campaign_id, b, "open", T0 + dt.timedelta(minutes=50))
    _event(db, campaign_id, b, "open", T0 + dt.timedelta(minutes=20), machine=True)  # not a person
    _event(db, campaign_id, a, "download", T0 + dt.timedelta(hours=2, minutes=5))
    with db.session() as session:
        line = timeline(session, campaign_id)
    assert line.unit == "hour"
    assert line.buckets == [T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2)]
    assert line.series == {"open": [2, 0, 0], "download": [0, 0, 1]}
    chart = timeline_svg(line)
    assert not chart.empty and chart.svg.count("<polyline") == 2
    assert [(label, total) for label, _, total in chart.legend] == [("Opens", 2), ("Downloads", 1)]

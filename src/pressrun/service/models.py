"""The service's tables (SQLAlchemy 2, typed). Portable between SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """`moment` with its UTC zone: SQLite hands stored datetimes back without one."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: DateTime(timezone=True), dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    folder: Mapped[str] = mapped_column(Text)  # the campaign folder on the server
    click_urls: Mapped[list[Any]] = mapped_column(default=list)  # allowed /c/ redirect targets
    data_file: Mapped[str | None] = mapped_column(Text)  # the latest uploaded recipient data, if any
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    runs: Mapped[list[Run]] = relationship(back_populates="campaign", order_by="Run.id")


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued running done failed cancelled
    data_file: Mapped[str | None] = mapped_column(Text)
    out_dir: Mapped[str] = mapped_column(Text)
    limit: Mapped[int | None]  # render at most this many recipients
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    written: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    qa_flagged: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    campaign: Mapped[Campaign] = relationship(back_populates="runs")


class Recipient(Base):
    __tablename__ = "recipients"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    row: Mapped[int] = mapped_column(Integer)
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # the recipient's share toggle
    ready_at: Mapped[dt.datetime | None]  # when the recipient's assets were first imported
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("recipient_id", "format", "colorway", "output"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"), index=True)
    format: Mapped[str] = mapped_column(String(64))
    colorway: Mapped[str] = mapped_column(String(64))
    output: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)  # absolute path on the server
    bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    qa: Mapped[str] = mapped_column(Text, default="")


class RejectRow(Base):
    __tablename__ = "rejects"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    row: Mapped[int]
    key: Mapped[str | None] = mapped_column(String(128))
    field: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)


class Event(Base):
    """One engagement event: open, view, download, share, click, conversion, bounce, unsubscribe."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("campaign_id", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_agent: Mapped[str | None] = mapped_column(Text)
    machine: Mapped[bool] = mapped_column(Boolean, default=False)  # mail-privacy proxy opens
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    external_id: Mapped[str | None] = mapped_column(String(200))  # caller's id: idempotent conversions


# -- delivery (email log, unsubscribes, webhooks) ---------------------------------------------


class Delivery(Base):
    """The delivery log: at most one email per recipient per campaign, ever."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("campaign_id", "recipient_id", "channel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20), default="email")
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending sending sent failed skipped unconfirmed
    attempts: Mapped[int] = mapped_column(default=0)
    message_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[dt.datetime | None]


class Unsubscribe(Base):
    """An address that must never be mailed again, by any campaign."""

    __tablename__ = "unsubscribes"
    email: Mapped[str] = mapped_column(String(320), primary_key=True)  # lower-cased
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebhookMessage(Base):
    """The webhook outbox: one row per (webhook, event), delivered in order per recipient."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index("ix_webhook_outbox_lines", "status", "webhook_id", "recipient_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    recipient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending delivered
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None]


class Lease(Base):
    """A named lock kept alive by a heartbeat: one sender per campaign, one webhook dispatcher."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))  # host:pid:nonce
    heartbeat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

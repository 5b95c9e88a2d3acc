"""The API's request and response bodies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .models import as_utc

Timestamp = Annotated[dt.datetime, AfterValidator(as_utc)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CampaignIn(BaseModel):
    folder: str = Field(description="Path of the campaign folder on the server.")
    slug: str | None = Field(default=None, description="Defaults to the campaign's name.")
    click_urls: list[str] | None = Field(
        default=None, description="URLs /c/ links may redirect to."
    )


class ClickUrlsIn(BaseModel):
    urls: list[str]


class CampaignOut(_Out):
    id: int
    slug: str
    name: str
    folder: str
    data_file: str | None
    click_urls: list[str]
    created_at: Timestamp


class RejectOut(_Out):
    row: int
    key: str | None
    field: str
    reason: str


class DataOut(BaseModel):
    data_file: str
    rows: int
    valid: int
    rejected_rows: int
    rejects: list[RejectOut]


class RunIn(BaseModel):
    limit: int | None = Field(
        default=None, ge=1, description="Render at most this many recipients."
    )


class RunOut(_Out):
    id: int
    campaign_id: int
    status: str
    limit: int | None
    total: int
    done: int
    written: int
    skipped: int
    rejected: int
    failed: int
    qa_flagged: int
    error: str | None
    cancel_requested: bool
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


class AssetOut(BaseModel):
    id: int
    key: str
    format: str
    colorway: str
    output: str
    bytes: int
    width: int
    height: int
    sha256: str
    qa: list[str]


class RecipientLink(BaseModel):
    id: int
    key: str
    email: str | None
    url: str
    assets: int


class ConversionIn(BaseModel):
    """A conversion, for a recipient named by their page token or by campaign and key."""

    event_id: str = Field(
        min_length=1, max_length=200, description="Your id for it: a repeat is ignored."
    )
    kind: Literal["conversion"] = "conversion"
    token: str | None = Field(
        default=None, description="The recipient's page token (from /r/<token>)."
    )
    campaign: str | None = Field(default=None, description="Campaign id or slug, with `recipient`.")
    recipient: str | None = Field(default=None, description="The recipient's key, with `campaign`.")
    amount: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")

    @model_validator(mode="after")
    def _names_a_recipient(self) -> ConversionIn:
        if not self.token and not (self.campaign and self.recipient):
            raise ValueError("name the recipient by `token`, or by `campaign` and `recipient`")
        return self


class EventOut(_Out):
    id: int
    campaign_id: int
    recipient_id: int | None
    kind: str
    at: Timestamp
    amount: Decimal | None
    currency: str | None
    external_id: str | None


class ApiKeyIn(BaseModel):
    name: str = Field(default="default", max_length=100)


class ApiKeyOut(BaseModel):
    key: str = Field(description="Shown once: only its hash is stored.")

"""The delivery log: one row per (campaign, recipient, channel), moved through its states.

    pending --(end of data about to be sent)--> sending --(250)--> sent
                                                        --(5xx)--> failed
                                                        --(4xx)--> pending (retried)
    sending found by a later run (it died after the end of data) --> unconfirmed
    skipped: no valid address, unsubscribed or no rendered asset; looked at again every run

`sent` is final. `failed` and `unconfirmed` are sent again only when the operator says so.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from ..errors import DeliveryError
from ..service.db import Database
from ..service.models import Delivery, utcnow

CHANNEL = "email"
UNCONFIRMED_NOTE = (
    "the run sending this stopped after handing over the message: look for its Message-ID in the "
    "mail server's log, then resend with --resend-unconfirmed if it is not there"
)


class DeliveryLog:
    def __init__(self, db: Database, campaign_id: int) -> None:
        self._db = db
        self._campaign_id = campaign_id

    def rows(self) -> dict[int, Delivery]:
        """Every email delivery row of the campaign, by recipient id."""
        with self._db.session() as session:
            rows = session.scalars(
                select(Delivery).where(
                    Delivery.campaign_id == self._campaign_id, Delivery.channel == CHANNEL
                )
            )
            return {row.recipient_id: row for row in rows}

    def recover(self) -> int:
        """Rows a dead run left `sending` become `unconfirmed`; only while holding the lease."""
        with self._db.session() as session:
            return session.execute(
                update(Delivery)
                .where(
                    Delivery.campaign_id == self._campaign_id,
                    Delivery.channel == CHANNEL,
                    Delivery.status == "sending",
                )
                .values(status="unconfirmed", error=UNCONFIRMED_NOTE, updated_at=utcnow())
            ).rowcount

    def prepare(self, due: Iterable[int], skipped: Iterable[tuple[int, str]]) -> dict[int, int]:
        """Mark recipients due (pending) or skipped with a reason; returns row ids by recipient."""
        wanted = [(recipient_id, "pending", None) for recipient_id in due]
        wanted += [(recipient_id, "skipped", reason) for recipient_id, reason in skipped]
        with self._db.session() as session:
            existing = {
                row.recipient_id: row
                for row in session.scalars(
                    select(Delivery).where(
                        Delivery.campaign_id == self._campaign_id, Delivery.channel == CHANNEL
                    )
                )
            }
            for recipient_id, status, reason in wanted:
                row = existing.get(recipient_id)
                if row is None:
                    row = Delivery(
                        campaign_id=self._campaign_id, recipient_id=recipient_id, channel=CHANNEL
                    )
                    session.add(row)
                    existing[recipient_id] = row
                if row.status == "sent":
                    raise DeliveryError(f"recipient {recipient_id} was already sent to")
                row.status, row.error = status, reason
            session.flush()
            return {recipient_id: existing[recipient_id].id for recipient_id, _, _ in wanted}

    def mark_sending(self, delivery_id: int, message_id: str) -> None:
        """Committed before the server can accept the message: the claim a re-run respects."""
        with self._db.session() as session:
            claimed = session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, Delivery.status == "pending")
                .values(status="sending", message_id=message_id, updated_at=utcnow())
            ).rowcount
        if claimed != 1:
            raise DeliveryError(
                f"delivery {delivery_id} is no longer pending: another sender took it"
            )

    def finish(self, delivery_id: int, status: str, note: str | None) -> None:
        """One attempt's outcome: sent (note: the server's reply), failed, pending, unconfirmed."""
        values: dict[str, object] = {
            "status": status,
            "updated_at": utcnow(),
            "attempts": Delivery.attempts + 1,
        }
        if status == "sent":
            values.update(sent_at=utcnow(), error=None)
        else:
            values["error"] = note
        with self._db.session() as session:
            session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))

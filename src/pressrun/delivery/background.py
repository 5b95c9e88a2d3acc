"""Delivery in the service: sends started from the API or dashboard, and the webhook dispatcher."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..errors import PressrunError
from ..service.db import Database
from ..service.errors import Conflict
from .dispatcher import start_background
from .sender import SendOptions, Sender

log = logging.getLogger("pressrun.delivery")


class DeliveryWorkers:
    """One send thread per campaign at most, and the webhook dispatcher, for the app's lifetime."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._sends: dict[int, tuple[threading.Thread, Sender]] = {}
        self.errors: dict[int, str] = {}  # why a campaign's last background send stopped early
        self._lock = threading.Lock()
        self._stop_dispatcher: Callable[[], None] | None = None

    def start(self) -> None:
        self._stop_dispatcher = start_background(self._db)

    def shutdown(self) -> None:
        with self._lock:
            sends = list(self._sends.values())
        for _, sender in sends:
            sender.stop()
        for thread, _ in sends:
            thread.join()
        if self._stop_dispatcher is not None:
            self._stop_dispatcher()

    def sending(self, campaign_id: int) -> bool:
        with self._lock:
            entry = self._sends.get(campaign_id)
            return entry is not None and entry[0].is_alive()

    def send(self, campaign_id: int, sender: Sender, options: SendOptions) -> None:
        """Start sending in the background; Conflict while this campaign is already sending."""
        with self._lock:
            entry = self._sends.get(campaign_id)
            if entry is not None and entry[0].is_alive():
                raise Conflict("this campaign is already sending")
            self.errors.pop(campaign_id, None)
            thread = threading.Thread(
                target=self._run, args=(campaign_id, sender, options), name=f"send {campaign_id}"
            )
            self._sends[campaign_id] = (thread, sender)
            thread.start()

    def _run(self, campaign_id: int, sender: Sender, options: SendOptions) -> None:
        try:
            sender.run(options)
        except (
            PressrunError
        ) as exc:  # what was sent is in the delivery log; this says why it stopped
            self.errors[campaign_id] = str(exc)
            log.error("send of campaign %s stopped: %s", campaign_id, exc)

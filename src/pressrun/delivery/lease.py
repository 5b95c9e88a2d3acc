"""Named leases in the database: at most one live holder, taken over when the holder is gone.

A holder is gone when its heartbeat is older than `stale_after`, or at once when it ran on this
host and its process no longer exists (a sender killed a moment ago can be re-run right away).
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from types import TracebackType

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from ..errors import DeliveryError
from ..service.db import Database
from ..service.models import Lease as LeaseRow
from ..service.models import as_utc, utcnow


class LeaseHeld(DeliveryError):
    """Someone else holds the lease and is alive."""


class Lease:
    def __init__(
        self, db: Database, name: str, *, stale_after: float = 30.0, heartbeat: float = 5.0
    ) -> None:
        self.name = name
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lost = threading.Event()  # set if another process took the lease from under us
        self._db = db
        self._stale_after = stale_after
        self._heartbeat = heartbeat
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(
        self, *, wait: bool = False, poll: float = 1.0, stop: threading.Event | None = None
    ) -> bool:
        """Take the lease, or raise LeaseHeld; with `wait`, poll until free (False once `stop`)."""
        while True:
            holder = self._try_acquire()
            if holder is None:
                self._thread = threading.Thread(
                    target=self._beat, name=f"lease {self.name}", daemon=True
                )
                self._thread.start()
                return True
            if not wait:
                raise LeaseHeld(f"{self.name} is held by {holder}")
            if (stop or self._stop).wait(poll):
                return False

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._db.session() as session:
            session.execute(
                delete(LeaseRow).where(LeaseRow.name == self.name, LeaseRow.owner == self.owner)
            )

    def __enter__(self) -> Lease:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def _try_acquire(self) -> str | None:
        """None when we now hold the lease, else who holds it."""
        try:
            with self._db.session() as session:
                row = session.get(LeaseRow, self.name)
                if row is None:
                    session.add(LeaseRow(name=self.name, owner=self.owner, heartbeat_at=utcnow()))
                    return None
                if not self._gone(row):
                    return row.owner
                taken = session.execute(
                    update(LeaseRow)
                    .where(LeaseRow.name == self.name, LeaseRow.owner == row.owner)
                    .values(owner=self.owner, heartbeat_at=utcnow())
                ).rowcount
                return None if taken == 1 else row.owner
        except IntegrityError:
            return "another process that took it at the same moment"

    def _gone(self, row: LeaseRow) -> bool:
        if (utcnow() - as_utc(row.heartbeat_at)).total_seconds() > self._stale_after:
            return True
        host, pid, _ = (row.owner.split(":") + ["", "", ""])[:3]
        return host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))

    def _beat(self) -> None:
        while not self._stop.wait(self._heartbeat):
            with self._db.session() as session:
                kept = session.execute(
                    update(LeaseRow)
                    .where(LeaseRow.name == self.name, LeaseRow.owner == self.owner)
                    .values(heartbeat_at=utcnow())
                ).rowcount
            if not kept:
                self.lost.set()
                return


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

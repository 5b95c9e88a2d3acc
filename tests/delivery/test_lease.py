from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import update

from pressrun.delivery.lease import Lease, LeaseHeld
from pressrun.service.db import Database
from pressrun.service.models import Lease as LeaseRow
from pressrun.service.models import utcnow


def _hold_as(db: Database, name: str, owner: str, age_s: float = 0.0) -> None:
    with db.session() as session:
        session.add(
            LeaseRow(name=name, owner=owner, heartbeat_at=utcnow() - dt.timedelta(seconds=age_s))
        )


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_held_lease_is_refused_and_free_again_after_release(db: Database) -> None:
    first = Lease(db, "send:1")
    first.acquire()
    with pytest.raises(LeaseHeld, match=first.owner):
        Lease(db, "send:1").acquire()
    other = Lease(db, "send:2")
    other.acquire()  # another name is another lock
    other.release()
    first.release()
    with Lease(db, "send:1"):
        pass


def test_a_holder_whose_process_died_on_this_host_is_taken_over_at_once(db: Database) -> None:
    _hold_as(db, "send:1", f"{socket.gethostname()}:{_dead_pid()}:dead")
    with Lease(db, "send:1") as lease:
        assert not lease.lost.is_set()


def test_a_live_holder_elsewhere_keeps_the_lease_until_its_heartbeat_goes_stale(
    db: Database,
) -> None:
    _hold_as(db, "send:1", f"other-host:{os.getpid()}:x")
    with pytest.raises(LeaseHeld):
        Lease(db, "send:1", stale_after=30).acquire()
    with db.session() as session:
        session.execute(update(LeaseRow).values(heartbeat_at=utcnow() - dt.timedelta(seconds=31)))
    with Lease(db, "send:1", stale_after=30):
        pass


def test_a_holder_that_was_taken_over_notices_it_lost_the_lease(db: Database) -> None:
    lease = Lease(db, "webhooks", heartbeat=0.01)
    lease.acquire()
    with db.session() as session:
        session.execute(update(LeaseRow).values(owner="thief:1:x"))
    assert lease.lost.wait(5)
    lease.release()

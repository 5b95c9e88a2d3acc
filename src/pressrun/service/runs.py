"""Render runs: queued in the database, executed by a pool of worker processes in the service.

A worker renders with `Campaign.render` into the campaign's output folder, whose journal keeps
every finished asset; progress and cancellation go through the Run row. When the service stops,
workers stop at the next finished asset and leave their run queued; `RunPool.resume` submits
such runs again at start-up and the journal makes them render only what is still missing.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.synchronize import Event as StopFlag
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..campaign import Campaign as CampaignFolder
from ..errors import PressrunError
from ..results import RenderReport
from . import models
from .catalog import campaign_dir, import_results
from .db import Database
from .errors import Conflict, ServiceError
from .settings import Settings

log = logging.getLogger("pressrun.service")

ACTIVE = ("queued", "running")
_PROGRESS_EVERY = 0.5  # seconds between progress writes (and cancellation checks)


def start_run(
    session: Session, settings: Settings, campaign: models.Campaign, *, limit: int | None = None
) -> models.Run:
    """Queue a run of `campaign`; one active run per campaign, since they share an output folder."""
    if limit is not None and limit < 1:
        raise ServiceError("limit must be at least 1")
    active = session.scalar(
        select(models.Run).where(
            models.Run.campaign_id == campaign.id, models.Run.status.in_(ACTIVE)
        )
    )
    if active is not None:
        raise Conflict(f"run {active.id} of {campaign.slug!r} is still {active.status}")
    run = models.Run(
        campaign_id=campaign.id,
        status="queued",
        data_file=campaign.data_file,
        out_dir=str(campaign_dir(settings, campaign) / "out"),
        limit=limit,
    )
    session.add(run)
    session.flush()
    return run


def request_cancel(session: Session, run: models.Run) -> None:
    if run.status not in ACTIVE:
        raise Conflict(f"run {run.id} is already {run.status}")
    run.cancel_requested = True


class RunPool:
    """The service's worker processes (spawned, so no threads or connections are inherited)."""

    def __init__(self, database_url: str, workers: int) -> None:
        self._database_url = database_url
        self._workers = workers
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, run_id: int) -> Future[str]:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self._workers,
                    mp_context=self._context,
                    initializer=_init_worker,
                    initargs=(self._stop, os.getpid()),
                )
            future = self._executor.submit(execute_run, self._database_url, run_id)
        future.add_done_callback(lambda done: self._finished(run_id, done))
        return future

    def resume(self, db: Database) -> list[int]:
        """Submit every run a previous service process left queued or running."""
        with db.session() as session:
            ids = list(
                session.scalars(
                    select(models.Run.id)
                    .where(models.Run.status.in_(ACTIVE))
                    .order_by(models.Run.id)
                )
            )
        for run_id in ids:
            self.submit(run_id)
        return ids

    def shutdown(self) -> None:
        self._stop.set()
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None

    def _finished(self, run_id: int, future: Future[str]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if isinstance(error, BrokenProcessPool):
            with self._lock:
                self._executor = None  # the next submit starts a fresh pool
            if not self._stop.is_set():
                _mark_failed(Database(self._database_url), run_id, "the worker process died")
        elif error is not None:
            log.error("run %s: %s", run_id, error)


# -- inside a worker process -------------------------------------------------------------------

_stop_flag: StopFlag | None = None
_databases: dict[str, Database] = {}


class _Cancelled(Exception):
    pass


class _Stopping(Exception):
    pass


def _init_worker(stop: StopFlag, parent_pid: int) -> None:
    global _stop_flag
    _stop_flag = stop
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    # A killed service must not leave a worker rendering on: the restarted service resumes the run.
    while os.getppid() == parent_pid:
        time.sleep(1)
    os._exit(1)


def _database(url: str) -> Database:
    if url not in _databases:
        _databases[url] = Database(url)
    return _databases[url]


def execute_run(database_url: str, run_id: int) -> str:
    """Render one run to the end (or to cancellation); returns the run's final status."""
    db = _database(database_url)
    with db.session() as session:
        run = session.get(models.Run, run_id)
        if run is None or run.status not in ACTIVE:
            return run.status if run else "missing"
        campaign = run.campaign
        if run.cancel_requested:
            run.status, run.finished_at = "cancelled", models.utcnow()
            return run.status
        run.status = "running"
        run.started_at = run.started_at or models.utcnow()
        folder, out, data, limit, planned = (
            Path(campaign.folder),
            Path(run.out_dir),
            run.data_file,
            run.limit,
            run.total,
        )
    progress = _RunProgress(db, run_id, planned)
    try:
        loaded = CampaignFolder.load(folder)
        report = loaded.render(data, out=out, limit=limit, progress=progress)
    except _Stopping:
        return "running"  # the service is stopping: the next start resumes the run
    except _Cancelled:
        return _finish(db, run_id, "cancelled", loaded, data)
    except PressrunError as exc:
        return _finish(db, run_id, "failed", None, data, error=str(exc))
    except Exception as exc:  # a bug or a broken machine: the run fails, the service carries on
        log.exception("run %s failed", run_id)
        return _finish(db, run_id, "failed", None, data, error=f"{type(exc).__name__}: {exc}")
    progress.flush()
    return _finish(db, run_id, "done", loaded, data, report=report, done_before=progress.before)


class _RunProgress:
    """A pressrun.Progress writing to the Run row, at most every half second.

    A resumed run keeps the total its first attempt planned: the assets that attempt finished
    are no longer pending, so they count as done from the start.
    """

    def __init__(self, db: Database, run_id: int, planned: int) -> None:
        self._db = db
        self._run_id = run_id
        self._planned = planned
        self.before = planned  # with nothing left to render, an earlier attempt did it all
        self._done = 0
        self._last = 0.0

    def start(self, total: int) -> None:
        self.before = max(0, self._planned - total) if self._planned else 0
        with self._db.session() as session:
            run = session.get(models.Run, self._run_id)
            assert run is not None
            run.total = self.before + total
        self._check(force=True)

    def advance(self, count: int = 1) -> None:
        self._done += count
        self._check(force=False)

    def flush(self) -> None:
        self._write()

    def _check(self, *, force: bool) -> None:
        if _stop_flag is not None and _stop_flag.is_set():
            self._write()
            raise _Stopping
        if not force and time.monotonic() - self._last < _PROGRESS_EVERY:
            return
        if self._write():
            raise _Cancelled

    def _write(self) -> bool:
        self._last = time.monotonic()
        with self._db.session() as session:
            run = session.get(models.Run, self._run_id)
            assert run is not None
            run.done = self.before + self._done
            return run.cancel_requested


def _finish(
    db: Database,
    run_id: int,
    status: str,
    loaded: CampaignFolder | None,
    data: str | None,
    *,
    report: RenderReport | None = None,
    done_before: int = 0,
    error: str | None = None,
) -> str:
    with db.session() as session:
        run = session.get(models.Run, run_id)
        assert run is not None
        if loaded is not None:
            import_results(session, run.campaign, Path(run.out_dir), loaded, data)
        if report is not None:
            _store_report(session, run, report, done_before)
        run.status, run.error, run.finished_at = status, error, models.utcnow()
    return status


def _store_report(
    session: Session, run: models.Run, report: RenderReport, done_before: int
) -> None:
    session.query(models.RejectRow).filter(models.RejectRow.run_id == run.id).delete()
    session.add_all(
        models.RejectRow(run_id=run.id, row=r.row, key=r.key, field=r.field, reason=r.reason)
        for r in report.rejects
    )
    # assets an interrupted earlier attempt rendered count as written, not as up to date
    run.written = done_before + len(report.written)
    run.skipped = max(0, report.skipped - done_before)
    run.rejected = report.validation.rejected_rows
    run.failed = len(report.failed)
    run.qa_flagged = len(report.qa_flagged)


def _mark_failed(db: Database, run_id: int, error: str) -> None:
    with db.session() as session:
        run = session.get(models.Run, run_id)
        if run is not None and run.status in ACTIVE:
            run.status, run.error, run.finished_at = "failed", error, models.utcnow()

"""Runs in worker code: progress, cancellation that keeps finished assets, stop-and-resume."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import select

from pressrun.service import catalog, models, runs
from pressrun.service.db import Database
from pressrun.service.settings import Settings

SIX_RECIPIENTS = "id,email,name,points\n" + "".join(
    f"r{i},r{i}@example.com,Person {i},{i * 40}\n" for i in range(1, 7)
)


@pytest.fixture
def six(db: Database, settings: Settings, make_campaign) -> models.Run:  # type: ignore[no-untyped-def]
    """A queued run of a campaign with six recipients (one PNG each)."""
    with db.session() as session:
        campaign = catalog.register_campaign(session, make_campaign(csv=SIX_RECIPIENTS))
        return runs.start_run(session, settings, campaign)


def _run(db: Database, run_id: int) -> models.Run:
    with db.session() as session:
        run = session.get(models.Run, run_id)
        assert run is not None
        return run


def _after_first_asset(monkeypatch: pytest.MonkeyPatch, action) -> None:  # type: ignore[no-untyped-def]
    """Call `action` once, right after the first asset is finished."""
    monkeypatch.setattr(runs, "_PROGRESS_EVERY", 0.0)
    advance = runs._RunProgress.advance
    state = {"fired": False}

    def patched(self: runs._RunProgress, count: int = 1) -> None:
        if not state["fired"]:
            state["fired"] = True
            action()
        advance(self, count)

    monkeypatch.setattr(runs._RunProgress, "advance", patched)


def test_a_run_renders_and_imports(db: Database, settings: Settings, six: models.Run) -> None:
    assert runs.execute_run(settings.database_url, six.id) == "done"
    run = _run(db, six.id)
    assert (run.total, run.done, run.written, run.skipped, run.started_at is not None) == (
        6,
        6,
        6,
        0,
        True,
    )
    with db.session() as session:
        assets = session.scalars(
            select(models.Asset).where(models.Asset.campaign_id == run.campaign_id)
        ).all()
        assert len(assets) == 6 and all(Path(a.path).is_file() for a in assets)
        assert all(r.ready_at is not None for r in session.scalars(select(models.Recipient)))


def test_cancel_stops_and_keeps_finished_assets(
    db: Database, settings: Settings, six: models.Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cancel() -> None:
        with db.session() as session:
            run = session.get(models.Run, six.id)
            assert run is not None
            runs.request_cancel(session, run)

    _after_first_asset(monkeypatch, cancel)
    assert runs.execute_run(settings.database_url, six.id) == "cancelled"
    run = _run(db, six.id)
    assert run.status == "cancelled" and run.finished_at is not None
    with db.session() as session:
        kept = session.scalars(select(models.Asset)).all()
    assert 1 <= len(kept) < 6
    assert all(Path(a.path).is_file() for a in kept)


def test_a_cancelled_queued_run_never_starts(
    db: Database, settings: Settings, six: models.Run
) -> None:
    with db.session() as session:
        run = session.get(models.Run, six.id)
        assert run is not None
        runs.request_cancel(session, run)
    assert runs.execute_run(settings.database_url, six.id) == "cancelled"
    assert _run(db, six.id).started_at is None


def test_a_stopped_run_resumes_without_redoing_work(
    db: Database, settings: Settings, six: models.Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = multiprocessing.get_context("spawn").Event()
    monkeypatch.setattr(runs, "_stop_flag", stop)
    _after_first_asset(monkeypatch, stop.set)
    assert runs.execute_run(settings.database_url, six.id) == "running"
    stopped = _run(db, six.id)
    assert stopped.status == "running" and 1 <= stopped.done < 6  # left for the next service start
    out = Path(stopped.out_dir)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.png")}
    assert len(before) >= stopped.done

    stop.clear()
    assert runs.execute_run(settings.database_url, six.id) == "done"
    run = _run(db, six.id)
    assert (run.total, run.done, run.written) == (6, 6, 6)
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in before.items())  # nothing redone
    assert len(list(out.rglob("*.png"))) == 6


def test_one_active_run_per_campaign(db: Database, settings: Settings, six: models.Run) -> None:
    with db.session() as session:
        campaign = session.get(models.Campaign, six.campaign_id)
        assert campaign is not None
        with pytest.raises(runs.Conflict):
            runs.start_run(session, settings, campaign)


def test_a_broken_campaign_fails_the_run_with_its_reason(
    db: Database, settings: Settings, six: models.Run, tmp_path: Path
) -> None:
    (tmp_path / "campaign" / "campaign.yaml").write_text("name: [unclosed")  # the folder `six` made
    assert runs.execute_run(settings.database_url, six.id) == "failed"
    assert "not valid YAML" in (_run(db, six.id).error or "")

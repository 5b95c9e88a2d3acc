"""The CLI: `pressrun admin create-user`, `pressrun links`, and `pressrun serve` killed mid-run."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pressrun.cli import app
from pressrun.service import models
from pressrun.service.db import Database
from pressrun.service.settings import Settings
from pressrun.service.tokens import TokenSigner

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "PRESSRUN_DATABASE_URL": settings.database_url,
        "PRESSRUN_SECRET": settings.secret,
        "PRESSRUN_BASE_URL": settings.base_url,
        "PRESSRUN_DATA_DIR": str(settings.data_dir),
        "PRESSRUN_RUN_WORKERS": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_create_user_prints_a_working_api_key(env: dict[str, str], db: Database) -> None:
    result = runner.invoke(
        app, ["admin", "create-user", "--email", "Lee@Example.com", "--password", "long enough"]
    )
    assert result.exit_code == 0, result.output
    key = re.search(r"(pr_[\w-]+)", result.output)
    assert key is not None
    from pressrun.service import auth

    with db.session() as session:
        user = auth.user_for_api_key(session, key.group(1))
        assert user is not None and user.email == "lee@example.com"
        assert auth.authenticate(session, "lee@example.com", "long enough") is not None
    again = runner.invoke(
        app, ["admin", "create-user", "--email", "lee@example.com", "--password", "long enough"]
    )
    assert again.exit_code == 2 and "already exists" in again.output
    short = runner.invoke(
        app, ["admin", "create-user", "--email", "kim@example.com", "--password", "short"]
    )
    assert short.exit_code == 2 and "8 characters" in short.output


def test_links_prints_or_writes_signed_urls(
    env: dict[str, str], db: Database, imported: models.Campaign, settings: Settings, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["links", imported.slug])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["key"], r["email"], r["assets"]) for r in rows] == [
        ("ana", "ana@example.com", "2"),
        ("bo", "bo@example.com", "2"),
    ]
    signer = TokenSigner(settings.secret)
    with db.session() as session:
        for row in rows:
            assert row["url"].startswith(f"{settings.base_url}/r/")
            claims = signer.verify(row["url"].rsplit("/", 1)[1])
            assert claims is not None and claims.campaign_id == imported.id
            recipient = session.get(models.Recipient, claims.recipient_id)
            assert recipient is not None and recipient.key == row["key"]
    target = tmp_path / "links.csv"
    assert runner.invoke(app, ["links", str(imported.id), "--out", str(target)]).exit_code == 0
    assert target.read_text() == result.output
    missing = runner.invoke(app, ["links", "nope"])
    assert missing.exit_code == 2 and "no campaign 'nope'" in missing.output


# -- a real `pressrun serve`, killed with SIGKILL in the middle of a run ---------------------------

def _people(count: int) -> str:
    rows = (f"p{i:02},p{i}@example.com,Person {i},{i * 20}\n" for i in range(1, count + 1))
    return "id,email,name,points\n" + "".join(rows)


SIXTY = _people(60)  # long enough that a kill always lands mid-run, however fast the renderer


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def serve(env: dict[str, str], settings: Settings) -> Iterator[callable]:  # type: ignore[valid-type]
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        port = settings.base_url.rsplit(":", 1)[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "pressrun", "serve", "--port", port],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{settings.base_url}/openapi.json").status_code == 200:
                    return process
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError("pressrun serve did not start")

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_killed_mid_run_resumes_and_loses_nothing(
    serve,
    user,
    settings: Settings,
    make_campaign,  # type: ignore[no-untyped-def]
) -> None:
    folder = make_campaign(csv=SIXTY, formats=["square", "portrait"], outputs=["png", "pdf"])
    first = serve()
    api = httpx.Client(base_url=settings.base_url, headers={"X-API-Key": user.api_key}, timeout=30)
    campaign = api.post("/api/campaigns", json={"folder": str(folder)}).json()
    run_id = api.post(f"/api/campaigns/{campaign['id']}/runs", json={}).json()["id"]
    deadline = time.monotonic() + 120
    while (run := api.get(f"/api/runs/{run_id}").json())["done"] < 4:
        assert run["status"] in ("queued", "running") and time.monotonic() < deadline, run
        time.sleep(0.1)
    assert run["done"] < run["total"] == 240, "the run ended before the kill: make it longer"

    workers = _descendants(first.pid)
    first.send_signal(signal.SIGKILL)
    first.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers):  # workers and their Chromium follow the service down
        assert time.monotonic() < deadline, "processes outlived the killed service"
        time.sleep(0.2)
    out = Path(settings.data_dir / "campaigns" / "fixture" / "out")
    finished_before = {
        path: path.stat().st_mtime_ns
        for path in out.rglob("*.p*")
        if path.suffix in (".png", ".pdf")
    }
    assert 4 <= len(finished_before) < 240

    serve()
    deadline = time.monotonic() + 240
    while (run := api.get(f"/api/runs/{run_id}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, run
        time.sleep(0.3)
    assert run["status"] == "done", run
    assert (run["total"], run["done"], run["written"]) == (240, 240, 240)
    assert len(api.get(f"/api/runs/{run_id}/assets").json()) == 240
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in finished_before.items())
    api.close()

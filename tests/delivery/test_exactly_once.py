"""`pressrun send` killed or interrupted mid-campaign, then run again: everyone gets exactly one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from .conftest import MAILABLE, SmtpServer

ADDRESSES = sorted(f"{k}@example.{'es' if k == 'jose' else 'com'}" for k in MAILABLE)


def _env(database_url: str, tmp_path: Path, smtp: SmtpServer, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PRESSRUN_DATABASE_URL": database_url,
        "PRESSRUN_DATA_DIR": str(tmp_path / "data"),
        "PRESSRUN_SECRET": "exactly-once",
        "PRESSRUN_BASE_URL": "http://pressrun.test",
        "PRESSRUN_SMTP_HOST": "127.0.0.1",
        "PRESSRUN_SMTP_PORT": str(smtp.port),
        "PRESSRUN_SMTP_SECURITY": "none",
        "PRESSRUN_SMTP_FROM": "Tempo <wrapped@tempo.example>",
        "PRESSRUN_SMTP_BACKOFF": "0.05",
        **extra,
    }


def _send(campaign: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pressrun", "send", str(campaign), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(condition, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_killed_mid_campaign_then_rerun_everyone_gets_exactly_one(
    database_url: str, tmp_path: Path, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    slow = _env(
        database_url, tmp_path, smtp_server, PRESSRUN_SMTP_RATE="3", PRESSRUN_SMTP_CONCURRENCY="2"
    )
    first = _send(campaign_dir, slow)
    _wait_for(lambda: len(smtp_server.mailbox.messages) >= 2, "two messages")
    first.send_signal(signal.SIGKILL)
    first.wait()
    accepted_before = set(smtp_server.mailbox.to())
    assert len(accepted_before) < len(ADDRESSES)  # it really was cut short

    rerun = _send(campaign_dir, _env(database_url, tmp_path, smtp_server, PRESSRUN_SMTP_RATE="0"))
    output, _ = rerun.communicate(timeout=120)
    assert sorted(smtp_server.mailbox.to()) == ADDRESSES, output  # each exactly once
    # A kill that fell between the server's acceptance and our log leaves that one `unconfirmed`
    # (exit 1): it must be a message the server did accept, never one that was lost.
    unconfirmed = {
        line.split()[3] for line in output.splitlines() if " unconfirmed " in line and "@" in line
    }
    assert rerun.returncode == (1 if unconfirmed else 0), output
    assert unconfirmed <= accepted_before


def test_killed_between_the_servers_acceptance_and_the_log_the_message_is_reported_not_resent(
    database_url: str, tmp_path: Path, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    env = _env(
        database_url, tmp_path, smtp_server, PRESSRUN_SMTP_RATE="0", PRESSRUN_SMTP_CONCURRENCY="1"
    )
    first = _send(campaign_dir, env)

    def kill_on_third(
        envelope: object,
    ) -> None:  # runs in the server as the 3rd message's data ends
        if len(smtp_server.mailbox.messages) == 2:
            os.kill(first.pid, signal.SIGKILL)
            first.wait()

    smtp_server.mailbox.on_data = kill_on_third
    first.wait(timeout=120)
    smtp_server.mailbox.on_data = None
    assert len(smtp_server.mailbox.messages) == 3  # the server accepted the third message

    rerun = _send(campaign_dir, env)
    output, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 1, output  # an unconfirmed message needs a person's look
    assert "unconfirmed" in output and "Message-ID" in output
    assert sorted(smtp_server.mailbox.to()) == ADDRESSES  # nobody twice, everybody once

    forced = _send(campaign_dir, env, "--resend-unconfirmed")
    forced.communicate(timeout=120)
    counts = Counter(smtp_server.mailbox.to())
    assert sorted(counts.values()) == [1] * 5 + [2]  # only when the operator asks


def test_ctrl_c_finishes_the_message_in_flight_and_a_rerun_sends_the_rest(
    database_url: str, tmp_path: Path, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    slow = _env(
        database_url, tmp_path, smtp_server, PRESSRUN_SMTP_RATE="3", PRESSRUN_SMTP_CONCURRENCY="1"
    )
    first = _send(campaign_dir, slow)
    _wait_for(lambda: len(smtp_server.mailbox.messages) >= 2, "two messages")
    first.send_signal(signal.SIGINT)
    output, _ = first.communicate(timeout=60)
    assert first.returncode == 130, output
    assert "Interrupted" in output

    rerun = _send(campaign_dir, _env(database_url, tmp_path, smtp_server, PRESSRUN_SMTP_RATE="0"))
    output, _ = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, output
    assert sorted(smtp_server.mailbox.to()) == ADDRESSES
    assert "unconfirmed" not in output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_dry_run_prints_the_plan_and_sends_nothing(
    database_url: str, tmp_path: Path, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    run = _send(campaign_dir, _env(database_url, tmp_path, smtp_server), "--dry-run")
    output, _ = run.communicate(timeout=120)
    assert run.returncode == 0, output
    assert "Dry run: nothing sent" in output and "planned" in output and "late" in output
    assert smtp_server.mailbox.messages == []

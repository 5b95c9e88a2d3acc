from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from pressrun.service import auth

from .conftest import MAILABLE, Service, SmtpServer


@pytest.fixture
def api(service: Service, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer) -> httpx.Client:
    """An API client with a key for the running service; SMTP settings from its environment."""
    for name, value in {
        "HOST": "127.0.0.1",
        "PORT": str(smtp_server.port),
        "SECURITY": "none",
        "RATE": "0",
        "FROM": "Tempo <wrapped@tempo.example>",
    }.items():
        monkeypatch.setenv(f"PRESSRUN_SMTP_{name}", value)
    with service.db.session() as session:
        key = auth.create_api_key(
            session, auth.create_user(session, "ops@tempo.example", "long-password"), "t"
        )
    return httpx.Client(base_url=service.base_url, headers={"X-API-Key": key}, timeout=30)


def _wait_until_done(api: httpx.Client, campaign: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, object] = api.get(f"/api/campaigns/{campaign}/deliveries").json()
        if not body["sending"]:
            return body
        assert time.monotonic() < deadline, "the send did not finish"
        time.sleep(0.1)


def test_api_send_dry_run_then_send_in_the_background_and_list_deliveries(
    api: httpx.Client, service: Service, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    campaign, _ = service.register(campaign_dir)
    plan = api.post(f"/api/campaigns/{campaign.slug}/send", json={"dry_run": True})
    assert plan.status_code == 202 and plan.json()["dry_run"] is True
    assert [r["key"] for r in plan.json()["recipients"] if r["status"] == "planned"] == MAILABLE
    assert smtp_server.mailbox.messages == []

    started = api.post(f"/api/campaigns/{campaign.id}/send", json={})
    assert started.status_code == 202 and started.json()["started"] is True
    body = _wait_until_done(api, campaign.slug)
    assert body["counts"] == {"sent": 6, "skipped": 2} and body["last_error"] is None
    rows = {d["key"]: d for d in body["deliveries"]}  # type: ignore[union-attr]
    assert rows["late"]["error"] == "no rendered card png asset" and rows["ana"][
        "message_id"
    ].startswith("<")
    assert sorted(smtp_server.mailbox.to()) == sorted(
        r["email"] for r in rows.values() if r["status"] == "sent"
    )
    assert api.get(
        f"/api/campaigns/{campaign.slug}/deliveries", params={"status": "skipped"}
    ).json()["counts"] == {"sent": 6, "skipped": 2}
    assert (
        httpx.post(f"{service.base_url}/api/campaigns/{campaign.slug}/send", json={}).status_code
        == 401
    )


def test_api_send_without_a_from_address_is_a_clear_400(
    api: httpx.Client, service: Service, campaign_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRESSRUN_SMTP_FROM")
    campaign, _ = service.register(campaign_dir)
    answer = api.post(f"/api/campaigns/{campaign.slug}/send", json={})
    assert answer.status_code == 400 and "PRESSRUN_SMTP_FROM" in answer.json()["detail"]


def test_webhook_crud_through_the_api(
    api: httpx.Client, service: Service, campaign_dir: Path
) -> None:
    campaign, _ = service.register(campaign_dir)
    created = api.post(
        f"/api/campaigns/{campaign.slug}/webhooks", json={"url": "https://crm.example/hook"}
    )
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    listed = api.get(f"/api/campaigns/{campaign.slug}/webhooks").json()
    assert listed == [
        {
            "id": created.json()["id"],
            "url": "https://crm.example/hook",
            "active": True,
            "secret": None,
        }
    ]
    bad = api.post(f"/api/campaigns/{campaign.slug}/webhooks", json={"url": "ftp://crm.example"})
    assert bad.status_code == 400 and "http(s)" in bad.json()["detail"]
    assert api.delete(f"/api/webhooks/{created.json()['id']}").status_code == 204
    assert api.get(f"/api/campaigns/{campaign.slug}/webhooks").json() == []
    assert api.delete(f"/api/webhooks/{created.json()['id']}").status_code == 404


def test_dashboard_deliveries_tab_sends_and_shows_failures_with_the_servers_reason(
    api: httpx.Client, service: Service, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    campaign, _ = service.register(campaign_dir)
    smtp_server.mailbox.rcpt_replies["max@example.com"] = (
        "550 5.7.1 <max@example.com>: Relay access denied"
    )
    browser = httpx.Client(base_url=service.base_url, follow_redirects=True, timeout=30)
    csrf = _csrf(browser.get("/login").text)
    browser.post(
        "/login", data={"email": "ops@tempo.example", "password": "long-password", "csrf": csrf}
    )
    tab = browser.get(f"/campaigns/{campaign.id}/deliveries")
    assert tab.status_code == 200 and "Nothing sent yet" in tab.text
    sent = browser.post(f"/campaigns/{campaign.id}/send", data={"csrf": _csrf(tab.text)})
    assert sent.status_code == 200
    _wait_until_done(api, campaign.slug)
    page = browser.get(f"/campaigns/{campaign.id}/deliveries").text
    assert "550 5.7.1 &lt;max@example.com&gt;: Relay access denied" in page
    assert page.index("max@example.com") < page.index("ana@example.com")  # failures lead the list
    added = browser.post(
        f"/campaigns/{campaign.id}/webhooks",
        data={"csrf": _csrf(page), "url": "https://crm.example/h"},
    )
    assert "signing secret, shown only now" in added.text and "whsec_" in added.text


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)

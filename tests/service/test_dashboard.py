"""The dashboard over real HTTP: log-in, CSRF on every form, campaign pages, search, gallery, rejects."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from pressrun.service import models
from pressrun.service.db import Database
from pressrun.service.deps import SESSION_COOKIE


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


@pytest.fixture
def browser(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


@pytest.fixture
def logged_in(browser: httpx.Client, user) -> httpx.Client:  # type: ignore[no-untyped-def]
    token = _csrf(browser.get("/login"))
    response = browser.post(
        "/login", data={"email": user.email, "password": user.password, "csrf": token}
    )
    assert response.status_code == 303 and response.headers["location"] == "/campaigns"
    return browser


def test_pages_need_a_log_in(browser: httpx.Client, imported: models.Campaign) -> None:
    for path in (
        "/campaigns",
        f"/campaigns/{imported.id}",
        f"/campaigns/{imported.id}/gallery",
        "/runs/1/progress",
    ):
        response = browser.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    assert browser.get("/").headers["location"] == "/login"


def test_log_in_checks_csrf_and_password(browser: httpx.Client, user) -> None:  # type: ignore[no-untyped-def]
    form = browser.get("/login")
    assert (
        browser.post("/login", data={"email": user.email, "password": user.password}).status_code
        == 403
    )
    assert (
        browser.post(
            "/login", data={"email": user.email, "password": user.password, "csrf": "forged"}
        ).status_code
        == 403
    )
    wrong = browser.post(
        "/login", data={"email": user.email, "password": "nope nope", "csrf": _csrf(form)}
    )
    assert wrong.status_code == 401 and "Wrong email or password." in wrong.text
    assert SESSION_COOKIE not in browser.cookies


def test_a_csrf_token_is_bound_to_its_browser(server: str, user) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server) as attacker, httpx.Client(base_url=server) as victim:
        stolen = _csrf(attacker.get("/login"))
        victim.get("/login")
        response = victim.post(
            "/login", data={"email": user.email, "password": user.password, "csrf": stolen}
        )
        assert response.status_code == 403


def test_a_tampered_session_cookie_is_ignored(logged_in: httpx.Client) -> None:
    cookie = logged_in.cookies[SESSION_COOKIE]
    user_id, rest = cookie.split(".", 1)
    logged_in.cookies.set(SESSION_COOKIE, f"{int(user_id) + 1}.{rest}")
    assert logged_in.get("/campaigns").status_code == 303


def test_register_a_folder_from_the_dashboard(logged_in: httpx.Client, make_campaign) -> None:  # type: ignore[no-untyped-def]
    page = logged_in.get("/campaigns")
    assert page.status_code == 200 and "No campaigns yet" in page.text
    folder = str(make_campaign())
    assert logged_in.post("/campaigns", data={"folder": folder}).status_code == 403
    created = logged_in.post("/campaigns", data={"folder": folder, "csrf": _csrf(page)})
    assert created.status_code == 303
    overview = logged_in.get(created.headers["location"])
    assert "<h1>Fixture</h1>" in overview.text and "Start run" in overview.text
    broken = logged_in.post("/campaigns", data={"folder": "/nowhere", "csrf": _csrf(page)})
    assert broken.status_code == 200 and "no campaign file" in broken.text


def test_overview_shows_the_metrics_and_a_chart(
    logged_in: httpx.Client, imported: models.Campaign, recipient_token
) -> None:  # type: ignore[no-untyped-def]
    logged_in.get(
        f"/o/{recipient_token('ana')}.gif", headers={"User-Agent": "Mozilla/5.0 (Macintosh) Safari"}
    )
    logged_in.get(f"/o/{recipient_token('bo')}.gif", headers={"User-Agent": "Mozilla/5.0"})
    page = logged_in.get(f"/campaigns/{imported.id}").text
    assert re.search(r"Open rate</span><span class=\"value\">50.0 %", page)
    assert "1 human · 1 machine opens" in page
    assert '<svg class="chart"' in page and "Opens" in page


def test_recipients_search(logged_in: httpx.Client, imported: models.Campaign) -> None:
    everyone = logged_in.get(f"/campaigns/{imported.id}/recipients").text
    assert '<td class="mono">ana</td>' in everyone and '<td class="mono">bo</td>' in everyone
    found = logged_in.get(f"/campaigns/{imported.id}/recipients", params={"q": "BO@"}).text
    assert '<td class="mono">bo</td>' in found and '<td class="mono">ana</td>' not in found
    assert "/r/" in found  # the signed page link


def test_gallery_shows_qa_flags(
    logged_in: httpx.Client, imported: models.Campaign, db: Database
) -> None:
    with db.session() as session:
        asset = session.scalars(select(models.Asset).where(models.Asset.output == "png")).first()
        assert asset is not None
        asset.qa = 'overflow: h1 "Ana Lima"'
    everything = logged_in.get(f"/campaigns/{imported.id}/gallery").text
    assert everything.count('<li class="tile') == 2
    flagged = logged_in.get(f"/campaigns/{imported.id}/gallery", params={"flagged": "true"}).text
    assert flagged.count('<li class="tile') == 1 and "overflow: h1 &#34;Ana Lima&#34;" in flagged
    thumb = logged_in.get(f"/campaigns/{imported.id}/thumbs/{asset.id}")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"


def test_rejects_of_the_latest_finished_run(
    logged_in: httpx.Client, imported: models.Campaign, db: Database
) -> None:
    with db.session() as session:
        run = models.Run(campaign_id=imported.id, status="done", out_dir="/tmp")
        session.add(run)
        session.flush()
        session.add(
            models.RejectRow(
                run_id=run.id, row=7, key="zed", field="email", reason="'x' is not an email address"
            )
        )
    page = logged_in.get(f"/campaigns/{imported.id}/rejects").text
    assert "zed" in page and "is not an email address" in page


def test_start_and_cancel_a_run_from_the_dashboard(
    logged_in: httpx.Client, imported: models.Campaign, db: Database
) -> None:
    page = logged_in.get(f"/campaigns/{imported.id}")
    assert logged_in.post(f"/campaigns/{imported.id}/runs", data={"limit": "1"}).status_code == 403
    refused = logged_in.post(
        f"/campaigns/{imported.id}/runs", data={"limit": "ten", "csrf": _csrf(page)}
    )
    assert "Recipients must be a whole number." in refused.text
    started = logged_in.post(
        f"/campaigns/{imported.id}/runs", data={"limit": "1", "csrf": _csrf(page)}
    )
    assert started.status_code == 303
    with db.session() as session:
        run = session.scalars(select(models.Run)).one()
    progress = logged_in.get(f"/runs/{run.id}/progress").json()
    assert progress["status"] in ("queued", "running", "done")
    cancel = logged_in.post(f"/runs/{run.id}/cancel", data={"csrf": _csrf(page)})
    assert cancel.status_code == 303
    with db.session() as session:
        finished = session.get(models.Run, run.id)
        assert finished is not None
        assert finished.cancel_requested or finished.status == "done"


def test_log_out(logged_in: httpx.Client) -> None:
    page = logged_in.get("/campaigns")
    assert logged_in.post("/logout").status_code == 403
    assert logged_in.post("/logout", data={"csrf": _csrf(page)}).status_code == 303
    assert logged_in.get("/campaigns").status_code == 303

"""The JSON API through a real HTTP client against the app served by uvicorn (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import httpx
from PIL import Image

from pressrun.service import models

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_every_api_route_needs_a_valid_key(anonymous: httpx.Client, user: object) -> None:
    assert anonymous.get("/api/campaigns").status_code == 401
    assert (
        anonymous.get("/api/campaigns", headers={"X-API-Key": "pr_not-a-real-key"}).status_code
        == 401
    )
    assert anonymous.post("/api/events", json={}).status_code == 401


def test_openapi_docs_list_the_api(anonymous: httpx.Client) -> None:
    spec = anonymous.get("/openapi.json").json()
    assert {
        "/api/campaigns",
        "/api/campaigns/{campaign}/runs",
        "/api/runs/{run_id}/cancel",
        "/api/events",
    } <= set(spec["paths"])
    assert anonymous.get("/docs").status_code == 200


def test_register_a_folder_is_idempotent_by_slug(api: httpx.Client, make_campaign) -> None:  # type: ignore[no-untyped-def]
    folder = make_campaign()
    first = api.post("/api/campaigns", json={"folder": str(folder)})
    assert first.status_code == 201
    assert first.json()["slug"] == "fixture"
    again = api.post(
        "/api/campaigns", json={"folder": str(folder), "click_urls": ["https://example.com/a"]}
    )
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["click_urls"] == ["https://example.com/a"]
    assert [c["slug"] for c in api.get("/api/campaigns").json()] == ["fixture"]
    assert api.get("/api/campaigns/fixture").json()["id"] == first.json()["id"]


def test_register_refuses_a_folder_without_a_campaign(api: httpx.Client, tmp_path: Path) -> None:
    response = api.post("/api/campaigns", json={"folder": str(tmp_path)})
    assert response.status_code == 400
    assert "no campaign file" in response.json()["detail"]


def test_click_urls_must_be_absolute(api: httpx.Client, make_campaign) -> None:  # type: ignore[no-untyped-def]
    api.post("/api/campaigns", json={"folder": str(make_campaign())})
    response = api.put("/api/campaigns/fixture/click-urls", json={"urls": ["/relative"]})
    assert response.status_code == 400
    assert "/relative" in response.json()["detail"]


def _zip(folder: Path, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in folder.rglob("*"):
            if file.is_file():
                archive.write(file, prefix + str(file.relative_to(folder)))
    return buffer.getvalue()


def test_upload_a_campaign_zip(api: httpx.Client, make_campaign, settings) -> None:  # type: ignore[no-untyped-def]
    archive = _zip(make_campaign(), prefix="my-campaign/")
    response = api.post(
        "/api/campaigns/upload",
        files={"file": ("c.zip", archive, "application/zip")},
        data={"slug": "uploaded"},
    )
    assert response.status_code == 201, response.text
    folder = Path(response.json()["folder"])
    assert folder.is_relative_to(settings.data_dir) and (folder / "campaign.yaml").is_file()
    assert response.json()["slug"] == "uploaded"


def test_upload_refuses_entries_outside_the_folder(api: httpx.Client, settings) -> None:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("campaign.yaml", "name: x\n")
        archive.writestr("../../escaped.txt", "gotcha")
    response = api.post(
        "/api/campaigns/upload", files={"file": ("c.zip", buffer.getvalue(), "application/zip")}
    )
    assert response.status_code == 400
    assert "outside" in response.json()["detail"]
    assert not list(settings.data_dir.parent.rglob("escaped.txt"))
    not_zip = api.post(
        "/api/campaigns/upload", files={"file": ("c.zip", b"plain text", "application/zip")}
    )
    assert not_zip.status_code == 400


def test_upload_data_validates_and_names_rejects(api: httpx.Client, make_campaign) -> None:  # type: ignore[no-untyped-def]
    api.post("/api/campaigns", json={"folder": str(make_campaign())})
    data = "id,email,name,points\nzoe,zoe@example.com,Zoe,5\nyan,not-an-email,Yan,7\nxia,xia@example.com,Xia,-3\n"
    response = api.post(
        "/api/campaigns/fixture/data", files={"file": ("people.csv", data, "text/csv")}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows"], body["valid"], body["rejected_rows"]) == (3, 1, 2)
    assert {(r["row"], r["key"], r["field"]) for r in body["rejects"]} == {
        (3, "yan", "email"),
        (4, "xia", "points"),
    }
    assert api.get("/api/campaigns/fixture").json()["data_file"] == body["data_file"]


def test_a_run_renders_lists_assets_manifest_and_rejects(
    api: httpx.Client, make_campaign, wait_for_run
) -> None:  # type: ignore[no-untyped-def]
    csv_text = "id,email,name,points\nana,ana@example.com,Ana,150\nbo,bo@example.com,Bo,20\nbad,bad@example.com,Bad,-1\n"
    campaign = api.post("/api/campaigns", json={"folder": str(make_campaign(csv=csv_text))}).json()
    started = api.post(f"/api/campaigns/{campaign['id']}/runs", json={})
    assert started.status_code == 202
    assert (
        api.post(f"/api/campaigns/{campaign['id']}/runs", json={}).status_code == 409
    )  # one active run at a time

    run = wait_for_run(api, started.json()["id"])
    assert run["status"] == "done", run
    assert (run["total"], run["done"], run["written"], run["rejected"]) == (2, 2, 2, 1)

    assets = api.get(f"/api/runs/{run['id']}/assets").json()
    assert {(a["key"], a["colorway"], a["output"]) for a in assets} == {
        ("ana", "sunrise", "png"),
        ("bo", "midnight", "png"),
    }
    manifest = list(
        csv.DictReader(io.StringIO(api.get(f"/api/runs/{run['id']}/manifest.csv").text))
    )
    assert {row["sha256"] for row in manifest} == {a["sha256"] for a in assets}
    rejects = api.get(f"/api/runs/{run['id']}/rejects").json()
    assert rejects == [{"row": 4, "key": "bad", "field": "points", "reason": rejects[0]["reason"]}]
    assert "points" in api.get(f"/api/runs/{run['id']}/rejects.csv").text

    links = api.get(f"/api/campaigns/{campaign['id']}/recipients").json()
    page = httpx.get(next(link["url"] for link in links if link["key"] == "ana"))
    assert page.status_code == 200 and "Ana" in page.text
    asset_id = next(a["id"] for a in assets if a["key"] == "ana")
    token = next(link["url"] for link in links if link["key"] == "ana").rsplit("/", 1)[1]
    image = api.get(f"/r/{token}/download/{asset_id}").content
    assert image.startswith(PNG_SIGNATURE)
    assert Image.open(io.BytesIO(image)).size == (1080, 1080)


def test_cancel_a_finished_run_is_a_conflict(
    api: httpx.Client, make_campaign, wait_for_run
) -> None:  # type: ignore[no-untyped-def]
    campaign = api.post("/api/campaigns", json={"folder": str(make_campaign())}).json()
    run = api.post(f"/api/campaigns/{campaign['id']}/runs", json={"limit": 1}).json()
    assert wait_for_run(api, run["id"])["status"] == "done"
    assert api.post(f"/api/runs/{run['id']}/cancel").status_code == 409
    assert api.get("/api/runs/999999").status_code == 404


def test_conversions_are_idempotent_by_event_id(
    api: httpx.Client, imported: models.Campaign, recipient_token
) -> None:  # type: ignore[no-untyped-def]
    body = {
        "event_id": "order-1",
        "token": recipient_token("ana"),
        "amount": "19.90",
        "currency": "eur",
    }
    first = api.post("/api/events", json=body)
    assert first.status_code == 201, first.text
    again = api.post("/api/events", json=body)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    by_key = {
        "event_id": "order-2",
        "campaign": imported.slug,
        "recipient": "bo",
        "amount": "5",
        "currency": "EUR",
    }
    assert api.post("/api/events", json=by_key).status_code == 201
    stolen_id = {**by_key, "recipient": "ana"}
    assert api.post("/api/events", json=stolen_id).status_code == 409

    metrics = api.get(f"/api/campaigns/{imported.slug}/metrics").json()
    assert metrics["conversions"] == 2
    assert Decimal(metrics["revenue"]["EUR"]) == Decimal("24.90")
    assert Decimal(metrics["revenue_per_send"]["EUR"]) == Decimal(
        "12.45"
    )  # two recipients have assets


def test_conversions_refuse_unknown_recipients(
    api: httpx.Client, imported: models.Campaign, recipient_token
) -> None:  # type: ignore[no-untyped-def]
    token = recipient_token("ana")
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert (
        api.post(
            "/api/events", json={"event_id": "x", "token": forged, "amount": "1", "currency": "USD"}
        ).status_code
        == 404
    )
    unknown = {
        "event_id": "y",
        "campaign": imported.slug,
        "recipient": "nobody",
        "amount": "1",
        "currency": "USD",
    }
    assert api.post("/api/events", json=unknown).status_code == 404
    nameless = api.post("/api/events", json={"event_id": "z", "amount": "1", "currency": "USD"})
    assert nameless.status_code == 422
    assert (
        api.post(
            "/api/events", json={"event_id": "n", "token": token, "amount": "-1", "currency": "USD"}
        ).status_code
        == 422
    )


def test_new_api_keys_work(api: httpx.Client, anonymous: httpx.Client) -> None:
    key = api.post("/api/keys", json={"name": "ci"}).json()["key"]
    assert anonymous.get("/api/campaigns", headers={"X-API-Key": key}).status_code == 200

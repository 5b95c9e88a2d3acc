"""The catalog and event interfaces the rest of the service (and delivery) builds on."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from pressrun import Campaign
from pressrun.service import catalog, models
from pressrun.service.db import Database
from pressrun.service.events import record_event
from pressrun.service.settings import Settings


def test_import_results_upserts_recipients_and_assets(
    db: Database, rendered: tuple[Path, Path], tmp_path: Path
) -> None:
    folder, rendered_out = rendered
    out = tmp_path / "out"
    shutil.copytree(rendered_out, out)
    loaded = Campaign.load(folder)
    with db.session() as session:
        campaign = catalog.register_campaign(session, folder)
        catalog.import_results(session, campaign, out, loaded)
        catalog.import_results(session, campaign, out, loaded)  # idempotent
        recipients = session.scalars(select(models.Recipient).order_by(models.Recipient.key)).all()
        assert [(r.key, r.email, r.row, r.values["points"]) for r in recipients] == [
            ("ana", "ana@example.com", 2, 150),
            ("bo", "bo@example.com", 3, 20),
        ]
        assets = session.scalars(select(models.Asset)).all()
        assert len(assets) == 4 and all(
            Path(a.path).is_absolute() and Path(a.path).is_file() for a in assets
        )

    only_ana = [
        line
        for line in (out / "manifest.csv").read_text().splitlines()
        if not line.startswith("bo,")
    ]
    (out / "manifest.csv").write_text("\n".join(only_ana) + "\n")
    with db.session() as session:
        catalog.import_results(session, campaign, out, loaded)
        keys = session.scalars(select(models.Recipient.key).join(models.Asset).distinct()).all()
    assert keys == ["ana"]  # assets gone from the output are gone from the catalog


def test_register_is_idempotent_by_slug(db: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        first = catalog.register_campaign(
            session, make_campaign(), click_urls=["https://a.example/"]
        )
        second = catalog.register_campaign(session, make_campaign(name="moved"))
        assert first.id == second.id and second.folder.endswith("moved")
        assert second.click_urls == ["https://a.example/"]  # kept when not given
        assert catalog.find_campaign(session, "fixture") is first
        assert catalog.find_campaign(session, str(first.id)) is first


def test_signed_urls(settings: Settings) -> None:
    signer = catalog.signer(settings)
    page = catalog.recipient_url(settings, 3, 4)
    assert page.startswith(f"{settings.base_url}/r/")
    claims = signer.verify(page.rsplit("/", 1)[1])
    assert claims is not None and (claims.campaign_id, claims.recipient_id) == (3, 4)
    assert catalog.open_pixel_url(settings, 3, 4) == page.replace("/r/", "/o/") + ".gif"
    assert catalog.click_url(settings, 3, 4, "https://x.example/?a=1&b=2").endswith(
        "?to=https%3A%2F%2Fx.example%2F%3Fa%3D1%26b%3D2"
    )


def test_events_go_through_the_orm_and_external_ids_are_idempotent(
    db: Database, imported: models.Campaign
) -> None:
    seen: list[str] = []

    def listener(session: Session, _context: object, _instances: object) -> None:
        seen.extend(obj.kind for obj in session.new if isinstance(obj, models.Event))

    event.listen(Session, "before_flush", listener)
    try:
        with db.session() as session:
            first, again = (
                record_event(
                    session,
                    campaign_id=imported.id,
                    recipient_id=None,
                    kind="conversion",
                    external_id="e1",
                )
                for _ in range(2)
            )
            record_event(session, campaign_id=imported.id, recipient_id=None, kind="open")
            assert again.id == first.id
    finally:
        event.remove(Session, "before_flush", listener)
    assert seen == ["conversion", "open"]

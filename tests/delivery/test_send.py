from __future__ import annotations

import re
import shutil
from email.message import EmailMessage
from pathlib import Path

import httpx
import yaml
from sqlalchemy import select

from pressrun.delivery.sender import SendOptions
from pressrun.service.models import Delivery, Event, Recipient, Unsubscribe, Webhook, WebhookMessage

from .conftest import MAILABLE, Service, SmtpServer

_HREF = re.compile(r'(?:href|src)="([^"]+)"')


def _by_address(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    return {m["To"].addresses[0].addr_spec: m for m in messages}


def _deliveries(service: Service) -> dict[str, Delivery]:
    with service.db.session() as session:
        rows = session.execute(
            select(Delivery, Recipient.key).join(Recipient, Recipient.id == Delivery.recipient_id)
        )
        return {key: delivery for delivery, key in rows}


def _html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def _text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_every_mailable_recipient_gets_one_standard_message_whose_links_work(
    service: Service, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    report = service.sender(campaign_dir, smtp_server.settings()).run(SendOptions())

    assert sorted(o.key for o in report.by_status("sent")) == sorted(MAILABLE)
    assert {o.key: o.detail for o in report.by_status("skipped")} == {
        "noemail": "no email address",
        "late": "no rendered card png asset",
    }
    messages = _by_address(smtp_server.mailbox.messages)
    assert len(smtp_server.mailbox.messages) == 6 and len(messages) == 6
    logged = _deliveries(service)
    assert {k: d.status for k, d in logged.items()} == {
        **{k: "sent" for k in MAILABLE},
        "noemail": "skipped",
        "late": "skipped",
    }

    jose = messages["jose@example.es"]
    assert str(jose["Subject"]) == "Tu año en canciones, José Núñez"  # localized, UTF-8 decoded
    assert jose["To"].addresses[0].display_name == "José Núñez"
    assert jose["Message-ID"] == logged["jose"].message_id
    assert [p.get_content_type() for p in jose.iter_parts()] == ["text/plain", "text/html"]
    assert "José Núñez & friends" in _text(jose) and "Mira y descarga el tuyo" in _text(jose)
    assert "José Núñez &amp; friends" in _html(jose) and '<html lang="es">' in _html(jose)

    page, image, *_ = _HREF.findall(_html(jose))
    unsubscribe_link = jose["List-Unsubscribe"].strip("<>")
    pixel = _HREF.findall(_html(jose))[-1]
    assert page.startswith(f"{service.base_url}/r/") and f'href="{unsubscribe_link}"' in _html(jose)
    with httpx.Client() as client:
        assert client.get(page).status_code == 200 and "José" in client.get(page).text
        shown = client.get(image)
        assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
        opened = client.get(pixel)
        assert pixel.endswith(".gif") and opened.headers["content-type"] == "image/gif"
        confirm = client.get(unsubscribe_link)  # a GET only asks: scanners open every link
        assert confirm.status_code == 200 and "jose@example.es" in confirm.text
        with service.db.session() as session:
            assert session.get(Unsubscribe, "jose@example.es") is None
        one_click = client.post(
            unsubscribe_link, data={"List-Unsubscribe": "One-Click"}
        )  # RFC 8058
        assert one_click.status_code == 200 and "You are unsubscribed" in one_click.text
        assert client.get(unsubscribe_link.replace("/u/", "/u/x")).status_code == 404
    with service.db.session() as session:
        assert session.get(Unsubscribe, "jose@example.es") is not None
        kinds = set(session.scalars(select(Event.kind)))
    assert {"view", "open", "unsubscribe"} <= kinds

    again = service.sender(campaign_dir, smtp_server.settings()).run(SendOptions())
    assert again.already_sent == 6 and not again.by_status("sent")
    assert len(smtp_server.mailbox.messages) == 6


def test_an_unsubscribed_address_is_never_mailed_again_by_any_campaign(
    service: Service, smtp_server: SmtpServer, campaign_dir: Path, tmp_path: Path
) -> None:
    service.sender(campaign_dir, smtp_server.settings()).run(SendOptions(only=["ana"]))
    unsubscribe_link = smtp_server.mailbox.messages[0]["List-Unsubscribe"].strip("<>")
    assert httpx.post(unsubscribe_link, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    other = Path(shutil.copytree(campaign_dir, tmp_path / "other"))
    spec = yaml.safe_load((other / "campaign.yaml").read_text())
    (other / "campaign.yaml").write_text(
        yaml.safe_dump({**spec, "name": "second-campaign"}, allow_unicode=True, sort_keys=False)
    )
    report = service.sender(other, smtp_server.settings()).run(SendOptions())
    assert {o.key: o.detail for o in report.by_status("skipped")}["ana"] == "unsubscribed"
    assert "ana@example.com" not in smtp_server.mailbox.to()[1:]
    assert len(smtp_server.mailbox.messages) == 1 + 5


def test_421_then_250_delivers_once(
    service: Service, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    smtp_server.mailbox.data_replies.append("421 4.7.0 Too busy, try again later")
    report = service.sender(campaign_dir, smtp_server.settings(concurrency=1)).run(SendOptions())
    assert sorted(smtp_server.mailbox.to()) == sorted(
        f"{k}@example.{'es' if k == 'jose' else 'com'}" for k in MAILABLE
    )
    assert len(report.by_status("sent")) == 6
    logged = _deliveries(service)
    assert logged["ana"].attempts == 2 and logged["ana"].status == "sent"
    assert all(logged[k].attempts == 1 for k in MAILABLE if k != "ana")


def test_temporary_failures_past_the_attempts_are_deferred_and_a_rerun_sends(
    service: Service, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    smtp_server.mailbox.data_replies.extend(["451 4.3.0 Local problem"] * 3)
    smtp = smtp_server.settings(concurrency=1, attempts=3)
    report = service.sender(campaign_dir, smtp).run(SendOptions(only=["ana"]))
    [deferred] = report.by_status("deferred")
    assert "451 4.3.0 Local problem" in deferred.detail and smtp_server.mailbox.messages == []
    assert _deliveries(service)["ana"].status == "pending"
    service.sender(campaign_dir, smtp).run(SendOptions(only=["ana"]))
    assert smtp_server.mailbox.to() == ["ana@example.com"]


def test_a_permanent_refusal_is_logged_with_the_servers_reason_and_becomes_a_bounce_event(
    service: Service, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    campaign, _ = service.register(campaign_dir)
    with service.db.session() as session:
        session.add(Webhook(campaign_id=campaign.id, url="http://127.0.0.1:9/hook", secret="s"))
    smtp_server.mailbox.rcpt_replies["bo@example.com"] = (
        "550 5.1.1 <bo@example.com>: Recipient address rejected"
    )
    report = service.sender(campaign_dir, smtp_server.settings()).run(SendOptions())
    [failed] = report.by_status("failed")
    assert (
        failed.key == "bo"
        and "550 5.1.1 <bo@example.com>: Recipient address rejected" in failed.detail
    )
    assert (
        _deliveries(service)["bo"].error == "550 5.1.1 <bo@example.com>: Recipient address rejected"
    )
    with service.db.session() as session:
        bounce = session.scalars(select(Event).where(Event.kind == "bounce")).one()
        assert bounce.detail == {
            "code": 550,
            "reason": "5.1.1 <bo@example.com>: Recipient address rejected",
        }
        assert session.scalars(select(WebhookMessage.event_id)).all() == [bounce.id]

    del smtp_server.mailbox.rcpt_replies["bo@example.com"]
    rerun = service.sender(campaign_dir, smtp_server.settings()).run(SendOptions())
    assert [o.key for o in rerun.by_status("failed")] == ["bo"] and not rerun.by_status("sent")
    service.sender(campaign_dir, smtp_server.settings()).run(SendOptions(retry_failed=True))
    assert (
        smtp_server.mailbox.to().count("bo@example.com") == 1
        and _deliveries(service)["bo"].status == "sent"
    )


def test_dry_run_sends_nothing_and_only_and_limit_choose_who_is_sent_to(
    service: Service, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    plan = service.sender(campaign_dir, smtp_server.settings()).run(SendOptions(dry_run=True))
    assert [o.key for o in plan.by_status("planned")] == MAILABLE
    assert smtp_server.mailbox.messages == [] and _deliveries(service) == {}
    service.sender(campaign_dir, smtp_server.settings()).run(
        SendOptions(only=["max", "kim", "late"], limit=1)
    )
    assert smtp_server.mailbox.to() == ["kim@example.com"]  # data order; late has no asset
    service.sender(campaign_dir, smtp_server.settings()).run(SendOptions(limit=2))
    assert sorted(smtp_server.mailbox.to()[1:]) == [
        "ana@example.com",
        "bo@example.com",
    ]  # the first two due


def test_inline_mode_carries_the_image_in_the_message(
    service: Service, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    spec = yaml.safe_load((campaign_dir / "campaign.yaml").read_text())
    spec["email"]["image"] = "inline"
    (campaign_dir / "campaign.yaml").write_text(
        yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)
    )
    service.sender(campaign_dir, smtp_server.settings()).run(SendOptions(only=["ana"]))
    [message] = smtp_server.mailbox.messages
    text, related = message.iter_parts()
    html, image = related.iter_parts()
    assert (
        related.get_content_type() == "multipart/related"
        and image.get_content_type() == "image/jpeg"
    )
    assert f'src="cid:{image["Content-ID"][1:-1]}"' in html.get_content()
    assert image.get_content()[:2] == b"\xff\xd8"  # a JPEG


def test_a_template_that_fails_for_one_recipient_fails_only_them(
    service: Service, smtp_server: SmtpServer, campaign_dir: Path
) -> None:
    body = campaign_dir / "email" / "body.txt"
    body.write_text(body.read_text() + "{% if r.locale == 'es' %}{{ r.nickname }}{% endif %}\n")
    plan = service.sender(campaign_dir, smtp_server.settings()).run(SendOptions(dry_run=True))
    assert [(o.key, o.status) for o in plan.outcomes if o.key == "jose"] == [
        ("jose", "failed")
    ]  # seen before
    report = service.sender(campaign_dir, smtp_server.settings()).run(SendOptions())
    [failed] = report.by_status("failed")
    assert failed.key == "jose" and "nickname" in failed.detail
    assert len(smtp_server.mailbox.messages) == 5

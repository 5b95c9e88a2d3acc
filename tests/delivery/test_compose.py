from __future__ import annotations

from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage

from pressrun.delivery.compose import Envelope, InlineImage, compose, new_message_id
from pressrun.delivery.letters import Letter

SENDER = Address("Tempo Wrapped", "wrapped", "tempo.example")
TO = Address("José Núñez", "jose", "example.es")
LETTER = Letter(
    subject="Tu año en canciones, José — ¡gracias!",
    html='<html><body><p>Hola José</p><img src="IMAGE"><a href="https://x.example/u/tok">baja</a></body></html>',
    text="Hola José\nhttps://x.example/u/tok\n",
)


def _envelope(**overrides: object) -> Envelope:
    fields: dict[str, object] = {
        "sender": SENDER,
        "to": TO,
        "reply_to": Address("", "hello", "tempo.example"),
        "message_id": new_message_id(SENDER),
        "unsubscribe_url": "https://x.example/u/tok",
    }
    return Envelope(**{**fields, **overrides})  # type: ignore[arg-type]


def _roundtrip(message: EmailMessage) -> EmailMessage:
    """What a receiving server parses out of the bytes on the wire."""
    parsed = message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_hosted_message_is_alternative_text_then_html_with_decodable_utf8_headers() -> None:
    envelope = _envelope()
    wire = compose(envelope, LETTER).as_bytes(policy=policy.SMTP)
    assert wire.isascii()  # 7-bit clean: quoted-printable parts, encoded-word headers
    parsed = message_from_bytes(wire, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in parsed.iter_parts())
    assert str(parsed["Subject"]) == LETTER.subject
    assert parsed["To"].addresses[0].display_name == "José Núñez"
    assert parsed["To"].addresses[0].addr_spec == "jose@example.es"
    assert str(parsed["From"]) == "Tempo Wrapped <wrapped@tempo.example>"
    assert str(parsed["Reply-To"]) == "hello@tempo.example"
    assert parsed["Message-ID"] == envelope.message_id and envelope.message_id.endswith(
        "@tempo.example>"
    )
    assert parsed["Date"] is not None and parsed["MIME-Version"] == "1.0"
    assert parsed["List-Unsubscribe"] == "<https://x.example/u/tok>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == LETTER.text  # type: ignore[union-attr]
    assert "Hola José" in parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_inline_image_travels_in_multipart_related_under_its_content_id() -> None:
    image = InlineImage(b"\xff\xd8\xff\xe0fakejpeg", "jpeg", "card.jpg", new_message_id(SENDER))
    letter = Letter(LETTER.subject, LETTER.html.replace("IMAGE", image.url), LETTER.text)
    parsed = _roundtrip(compose(_envelope(), letter, image))
    text, related = list(parsed.iter_parts())
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, attached = list(related.iter_parts())
    assert html.get_content_type() == "text/html"
    assert f'src="cid:{image.cid[1:-1]}"' in html.get_content()
    assert attached.get_content_type() == "image/jpeg"
    assert attached["Content-ID"] == image.cid
    assert attached.get_content_disposition() == "inline"
    assert attached.get_content() == image.data


def test_mailto_unsubscribe_is_offered_only_when_a_mailbox_is_configured() -> None:
    parsed = _roundtrip(compose(_envelope(unsubscribe_mailto="unsubscribe@tempo.example"), LETTER))
    assert parsed["List-Unsubscribe"] == (
        "<https://x.example/u/tok>, <mailto:unsubscribe@tempo.example?subject=unsubscribe%20tok>"
    )

"""One standards-correct email: MIME tree, UTF-8 headers, Message-ID, one-click unsubscribe.

Structure: multipart/alternative [text/plain, text/html], and when the image travels inline,
multipart/alternative [text/plain, multipart/related [text/html, image]] so the HTML part
refers to the image by its Content-ID.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import quote

from .letters import Letter


@dataclass(frozen=True)
class Envelope:
    sender: Address
    to: Address
    reply_to: Address | None
    message_id: str
    unsubscribe_url: str
    unsubscribe_mailto: str | None = None


@dataclass(frozen=True)
class InlineImage:
    data: bytes
    subtype: str  # png, jpeg or webp
    filename: str
    cid: str  # "<...@domain>", as make_msgid returns it

    @property
    def url(self) -> str:
        return f"cid:{self.cid[1:-1]}"


def new_message_id(sender: Address) -> str:
    return make_msgid(domain=sender.domain)


def compose(envelope: Envelope, letter: Letter, image: InlineImage | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = envelope.sender
    message["To"] = envelope.to
    if envelope.reply_to:
        message["Reply-To"] = envelope.reply_to
    message["Subject"] = letter.subject
    message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message["Message-ID"] = envelope.message_id
    message["List-Unsubscribe"] = _list_unsubscribe(envelope)
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    # quoted-printable keeps every part 7-bit clean, so no server needs 8BITMIME
    message.set_content(letter.text, cte="quoted-printable")
    message.add_alternative(letter.html, subtype="html", cte="quoted-printable")
    if image is not None:
        html_part = message.get_payload()[1]
        html_part.add_related(
            image.data,
            maintype="image",
            subtype=image.subtype,
            cid=image.cid,
            filename=image.filename,
            disposition="inline",
        )
    return message


def _list_unsubscribe(envelope: Envelope) -> str:
    links = [f"<{envelope.unsubscribe_url}>"]
    if envelope.unsubscribe_mailto:
        token = envelope.unsubscribe_url.rstrip("/").rsplit("/", 1)[-1]
        links.append(
            f"<mailto:{envelope.unsubscribe_mailto}?subject={quote('unsubscribe ' + token)}>"
        )
    return ", ".join(links)

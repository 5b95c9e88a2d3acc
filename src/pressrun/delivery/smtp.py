"""One SMTP connection and its transaction, split at the end-of-data dot.

Everything up to the final `.` can be abandoned: a server never delivers a message whose data
it did not see end. So the transaction calls `before_commit` (the caller records "sending")
just before the dot and only then lets the server accept. What follows the dot is the one
window no SMTP client can close (RFC 1047): a connection lost there is `Unconfirmed`.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8

from ..errors import DeliveryError
from .config import SmtpSettings

_LEADING_DOT = re.compile(rb"(?m)^\.")


class TemporaryFailure(DeliveryError):
    """Not accepted, try again later: a 4xx reply or a connection problem before the end of data."""


class PermanentFailure(DeliveryError):
    """Refused for good with a 5xx reply; `reason` is the server's own words."""

    def __init__(self, code: int, reason: str, stage: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason
        self.stage = stage  # mail, rcpt or data


class Unconfirmed(DeliveryError):
    """The connection was lost after the end of data: the server may or may not have the message."""


class SmtpConnection:
    """A reusable connection that reconnects on demand; not thread-safe (one per worker)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage, before_commit: Callable[[], None]) -> str:
        """Deliver `message` to its To address; returns the server's acceptance reply."""
        sender = message["From"].addresses[0].addr_spec
        recipient = message["To"].addresses[0].addr_spec
        try:
            smtp = self._connect()
            utf8 = not (sender + recipient).isascii()
            if utf8 and not smtp.has_extn("smtputf8"):
                raise PermanentFailure(
                    553, "the server does not accept non-ASCII addresses (SMTPUTF8)", "mail"
                )
            data = _quote_periods(message.as_bytes(policy=SMTPUTF8 if utf8 else SMTP))
            self._expect(
                smtp.mail(sender, ["SMTPUTF8", "BODY=8BITMIME"] if utf8 else []), "mail", (250,)
            )
            self._expect(smtp.rcpt(recipient), "rcpt", (250, 251))
            smtp.putcmd("data")
            self._expect(smtp.getreply(), "data", (354,))
            smtp.send(data)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TemporaryFailure(f"connection problem: {exc}") from None
        except (TemporaryFailure, PermanentFailure):
            self._reset()
            raise
        try:
            before_commit()
        except BaseException:
            self.close()  # the server drops data that never ended: nothing was sent
            raise
        try:
            smtp.send(b".\r\n")
            return self._expect(smtp.getreply(), "data", (250,))
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise Unconfirmed(f"connection lost after the end of data: {exc}") from None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self._settings
        context = ssl.create_default_context()
        if s.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(
                        f"{s.host}:{s.port} does not offer STARTTLS (PRESSRUN_SMTP_SECURITY)"
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            smtp.close()
            raise DeliveryError(
                f"SMTP login as {s.user!r} refused: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _expect(self, reply: tuple[int, bytes], stage: str, accepted: tuple[int, ...]) -> str:
        code, text = reply[0], _text(reply[1])
        if code in accepted:
            return f"{code} {text}"
        if code == 421:  # the server is closing the channel
            self.close()
        if 400 <= code < 500 or code == -1:
            raise TemporaryFailure(f"{code} {text}")
        raise PermanentFailure(code, text, stage)

    def _reset(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()


def _quote_periods(data: bytes) -> bytes:
    data = _LEADING_DOT.sub(b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _text(raw: bytes | str) -> str:
    return (
        (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)
        .replace("\r\n", " ")
        .strip()
    )

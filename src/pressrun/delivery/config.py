"""SMTP settings from PRESSRUN_SMTP_* environment variables, and address parsing."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.errors import HeaderParseError, MessageDefect
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Literal, TypeVar, get_args

from ..errors import DeliveryError

Security = Literal["starttls", "tls", "none"]
_DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}
_N = TypeVar("_N", int, float)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    security: Security = "starttls"
    user: str | None = None
    password: str | None = None
    sender: str | None = None  # the From address, "Name <addr>"; a campaign may override it
    reply_to: str | None = None
    rate: float = 10.0  # messages per second over all connections; 0 means unlimited
    concurrency: int = 4  # SMTP connections in parallel
    timeout: float = 30.0
    attempts: int = 5  # tries for a temporary failure (4xx, dropped connection) within one run
    backoff: float = 2.0  # seconds before the first retry; doubles each time
    unsubscribe_mailto: str | None = None  # a mailbox someone processes, for List-Unsubscribe

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SmtpSettings:
        def get(name: str) -> str | None:
            return env.get(f"PRESSRUN_SMTP_{name}") or None

        security = (get("SECURITY") or "starttls").lower()
        if security not in get_args(Security):
            raise DeliveryError(
                f"PRESSRUN_SMTP_SECURITY must be starttls, tls or none, not {security!r}"
            )
        settings = cls(
            host=get("HOST") or "localhost",
            port=_number(get("PORT"), "PORT", int, _DEFAULT_PORTS[security]),
            security=security,  # type: ignore[arg-type]
            user=get("USER"),
            password=get("PASSWORD"),
            sender=get("FROM"),
            reply_to=get("REPLY_TO"),
            rate=_number(get("RATE"), "RATE", float, cls.rate),
            concurrency=_number(get("CONCURRENCY"), "CONCURRENCY", int, cls.concurrency),
            timeout=_number(get("TIMEOUT"), "TIMEOUT", float, cls.timeout),
            attempts=_number(get("ATTEMPTS"), "ATTEMPTS", int, cls.attempts),
            backoff=_number(get("BACKOFF"), "BACKOFF", float, cls.backoff),
            unsubscribe_mailto=get("UNSUBSCRIBE_MAILTO"),
        )
        if settings.concurrency < 1 or settings.attempts < 1 or settings.rate < 0:
            raise DeliveryError("PRESSRUN_SMTP_CONCURRENCY and _ATTEMPTS must be >= 1, _RATE >= 0")
        return settings


def _number(raw: str | None, name: str, kind: Callable[[str], _N], default: _N) -> _N:
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise DeliveryError(f"PRESSRUN_SMTP_{name} must be a number, not {raw!r}") from None


def parse_address(text: str, what: str) -> Address:
    """`Name <user@example.com>` or a bare address, as a header Address, or DeliveryError."""
    name, addr = parseaddr(text)
    address = email_address(addr)
    if address is None:
        raise DeliveryError(f"{what}: {text!r} is not a valid email address")
    return Address(display_name=name, username=address.username, domain=address.domain)


def email_address(addr: str | None) -> Address | None:
    """The address if it is a deliverable `local@domain.tld`, else None."""
    if not addr or any(ch.isspace() for ch in addr):
        return None
    try:
        address = Address(addr_spec=addr.strip())
    except (HeaderParseError, MessageDefect, ValueError, IndexError):
        return None
    if not address.username or "." not in address.domain.strip("."):
        return None
    return address

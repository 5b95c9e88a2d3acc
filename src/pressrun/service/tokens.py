"""Signed recipient tokens: HMAC-SHA256 over (campaign, recipient, expiry), URL-safe.

The payload holds database ids only, never the recipient's key or email; a token that was
forged, altered or has expired verifies as None, which the routes turn into a 404.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass

_PAYLOAD = struct.Struct(">QQQ")  # campaign id, recipient id, expiry (unix seconds, 0 = never)
_MAC_BYTES = 16


@dataclass(frozen=True)
class TokenClaims:
    campaign_id: int
    recipient_id: int
    expires: int = 0


class TokenSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"pressrun-token:" + secret.encode()).digest()

    def sign(self, campaign_id: int, recipient_id: int, *, ttl_seconds: int | None = None) -> str:
        expires = int(time.time()) + ttl_seconds if ttl_seconds else 0
        payload = _PAYLOAD.pack(campaign_id, recipient_id, expires)
        return _encode(payload + self._mac(payload))

    def verify(self, token: str) -> TokenClaims | None:
        try:
            raw = _decode(token)
        except ValueError:
            return None
        if len(raw) != _PAYLOAD.size + _MAC_BYTES or _encode(raw) != token:
            return None  # wrong size, or a non-canonical spelling of the same bytes
        payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        campaign_id, recipient_id, expires = _PAYLOAD.unpack(payload)
        if expires and expires < time.time():
            return None
        return TokenClaims(campaign_id, recipient_id, expires)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(token: str) -> bytes:
    if not token or len(token) > 100:
        raise ValueError("not a token")
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise ValueError("not a token") from None

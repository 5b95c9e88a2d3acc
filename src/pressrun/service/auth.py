"""Users, passwords, API keys, dashboard session cookies and CSRF tokens (stdlib crypto only)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import models
from .errors import Conflict, ServiceError

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
SESSION_TTL = 14 * 24 * 3600
API_KEY_PREFIX = "pr_"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate, _unb64(digest))


def create_user(session: Session, email: str, password: str) -> models.User:
    email = email.strip().lower()
    if "@" not in email:
        raise ServiceError(f"{email!r} is not an email address")
    if len(password) < 8:
        raise ServiceError("the password must have at least 8 characters")
    if session.scalar(select(models.User).where(models.User.email == email)) is not None:
        raise Conflict(f"a user {email!r} already exists")
    user = models.User(email=email, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> models.User | None:
    user = session.scalar(select(models.User).where(models.User.email == email.strip().lower()))
    if user is None:
        hash_password(password)  # spend the same time as for a real user: no account probing
        return None
    return user if check_password(password, user.password_hash) else None


def create_api_key(session: Session, user: models.User, name: str = "default") -> str:
    """A new key for `user`; only its hash is stored, so the key is shown once."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(models.ApiKey(user_id=user.id, name=name[:100], key_hash=_key_hash(key)))
    session.flush()
    return key


def user_for_api_key(session: Session, key: str) -> models.User | None:
    if not key.startswith(API_KEY_PREFIX):
        return None
    api_key = session.scalar(select(models.ApiKey).where(models.ApiKey.key_hash == _key_hash(key)))
    return session.get(models.User, api_key.user_id) if api_key else None


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class CookieSigner:
    """Session cookies (`user.expiry.mac`) and CSRF tokens bound to a per-browser nonce."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"pressrun-dashboard:" + secret.encode()).digest()

    def session_cookie(self, user_id: int) -> str:
        payload = f"{user_id}.{int(time.time()) + SESSION_TTL}"
        return f"{payload}.{self._mac('session', payload)}"

    def session_user(self, cookie: str | None) -> int | None:
        if not cookie or cookie.count(".") != 2:
            return None
        payload, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac("session", payload)):
            return None
        user_id, expires = payload.split(".")
        if not (user_id.isdigit() and expires.isdigit()) or int(expires) < time.time():
            return None
        return int(user_id)

    def csrf_token(self, nonce: str) -> str:
        return self._mac("csrf", nonce)

    def check_csrf(self, nonce: str | None, token: str | None) -> bool:
        return bool(nonce and token) and hmac.compare_digest(
            self.csrf_token(nonce or ""), token or ""
        )

    def _mac(self, purpose: str, payload: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}|{payload}".encode(), hashlib.sha256).digest())


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

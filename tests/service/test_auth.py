"""Passwords, API keys and signed dashboard cookies."""

from __future__ import annotations

import pytest

from pressrun.service import auth
from pressrun.service.db import Database
from pressrun.service.errors import Conflict, ServiceError


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = auth.hash_password("open sesame"), auth.hash_password("open sesame")
    assert first != second and first.startswith("scrypt$")
    assert auth.check_password("open sesame", first)
    assert not auth.check_password("open sesame!", first)
    assert not auth.check_password("open sesame", "md5$nonsense")


def test_users_and_keys(db: Database) -> None:
    with db.session() as session:
        user = auth.create_user(session, " Ana@Example.com ", "long enough")
        key = auth.create_api_key(session, user)
        with pytest.raises(Conflict):
            auth.create_user(session, "ana@example.com", "another one")
        with pytest.raises(ServiceError):
            auth.create_user(session, "no-at-sign", "long enough")
        assert auth.authenticate(session, "ANA@example.com", "long enough") is user
        assert auth.authenticate(session, "ana@example.com", "wrong pass") is None
        assert auth.authenticate(session, "nobody@example.com", "long enough") is None
        assert auth.user_for_api_key(session, key) is user
        assert auth.user_for_api_key(session, key + "x") is None
        stored = session.query(auth.models.ApiKey).one()
        assert key not in stored.key_hash  # only the hash is kept


def test_session_cookies_and_csrf_tokens_are_signed() -> None:
    signer = auth.CookieSigner("secret one")
    cookie = signer.session_cookie(7)
    assert signer.session_user(cookie) == 7
    assert auth.CookieSigner("secret two").session_user(cookie) is None
    assert signer.session_user(cookie.replace("7.", "8.", 1)) is None
    assert signer.session_user("7.1.abc") is None and signer.session_user(None) is None
    nonce = auth.new_nonce()
    assert signer.check_csrf(nonce, signer.csrf_token(nonce))
    assert not signer.check_csrf(auth.new_nonce(), signer.csrf_token(nonce))
    assert not signer.check_csrf(None, signer.csrf_token(nonce))

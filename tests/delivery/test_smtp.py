from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage

import pytest

from pressrun.delivery.compose import Envelope, compose, new_message_id
from pressrun.delivery.letters import Letter
from pressrun.delivery.smtp import PermanentFailure, SmtpConnection, TemporaryFailure
from pressrun.errors import DeliveryError

from .conftest import SmtpServer, free_port

SENDER = Address("Tempo", "wrapped", "tempo.example")


def _message(to: str = "ana@example.com", text: str = "Hi Ana\n.hidden dot line\n") -> EmailMessage:
    user, domain = to.split("@")
    envelope = Envelope(
        SENDER, Address("Ana", user, domain), None, new_message_id(SENDER), "https://x/u/t"
    )
    return compose(envelope, Letter("Your year", f"<p>{text}</p>", text))


def test_a_message_is_delivered_intact_and_commit_runs_before_acceptance(
    smtp_server: SmtpServer,
) -> None:
    seen_before_commit: list[int] = []
    connection = SmtpConnection(smtp_server.settings())
    message = _message()
    reply = connection.send(
        message, lambda: seen_before_commit.append(len(smtp_server.mailbox.messages))
    )
    connection.close()
    assert reply.startswith("250")
    assert seen_before_commit == [0]  # the server had not accepted anything when we committed
    [received] = smtp_server.mailbox.messages
    assert received["Message-ID"] == message["Message-ID"]
    assert ".hidden dot line" in received.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_connection_is_reused_for_the_next_message(smtp_server: SmtpServer) -> None:
    connection = SmtpConnection(smtp_server.settings())
    for to in ("a@example.com", "b@example.com", "c@example.com"):
        connection.send(_message(to), lambda: None)
    connection.close()
    assert smtp_server.mailbox.to() == ["a@example.com", "b@example.com", "c@example.com"]


def test_421_at_end_of_data_is_temporary_and_a_retry_succeeds(smtp_server: SmtpServer) -> None:
    smtp_server.mailbox.data_replies.append("421 4.3.2 System shutting down, try later")
    connection = SmtpConnection(smtp_server.settings())
    with pytest.raises(TemporaryFailure, match="421 4.3.2"):
        connection.send(_message(), lambda: None)
    assert smtp_server.mailbox.messages == []
    connection.send(_message(), lambda: None)  # reconnects by itself
    connection.close()
    assert len(smtp_server.mailbox.messages) == 1


def test_550_at_rcpt_is_permanent_with_the_servers_reason_and_the_connection_stays_usable(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.mailbox.rcpt_replies["gone@example.com"] = (
        "550 5.1.1 <gone@example.com>: no such user"
    )
    connection = SmtpConnection(smtp_server.settings())
    with pytest.raises(PermanentFailure) as failure:
        connection.send(_message("gone@example.com"), lambda: None)
    assert (failure.value.code, failure.value.stage) == (550, "rcpt")
    assert failure.value.reason == "5.1.1 <gone@example.com>: no such user"
    connection.send(_message("ok@example.com"), lambda: None)
    connection.close()
    assert smtp_server.mailbox.to() == ["ok@example.com"]


def test_a_failing_commit_abandons_the_message_before_the_server_can_accept_it(
    smtp_server: SmtpServer,
) -> None:
    def broken_commit() -> None:
        raise RuntimeError("database is gone")

    connection = SmtpConnection(smtp_server.settings())
    with pytest.raises(RuntimeError):
        connection.send(_message(), broken_commit)
    connection.send(_message("next@example.com"), lambda: None)
    connection.close()
    assert smtp_server.mailbox.to() == ["next@example.com"]


def test_no_server_is_a_temporary_failure() -> None:
    from pressrun.delivery.config import SmtpSettings

    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", timeout=2)
    with pytest.raises(TemporaryFailure, match="connection problem"):
        SmtpConnection(settings).send(_message(), lambda: None)


def test_starttls_required_but_not_offered_stops_the_run(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
        SmtpConnection(smtp_server.settings(security="starttls")).send(_message(), lambda: None)


def test_login_with_the_configured_user_and_a_refused_login_stops_the_run() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from .conftest import Mailbox

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
        auth_required=True,
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    try:
        server = SmtpServer(mailbox, port)
        connection = SmtpConnection(server.settings(user="mailer", password="s3cret"))
        connection.send(_message(), lambda: None)
        connection.close()
        assert len(mailbox.messages) == 1
        with pytest.raises(DeliveryError, match="SMTP login as 'mailer' refused: 535"):
            SmtpConnection(server.settings(user="mailer", password="wrong")).send(
                _message(), lambda: None
            )
    finally:
        controller.stop()

"""The webhook channel's address checks, against a real receiver on loopback."""

from __future__ import annotations

import socket

import pytest

from organizing.milestones import channels
from tests.integration.conftest import WebhookReceiver


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _post(url: str) -> int:
    return channels.post_webhook(url=url, body=b"{}", headers={"Content-Type": "application/json"})


def test_loopback_is_refused_unless_the_operator_allows_it(receiver, settings):
    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(channels.UnsafeAddress):
        _post(receiver.url)
    assert receiver.requests == []
    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = True
    assert _post(receiver.url) == 200
    assert len(receiver.requests) == 1


def test_a_public_looking_name_that_resolves_to_loopback_is_refused(
    receiver, settings, monkeypatch
):
    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = False
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        # The name is resolved once; what it resolves to is what gets checked and called.
        if host == "hooks.example.org":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(channels.UnsafeAddress):
        _post(f"http://hooks.example.org:{receiver.port}/hook")
    assert receiver.requests == []


def test_the_connected_peer_is_checked_again(receiver, settings, monkeypatch):
    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = True
    checked = []
    original = channels.address_allowed

    def spy(address):
        checked.append(address)
        return original(address)

    monkeypatch.setattr(channels, "address_allowed", spy)
    _post(receiver.url)
    # The literal in the URL, the resolved address, then the connected socket's peer.
    assert checked == ["127.0.0.1", "127.0.0.1", "127.0.0.1"]


def test_http_is_refused_in_production(settings):
    settings.COUNTERSIGN_PRODUCTION = True
    assert channels.url_problem("http://chat.example.org/hook") == "scheme"
    assert channels.url_problem("https://chat.example.org/hook") is None


def test_a_non_2xx_answer_is_a_delivery_error(receiver, settings):
    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = True
    receiver.statuses = [500]
    with pytest.raises(channels.DeliveryError, match="HTTP 500"):
        _post(receiver.url)


def test_the_signature_covers_timestamp_and_body():
    header = channels.signature_header("whsec_x", 1_700_000_000, b'{"a":1}')
    assert header.startswith("t=1700000000,v1=")
    assert header != channels.signature_header("whsec_x", 1_700_000_001, b'{"a":1}')
    assert header != channels.signature_header("whsec_x", 1_700_000_000, b'{"a":2}')

"""The webhook channel's address checks, against a real receiver on loopback."""

from __future__ import annotations

import socket

import pytest

from organizing.notices import channels
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
    with pytest.raises(channels.SendError, match="HTTP 500"):
        _post(receiver.url)


def test_the_signature_covers_timestamp_and_body():
    header = channels.signature_header("whsec_x", 1_700_000_000, b'{"a":1}')
    assert header.startswith("t=1700000000,v1=")
    assert header != channels.signature_header("whsec_x", 1_700_000_001, b'{"a":1}')
    assert header != channels.signature_header("whsec_x", 1_700_000_000, b'{"a":2}')


# Each IPv6 form that carries an IPv4 address a gateway may forward to,
# and site-local IPv6: refused by the form's check and by the delivery, before any connect.
EMBEDDED_IPV4_FORMS = [
    "64:ff9b::7f00:1",  # NAT64, well-known prefix: 127.0.0.1
    "64:ff9b:1::a00:1",  # NAT64, local-use prefix: 10.0.0.1
    "2002:7f00:1::",  # 6to4: 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "::127.0.0.1",  # IPv4-compatible
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:0:7f00:1",  # SIIT (IPv4-translated)
    "fec0::1",  # site-local
]


@pytest.mark.parametrize("address", EMBEDDED_IPV4_FORMS)
def test_ipv6_forms_that_embed_ipv4_and_site_local_are_refused(address, receiver, settings):
    settings.COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK = True  # even where loopback may be called
    url = f"http://[{address}]:{receiver.port}/hook"
    assert channels.url_problem(url) == "address"
    assert channels.address_allowed(address) is False
    with pytest.raises(channels.UnsafeAddress):
        _post(url)
    assert receiver.requests == []


@pytest.mark.parametrize("address", ["2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "1.1.1.1"])
def test_public_addresses_stay_allowed(address):
    assert channels.address_allowed(address) is True
    assert (
        channels.url_problem(
            f"https://[{address}]/hook" if ":" in address else f"https://{address}/hook"
        )
        is None
    )

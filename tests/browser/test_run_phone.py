"""`make run-phone` serves the demo over https with a certificate it makes, prints the
address and a QR code of it, and the page is a secure context (WebCrypto works), so a
phone on the LAN can sign. Run here on loopback with its own SQLite file and port."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509

from tests.browser.axe import assert_accessible, serve_axe_same_origin

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def phone_demo(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "PHONE_HOST": "127.0.0.1",
        "PHONE_PORT": str(port),
        "PHONE_TLS_DIR": str(tmp_path / "tls"),
        "COUNTERSIGN_SQLITE_PATH": str(tmp_path / "demo.sqlite3"),
        "COUNTERSIGN_DEMO_SECRETS_FILE": str(tmp_path / "demo-secrets.env"),
        # The broker, sealing store and PDFs of its worker (scripts/run_demo.py), not var/.
        "COUNTERSIGN_DEMO_VAR": str(tmp_path / "var"),
        "COUNTERSIGN_KEY_BITS": "2048",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY"):
        env.pop(name, None)
    log = tmp_path / "out.txt"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_phone.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 240  # migrate + demo seed, on a busy machine too
        while not ("Scan it with" in log.read_text() and "ready." in log.read_text()):
            assert time.monotonic() < deadline, log.read_text()
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        yield f"https://127.0.0.1:{port}/", tmp_path, log
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_run_phone_serves_https_prints_a_qr_code_and_signing_works(phone_demo, browser):
    url, tmp_path, log = phone_demo
    printed = log.read_text()
    assert f"Serving {url}" in printed
    assert "▀" in printed or "█" in printed  # the QR code, drawn with block characters
    # The demo's code links follow COUNTERSIGN_BASE_URL, which now is the https address.
    assert f"{url}p/" in printed and "#code=" in printed
    assert "No hostname was supplied" not in printed
    # Its own secrets, never the public development key, with which anyone on
    # the network could forge an invitation link.
    secrets = tmp_path / "demo-secrets.env"
    assert secrets.stat().st_mode & 0o777 == 0o600
    assert "DJANGO_SECRET_KEY=" in secrets.read_text()

    cert = x509.load_pem_x509_certificate((tmp_path / "tls" / "cert.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    context = ssl.create_default_context(cafile=tmp_path / "tls" / "cert.pem")
    with urllib.request.urlopen(url, context=context, timeout=10) as response:  # noqa: S310
        assert response.status == 200

    page_context = browser.new_context(
        ignore_https_errors=True, viewport={"width": 390, "height": 844}
    )
    serve_axe_same_origin(page_context)
    try:
        page = page_context.new_page()
        link = next(line.split()[-1] for line in printed.splitlines() if "#code=" in line)
        page.goto(link)
        assert page.evaluate("window.isSecureContext && !!crypto.subtle")
        assert_accessible(page, "demo petition from a code link over https")
        page.locator("#code-submit").click()
        page.locator("#step-credential").wait_for(timeout=30_000)
        assert_accessible(page, "demo credential step")
        page.locator("#sign-now").click()
        page.locator("#step-done").wait_for(timeout=30_000)
        assert_accessible(page, "demo signed")
    finally:
        page_context.close()

"""deploy/Caddyfile: `caddy validate` accepts it, and a real Caddy on loopback logs nothing
about a signer, even when the app behind it is down (ops walk, rows 12 and 13), while it
replaces a forged X-Forwarded-For (row 6). Needs Debian's caddy (scripts/services.sh)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CADDYFILE = ROOT / "deploy" / "Caddyfile"
SIGNER_PATH = "/api/v1/petitions/heating/signatures"
USER_AGENT = "SignerPhone/1.0 (identifying)"

# scripts/services.sh installs Debian's caddy: missing, it is a broken setup, not a skip.
assert shutil.which("caddy"), "caddy is missing: run make services (apt-get install caddy)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def caddy_env(tmp_path: Path, site_port: int, upstream_port: int) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "CADDY_ADMIN": f"127.0.0.1:{free_port()}",
        "COUNTERSIGN_SITE": f"http://127.0.0.1:{site_port}",
        "COUNTERSIGN_UPSTREAM": f"127.0.0.1:{upstream_port}",
    }


def run_caddy(tmp_path: Path, caddyfile: Path, upstream_port: int, requests) -> str:
    """Start Caddy on a free loopback port, make `requests(base)`, stop it; its log."""
    site_port = free_port()
    log_path = tmp_path / "caddy.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
            env=caddy_env(tmp_path, site_port, upstream_port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", site_port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        requests(f"http://127.0.0.1:{site_port}")
        time.sleep(0.5)  # let Caddy write what it writes about them
    finally:
        process.terminate()
        process.wait(timeout=20)
    return log_path.read_text()


def sign_attempt(base: str):
    request = urllib.request.Request(  # noqa: S310 (http on loopback)
        base + SIGNER_PATH,
        data=b'{"msg": "x"}',
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Forwarded-For": "203.0.113.99",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_caddy_validate_accepts_it():
    result = subprocess.run(
        ["caddy", "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "HOME": "/tmp"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


def test_with_the_app_down_nothing_about_the_signer_is_logged(tmp_path):
    answers = []
    log = run_caddy(tmp_path, CADDYFILE, free_port(), lambda b: answers.append(sign_attempt(b)))
    status, headers, body = answers[0]
    assert status == 503 and headers["Retry-After"] == "30"
    assert b"restarting" in body
    assert "server running" in log  # the log is there, and it is Caddy's
    for secret in (SIGNER_PATH, "/api/", USER_AGENT, "SignerPhone", "203.0.113.99", "remote_ip"):
        assert secret not in log, (secret, log)


def test_caddys_default_would_log_the_signer_and_the_exclusion_alone_stops_it(tmp_path):
    """The control: a bare site (what the ops walk ran) logs the client's address, the URI
    and the User-Agent when the app is down, so the test above can fail. The shipped file
    without its handle_errors block still logs nothing: the exclusion does it by itself."""
    bare = tmp_path / "Caddyfile.bare"
    bare.write_text(
        "{\n\tadmin {$CADDY_ADMIN}\n}\n\n{$COUNTERSIGN_SITE} {\n"
        "\treverse_proxy {$COUNTERSIGN_UPSTREAM}\n}\n"
    )
    log = run_caddy(tmp_path, bare, free_port(), sign_attempt)
    assert SIGNER_PATH in log and USER_AGENT in log and "remote_ip" in log

    text = CADDYFILE.read_text()
    without_errors_page = text[: text.index("\thandle_errors")] + "}\n"
    assert "exclude http.log.error" in without_errors_page
    shipped = tmp_path / "Caddyfile.no-error-page"
    shipped.write_text(without_errors_page)
    answers = []
    log = run_caddy(tmp_path, shipped, free_port(), lambda b: answers.append(sign_attempt(b)))
    assert answers[0][0] == 502
    assert SIGNER_PATH not in log and USER_AGENT not in log and "remote_ip" not in log


class Echo(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_POST(self):
        Echo.seen.append(dict(self.headers.items()))
        self.send_response(201)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_with_the_app_up_the_forged_address_is_replaced_and_nothing_logged(tmp_path):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    answers = []
    try:
        log = run_caddy(
            tmp_path,
            CADDYFILE,
            upstream.server_address[1],
            lambda b: answers.append(sign_attempt(b)),
        )
    finally:
        upstream.shutdown()
    status, headers, _body = answers[0]
    assert status == 201
    assert "BaseHTTP" not in headers.get("Server", "")  # the app's server is not named
    forwarded = Echo.seen[-1]
    assert forwarded["X-Forwarded-For"] == "127.0.0.1"  # the client's, not the forged one
    assert forwarded["X-Forwarded-Proto"] == "http"  # https behind the real TLS site
    assert SIGNER_PATH not in log and USER_AGENT not in log

"""scripts/webhook_echo.py, the receiver the README suggests for trying webhooks in the demo:
it listens on 127.0.0.1 only, answers 204 and prints the headers and body of each POST."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webhook_echo_prints_what_it_receives(tmp_path):
    port = _free_port()
    log = tmp_path / "echo.txt"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-u", "scripts/webhook_echo.py", "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while "Waiting for webhooks" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        body = json.dumps({"type": "milestone", "threshold": 5}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/countersign",
            data=body,
            headers={"Content-Type": "application/json", "X-Countersign-Signature": "t=1,v1=ab"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 204
        deadline = time.monotonic() + 10
        while '"threshold": 5' not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        printed = log.read_text()
        assert "POST /countersign" in printed
        assert "X-Countersign-Signature: t=1,v1=ab" in printed
        assert '"type": "milestone"' in printed and '"threshold": 5' in printed
        # Loopback only: the socket is bound to 127.0.0.1, not to every interface.
        listening = Path("/proc/net/tcp").read_text()
        assert f"0100007F:{port:04X}" in listening and f"00000000:{port:04X}" not in listening
    finally:
        process.terminate()
        process.wait(timeout=10)

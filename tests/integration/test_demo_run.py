"""`make run` runs what production runs: the launcher (scripts/run_demo.py) starts the web
server, a Celery worker and beat on the file-system broker, in a folder of its own here.

Through it, as a newcomer would: sign in as the demo organizer (password and TOTP secret from
seed_demo's output), start a print run of several pages and watch its status move through
pages in between to a downloadable PDF; then make the petition's count cross a milestone
behind everyone's back (rows written in a `manage.py shell` step, no signal, no request) and
see beat's sweep find it and the worker deliver it to a webhook receiver on 127.0.0.1 and
mail it to the worker's console. One SIGINT then stops all three, with whatever they started.
Every wait is bounded."""

from __future__ import annotations

import http.cookiejar
import importlib.util
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from pypdf import PdfReader

from .conftest import ROOT, free_port

pytestmark = pytest.mark.worker

FLYER = {
    "design": "tearoff",
    "paper": "a4",
    "copies": "60",  # 60 pages, rendered in chunks of 25: progress at 25 and 50 on the way
    "batch_label": "Canteen",
    "headline": "Don't want to work at the Employee Data Extraction Factory?",
    "subheadline": "Switch off the tracking software.",
    "body": "We ask management to stop recording our keystrokes.",
    "call_to_action": "Scan to read and sign, anonymously.",
    "privacy_line": "Scan with your personal phone, not a work device.",
    "language": "en",
    "accent": "#1f5f8b",
}


def _load_launcher():
    spec = importlib.util.spec_from_file_location("run_demo", ROOT / "scripts" / "run_demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def wait_for(condition, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


class Browserless:
    """Cookies, CSRF and forms over plain HTTP, as the staff pages expect a browser to."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.geturl(), response.read().decode()

    def get_bytes(self, path: str) -> tuple[bytes, str]:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.read(), response.headers["Content-Type"]

    def submit(self, path: str, fields: dict[str, str]) -> tuple[str, str]:
        """GET the form at `path` and POST its hidden fields (CSRF, form key) with `fields`."""
        _url, page = self.get(path)
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
        data = urllib.parse.urlencode({**hidden, **fields}).encode()
        request = urllib.request.Request(  # noqa: S310  (http://127.0.0.1 only)
            self.base + path, data=data, headers={"Referer": self.base + path}
        )
        with self.opener.open(request, timeout=60) as response:
            return response.geturl(), response.read().decode()


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_receiver():
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/countersign", Receiver.received
    server.shutdown()
    server.server_close()


def session_members(session_ids: set[int]) -> list[int]:
    """Live (not zombie) processes in the given sessions: the children and what they
    started (runserver's reloading child, the worker's pool)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, session = fields[0], int(fields[3])
        if session in session_ids and state != "Z":
            alive.append(int(stat.parent.name))
    return alive


@pytest.fixture
def demo(tmp_path):
    port = free_port()
    base_env = {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}},
        "COUNTERSIGN_DEMO_VAR": str(tmp_path / "var"),
        "COUNTERSIGN_DEMO_PORT": str(port),
        "COUNTERSIGN_DEMO_NORELOAD": "1",  # nothing to watch; saves a process and a CPU
        "COUNTERSIGN_KEY_BITS": "2048",  # petition keys made faster than the default
        "COUNTERSIGN_SWEEP_SECONDS": "2",  # beat's milestone sweep, every minute by default
    }
    env = _load_launcher().demo_environment(base_env)  # what the shell steps need too
    log = tmp_path / "demo.txt"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_demo.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        ready = wait_for(
            lambda: (
                process.poll() is not None
                or (
                    "celery@" in log.read_text()
                    and "ready." in log.read_text()
                    and "Starting development server" in log.read_text()
                )
            ),
            timeout=90,
        )
        assert ready and process.poll() is None, log.read_text()
        yield process, f"http://127.0.0.1:{port}", env, log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()  # its children get SIGTERM from the kernel (PR_SET_PDEATHSIG)
                process.wait(timeout=10)


def organizer_secrets(output: str) -> tuple[str, str]:
    block = output.split("organizer: organizer@acme.example", 1)[1]
    password = re.search(r"password:\s+(\S+)", block).group(1)
    secret = re.search(r"TOTP secret:\s+(\S+)", block).group(1)
    return password, secret


def sign_in(client: Browserless, password: str, secret: str) -> None:
    url, _ = client.submit(
        "/accounts/login/", {"login": "organizer@acme.example", "password": password}
    )
    assert "/accounts/2fa/authenticate/" in url
    if time.time() % 30 > 27:  # a code made now could expire before the server checks it
        time.sleep(30 - time.time() % 30 + 0.1)
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    url, _ = client.submit(urllib.parse.urlsplit(url).path, {"code": code})
    assert url.rstrip("/").endswith("/staff"), url


def test_make_run_serves_with_a_worker_and_beat_and_one_sigint_stops_all(demo, webhook_receiver):
    process, base, env, log = demo
    pids = {int(pid) for pid in re.findall(r"started \w+ \(pid (\d+)\)", log.read_text())}
    assert len(pids) == 3
    output = log.read_text()
    assert "worker | " in output and "beat   | " in output and "web    | " in output
    assert "Connected to config.demo_broker:Transport" in output
    assert "No hostname was supplied" not in output

    client = Browserless(base)
    sign_in(client, *organizer_secrets(output))

    # A print run: the request returns at once, the worker renders, the status moves.
    started = time.monotonic()
    slug = "stop-the-extraction-factory"
    run_url, page = client.submit(f"/staff/p/{slug}/flyers/", FLYER)
    assert time.monotonic() - started < 10  # not rendered inside the request
    assert "/prints/" in run_url and "<progress" in page, page[:2000]
    status_path = re.search(r'data-status-url="([^"]+)"', page).group(1)
    seen = []
    deadline = time.monotonic() + 75
    while time.monotonic() < deadline:
        status = json.loads(client.get(status_path)[1])
        state = (status["status"], status["pages_done"], status["pages_total"])
        if not seen or seen[-1] != state:
            seen.append(state)
        if status["status"] in {"done", "failed"}:
            break
        time.sleep(0.1)
    assert seen[-1] == ("done", 60, 60), (seen, log.read_text()[-3000:])
    in_between = [s for s in seen if s[0] == "running" and 0 < s[1] < 60]
    assert in_between, seen  # progress shown on the way, not a jump from 0 to done
    _, page = client.get(urllib.parse.urlsplit(run_url).path)
    download = re.search(r'href="([^"]+)" download>', page).group(1)
    pdf, content_type = client.get_bytes(download)
    assert content_type == "application/pdf" and pdf.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 60

    # A milestone nobody asks for: rows written behind the app's back (no signal, no
    # request); beat's sweep finds the count above the high-water mark and the worker sends.
    url, received = webhook_receiver
    step = (
        "from organizing.demo import PETITION_SLUG\n"
        "from organizing.notices.services import webhook_create\n"
        "from petition.models import Petition\n"
        "from tests.organizing.notices.helpers import add_signatures\n"
        "p = Petition.objects.get(slug=PETITION_SLUG)\n"
        f"webhook_create(campaign=p.campaign, actor=None, url={url!r})\n"
        "add_signatures(p, 2)\n"
    )
    shell = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", step],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stderr
    assert wait_for(lambda: received, timeout=40), log.read_text()[-3000:]
    headers, body = received[0]
    notice = json.loads(body)
    assert (notice["type"], notice["threshold"]) == ("milestone", 1)
    assert headers["X-Countersign-Signature"].startswith("t=")
    printed = log.read_text()
    assert "beat   | INFO celery.beat Scheduler: Sending due task notices-sweep" in printed
    # The organizer's mail, on the worker's console.
    mailed = re.compile(r"worker \| Subject: .*Stop the Employee Data Extraction Factory")
    assert wait_for(lambda: mailed.search(log.read_text()), timeout=20), log.read_text()
    assert "=?utf-8?" not in log.read_text()  # decoded for the reader (config/console_mail.py)

    # One SIGINT stops all three and what they started.
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert wait_for(lambda: not session_members(pids), timeout=10), session_members(pids)
    assert "demo   | stopped." in log.read_text()


def test_the_launcher_stops_the_others_when_one_dies(tmp_path):
    """Stand-ins for the three: the `worker` exits after a second with code 3."""
    launcher = _load_launcher()
    log = tmp_path / "out.txt"
    path = str(ROOT / "scripts" / "run_demo.py")
    child = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('run_demo', {path!r})\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['run_demo'] = m\n"
        "spec.loader.exec_module(m)\n"
        "py = sys.executable\n"
        "commands = {\n"
        "  'web': [py, '-c', 'import time; time.sleep(60)'],\n"
        "  'worker': [py, '-c', 'import sys, time; time.sleep(1); print(\"bye\"); sys.exit(3)'],\n"
        "  'beat': [py, '-c', 'import time; time.sleep(60)'],\n"
        "}\n"
        "sys.exit(m.Launcher({'PATH': ''}, commands).run())\n"
    )
    assert launcher.STOP_SECONDS <= 10
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", child], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    assert process.wait(timeout=30) == 1
    pids = {int(pid) for pid in re.findall(r"started \w+ \(pid (\d+)\)", log.read_text())}
    assert len(pids) == 3 and not session_members(pids)
    printed = log.read_text()
    assert "worker | bye" in printed
    assert "worker stopped unexpectedly (exit code 3); stopping web, beat." in printed


def test_killing_the_launcher_outright_leaves_no_child_behind(tmp_path):
    """`kill -9` of the launcher (or of `make`): it cannot stop anything itself, so the
    kernel sends its children SIGTERM (PR_SET_PDEATHSIG); no server keeps the port."""
    log = tmp_path / "out.txt"
    path = str(ROOT / "scripts" / "run_demo.py")
    child = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('run_demo', {path!r})\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['run_demo'] = m\n"
        "spec.loader.exec_module(m)\n"
        "sleep = [sys.executable, '-c', 'import time; time.sleep(60)']\n"
        "sys.exit(m.Launcher({'PATH': ''}, {'web': sleep, 'worker': sleep, 'beat': sleep}).run())\n"
    )
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", child], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    assert wait_for(lambda: log.read_text().count("started ") == 3, timeout=20), log.read_text()
    pids = {int(pid) for pid in re.findall(r"started \w+ \(pid (\d+)\)", log.read_text())}
    assert len(session_members(pids)) == 3
    process.kill()
    process.wait(timeout=10)
    assert wait_for(lambda: not session_members(pids), timeout=10), session_members(pids)

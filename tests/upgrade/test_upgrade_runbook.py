"""docs/operations.md "Upgrades", step by step, with the last release's code running: its
gunicorn (config/gunicorn.conf.py), worker and beat serve a database that release made, on
a private Redis, from the link `app` to its release folder, while two clients keep reading
the public page and the API. Then, in the documented order: 0. the new release unpacked
next to the running one, 1. beat stopped, 2. the worker drained (the queue empty, `celery
inspect active` empty, TERM: warm shutdown, exit 0), 3. migrate, collectstatic, check from
the new folder, 4. the link switched and gunicorn reloaded with HUP (new workers on the new
code, same master), 5. worker then beat started, and /healthz says both run. Every request
made during all of it answered 200, requests were in flight across the reload, and the
counts did not move. Slow (a release tree, migrations from scratch, six processes): marker
`release`."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
from io import BytesIO
from pathlib import Path

import pytest
import redis

from tests.upgrade.test_upgrade_from_release import (
    REPO,
    database,  # noqa: F401 (fixture)
    environment,
    free_port,
    last_release,
    manage,
    sign,
)

pytestmark = pytest.mark.release


def wait_until(what: str, condition, timeout: float, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := condition():
                return value
        except OSError:
            pass
        time.sleep(step)
    raise AssertionError(f"{what}: not within {timeout} s")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 (loopback)
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


class Readers:
    """Clients reading the public page and the API in a loop until stopped; every answer
    kept with its time."""

    def __init__(self, urls: list[str]):
        self.urls, self.answers, self.stopping = urls, [], threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(u,)) for u in urls]

    def _loop(self, url: str) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                status = http_status(url)
            except OSError as exc:  # a refused or reset connection is a dropped request
                status = f"{type(exc).__name__}: {exc}"
            self.answers.append((started, time.monotonic(), url, status))
            time.sleep(0.05)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)


def copy_this_code(folder: Path) -> None:
    """Step 0: the new release unpacked next to the running one (here: this tree's files)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file() and not source.is_symlink():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)


def point(link: Path, release: Path) -> None:
    """`ln -sfn <release> app.new && mv -T app.new app`: the switch is one rename."""
    new = link.with_name(link.name + ".new")
    new.symlink_to(release)
    new.rename(link)


def test_the_upgrade_runbook_keeps_serving_and_drains_the_worker(database, tmp_path) -> None:  # noqa: F811
    _, commit = last_release()
    # /opt/countersign/releases/<tag> and the link /opt/countersign/app (docs/operations.md).
    old, new, app = tmp_path / "release-old", tmp_path / "release-new", tmp_path / "app"
    old.mkdir()
    point(app, old)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=REPO, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(old, filter="data")

    # The release's code makes the database (tasks in-process), as in the upgrade test.
    made = environment(database, app)
    manage(app, made, "migrate", "--no-input", "-v", "0")
    manage(app, made, "seed_demo")
    slug = sign(app, made, 5)["slug"]

    redis_port, web_port = free_port(), free_port()
    processes: dict[str, subprocess.Popen] = {}
    redis_server = subprocess.Popen(
        [
            *("redis-server", "--bind", "127.0.0.1", "--port", str(redis_port)),
            *("--save", "", "--appendonly", "no", "--dir", str(tmp_path)),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_until("redis", lambda: socket.create_connection(("127.0.0.1", redis_port), 1), 20)
    broker = redis.Redis(port=redis_port)
    # The running site: one folder, the variables of /etc/countersign/env (here the embedded
    # settings with Redis), beat's heartbeat every 2 s so that /healthz has news quickly.
    env = {
        **environment(database, app),
        "HOME": str(tmp_path),  # the release's gunicorn opens a control socket under it
        "PWD": str(app),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "COUNTERSIGN_STATIC_ROOT": str(tmp_path / "static"),
        "COUNTERSIGN_MEDIA_ROOT": str(tmp_path / "media"),
        "COUNTERSIGN_HEARTBEAT_SECONDS": "2",
        "GUNICORN_BIND": f"127.0.0.1:{web_port}",
        "GUNICORN_WORKERS": "2",
    }
    python = [sys.executable, "-m"]
    commands = {
        # As the web unit starts it: the venv's script (`python -m` would put the resolved
        # folder first on sys.path), PWD and --chdir naming the link.
        "web": [
            *(str(Path(sys.executable).with_name("gunicorn")), "--chdir", str(app)),
            *("-c", "config/gunicorn.conf.py", "config.wsgi"),
        ],
        "worker": [*python, "celery", "-A", "config", "worker", "-l", "INFO", "-c", "2"],
        "beat": [
            *(*python, "celery", "-A", "config", "beat", "-l", "INFO"),
            *("--schedule", str(tmp_path / "celerybeat-schedule")),
        ],
    }

    def start(unit: str) -> subprocess.Popen:
        with (tmp_path / f"{unit}.log").open("a") as out:
            processes[unit] = subprocess.Popen(
                commands[unit], cwd=app, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        return processes[unit]

    def log(unit: str) -> str:
        return (tmp_path / f"{unit}.log").read_text()

    base = f"http://127.0.0.1:{web_port}"
    try:
        for unit in ("web", "worker", "beat"):
            start(unit)
        wait_until("the release's gunicorn", lambda: http_status(f"{base}/healthz") == 200, 60)
        assert http_status(f"{base}/livez") == 404  # the release has no /livez: old code
        wait_until("the release's worker", lambda: "ready." in log("worker"), 60)
        api = f"{base}/api/v1/petitions/{slug}"
        with urllib.request.urlopen(api) as response:  # noqa: S310 (loopback)
            counts = json.load(response)["counts"]
        assert counts["total"] == 5
        master = processes["web"].pid

        with Readers([f"{base}/p/{slug}/", api]) as readers:
            new.mkdir()  # 0.
            copy_this_code(new)
            processes["beat"].send_signal(signal.SIGTERM)  # 1.
            assert processes["beat"].wait(timeout=30) == 0, log("beat")

            # 2. Drain: nothing queued, nothing running, then TERM (warm shutdown).
            wait_until("an empty queue", lambda: broker.llen("celery") == 0, 60)
            active = subprocess.run(
                [*python, "celery", "-A", "config", "inspect", "active", "--json", "-t", "5"],
                cwd=app,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert active.returncode == 0, active.stdout + active.stderr
            assert all(tasks == [] for tasks in json.loads(active.stdout).values()), active.stdout
            processes["worker"].send_signal(signal.SIGTERM)
            assert processes["worker"].wait(timeout=60) == 0, log("worker")
            assert "warm shutdown" in log("worker").lower(), log("worker")

            # 3. The new code's migrations from its own folder (the old web still serving),
            # static files, checks.
            from_new = {**env, "PYTHONPATH": str(new)}
            manage(new, from_new, "migrate", "--no-input")
            manage(new, from_new, "collectstatic", "--no-input", "-v", "0")
            manage(new, from_new, "check", "--fail-level", "ERROR")

            # 4. The link to the new release, then HUP: new workers on the new code, the
            # same master, no request lost.
            point(app, new)
            hup_at = time.monotonic()
            processes["web"].send_signal(signal.SIGHUP)
            try:
                wait_until("new code", lambda: http_status(f"{base}/livez") == 200, 60)
            except AssertionError:
                raise AssertionError(
                    f"HUP did not load the new code:\n{log('web')[-4000:]}"
                ) from None
            reloaded_at = time.monotonic()
            time.sleep(1)
            assert processes["web"].poll() is None and processes["web"].pid == master

            # 5. Worker, then beat; /healthz (the new one) sees both.
            seen = len(log("worker"))
            start("worker")
            wait_until("the new worker", lambda: "ready." in log("worker")[seen:], 60)
            start("beat")
            health = wait_until(
                "/healthz ok", lambda: http_status(f"{base}/healthz") == 200 or None, 90, 1
            )
            assert health
            time.sleep(1)

        answers = readers.answers
        failed = [a for a in answers if a[3] != 200]
        assert not failed, failed[:10]
        across = [a for a in answers if a[0] < reloaded_at and a[1] > hup_at]
        assert len(across) >= 2, "no request was in flight during the reload"
        assert len(answers) >= 50, len(answers)
        with urllib.request.urlopen(api) as response:  # noqa: S310 (loopback)
            assert json.load(response)["counts"] == counts
        with urllib.request.urlopen(f"{base}/healthz") as response:  # noqa: S310 (loopback)
            checks = json.load(response)["checks"]
        assert checks["beat"] == checks["worker"] == "ok", checks
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
        redis_server.terminate()
        redis_server.wait(timeout=20)

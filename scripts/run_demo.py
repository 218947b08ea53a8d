"""`make run`: the demo as production runs it, the web server, a Celery worker and beat.

Production runs background work on a worker (print runs with a progress page, mails,
milestone notices and webhooks) and on beat's schedule (publication batches, the milestone
sweep, digests, deadlines). The demo used to run every task inside the request instead, so
a big print run froze the form and nothing happened on a schedule (review 2026-12, O10).
This launcher starts the same three processes on a broker that needs no server of its own:
message files in `var/broker/` (config/demo_broker.py says why that transport).

It migrates and seeds the demo first, then starts the three with the demo's environment,
prefixes each one's output (`web`, `worker`, `beat`), and on one Ctrl-C (SIGINT) or SIGTERM
stops all three and exits. If one of them dies, it stops the others and exits non-zero,
saying which one. Mails appear in the worker's output (console mail backend).

Environment (all optional):
  COUNTERSIGN_DEMO_VAR   the folder for the demo's files (default: var/): SQLite database,
                         secrets, sealing store, PDFs, broker messages, beat's schedule
  COUNTERSIGN_DEMO_PORT  the web server's port on 127.0.0.1 (default 8000)
  COUNTERSIGN_DEMO_NORELOAD=1  no auto-reload of the web server on code changes
`make run-phone` reuses this with its https server as the web process (scripts/run_phone.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# How long stopping may take in all before what is left is killed: running tasks get this
# long to finish (notices cut short are resent by the sweep).
STOP_SECONDS = 8
NAME_WIDTH = 6


def demo_environment(environ: dict[str, str], *, port: int | None = None) -> dict[str, str]:
    """The demo's settings: files under COUNTERSIGN_DEMO_VAR, the file-system broker, tasks
    on the worker, loopback webhooks allowed, mail on the console. A value already set wins
    (e.g. EMAIL_URL to see the mails in a local SMTP catcher instead)."""
    sys.path.insert(0, str(ROOT))
    from config.demo_secrets import use_demo_secrets

    var = Path(environ.get("COUNTERSIGN_DEMO_VAR", str(ROOT / "var"))).resolve()
    var.mkdir(parents=True, exist_ok=True)
    port = port or int(environ.get("COUNTERSIGN_DEMO_PORT", "8000"))
    defaults = {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "1",
        "COUNTERSIGN_BASE_URL": f"http://127.0.0.1:{port}",
        "COUNTERSIGN_SQLITE_PATH": str(var / "db.sqlite3"),
        "COUNTERSIGN_DEMO_SECRETS_FILE": str(var / "demo-secrets.env"),
        "COUNTERSIGN_SEALING_PATH": str(var / "sealing"),
        "COUNTERSIGN_MEDIA_ROOT": str(var / "media"),
        "COUNTERSIGN_BROKER_PATH": str(var / "broker"),
        "CELERY_BROKER_URL": "filesystem://localhost/",  # a host name: kombu warns without one
        "CELERY_TASK_ALWAYS_EAGER": "0",
        # The demo only: a webhook to a receiver on this machine (scripts/webhook_echo.py).
        # Production refuses loopback and private addresses (docs/operations.md).
        "COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK": "1",
        # Each line of output as it is written, so the prefixed streams interleave in order.
        "PYTHONUNBUFFERED": "1",
    }
    env = dict(environ)
    for name, value in defaults.items():
        env.setdefault(name, value)
    env["COUNTERSIGN_DEMO_VAR"] = str(var)
    env["COUNTERSIGN_DEMO_PORT"] = str(port)
    for note in use_demo_secrets(env):
        print(note, flush=True)
    return env


def celery_commands(env: dict[str, str]) -> dict[str, list[str]]:
    var = Path(env["COUNTERSIGN_DEMO_VAR"])
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    return {
        # Two processes: a 500-page print run does not hold up a milestone mail meanwhile.
        # No gossip, mingle or heartbeat: one worker, nobody to talk to.
        "worker": [
            *celery,
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        "beat": [
            *celery,
            "beat",
            "--loglevel=INFO",
            "--schedule",
            str(var / "celerybeat-schedule"),
        ],
    }


def web_command(env: dict[str, str]) -> list[str]:
    # 127.0.0.1 only, as before the launcher: plain http cannot sign from another device
    # anyway (`make run-phone` serves the LAN over https).
    command = [
        sys.executable,
        "manage.py",
        "runserver",
        f"127.0.0.1:{env['COUNTERSIGN_DEMO_PORT']}",
    ]
    if env.get("COUNTERSIGN_DEMO_NORELOAD"):
        command.append("--noreload")
    return command


def prepare(env: dict[str, str]) -> None:
    """Migrate the demo database and seed it (prints the staff accounts' secrets once)."""
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env)
        if done.returncode != 0:
            sys.exit(f"`manage.py {command[0]}` failed (exit code {done.returncode}); see above.")


def _stop_with_parent() -> None:
    """In the child, before it runs its command: on Linux, ask for SIGTERM when the
    launcher dies, however it dies (`kill -9` included), so no server is left behind holding
    the port. Elsewhere nothing: the launcher's own stop() still stops them."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    pump: threading.Thread = field(init=False)


class Launcher:
    def __init__(self, env: dict[str, str], commands: dict[str, list[str]]):
        self.env, self.commands = env, commands
        self.children: list[Child] = []
        self.stop_requested = threading.Event()
        self.print_lock = threading.Lock()

    def say(self, line: str) -> None:
        with self.print_lock:
            print(f"{'demo':<{NAME_WIDTH}} | {line}", flush=True)

    def _pump(self, child: Child) -> None:
        prefix = f"{child.name:<{NAME_WIDTH}} | "
        for raw in child.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.print_lock:
                sys.stdout.write(prefix + line + "\n")
                sys.stdout.flush()

    def start(self) -> None:
        # All three are started before any output thread: a child is forked with only this
        # thread running, which is what makes `preexec_fn` safe.
        for name, command in self.commands.items():
            # Our own commands, no shell.
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # Its own session: the terminal's Ctrl-C reaches only this launcher, which then
                # stops each child once, and killpg() reaches what a child started itself
                # (runserver's reloading child, the worker's pool processes).
                start_new_session=True,
                preexec_fn=_stop_with_parent,  # safe: no other thread yet (see above)
            )
            self.children.append(Child(name, process))
        for child in self.children:
            child.pump = threading.Thread(target=self._pump, args=(child,), daemon=True)
            child.pump.start()
            self.say(f"started {child.name} (pid {child.process.pid})")

    def _request_stop(self, signum, _frame) -> None:
        if self.stop_requested.is_set() and signum == signal.SIGINT:
            self._kill_all()  # a second Ctrl-C: no more waiting for running tasks
        self.stop_requested.set()

    def _kill_all(self) -> None:
        for child in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM to each: the worker and beat stop warmly (the worker finishes or hands
        back its tasks), runserver at once. What is still there after STOP_SECONDS, and
        anything a child left behind in its session, is killed."""
        for child in self.children:
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for child in self.children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop within {STOP_SECONDS} s; killing it")
        self._kill_all()
        for child in self.children:
            child.process.wait()
            child.pump.join(timeout=2)

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)
        self.start()
        self.say("Ctrl-C stops the web server, the worker and beat.")
        failed: Child | None = None
        while not self.stop_requested.wait(0.2):
            failed = next((c for c in self.children if c.process.poll() is not None), None)
            if failed:
                break
        if failed:
            others = ", ".join(c.name for c in self.children if c is not failed)
            self.say(
                f"{failed.name} stopped unexpectedly (exit code {failed.process.returncode}); "
                f"stopping {others}."
            )
        else:
            self.say("stopping the web server, the worker and beat…")
        self.stop()
        self.say("stopped.")
        return 1 if failed else 0


def run(env: dict[str, str], web: list[str], banner: str = "") -> int:
    prepare(env)
    if banner:
        print(banner, flush=True)
    return Launcher(env, {"web": web, **celery_commands(env)}).run()


def main() -> None:
    env = demo_environment(dict(os.environ))
    url = env["COUNTERSIGN_BASE_URL"]
    banner = (
        f"\nServing {url}/  (staff: {url}/staff/)\n"
        "Mails (work-email codes, milestones, invitations) appear in the worker's output.\n"
    )
    sys.exit(run(env, web_command(env), banner))


if __name__ == "__main__":
    main()

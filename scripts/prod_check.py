#!/usr/bin/env python3
"""`make prod-check`: the production stack, started for real on loopback and used once.

It runs what docs/operations.md deploys, with config.settings.production and the variables
an operator sets: a scratch database `countersign_prodcheck` on the shared PostgreSQL
(created, migrated, dropped), a private redis-server on a free port (cache, broker and
sealing store), an aiosmtpd mail sink, gunicorn with config/gunicorn.conf.py, a Celery
worker and beat as the systemd units start them, and Caddy with deploy/Caddyfile itself,
given `tls internal` (Caddy's own CA), a loopback bind and free ports. Then:

1. `migrate`, `collectstatic`, `check --deploy --fail-level WARNING`;
2. five signers sign in Chromium through Caddy over https, with the browser client;
3. beat's publication sweep publishes their batch (the production batch policy, with
   one-minute slots), and the milestone mail for 5 signatures arrives at the SMTP sink;
4. a staff member starts a print run in the flyer designer and sees it finish on the worker;
5. `/healthz` through the proxy answers ok (database, Redis, key, beat, worker), and
   Caddy's log names no signer path.

Everything it started is stopped and the database dropped, also on failure or Ctrl-C.
Exit status 0 only if every step passed; each wait is bounded and the whole run is cut at
`--timeout` seconds. Prints one line per step with its duration.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
DATABASE = os.environ.get("COUNTERSIGN_PRODCHECK_DATABASE", "countersign_prodcheck")
ADMIN_URL = os.environ.get(
    "COUNTERSIGN_PRODCHECK_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
STAFF_EMAIL = "organizer@prodcheck.example"
SITE_LINE = "{$COUNTERSIGN_SITE:petition.example.org} {\n"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Paths Caddy must never write about (deploy/Caddyfile: no access log, no error entries).
SIGNER_PATHS = ("/p/", "/api/", "/f/", "/log/")


class CheckFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, condition, timeout: float, step: float = 0.5):
    """condition() until truthy, at most `timeout` seconds; its value, else CheckFailed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except OSError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: not within {timeout:.0f} s")
        time.sleep(step)


class Stack:
    """Every process and resource the check starts, stopped in reverse order by close()."""

    def __init__(self, work: Path):
        self.work = work
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.cleanups: list = []
        self.ports = {
            name: free_port() for name in ("https", "http", "admin", "web", "redis", "smtp")
        }
        self.base = f"https://localhost:{self.ports['https']}"

    def log(self, name: str) -> Path:
        return self.work / f"{name}.log"

    def start(self, name: str, argv: list[str], env: dict, stop_signal=signal.SIGTERM):
        with self.log(name).open("a") as out:
            process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        process.stop_signal = stop_signal
        self.processes.append((name, process))
        return process

    def alive(self) -> None:
        for name, process in self.processes:
            if process.poll() is not None:
                tail = self.log(name).read_text()[-2000:]
                raise CheckFailed(f"{name} exited with {process.returncode}:\n{tail}")

    def close(self) -> list[str]:
        problems = []
        for name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(process.stop_signal)
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    problems.append(f"{name} did not stop within 40 s: killed")
                    process.kill()
                    process.wait(timeout=10)
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception as exc:  # every cleanup runs; a failure is reported
                problems.append(f"cleanup {getattr(cleanup, '__name__', cleanup)}: {exc}")
        return problems


# ---- the parts ----------------------------------------------------------------------------


def database_create(stack: Stack) -> str:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f"CREATE DATABASE \"{DATABASE}\" ENCODING 'UTF8'")

    def database_drop():
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')

    stack.cleanups.append(database_drop)
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"


def redis_start(stack: Stack) -> str:
    """A private redis-server: nothing shared with other users of the machine's Redis, and
    no persistence (the check's sealing secrets die with it)."""
    port = stack.ports["redis"]
    stack.start(
        "redis",
        [
            *("redis-server", "--bind", "127.0.0.1", "--port", str(port)),
            *("--save", "", "--appendonly", "no", "--dir", str(stack.work)),
        ],
        {"PATH": os.environ["PATH"]},
    )
    wait_until("redis", lambda: socket.create_connection(("127.0.0.1", port), 1).close() or 1, 20)
    return f"redis://127.0.0.1:{port}/0"


class Mailbox:
    def __init__(self):
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf8", "replace")))
        return "250 Message accepted for delivery"


def smtp_start(stack: Stack) -> Mailbox:
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=stack.ports["smtp"])
    controller.start()
    stack.cleanups.append(controller.stop)
    return mailbox


def production_environment(stack: Stack, database_url: str, redis_url: str) -> dict:
    """What /etc/countersign/env holds (docs/operations.md, "Required settings"), for this
    loopback site; secrets made for this run only."""
    keep = {"PATH", "LANG", "TMPDIR"}
    return {
        **{k: v for k, v in os.environ.items() if k in keep},
        "HOME": str(stack.work),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "COUNTERSIGN_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DJANGO_CSRF_TRUSTED_ORIGINS": stack.base,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{stack.ports['smtp']}",
        "DEFAULT_FROM_EMAIL": "Countersign <noreply@localhost>",
        "COUNTERSIGN_BASE_URL": stack.base,
        "COUNTERSIGN_BEHIND_TLS_PROXY": "1",
        "COUNTERSIGN_TRUSTED_PROXIES": "1",
        "COUNTERSIGN_MEDIA_ROOT": str(stack.work / "media"),
        "COUNTERSIGN_STATIC_ROOT": str(stack.work / "static"),
        "GUNICORN_BIND": f"127.0.0.1:{stack.ports['web']}",
        "GUNICORN_WORKERS": "2",
        # Beat's minute sweeps and heartbeats every 10 s, so that the check waits seconds
        # for a batch, not a minute; the schedule is otherwise the production one.
        "COUNTERSIGN_SWEEP_SECONDS": "10",
        "COUNTERSIGN_HEARTBEAT_SECONDS": "10",
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict, *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        out = (result.stdout + result.stderr)[-3000:]
        raise CheckFailed(f"manage.py {' '.join(args[:2])} exited {result.returncode}:\n{out}")
    return result.stdout


def caddyfile(stack: Stack) -> Path:
    """deploy/Caddyfile as shipped, plus what a loopback run needs: Caddy's internal CA
    (`tls internal`, its root not installed anywhere), a loopback bind and free ports."""
    text = (ROOT / "deploy" / "Caddyfile").read_text()
    if SITE_LINE not in text or not text.lstrip().startswith("#"):
        raise CheckFailed("deploy/Caddyfile no longer has the site line this check extends")
    global_options = (
        "{\n"
        f"\thttp_port {stack.ports['http']}\n"
        f"\thttps_port {stack.ports['https']}\n"
        "\tskip_install_trust\n"
        # No plain-http listener for redirects (it would bind every interface).
        "\tauto_https disable_redirects\n"
        "\tservers {\n\t\tprotocols h1 h2\n\t}\n"
    )
    start = text.index("\n{\n") + 1
    text = text[:start] + global_options + text[start + 2 :]
    text = text.replace(SITE_LINE, SITE_LINE + "\ttls internal\n\tbind 127.0.0.1\n")
    path = stack.work / "Caddyfile"
    path.write_text(text)
    return path


def caddy_start(stack: Stack) -> ssl.SSLContext:
    config = caddyfile(stack)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(stack.work),
        "XDG_DATA_HOME": str(stack.work / "caddy-data"),
        "XDG_CONFIG_HOME": str(stack.work / "caddy-config"),
        "CADDY_ADMIN": f"127.0.0.1:{stack.ports['admin']}",
        "COUNTERSIGN_SITE": stack.base,
        "COUNTERSIGN_UPSTREAM": f"127.0.0.1:{stack.ports['web']}",
    }
    subprocess.run(
        ["caddy", "validate", "--config", str(config), "--adapter", "caddyfile"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    stack.start("caddy", ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"], env)
    root = stack.work / "caddy-data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    wait_until("Caddy's internal CA", root.exists, 30, 0.2)
    # Python's requests trust that root and nothing else: the chain Caddy serves is checked.
    return ssl.create_default_context(cafile=str(root))


def get(stack: Stack, context: ssl.SSLContext, path: str) -> tuple[int, dict, bytes]:
    # Always https://localhost:<port> (the check's own Caddy), never a scheme from outside.
    request = urllib.request.Request(stack.base + path)  # noqa: S310
    try:
        opened = urllib.request.urlopen(request, timeout=10, context=context)  # noqa: S310  # nosec B310
        with opened as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def processes_start(stack: Stack, env: dict) -> None:
    """The three units' commands (deploy/systemd/), umask 0027 as there."""
    os.umask(0o027)
    bin_ = str(VENV_BIN)
    stack.start("web", [f"{bin_}/gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"], env)
    stack.start(
        "worker",
        [f"{bin_}/celery", "-A", "config", "worker", "-l", "INFO", "--concurrency", "2"],
        env,
    )
    stack.start(
        "beat",
        [
            *(f"{bin_}/celery", "-A", "config", "beat", "-l", "INFO"),
            *("--schedule", str(stack.work / "celerybeat-schedule")),
        ],
        env,
    )


# ---- the browser --------------------------------------------------------------------------


def browser_steps(stack: Stack, seed: dict, context: ssl.SSLContext, mailbox, report) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = os.environ.get("COUNTERSIGN_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        raise CheckFailed("Chromium is missing: apt-get install chromium (make services)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            # Five signers, each on a phone of their own, through Caddy's TLS. Chromium is
            # told to accept the certificate of Caddy's internal CA (a real site has a
            # public one); Python's checks above verify the chain against that CA's root.
            started = time.monotonic()
            for number, code in enumerate(seed["codes"], 1):
                phone = browser.new_context(
                    ignore_https_errors=True, viewport={"width": 390, "height": 844}
                )
                page = phone.new_page()
                page.set_default_timeout(30_000)
                problems = []
                page.on(
                    "console",
                    lambda msg, p=problems: p.append(msg.text) if msg.type == "error" else None,
                )
                page.on("pageerror", lambda exc, p=problems: p.append(str(exc)))
                page.goto(
                    f"{stack.base}/p/{seed['slug']}/#code={code}&level=in_person&k={seed['k']}"
                )
                page.locator("#code-submit").click()
                page.locator("#sign-now").click()
                expect(page.locator("#step-done")).to_be_visible(timeout=30_000)
                cookies = phone.cookies()
                phone.close()
                if problems:
                    raise CheckFailed(f"signer {number}: console errors {problems}")
                if cookies:
                    raise CheckFailed(f"signer {number}: the signer pages set cookies {cookies}")
            report("5 signers signed in Chromium through Caddy", started)

            started = time.monotonic()
            api = f"/api/v1/petitions/{seed['slug']}"
            wait_until(
                "beat's sweep publishing the batch of 5",
                lambda: json.loads(get(stack, context, api)[2])["counts"]["total"] == 5,
                150,
                1,
            )
            report("the batch of 5 published by beat's sweep", started)
            started = time.monotonic()
            mails = wait_until(
                "the milestone mail at the SMTP sink",
                lambda: [m for m in mailbox.messages if STAFF_EMAIL in m[0]],
                90,
            )
            subject = email.message_from_string(mails[0][1], policy=email.policy.default)["Subject"]
            if "passed 5 signatures" not in subject:
                raise CheckFailed(
                    f"the first mail to the organizer is not the milestone: {subject}"
                )
            report(f"the milestone mail arrived: {subject.strip()}", started)

            started = time.monotonic()
            staff = browser.new_context(
                ignore_https_errors=True, viewport={"width": 1280, "height": 900}
            )
            name, value = seed["session_cookie"]
            staff.add_cookies(
                [
                    {
                        "name": name,
                        "value": value,
                        "url": stack.base + "/",
                        "secure": True,
                        "httpOnly": True,
                        "sameSite": "Lax",
                    }
                ]
            )
            page = staff.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{stack.base}/staff/p/{seed['slug']}/flyers/")
            page.locator("#id_copies").fill("2")
            page.get_by_role("button", name="Make the PDF").click()
            page.get_by_role("link", name="Download the PDF").wait_for(timeout=120_000)
            with page.expect_download() as info:
                page.get_by_role("link", name="Download the PDF").click()
            pdf = Path(info.value.path()).read_bytes()
            staff.close()
            if not pdf.startswith(b"%PDF"):
                raise CheckFailed("the print run's download is not a PDF")
            report(f"a print run made on the worker and downloaded ({len(pdf)} bytes)", started)
        finally:
            browser.close()


# ---- the run ------------------------------------------------------------------------------


def run(work: Path, stack: Stack) -> None:
    begun = time.monotonic()

    def report(what: str, started: float) -> None:
        print(f"ok  {time.monotonic() - started:6.1f} s  {what}", flush=True)

    for tool in ("caddy", "redis-server"):
        if not shutil.which(tool):
            raise CheckFailed(f"{tool} is missing: run make services (scripts/services.sh)")

    started = time.monotonic()
    database_url = database_create(stack)
    redis_url = redis_start(stack)
    mailbox = smtp_start(stack)
    env = production_environment(stack, database_url, redis_url)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    manage(env, "check", "--deploy", "--fail-level", "WARNING")
    report("migrate, collectstatic, check --deploy on production settings", started)

    started = time.monotonic()
    seed = json.loads(
        manage(
            {**env, "COUNTERSIGN_PRODCHECK_STAFF_EMAIL": STAFF_EMAIL},
            "shell",
            "-c",
            (ROOT / "scripts" / "prod_check_seed.py").read_text(),
        ).splitlines()[-1]
    )
    report("an organizer, a petition (published, two keys), five codes", started)

    started = time.monotonic()
    processes_start(stack, env)
    context = caddy_start(stack)
    wait_until(
        "gunicorn behind Caddy",
        lambda: stack.alive() or get(stack, context, "/livez")[0] == 200,
        60,
    )
    report("gunicorn, worker, beat and Caddy up; /livez through TLS", started)

    browser_steps(stack, seed, context, mailbox, report)

    started = time.monotonic()
    _, headers, body = wait_until(
        "/healthz ok",
        lambda: (answer := get(stack, context, "/healthz"))[0] == 200 and answer,
        60,
        1,
    )
    if "Strict-Transport-Security" not in headers or "Server" in headers:
        raise CheckFailed(f"/healthz through Caddy: unexpected headers {headers}")
    report(f"/healthz through Caddy: {json.loads(body)['checks']}", started)
    stack.alive()
    caddy_log = stack.log("caddy").read_text()
    for path in SIGNER_PATHS:
        if path in caddy_log:
            raise CheckFailed(f"Caddy's log names {path}:\n{caddy_log[-2000:]}")
    print(f"PROD-CHECK OK in {time.monotonic() - begun:.0f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=int, default=600, help="cut the whole run (s)")
    parser.add_argument("--keep", action="store_true", help="keep the logs' folder")
    args = parser.parse_args()

    def out_of_time(signum, frame):
        raise CheckFailed(f"the check ran past --timeout {args.timeout} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(143))
    signal.alarm(args.timeout)
    work = Path(tempfile.mkdtemp(prefix="countersign-prodcheck-"))
    stack = Stack(work)
    failed = None
    try:
        run(work, stack)
    except (CheckFailed, subprocess.SubprocessError, AssertionError) as exc:
        failed = str(exc)
    except Exception as exc:  # Playwright's timeouts and the like: still a clean failure line
        failed = f"{type(exc).__name__}: {exc}"
    finally:
        signal.alarm(0)
        problems = stack.close()
    for problem in problems:
        print(f"stop: {problem}", file=sys.stderr)
    if failed:
        print(f"PROD-CHECK FAILED: {failed}", file=sys.stderr)
        for name, _ in stack.processes:
            tail = stack.log(name).read_text()[-1500:] if stack.log(name).exists() else ""
            print(f"--- {name}.log (end)\n{tail}", file=sys.stderr)
    if args.keep or failed:
        print(f"logs: {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())

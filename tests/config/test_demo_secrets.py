"""The demo never runs on the public development key, with which anyone could forge an
invitation link: `make run` and `make run-phone` make their own DJANGO_SECRET_KEY and
key-encryption key once, in var/ with mode 0600, and reuse them; an invitation link forged
with the public key is refused."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from config.demo_secrets import (
    DEVELOPMENT_SECRET_KEY,
    NAMES,
    load_or_create,
    use_demo_secrets,
)
from config.secrets import key_encryption_key_problem

ROOT = Path(__file__).resolve().parents[2]

# The review's forgery, computed outside the app with the public key, then opened.
PROBE = """
import json, os, sys
sys.path.insert(0, "scripts")
if os.environ.get("PROBE_PHONE_DEMO"):
    import run_phone
    run_phone.configure("192.0.2.10")  # what `make run-phone` sets up, on a LAN address
import django
django.setup()
from django.conf import settings
from django.core import signing
from django.core.management import call_command
from django.test import Client
from config.demo_secrets import DEVELOPMENT_SECRET_KEY
from organizing.invitations import INVITATION_SALT, invitation_token
from organizing.services import invitation_create
call_command("migrate", verbosity=0, interactive=False)
invitation = invitation_create(
    email="newbie@beta.example", role="organizer", campaign=None, invited_by=None,
    site_organizer=True,
)
forged = signing.dumps(
    invitation.pk, key=DEVELOPMENT_SECRET_KEY, salt=INVITATION_SALT, compress=True
)
client = Client(HTTP_HOST="127.0.0.1")
opened = client.get(f"/invitations/{forged}/")
genuine = Client(HTTP_HOST="127.0.0.1").get(f"/invitations/{invitation_token(invitation)}/")
print(json.dumps({
    "forged": [opened.status_code, opened.get("Location", "")],
    "genuine": [genuine.status_code, genuine.get("Location", "")],
    "public_key": settings.SECRET_KEY == DEVELOPMENT_SECRET_KEY,
    "secret_key": settings.SECRET_KEY,
}))
"""


def _probe(tmp_path: Path, phone_demo: bool) -> dict:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "TMPDIR"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_DEBUG="1",
        COUNTERSIGN_SQLITE_PATH=str(tmp_path / f"demo-{phone_demo}.sqlite3"),
        COUNTERSIGN_DEMO_SECRETS_FILE=str(tmp_path / "var" / "demo-secrets.env"),
        PHONE_TLS_DIR=str(tmp_path / "tls"),
    )
    if phone_demo:
        env["PROBE_PHONE_DEMO"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_review_l9_an_invitation_forged_with_the_public_key_is_refused_by_the_phone_demo(
    tmp_path,
):
    # The attack as the review ran it: on the embedded default the forged link opens the
    # sign-up form as the invitee. That is what `make run-phone` served before.
    plain = _probe(tmp_path, phone_demo=False)
    assert plain["public_key"] is True
    # (The link opens the invitation page, which leads to sign-up: review M1.)
    assert plain["forged"] == [200, ""]

    demo = _probe(tmp_path, phone_demo=True)
    assert demo["public_key"] is False
    assert demo["forged"] == [404, ""]  # "This invitation link is not valid"
    assert demo["genuine"] == [200, ""]  # the demo's own links still work

    # Made once, private, and the same on the next run (the demo's data stays valid).
    stored = tmp_path / "var" / "demo-secrets.env"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert _probe(tmp_path, phone_demo=True)["secret_key"] == demo["secret_key"]


def test_the_demo_secrets_are_random_distinct_and_strong(tmp_path):
    path = tmp_path / "var" / "demo-secrets.env"
    values, created = load_or_create(path)
    assert created and set(values) == set(NAMES)
    assert values["DJANGO_SECRET_KEY"] != DEVELOPMENT_SECRET_KEY
    problem = key_encryption_key_problem(
        values["COUNTERSIGN_KEY_ENCRYPTION_KEY"], values["DJANGO_SECRET_KEY"]
    )
    assert problem is None  # would pass even production's rules
    path.chmod(0o644)
    again, created = load_or_create(path)
    assert (again, created) == (values, False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other, _ = load_or_create(tmp_path / "elsewhere.env")
    assert other["DJANGO_SECRET_KEY"] != values["DJANGO_SECRET_KEY"]


def test_a_key_set_by_the_operator_wins_and_nothing_is_written(tmp_path):
    environ = {
        "DJANGO_SECRET_KEY": "chosen",
        "COUNTERSIGN_DEMO_SECRETS_FILE": str(tmp_path / "s.env"),
    }
    assert use_demo_secrets(environ) == []
    assert environ["DJANGO_SECRET_KEY"] == "chosen"
    assert not (tmp_path / "s.env").exists()


def test_a_demo_database_made_under_the_public_key_is_moved_aside_once(tmp_path):
    sqlite = tmp_path / "db.sqlite3"
    sqlite.write_text("old demo")
    (tmp_path / "db.sqlite3-wal").write_text("wal")
    environ = {
        "COUNTERSIGN_SQLITE_PATH": str(sqlite),
        "COUNTERSIGN_DEMO_SECRETS_FILE": str(tmp_path / "s.env"),
    }
    notes = use_demo_secrets(environ)
    assert len(notes) == 1 and "public development key" in notes[0]
    assert not sqlite.exists() and not (tmp_path / "db.sqlite3-wal").exists()
    assert (tmp_path / "db.sqlite3.public-key").read_text() == "old demo"
    assert (tmp_path / "db.sqlite3.public-key-wal").read_text() == "wal"
    # The next run reuses the secrets and leaves the (new) database alone.
    sqlite.write_text("new demo")
    second = dict(environ)
    assert use_demo_secrets(second) == []
    assert sqlite.read_text() == "new demo"
    assert second["DJANGO_SECRET_KEY"] == environ["DJANGO_SECRET_KEY"]


def test_the_public_key_is_refused_as_soon_as_the_site_answers_a_network_name(tmp_path):
    """`manage.py runserver 0.0.0.0:8000` by hand, on the embedded default, with the LAN
    address allowed: the checks that runserver runs refuse to start."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "TMPDIR"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_DEBUG="1",
        COUNTERSIGN_SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )

    def check(**extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert check().returncode == 0  # loopback only: fine for a developer's own machine
    lan = check(DJANGO_ALLOWED_HOSTS="127.0.0.1,192.168.1.20")
    assert lan.returncode != 0 and "countersign.E020" in lan.stderr
    own_key = check(DJANGO_ALLOWED_HOSTS="192.168.1.20", DJANGO_SECRET_KEY="x" * 50)
    assert own_key.returncode == 0, own_key.stderr

"""deploy/systemd/: one unit each for web, worker and beat, run as the service user from the
checkout with the environment file, UMask=0027 (code PDFs never world-readable) and
restarted on failure (ops walk, rows 2 and 11). `systemd-analyze verify` checks them where
it is installed."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
VENV_BIN = "/opt/countersign/venv/bin/"


def parse(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read_string(path.read_text())
    return parser


def test_web_worker_and_beat_have_a_unit_each():
    assert [u.name for u in UNITS] == [
        "countersign-beat.service",
        "countersign-web.service",
        "countersign-worker.service",
    ]
    commands = {u.name: parse(u)["Service"]["ExecStart"] for u in UNITS}
    assert (
        "gunicorn --chdir /opt/countersign/app -c config/gunicorn.conf.py config.wsgi"
        in commands["countersign-web.service"]
    )
    assert "celery -A config worker" in commands["countersign-worker.service"]
    assert "celery -A config beat" in commands["countersign-beat.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_runs_as_the_service_user_with_umask_and_restarts(unit):
    service = parse(unit)["Service"]
    assert service["User"] == "countersign" and service["Group"] == "countersign"
    assert service["WorkingDirectory"] == "/opt/countersign/app"
    assert service["EnvironmentFile"] == "/etc/countersign/env"
    assert service["UMask"] == "0027"
    assert service["Restart"] == "on-failure"
    assert service["ExecStart"].startswith(VENV_BIN)
    assert service["ProtectSystem"] == "strict"
    assert "/var/lib/countersign" in service["ReadWritePaths"]
    assert parse(unit)["Install"]["WantedBy"] == "multi-user.target"


def test_the_web_unit_reloads_gracefully_with_hup():
    service = parse(ROOT / "deploy" / "systemd" / "countersign-web.service")["Service"]
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["Type"] == "notify"  # gunicorn tells systemd when it is ready


def test_systemd_analyze_verify_accepts_them(tmp_path):
    """verify also checks that each command exists: point them at this checkout's venv."""
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: run make services"
    here = str(Path(sys.executable).parent) + "/"
    for unit in UNITS:
        (tmp_path / unit.name).write_text(unit.read_text().replace(VENV_BIN, here))
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == "", result.stderr

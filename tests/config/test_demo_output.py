"""`make run` prints the mailed work-email code in its console: nothing else should sit beside
it, such as kombu's "No hostname was supplied" warning from a host-less broker URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_settings_send_a_task_without_a_broker_warning(tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "COUNTERSIGN_SQLITE_PATH": str(tmp_path / "db.sqlite3"),
    }
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from organizing.tasks import invitation_send\n"
        "invitation_send.delay(0)\n"  # no such invitation: the task returns quietly
        "print('sent')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,  # a migration from scratch: minutes when the machine is shared
        check=False,
    )
    assert "sent" in done.stdout, done.stderr
    assert "kombu" not in done.stderr and "No hostname" not in done.stderr

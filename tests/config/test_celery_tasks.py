"""The worker finds every task by the name the beat schedule and queued messages use.

The task modules of the feature packages are loaded through CELERY_IMPORTS, not re-exported
from a tasks.py; a fresh interpreter loads what a starting worker loads, so no import made
by another test can hide a module the worker would miss.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

# The names of every task, as messages already in a queue know them. A change here renames
# a task: deploy it only with an empty queue.
TASK_NAMES = {
    "organizing.notices.tasks.moderation_alert_send",
    "organizing.notices.tasks.moderation_alerts_sweep",
    "organizing.flyers.tasks.print_run_render",
    "organizing.flyers.tasks.print_runs_expire",
    "organizing.notices.tasks.deadlines_run",
    "organizing.notices.tasks.notice_send",
    "organizing.notices.tasks.digests_record",
    "organizing.notices.tasks.milestones_check",
    "organizing.notices.tasks.notices_sweep",
    "organizing.tasks.invitation_send",
    "config.health.heartbeat",
}

WORKER_START = """
import json, django
django.setup()
from config.celery_app import app
app.loader.import_default_modules()
print(json.dumps(sorted(n for n in app.tasks if not n.startswith("celery."))))
"""


def _worker_task_names() -> set[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", WORKER_START], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_a_starting_worker_registers_every_task_under_its_old_name():
    names = _worker_task_names()
    assert names >= TASK_NAMES
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= names, scheduled - names

"""The demo's broker (config/demo_broker.py): kombu's file-system transport with messages
written under a name no queue reads, then renamed. Through a real kombu connection on a
temporary folder, as the worker and beat of `make run` use it."""

from __future__ import annotations

import os

from kombu import Connection, Consumer, Producer, Queue

from config.demo_broker import PARTIAL_SUFFIX, transport_options

QUEUE = Queue("celery", routing_key="celery")


def _connection(root):
    return Connection(
        "filesystem://localhost/",
        transport="config.demo_broker:Transport",
        transport_options=transport_options(root),
    )


def _drain(root, limit: int = 10) -> list[dict]:
    got = []
    with _connection(root) as conn, Consumer(conn, [QUEUE], accept=["json"]) as consumer:
        consumer.register_callback(lambda body, message: (got.append(body), message.ack()))
        for _ in range(limit):
            try:
                conn.drain_events(timeout=0.5)
            except TimeoutError:
                break
    return got


def test_messages_go_through_files_in_the_folder_and_come_out_in_order(tmp_path):
    root = tmp_path / "broker"  # does not exist yet: the transport makes its folders
    with _connection(root) as conn:
        producer = Producer(conn.default_channel)
        for n in range(3):
            producer.publish({"n": n}, routing_key="celery", declare=[QUEUE], serializer="json")
    files = sorted(os.listdir(root / "messages"))
    assert len(files) == 3 and all(name.endswith(".celery.msg") for name in files)
    assert _drain(root) == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert os.listdir(root / "messages") == []  # taken: gone from the queue


def test_a_message_still_being_written_is_never_read(tmp_path):
    root = tmp_path / "broker"
    with _connection(root) as conn:
        Producer(conn.default_channel).publish(
            {"n": 1}, routing_key="celery", declare=[QUEUE], serializer="json"
        )
    # What a sender leaves while it writes (or when it died mid-write): half a message.
    partial = root / "messages" / f"{PARTIAL_SUFFIX}-interrupted"
    partial.write_bytes(b'{"body": "eyJu')
    assert _drain(root) == [{"n": 1}]
    assert partial.exists()  # neither read nor taken


def test_the_demo_broker_runs_tasks_on_the_worker_and_production_refuses_it(tmp_path):
    from tests.config.test_settings import PRODUCTION_ENV, _clean_env, _run

    probe = (
        "import django; django.setup(); from django.conf import settings as s\n"
        "print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_TRANSPORT,"
        " s.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in'])\n"
    )
    demo = _run(
        ["-c", probe],
        _clean_env(
            DJANGO_SETTINGS_MODULE="config.settings.base",
            CELERY_BROKER_URL="filesystem://localhost/",
            COUNTERSIGN_BROKER_PATH=str(tmp_path / "broker"),
        ),
    )
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.split() == [
        "False",
        "config.demo_broker:Transport",
        str(tmp_path / "broker" / "messages"),
    ]
    production = _run(
        ["manage.py", "check", "--deploy"],
        _clean_env(PRODUCTION_ENV, CELERY_BROKER_URL="filesystem://localhost/"),
    )
    assert production.returncode != 0
    assert "countersign.E002" in production.stderr + production.stdout

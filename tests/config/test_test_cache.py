"""The tests' own cache (tests/redis_cache.py): `make check` runs pytest in parallel workers
that share one Redis database, each under its own key prefix."""

import os

import redis
from django.core.cache import caches


def test_clearing_the_cache_deletes_this_workers_keys_and_no_one_elses(settings):
    r = redis.Redis.from_url(settings.REDIS_URL)
    another_worker = "cs-test-gw99-1:1:rl:signatures:x"
    r.set(another_worker, b"7", ex=60)
    try:
        caches["default"].set("mine", 1)
        caches["sealing"].set("window", 2)
        caches["default"].clear()
        assert caches["default"].get("mine") is None
        # Django's own clear() would have flushed the database: the sealing store's window
        # key and the other worker's counter would be gone.
        assert caches["sealing"].get("window") == 2
        assert r.get(another_worker) == b"7"
    finally:
        r.delete(another_worker)
        caches["sealing"].delete("window")


def test_each_worker_and_run_has_its_own_prefix(settings):
    default = settings.CACHES["default"]["KEY_PREFIX"]
    sealing = settings.CACHES["sealing"]["KEY_PREFIX"]
    assert default != sealing
    assert not default.startswith(sealing) and not sealing.startswith(default + ":")
    assert str(os.getpid()) in default

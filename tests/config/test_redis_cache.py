"""config/redis_cache.py: one `redis.Redis` client per pool and process, shared by threads,
against the real Redis of the test settings."""

import os
import threading

from django.core.cache import caches

from config.redis_cache import ReusedClientRedisCacheClient


def test_the_cache_reuses_one_client_across_calls_and_threads():
    cache = caches["default"]
    assert isinstance(cache._cache, ReusedClientRedisCacheClient)
    first = cache._cache.get_client(write=True)
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(cache._cache.get_client(write=True)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(seen) == 8
    assert all(client is first for client in seen)
    # And it still works as a cache: values round-trip, counters count.
    cache.set("reused-client", {"n": 1}, timeout=60)
    assert cache.get("reused-client") == {"n": 1}
    cache.set("reused-counter", 1, timeout=60)
    assert cache.incr("reused-counter") == 2
    cache.delete_many(["reused-client", "reused-counter"])


def test_a_forked_process_builds_its_own_client():
    # gunicorn forks its workers after the app is loaded: a client made in the master must
    # not be the one a worker uses.
    cache = caches["default"]
    parent = cache._cache.get_client(write=True)
    cache.set("fork-check", "parent", timeout=60)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running pytest's exit handlers
        try:
            child = cache._cache.get_client(write=True)
            ok = child is not parent and cache.get("fork-check") == "parent"
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    try:
        assert os.read(read, 1) == b"1"
    finally:
        os.close(read)
        os.waitpid(pid, 0)
        cache.delete("fork-check")

"""Django's Redis cache backend with one `redis.Redis` client per connection pool.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` for every cache call.
The connection is reused (it comes from the pool), but each client fills its table of
response callbacks again, about 170 entries: some 0.3 ms of CPU per call, more than the
whole trivial view `/livez` costs. A kept petition page is one cache call and a redemption
several, so that construction was a large share of both (benchmarks/README.md, "Load").
A `redis.Redis` client is safe to share between threads (each command takes a connection
from the pool and gives it back), so one per pool is enough; it is built on first use, in
the process that uses it, so a client made before gunicorn forks is never shared.
"""

from __future__ import annotations

import os
import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[tuple[int, int], object] = {}
        self._clients_lock = threading.Lock()

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        # Keyed by process too: after a fork the child builds its own (redis-py's pool
        # resets its connections in a new process; the client must follow its pool).
        slot = (os.getpid(), id(pool))
        client = self._clients.get(slot)
        if client is None:
            with self._clients_lock:
                client = self._clients.get(slot)
                if client is None:
                    client = self._client(connection_pool=pool)
                    self._clients[slot] = client
        return client


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache`, reusing its clients."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

"""The tests' Redis cache: Django's, except that `clear()` deletes this run's keys only.

Django's `RedisCache.clear()` flushes the whole Redis database. Under `pytest -n auto`
(`make check`) every worker shares that database with its own key prefix
(config/settings/test.py), so one test's `cache.clear()` would wipe another worker's rate-limit
counters and sealing-store window keys in the middle of its test.
"""

from __future__ import annotations

from config.redis_cache import RedisCache


class PrefixedRedisCache(RedisCache):
    def clear(self) -> bool:
        client = self._cache.get_client(None, write=True)
        # Prefixes are built from letters, digits and dashes (no glob characters).
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        return True

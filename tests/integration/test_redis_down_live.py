"""Redis down under the real stack (issue 19, item 3; ops walk, row 25): gunicorn on a private
PostgreSQL cluster, with the cache and broker on one private redis-server and the sealing
store on another, as docs/operations.md recommends. Each is stopped in turn; what every
signer endpoint answers must be what docs/operations.md ("When a part fails") documents,
and never a 500. tests/integration/test_redis_down.py checks the same decisions in-process,
with one Redis for everything; this checks them through gunicorn.
"""

from __future__ import annotations

import pytest

from .http_signer import Signer, call, get_json, issue
from .instances import AppStack, RedisServer

pytestmark = pytest.mark.faults


@pytest.fixture
def split_stack(private_postgres, tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "sealing").mkdir()
    with (
        RedisServer(tmp_path / "cache") as cache,
        RedisServer(tmp_path / "sealing") as store,
        AppStack(
            private_postgres, cache, tmp_path, COUNTERSIGN_SEALING_REDIS_URL=store.url
        ) as stack,
    ):
        yield stack, cache, store


def reads(stack: AppStack, slug: str) -> dict[str, int]:
    probe = Signer("-")
    paths = (
        f"/p/{slug}/",
        f"/api/v1/petitions/{slug}",
        f"/api/v1/petitions/{slug}/keys",
        f"/api/v1/petitions/{slug}/log",
    )
    return {path: call(stack.base, path, None, probe, "read", tries=0).status for path in paths}


def assert_unavailable(answer, retry_after: str = "30") -> None:
    assert answer.status == 503, answer
    assert answer.content_type == "application/json", answer
    assert answer.body["error"]["code"] == "unavailable", answer
    assert answer.retry_after == retry_after, answer


def test_redis_down_reading_works_signing_follows_the_sealing_store_codes_wait(split_stack):
    stack, cache, store = split_stack
    seeded = stack.run("seed", "10")
    slug, codes = seeded["slug"], seeded["codes"]
    api = f"/api/v1/petitions/{slug}"
    keys = get_json(f"{stack.base}{api}/keys")
    signers = [Signer(code) for code in codes[:3]]

    # The cache and broker's Redis down: reading, issuance and signing go on (their limits
    # fail open, the sealing store is up); email codes fail closed.
    cache.stop()
    assert set(reads(stack, slug).values()) == {200}
    first = issue(stack.base, slug, keys, signers[0], tries=0)
    assert first, signers[0].answers
    signed = call(stack.base, f"{api}/signatures", first, signers[0], "signature", tries=0)
    assert signed.status == 201, signed
    asked = call(
        stack.base, f"{api}/email-codes", {"email": "ada@acme.example"}, signers[0], "mail", 0
    )
    assert_unavailable(asked)

    # The sealing store down (the cache back): issuance goes on, signing waits with a 503
    # that changes nothing, and the same credential signs once the store is back.
    cache.start()
    store.stop()
    assert set(reads(stack, slug).values()) == {200}
    second = issue(stack.base, slug, keys, signers[1], tries=0)
    assert second, signers[1].answers
    waiting = call(stack.base, f"{api}/signatures", second, signers[1], "signature", tries=0)
    assert_unavailable(waiting)
    store.start()  # back, empty (no persistence here): a new window key
    signed = call(stack.base, f"{api}/signatures", second, signers[1], "signature", tries=0)
    assert signed.status == 201, signed

    # Both Redis down at once: reading still works.
    cache.stop()
    store.stop()
    assert set(reads(stack, slug).values()) == {200}

    log = stack.log.read_text()
    # A 500 is logged as one of these (config/logging.py); no traceback at all.
    assert "Server error 500" not in log and "Internal Server Error" not in log
    assert "Traceback" not in log, log
    # Two signatures waiting for their batch: the 503 stored nothing.
    stored = stack.run("count", slug)
    assert stored["waiting"] == 2, stored

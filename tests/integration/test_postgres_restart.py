"""PostgreSQL restarted during a burst of 200 signers (issue 19, item 3): every 201 is a
stored signature, every failure is a clean JSON 503 with Retry-After that the client sends
again, never a 500, and the retrying client gets all 200 signed.

The app is gunicorn on a private PostgreSQL cluster and a private redis-server
(tests/integration/instances.py); the signers are threads speaking protocol v1 over HTTP with
the browser client's retry policy (static/js/sign.js `retryDelay`: a 503 is sent again at
most 4 times, after min(Retry-After, 1, 2, 4, 8 s)). The cluster is restarted
(`pg_ctl restart -m fast`: open connections ended, in-flight transactions rolled back) while
they sign, again until at least one request has met the restart, at most 5 times.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import Counter

import pytest

from .http_signer import Signer, get_json, sign

pytestmark = pytest.mark.faults

SIGNERS = 200
CONCURRENCY = 12
RESTARTS_AT_MOST = 5


def test_a_postgres_restart_during_200_signers_loses_nothing_and_answers_no_500(app_stack):
    stack, postgres, _redis = app_stack
    seeded = stack.run("seed", str(SIGNERS))
    slug, codes = seeded["slug"], seeded["codes"]
    keys = get_json(f"{stack.base}/api/v1/petitions/{slug}/keys")
    signers = [Signer(code) for code in codes]

    def met_a_restart() -> bool:
        return any(a.status == 503 for s in signers for a in list(s.answers))

    done = threading.Event()
    restarts: list[float] = []

    def restart_while_signing() -> None:
        # From the 20th signature on, restart; again every 2 s until a request met one.
        deadline = time.monotonic() + 120
        while not done.is_set() and time.monotonic() < deadline:
            if sum(s.outcome == "signed" for s in signers) >= 20:
                break
            time.sleep(0.05)
        while not done.is_set() and len(restarts) < RESTARTS_AT_MOST:
            started = time.monotonic()
            postgres.restart()
            restarts.append(time.monotonic() - started)
            if done.wait(2) or met_a_restart():
                break

    restarter = threading.Thread(target=restart_while_signing)
    started = time.monotonic()
    restarter.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
            futures = [pool.submit(sign, stack.base, slug, keys, s) for s in signers]
            for future in concurrent.futures.as_completed(futures, timeout=240):
                future.result()
    finally:
        done.set()
        restarter.join(timeout=60)
    elapsed = time.monotonic() - started

    answers = [a for s in signers for a in s.answers]
    statuses = Counter((a.step, a.status) for a in answers)
    report = f"{statuses}, restarts {restarts}, outcomes {Counter(s.outcome for s in signers)}"
    print(f"\n{SIGNERS} signers in {elapsed:.1f} s: {report}")
    assert restarts and met_a_restart(), report  # the fault happened under load

    # Never a 500, nor any other failure than the clean 503 the client sends again (and
    # the "already used" that answers a retry whose first try did commit).
    lost = [s for s in signers if s.outcome == "signed, answer lost"]
    failures = [a for a in answers if a.status not in (200, 201)]
    for answer in [a for a in failures if not (a.status == 409 and a.step == "signature")]:
        assert answer.status == 503, (answer, report)
        assert answer.content_type == "application/json", answer
        assert answer.body["error"]["code"] in ("unavailable", "try_again"), answer
        assert int(answer.retry_after) > 0, answer
    log = stack.log.read_text()  # a 500 is logged as one of these (config/logging.py)
    assert "Server error 500" not in log and "Internal Server Error" not in log

    assert len([a for a in failures if a.status == 409]) == len(lost)

    # The retrying client finished every signer.
    assert [s for s in signers if not s.outcome.startswith("signed")] == [], report

    # Every 201 is one stored signature, and so is every "answer lost"; nothing else was
    # stored, nothing twice.
    stored = stack.run("close", slug)
    accepted = sorted(s.nullifier.hex() for s in signers)
    assert sorted(stored["nullifiers"]) == accepted
    assert stored["waiting_before_close"] == SIGNERS and stored["waiting"] == 0
    assert stored["batch_added"] == stored["count"] == stored["log_signatures"] == SIGNERS
    assert stored["log_summaries"] == stored["batches"]
    assert stored["log_entries"] == SIGNERS + stored["batches"]

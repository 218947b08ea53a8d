"""Load through the real stack (gunicorn + PostgreSQL + Redis, production-like settings),
driven by wrk (Debian's HTTP load generator), every figure a ratio against /livez, a trivial
view on the same gunicorn in the same run (issue 19 item 1):

- the public petition page `/p/<slug>/` and `GET /api/v1/petitions/<slug>` (goal >= 0.8);
- redemption (`POST …/signatures`) with the production batch policy (interval 3600 s,
  batches of at least 5: signatures wait, goal >= 0.4) and with immediate publication;
- then zero lost signatures: accepted 201s == signature rows == published count ==
  signature entries in the transparency log, after the waiting ones are published by the
  batch mechanics at a slot where every one of them is due.

    .venv/bin/python benchmarks/load.py [--seconds 10] [--connections 8] [--workers 2]
        [--profile DIR]   # py-spy attached to each gunicorn worker during the batched
                          # redemption phase: DIR/worker-<pid>.txt, collapsed stacks

Creates and drops the database `countersign_bench_load` on the local PostgreSQL, and uses
Redis database 3 under a key prefix of its own, deleted at the end. Bounded: every wrk run
lasts --seconds with --connections connections on one thread, to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _stack import bench_petition, gunicorn, scratch_database

DB = "countersign_bench_load"
REDIS = os.environ.get("COUNTERSIGN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")

# wrk's Lua for the redemptions: each request sends the next prepared body, for
# LOAD_SECONDS; then the connections send /livez until every redemption has its answer,
# and the thread stops sending. So no redemption is in flight when wrk ends: the statuses
# counted here ("status <code> <count>" at the end) are every answer the server gave, and
# "window <s>" is the time from the first redemption sent to the last answer (LuaJIT's FFI
# reads the monotonic clock; wrk itself reports its whole -d).
POST_SCRIPT = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } load_timespec;
int clock_gettime(int clock, load_timespec *out);
]]
local function now()
  local t = ffi.new("load_timespec")
  ffi.C.clock_gettime(1, t)
  return tonumber(t.tv_sec) + tonumber(t.tv_nsec) / 1e9
end
local bodies = {}
for line in io.lines(os.getenv("LOAD_BODIES")) do bodies[#bodies + 1] = line end
local path = os.getenv("LOAD_PATH")
local seconds = tonumber(os.getenv("LOAD_SECONDS"))
local threads = {}
first = nil
last = nil
sent = 0
received = 0
statuses = {}
function setup(thread) table.insert(threads, thread) end
local function sending()
  return sent < #bodies and (first == nil or now() < first + seconds)
end
function request()
  if sending() then
    if first == nil then first = now() end
    sent = sent + 1
    return wrk.format("POST", path, {["Content-Type"] = "application/json"}, bodies[sent])
  end
  return wrk.format("GET", "/livez")
end
function response(status, headers, body)
  if not (status == 200 and body == "ok") then
    received = received + 1
    last = now()
    statuses[status] = (statuses[status] or 0) + 1
  end
  if received >= sent and not sending() then wrk.thread:stop() end
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      io.write(string.format("status %d %d\\n", status, n))
    end
    io.write(string.format("window %.6f\\n", thread:get("last") - thread:get("first")))
    io.write(string.format("unanswered %d\\n", thread:get("sent") - thread:get("received")))
  end
end
"""
GET_SCRIPT = """
local threads = {}
statuses = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      io.write(string.format("status %d %d\\n", status, n))
    end
  end
end
"""


def wrk(url: str, args, script: Path, env: dict | None = None) -> tuple[float, Counter, str]:
    """(answers per second, statuses, p99 latency) of one bounded wrk run. With `env`, a
    redemption run: its rate is the redemptions answered over wrk's whole run time."""
    seconds = args.seconds
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{args.connections}",
            # A redemption run stops itself once its last answer is in (POST_SCRIPT).
            f"-d{seconds + 10 if env else seconds}s",
            "--latency",
            "--timeout",
            "30s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 90,
        env={**os.environ, "LOAD_SECONDS": str(seconds), **(env or {})},
    )
    statuses = Counter(
        {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", result.stdout, re.M)}
    )
    if env:
        unanswered = int(re.search(r"^unanswered (\d+)$", result.stdout, re.M).group(1))
        if unanswered:  # still in flight at -d: the zero-lost check cannot be exact
            statuses[0] = unanswered
        window = float(re.search(r"^window ([\d.]+)$", result.stdout, re.M).group(1))
        rps = sum(n for status, n in statuses.items() if status) / window
    else:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))
    p99 = re.search(r"^\s+99%\s+(\S+)$", result.stdout, re.M)
    return rps, statuses, p99.group(1) if p99 else "?"


def make_bodies(petition, count: int) -> list[str]:
    """`count` distinct redemption bodies for the petition's in-person key: what a signer's
    client sends after a credential (one private-key load, then blind, sign, finalize)."""
    import secrets

    from petition import blindrsa
    from petition.keys import load_private_key

    key = petition.keys.get(level="in_person")
    private = load_private_key(key)
    public = private.public_key()
    signer = blindrsa.BlindSigner(private)  # its set-up costs more than a signature
    bodies = []
    for _ in range(count):
        token = secrets.token_bytes(32)
        msg = blindrsa.build_message(
            petition.id.bytes, bytes(key.key_id), blindrsa.nullifier(token)
        )
        prepared = blindrsa.prepare(msg)
        blinded, inv = blindrsa.blind(public, prepared)
        sig = blindrsa.finalize(public, prepared, signer.sign(blinded), inv)
        b64 = blindrsa.b64url_encode
        bodies.append(
            json.dumps({"key_id": b64(bytes(key.key_id)), "msg": b64(prepared), "sig": b64(sig)})
        )
    return bodies


def worker_pids(base: str) -> list[int]:
    """The gunicorn workers serving `base`: children of the master bound to its port."""
    port = base.rsplit(":", 1)[1]
    masters, parents = [], {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        if b"gunicorn" in b" ".join(cmdline) and f"127.0.0.1:{port}".encode() in cmdline:
            masters.append(int(entry.name))
    return sorted(pid for pid, parent in parents.items() if parent in masters)


def profile_start(base: str, seconds: int, out: Path) -> list[subprocess.Popen]:
    out.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(seconds),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(out / f"worker-{pid}.txt"),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in worker_pids(base)
    ]


def profile_summary(out: Path, top: int = 25) -> str:
    """Share of samples in which each function is on the stack (inclusive), all workers."""
    inclusive: Counter = Counter()
    total = 0
    for path in out.glob("worker-*.txt"):
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            if not stack:
                continue
            total += int(count)
            frames = {re.sub(r" \((.*?):\d+\)$", r" (\1)", frame) for frame in stack.split(";")}
            for frame in frames:
                inclusive[frame] += int(count)
    lines = [f"{total} samples"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bodies", type=int, default=6000, help="per redemption phase")
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (scripts/services.sh does)")
    prefix = f"cs-bench-load-{os.getpid()}"
    settings = {
        "COUNTERSIGN_KEY_BITS": "3072",
        # Production-like: Redis for the cache, the rate limits and the sealing store.
        "REDIS_URL": REDIS,
        "COUNTERSIGN_CACHE_PREFIX": prefix,
        "COUNTERSIGN_SEALING_PREFIX": f"{prefix}-sealing",
        "CELERY_BROKER_URL": "memory://localhost/",
        # One client address sends everything here; keep the limit check, not its refusal.
        "COUNTERSIGN_RATE_LIMIT_FACTOR": "100000",
        # The immediate-publication petition is below the safe floor on purpose.
        "COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION": "1",
    }
    load = os.getloadavg()
    started = time.monotonic()
    with scratch_database(DB, settings) as env, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        policies = {
            "batched": {"publish_interval": 3600, "publish_min_batch": 5},
            "immediate": {"publish_interval": 0, "publish_min_batch": 1},
        }
        petitions = {
            name: bench_petition(
                name, summary="Stop the tracking.", goal=100_000, publish_max_wait=86400, **policy
            )
            for name, policy in policies.items()
        }
        minted = time.monotonic()
        for name, petition in petitions.items():
            (tmp / f"{name}.jsonl").write_text("\n".join(make_bodies(petition, args.bodies)))
        minted = time.monotonic() - minted
        (tmp / "get.lua").write_text(GET_SCRIPT)
        (tmp / "post.lua").write_text(POST_SCRIPT)

        results = {}
        with gunicorn(env, workers=args.workers) as base:
            wrk(
                f"{base}/livez", argparse.Namespace(**{**vars(args), "seconds": 3}), tmp / "get.lua"
            )
            for label, path in (
                ("/livez (baseline)", "/livez"),
                ("petition page /p/<slug>/", "/p/batched/"),
                ("petition page /es/p/<slug>/", "/es/p/batched/"),
                ("GET /api/v1/petitions/<slug>", "/api/v1/petitions/batched"),
            ):
                results[label] = wrk(f"{base}{path}", args, tmp / "get.lua")
            profilers = []
            for name in ("batched", "immediate"):
                if args.profile and name == "batched":
                    profilers = profile_start(base, args.seconds, args.profile)
                    time.sleep(1)  # py-spy attaches
                path = f"/api/v1/petitions/{name}/signatures"
                results[f"POST signatures ({name})"] = wrk(
                    f"{base}{path}",
                    args,
                    tmp / "post.lua",
                    env={"LOAD_BODIES": str(tmp / f"{name}.jsonl"), "LOAD_PATH": path},
                )
                for profiler in profilers:
                    profiler.wait(timeout=args.seconds + 60)
                profilers = []
            results["/livez (baseline, again)"] = wrk(f"{base}/livez", args, tmp / "get.lua")

        lost = zero_lost(petitions, results)
        _clear_redis(prefix)

    baseline = (results["/livez (baseline)"][0] + results["/livez (baseline, again)"][0]) / 2
    print(
        f"wrk -t1 -c{args.connections} -d{args.seconds}s per phase, gunicorn {args.workers} "
        f"workers x 2 threads, RSA 3072, Redis cache; {datetime.date.today()}, load average "
        f"before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + f"; {minted:.0f} s minting, {time.monotonic() - started:.0f} s in all"
    )
    print(f"{'phase':34s} {'req/s':>9s} {'ratio':>6s} {'p99':>9s}  statuses")
    for label, (rps, statuses, p99) in results.items():
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
        print(f"{label:34s} {rps:9.1f} {rps / baseline:6.2f} {p99:>9s}  {shown}")
    for line in lost:
        print(line)
    if args.profile:
        print(profile_summary(args.profile))


def zero_lost(petitions: dict, results: dict) -> list[str]:
    """Accepted 201s == rows == published count == signature entries in the log, once the
    waiting signatures are published at a slot where each of them is due (the batch
    mechanics of petition/publication.py, as the beat's sweep runs them)."""
    from petition import publication, publication_policy
    from petition.models import PendingSignature, Signature
    from petition.selectors import petition_counts
    from petition.tlog.entries import KIND_SIGNATURE
    from petition.tlog.models import LogEntry

    # Past every waiting signature's longest wait, just after a slot boundary.
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3)
    due = publication_policy.slot_start(later, 3600) + datetime.timedelta(seconds=30)
    lines = []
    for name, petition in petitions.items():
        accepted = results[f"POST signatures ({name})"][1].get(201, 0)
        waiting_before = PendingSignature.objects.filter(petition=petition).count()
        publication.petition_publish_pending(petition_id=petition.id, now=due)
        rows = Signature.objects.filter(petition=petition).count()
        waiting = PendingSignature.objects.filter(petition=petition).count()
        count = petition_counts(petition)["total"]
        logged = LogEntry.objects.filter(petition_id=petition.id, kind=KIND_SIGNATURE).count()
        ok = accepted == rows == count == logged and waiting == 0
        lines.append(
            f"zero lost ({name}): 201s {accepted}, waiting before the due batch "
            f"{waiting_before}, rows {rows}, count {count}, log entries {logged}, still "
            f"waiting {waiting}: {'OK' if ok else 'MISMATCH'}"
        )
        if not ok:
            raise SystemExit("\n".join(lines))
    return lines


def _clear_redis(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


if __name__ == "__main__":
    main()

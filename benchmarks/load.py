"""Load through the real stack (gunicorn + PostgreSQL + Redis, production-like settings),
driven by wrk (Debian's HTTP load generator), every figure a ratio against /livez, a trivial
view on the same gunicorn in the same run (issue 19 item 1):

- the public petition page `/p/<slug>/` and `GET /api/v1/petitions/<slug>` (goal >= 0.8);
- redemption (`POST …/signatures`) with the production batch policy (interval 3600 s,
  batches of at least 5: signatures wait, goal >= 0.4) and with immediate publication;
- then zero lost signatures: accepted 201s == signature rows == published count ==
  signature entries in the transparency log, after the waiting ones are published by the
  batch mechanics at a slot where every one of them is due.

    .venv/bin/python benchmarks/load.py [--rounds 5] [--seconds 4] [--connections 8]
        [--workers 2] [--bodies 1500]
        [--profile DIR]   # py-spy attached to each gunicorn worker during the batched
                          # redemption phase of the first round: DIR/worker-<pid>.txt

Every phase runs once per round and each ratio is against /livez in the same round (the
median round is reported), since these virtual machines lose their cores to other guests
for seconds at a time ("steal", printed per phase); the CPU each answer cost, by process
(gunicorn, PostgreSQL, Redis, wrk), is printed too: it does not move with that noise.

Creates and drops the database `countersign_bench_load` on the local PostgreSQL, and uses
Redis database 3 under a key prefix of its own, deleted at the end. Bounded: every wrk run
lasts --seconds with --connections connections on one thread, to 127.0.0.1 only, and sends
at most --bodies redemptions.
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
import threading
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
    io.write(string.format("first %.6f\\nlast %.6f\\n", thread:get("first"), thread:get("last")))
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


PARTS = ("gunicorn", "postgres", "redis", "wrk", "other")


def _machine_ms() -> tuple[float, float]:
    """CPU time the machine has spent busy since boot, all cores, and the time the
    hypervisor gave its cores to other guests instead (steal), in ms. These machines are
    virtual: steal is the noise of a run, and it is no work of ours."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) * 1000 / tick, steal * 1000 / tick


def _cpu_by_part(wrk_pid: int) -> Counter:
    """CPU time used so far (ms) by the stack's running processes: the gunicorn master and
    workers, every PostgreSQL process, Redis, wrk; and the machine's busy time in all."""
    tick = os.sysconf("SC_CLK_TCK")
    busy, steal = _machine_ms()
    used: Counter = Counter({"machine": busy, "steal": steal})
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        if int(entry.name) == wrk_pid:
            part = "wrk"
        elif b"gunicorn" in cmdline:
            part = "gunicorn"
        elif name.startswith("postgres"):
            part = "postgres"
        elif name.startswith("redis"):
            part = "redis"
        else:
            continue
        used[part] += (int(fields[11]) + int(fields[12])) * 1000 / tick
    return used


def _sample_cpu(wrk_pid: int, samples: list, stop: threading.Event) -> None:
    """(monotonic time, _cpu_by_part) every 0.2 s until `stop`: the CPU of a window inside
    the run is the difference of the samples around it."""
    while True:
        samples.append((time.monotonic(), _cpu_by_part(wrk_pid)))
        if stop.wait(0.2):
            samples.append((time.monotonic(), _cpu_by_part(wrk_pid)))
            return


def _cpu_per_answer(
    samples: list, start: float, end: float, answers: int, wrk_ms: float | None = None
) -> dict:
    """CPU ms per answer by part between the last sample at or before `start` and the first
    at or after `end` (a sample every 0.2 s: a little more than the window, never less), and
    the share of the cores' time stolen by the hypervisor meanwhile ("steal %")."""
    before = max((s for s in samples if s[0] <= start), key=lambda s: s[0], default=samples[0])
    after = min((s for s in samples if s[0] >= end), key=lambda s: s[0], default=samples[-1])
    used = {part: after[1][part] - before[1][part] for part in PARTS[:4]}
    if wrk_ms is not None:  # measured by the parent once wrk has ended
        used["wrk"] = wrk_ms
    # Processes that ended in the window take their CPU with them: never below zero.
    used = {part: max(0.0, ms) for part, ms in used.items()}
    used["other"] = max(0.0, after[1]["machine"] - before[1]["machine"] - sum(used.values()))
    per_answer = {part: ms / max(answers, 1) for part, ms in used.items()}
    elapsed_ms = 1000 * max(after[0] - before[0], 1e-3) * (os.cpu_count() or 1)
    per_answer["steal %"] = 100 * (after[1]["steal"] - before[1]["steal"]) / elapsed_ms
    return per_answer


def wrk(url: str, args, script: Path, env: dict | None = None) -> tuple[float, Counter, str, dict]:
    """(answers per second, statuses, p99 latency, CPU ms per answer by part of the stack)
    of one bounded wrk run. With `env`, a redemption run: its rate and its CPU are those of
    the window from the first redemption sent to the last answer (after it the connections
    send /livez until wrk ends, which neither counts)."""
    seconds = args.seconds
    command = [
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
    ]
    environment = {**os.environ, "LOAD_SECONDS": str(seconds), **(env or {})}
    samples: list = []
    stop = threading.Event()
    started, children = time.monotonic(), os.times()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    ) as process:
        sampler = threading.Thread(target=_sample_cpu, args=(process.pid, samples, stop))
        sampler.start()
        try:
            stdout, stderr = process.communicate(timeout=seconds + 90)
        finally:
            stop.set()
            sampler.join()
    if process.returncode:
        raise RuntimeError(f"wrk failed ({process.returncode}): {stderr}")
    ended = time.monotonic()
    statuses = Counter(
        {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", stdout, re.M)}
    )
    answered = sum(n for status, n in statuses.items() if status)
    if env:
        unanswered = int(re.search(r"^unanswered (\d+)$", stdout, re.M).group(1))
        if unanswered:  # still in flight at -d: the zero-lost check cannot be exact
            statuses[0] = unanswered
        window = float(re.search(r"^window ([\d.]+)$", stdout, re.M).group(1))
        rps = answered / window
        first = float(re.search(r"^first ([\d.]+)$", stdout, re.M).group(1))
        last = float(re.search(r"^last ([\d.]+)$", stdout, re.M).group(1))
        cpu = _cpu_per_answer(samples, first, last, answered)
    else:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", stdout).group(1))
        done = os.times()
        wrk_ms = 1000 * (
            done.children_user
            + done.children_system
            - children.children_user
            - children.children_system
        )
        cpu = _cpu_per_answer(samples, started, ended, answered, wrk_ms)
    p99 = re.search(r"^\s+99%\s+(\S+)$", stdout, re.M)
    return rps, statuses, p99.group(1) if p99 else "?", cpu


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


GETS = (
    ("/livez (baseline)", "/livez"),
    ("petition page /p/<slug>/", "/p/batched/"),
    ("petition page /es/p/<slug>/", "/es/p/batched/"),
    ("GET /api/v1/petitions/<slug>", "/api/v1/petitions/batched"),
)
BASELINE = GETS[0][0]
POLICIES = {
    "batched": {"publish_interval": 3600, "publish_min_batch": 5},
    "immediate": {"publish_interval": 0, "publish_min_batch": 1},
}


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _latency_ms(p99: str) -> float:
    """wrk's "12.34ms" / "1.20s" / "850.00us" as milliseconds (nan when it printed none)."""
    found = re.fullmatch(r"([\d.]+)(us|ms|s)", p99)
    if not found:
        return float("nan")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=4, help="per phase and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bodies", type=int, default=1500, help="per redemption phase and round")
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
        petitions = {
            name: bench_petition(
                name, summary="Stop the tracking.", goal=100_000, publish_max_wait=86400, **policy
            )
            for name, policy in POLICIES.items()
        }
        minted = time.monotonic()
        for name, petition in petitions.items():
            bodies = make_bodies(petition, args.bodies * args.rounds)
            for round_ in range(args.rounds):
                chunk = bodies[round_ * args.bodies : (round_ + 1) * args.bodies]
                (tmp / f"{name}-{round_}.jsonl").write_text("\n".join(chunk))
        minted = time.monotonic() - minted
        (tmp / "get.lua").write_text(GET_SCRIPT)
        (tmp / "post.lua").write_text(POST_SCRIPT)

        # Every phase once per round, rounds one after the other: the host's noise (other
        # guests taking the cores: "steal") moves within a minute, so each round's ratios
        # are against the baseline of the same round, and the median round is reported.
        rounds: dict[str, list] = {}
        with gunicorn(env, workers=args.workers) as base:
            warm_up = argparse.Namespace(**{**vars(args), "seconds": 3})
            wrk(f"{base}/livez", warm_up, tmp / "get.lua")
            for round_ in range(args.rounds):
                for label, path in GETS:
                    rounds.setdefault(label, []).append(wrk(f"{base}{path}", args, tmp / "get.lua"))
                for name in POLICIES:
                    profilers = []
                    if args.profile and name == "batched" and round_ == 0:
                        profilers = profile_start(base, args.seconds, args.profile)
                        time.sleep(1)  # py-spy attaches
                    path = f"/api/v1/petitions/{name}/signatures"
                    bodies = tmp / f"{name}-{round_}.jsonl"
                    rounds.setdefault(f"POST signatures ({name})", []).append(
                        wrk(
                            f"{base}{path}",
                            args,
                            tmp / "post.lua",
                            env={"LOAD_BODIES": str(bodies), "LOAD_PATH": path},
                        )
                    )
                    for profiler in profilers:
                        profiler.wait(timeout=args.seconds + 60)

        results = {label: sum((r[1] for r in runs), Counter()) for label, runs in rounds.items()}
        lost = zero_lost(petitions, results)
        _clear_redis(prefix)

    print(
        f"wrk -t1 -c{args.connections}, {args.rounds} rounds of {args.seconds} s per phase, "
        f"gunicorn {args.workers} workers x 2 threads, RSA 3072, Redis cache; "
        f"{datetime.date.today()}, load average before {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f}, after "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + f"; {minted:.0f} s minting, {time.monotonic() - started:.0f} s in all"
    )
    print(
        "ratio: the phase's req/s over /livez's in the same round, median of the rounds "
        "(min-max); cost ratio: /livez's CPU per answer over the phase's (what the ratio "
        "would be with no noise on a machine the stack keeps busy)"
    )
    baseline_cpu = _median([sum(r[3][p] for p in PARTS) for r in rounds[BASELINE]])
    print(
        f"{'phase':32s} {'req/s':>8s} {'ratio':>6s} {'min-max':>11s} {'cost':>6s} "
        f"{'p99':>9s}  statuses"
    )
    for label, runs in rounds.items():
        pairs = zip(runs, rounds[BASELINE], strict=True)
        ratios = [run[0] / baseline[0] for run, baseline in pairs]
        cpu = _median([sum(r[3][p] for p in PARTS) for r in runs])
        p99 = _median([_latency_ms(r[2]) for r in runs])
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(results[label].items()))
        print(
            f"{label:32s} {_median([r[0] for r in runs]):8.1f} {_median(ratios):6.2f} "
            f"{min(ratios):5.2f}-{max(ratios):5.2f} {baseline_cpu / cpu:6.2f} "
            f"{p99:7.1f}ms  {shown}"
        )
    # Where the CPU went: on a machine whose cores the whole stack shares, a request's
    # throughput is bounded by its CPU time across all of these.
    print(
        "\nCPU ms per answer, median round "
        + " ".join(f"{p:>9s}" for p in (*PARTS, "total", "steal %"))
    )
    for label, runs in rounds.items():
        cells = " ".join(f"{_median([r[3][p] for r in runs]):9.2f}" for p in PARTS)
        total = _median([sum(r[3][p] for p in PARTS) for r in runs])
        steal = _median([r[3]["steal %"] for r in runs])
        print(f"{label:32s} {cells} {total:9.2f} {steal:9.1f}")
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
        accepted = results[f"POST signatures ({name})"].get(201, 0)
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

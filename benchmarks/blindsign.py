"""Benchmark BlindSign (petition.blindrsa) against `cryptography`'s own RSA-PSS sign.

Usage: python benchmarks/blindsign.py [--seconds N]

Per modulus size it reports BlindSign ops/s through each installed backend (OpenSSL's raw
private operation via M2Crypto, and the gmpy2 `powmod_sec` fallback; both with the s^e check),
the `cryptography` RSA-PSS sign ops/s in the same process (the baseline of the goal), and
`openssl speed`'s private-op figure, plus the ratios to the baseline. Everything is
time-bounded (about 4 x N seconds per size, plus key generation).
"""

from __future__ import annotations

import argparse
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from petition import blindrsa

SIZES = (2048, 3072)


def ops_per_second(op: Callable[[int], object], seconds: float) -> float:
    """Run op(i) repeatedly for about `seconds` (at least once); return ops per second."""
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        op(count)
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def openssl_sign_rate(bits: int, seconds: int) -> float | None:
    """Private-op (sign/s) figure from `openssl speed -mr rsa<bits>`, or None if unavailable."""
    if not shutil.which("openssl"):
        return None
    cmd = ["openssl", "speed", "-mr", "-seconds", str(seconds), f"rsa{bits}"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=4 * seconds + 30).stdout
    except subprocess.TimeoutExpired:
        return None
    # Machine-readable summary line: +F2:<index>:<bits>:<sign/s>:<verify/s>
    found = re.search(rf"^\+F2:\d+:{bits}:([\d.]+):", out, re.M)
    return float(found.group(1)) if found else None


def measure(bits: int, seconds: int) -> tuple[dict[str, float], float, float | None]:
    """Best-of-rounds ops/s per backend, for cryptography's RSA-PSS sign and `openssl speed`.

    All run in alternating 1-second rounds and each keeps its best round, so load from other
    processes on a shared machine skews the ratios less than one long run each would.
    """
    key = blindrsa.generate_private_key(bits)
    signers = {b: blindrsa.BlindSigner(key, backend=b) for b in blindrsa.BACKENDS}
    n = key.public_key().public_numbers().n
    mod_len = (bits + 7) // 8
    inputs = [(secrets.randbelow(n - 1) + 1).to_bytes(mod_len, "big") for _ in range(64)]
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    ours = dict.fromkeys(signers, 0.0)
    lib, ref = 0.0, None
    for _ in range(seconds):
        for name, signer in signers.items():
            rate = ops_per_second(lambda i, s=signer: s.sign(inputs[i % 64]), 1)
            ours[name] = max(ours[name], rate)
        lib = max(lib, ops_per_second(lambda i: key.sign(inputs[i % 64], pss, hashes.SHA384()), 1))
        rate = openssl_sign_rate(bits, 1)
        if rate is not None:
            ref = max(ref or 0.0, rate)
    return ours, lib, ref


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=int, default=3, help="seconds per measurement (default 3)"
    )
    args = parser.parse_args()
    seconds = max(1, args.seconds)

    print(f"BlindSign benchmark, best of {seconds} x 1 s rounds per measurement, single thread")
    print(f"backends: {', '.join(blindrsa.BACKENDS)} (default {blindrsa.DEFAULT_BACKEND})")
    head = f"{'bits':>5} {'backend':>8} {'ours/s':>9} {'crypto PSS/s':>13} {'openssl/s':>10}"
    print(f"{head} {'ours/crypto':>12} {'ours/openssl':>13}")
    for bits in SIZES:
        ours, lib, ref = measure(bits, seconds)
        ref_text = f"{ref:10.1f}" if ref else f"{'n/a':>10}"
        for name, rate in ours.items():
            to_ref = f"{rate / ref:13.2f}" if ref else f"{'n/a':>13}"
            row = f"{bits:>5} {name:>8} {rate:9.1f} {lib:13.1f} {ref_text}"
            print(f"{row} {rate / lib:12.2f} {to_ref}", flush=True)


if __name__ == "__main__":
    main()

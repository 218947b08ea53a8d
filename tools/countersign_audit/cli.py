"""Command line: `check` and `witness` (see docs/audit.md).

Exit status of check: 0 the log passed; 1 the log failed a check (one line says what);
2 wrong usage; 3 the check could not be completed (network, timeout, server error)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from countersign_audit import witness as W
from countersign_audit.check import Audit, AuditFailure, Options
from countersign_audit.fetch import FetchError
from countersign_audit.note import NoteError


def _check(args) -> int:
    try:
        opts = Options(
            base_url=args.url,
            log_key=args.log_key,
            witnesses=args.witness or [],
            quorum=args.quorum,
            state_path=args.state,
            origin=args.origin,
            timeout=args.timeout,
        )
        lines = Audit(opts).run()
    except AuditFailure as exc:
        print(f"FAILED: {exc}")
        return 1
    except (FetchError, ValueError) as exc:
        print(f"COULD NOT CHECK: {exc}")
        return 3
    except Exception as exc:  # still one line, never a traceback, for whoever runs it by hand
        print(f"COULD NOT CHECK: unexpected {type(exc).__name__}: {exc}")
        return 3
    print("\n".join(lines))
    return 0


def _witness(args) -> int:
    if args.action == "keygen":
        if not args.name:
            print("witness keygen needs --name", file=sys.stderr)
            return 2
        path = Path(args.key or "witness.key")
        try:
            vkey = W.keygen(args.name, path)
        except (FileExistsError, NoteError) as exc:
            print(f"cannot create the key: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {path}; send this verifier key to the log operators:")
        print(vkey)
        return 0
    if not args.key or not args.listen or not args.log:
        print("witness needs --key, --listen and --log", file=sys.stderr)
        return 2
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        print("--listen is HOST:PORT, e.g. 127.0.0.1:7380", file=sys.stderr)
        return 2
    key = Path(args.key)
    state = Path(args.state) if args.state else key.with_name(key.stem + "-state.json")
    try:
        witness = W.load(key, args.log, state)
    except (OSError, NoteError, ValueError) as exc:
        print(f"cannot start the witness: {exc}", file=sys.stderr)
        return 2
    W.serve(witness, host.strip("[]"), int(port))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="countersign_audit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="audit a Countersign site's log")
    c.add_argument("url", help="the site's address, e.g. https://petition.example.org")
    c.add_argument("--log-key", help="the log's verifier key (otherwise trusted on first use)")
    c.add_argument("--witness", action="append", help="a witness verifier key (repeatable)")
    c.add_argument("--quorum", type=int, help="witness cosignatures required (default: all given)")
    c.add_argument("--state", help="state file (default ~/.countersign-audit/<origin hash>.json)")
    c.add_argument("--origin", help="the log's origin when it is not <address without scheme>/log")
    c.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    w = sub.add_parser("witness", help="run a witness, or `witness keygen --name NAME`")
    w.add_argument("action", nargs="?", choices=["serve", "keygen"], default="serve")
    w.add_argument("--key", help="the witness key file")
    w.add_argument("--name", help="keygen: the witness name, e.g. witness.union.example")
    w.add_argument("--listen", help="HOST:PORT to listen on")
    w.add_argument("--log", action="append", help="verifier key of a log to witness (repeatable)")
    w.add_argument("--state", help="state file (default: next to the key file)")
    args = parser.parse_args(argv)
    if args.command == "check":
        if args.quorum is not None and not 0 <= args.quorum <= len(args.witness or []):
            parser.error("--quorum must be between 0 and the number of --witness keys")
        return _check(args)
    return _witness(args)

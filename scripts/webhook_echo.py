"""A webhook receiver for trying milestone notices in the demo: prints every POST it gets.

    .venv/bin/python scripts/webhook_echo.py            # listens on http://127.0.0.1:8199/
    .venv/bin/python scripts/webhook_echo.py --port 9000

Add `http://127.0.0.1:8199/countersign` as the campaign's webhook in `make run` (which allows
loopback addresses, COUNTERSIGN_WEBHOOK_ALLOW_LOOPBACK=1) and each notice the worker sends
appears here: the headers that matter (the signature to check, docs/operations.md) and the
JSON body. It answers 204 to every POST. Listens on 127.0.0.1 only; for trying, not for
keeping: it checks no signature and keeps nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SHOWN_HEADERS = (
    "Content-Type",
    "User-Agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "X-Countersign-Signature",  # deprecated, for one more release
    "X-Countersign-Delivery",  # deprecated, for one more release
)
MAX_BODY = 1_000_000  # a notice is a few hundred bytes; anything bigger is not one


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length)
        lines = [f"POST {self.path}"]
        lines += [
            f"  {name}: {self.headers[name]}" for name in SHOWN_HEADERS if name in self.headers
        ]
        try:
            lines.append(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
        except ValueError:
            lines.append(body.decode("utf-8", "replace"))
        print("\n".join(lines), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args) -> None:
        pass  # the POST is printed above; no second line per request


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=8199)
    port = parser.parse_args(argv).port
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"Waiting for webhooks on http://127.0.0.1:{port}/  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()

"""A small bounded HTTP client: one kept-alive connection, a timeout on every request,
a size cap on every body (also after gzip), no redirects, no cookies."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
import zlib

from countersign_audit import __version__


class FetchError(Exception):
    """The server could not be reached or answered something unusable (not evidence)."""


class NotFound(Exception):
    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


class Fetcher:
    def __init__(self, base_url: str, timeout: float = 30.0):
        parsed = urllib.parse.urlsplit(base_url.rstrip("/"))
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError("the address must start with https:// (or http://)")
        self.scheme, self.netloc, self.prefix = parsed.scheme, parsed.netloc, parsed.path
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.requests = 0
        self.bytes = 0

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.netloc, timeout=self.timeout)

    def get(self, path: str, max_bytes: int) -> bytes:
        url = self.prefix + "/" + path.lstrip("/")
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request(
                    "GET",
                    url,
                    headers={
                        "Accept-Encoding": "gzip",
                        "User-Agent": f"countersign-audit/{__version__}",
                    },
                )
                resp = self.conn.getresponse()
                body = self._read(resp, max_bytes)
                break
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 2:
                    raise FetchError(f"GET {url}: {exc or type(exc).__name__}") from exc
        self.requests += 1
        self.bytes += len(body)
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        if resp.status == 404:
            raise NotFound(url)
        if resp.status != 200:
            raise FetchError(f"GET {url}: HTTP {resp.status}")
        return body

    def _read(self, resp: http.client.HTTPResponse, max_bytes: int) -> bytes:
        length = resp.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            raise FetchError(f"answer larger than {max_bytes} bytes")
        # The socket timeout bounds each read; this deadline bounds the whole answer, so a
        # server that sends a byte every few seconds cannot hold the check forever.
        deadline = time.monotonic() + 2 * self.timeout
        chunks, size = [], 0
        while True:
            chunk = resp.read(min(1 << 16, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"answer larger than {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchError("answer too slow")
        raw = b"".join(chunks)
        if resp.getheader("Content-Encoding", "").lower() == "gzip":
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                raw = d.decompress(raw, max_bytes + 1)
            except zlib.error as exc:
                raise FetchError("bad gzip encoding") from exc
            if len(raw) > max_bytes or d.unconsumed_tail:
                raise FetchError(f"answer larger than {max_bytes} bytes once decompressed")
        return raw

    def get_json(self, path: str, max_bytes: int = 16 << 20):
        body = self.get(path, max_bytes)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise FetchError(f"{path}: not JSON") from exc

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

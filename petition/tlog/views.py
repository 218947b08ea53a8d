"""The log over HTTP, per C2SP tlog-tiles v0.1.0 (GET /log/checkpoint, /log/tile/…), and
the auditors' index GET /api/v1/log.

Every answer is one lookup by a unique key; nothing scans the log. No cookies (like the
other public pages) and no rate limit: tiles are immutable, cheap reads that a CDN may
cache for ever, and an audit must download all of them; a limit would stop honest
auditors before it slowed anyone else (the petition pages cost more per request).
Anything malformed, past the latest checkpoint or at a width no checkpoint implied is a
404, never a 500."""

from __future__ import annotations

import gzip
import re

from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from .. import blindrsa
from ..api import error as api_error
from ..models import LogCheckpoint, LogEntry, LogTile, Petition
from . import merkle, services, witness

IMMUTABLE = "public, max-age=31536000, immutable"
CHECKPOINT_CACHE = "public, max-age=5"
# <L>/<N> or entries/<N>, each optionally .p/<W>; N checked by merkle.decode_index.
TILE_PATH = re.compile(
    r"(?P<level>entries|0|[1-9]\d?)/(?P<index>[x0-9/]+?)(?:\.p/(?P<width>[1-9]\d{0,2}))?"
)


def _not_found() -> HttpResponse:
    response = HttpResponse("not found\n", status=404, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def checkpoint(request: HttpRequest) -> HttpResponse:
    latest = LogCheckpoint.objects.order_by("-size").first()
    if latest is None:
        return _not_found()
    response = HttpResponse(witness.cosigned_note(latest), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = CHECKPOINT_CACHE
    return response


def parse_tile_path(path: str) -> tuple[bool, int, int, int] | None:
    """(bundle, level, index, width) of a tile path, None if malformed."""
    match = TILE_PATH.fullmatch(path)
    if match is None:
        return None
    index = merkle.decode_index(match["index"])
    width = int(match["width"]) if match["width"] else merkle.TILE_WIDTH
    if index is None or (match["width"] and width >= merkle.TILE_WIDTH):
        return None  # partial widths are 1..255
    if index >= 1 << 56:  # past any log of 2**64 entries, and past a database integer
        return None
    bundle = match["level"] == "entries"
    level = 0 if bundle else int(match["level"])
    if level > 63:
        return None
    return bundle, level, index, width


@require_safe
def tile(request: HttpRequest, path: str) -> HttpResponse:
    coordinates = parse_tile_path(path)
    if coordinates is None:
        return _not_found()
    bundle, level, index, width = coordinates
    data = (
        LogTile.objects.filter(bundle=bundle, level=level, index=index, width=width)
        .values_list("data", flat=True)
        .first()
    )
    if data is None:
        return _not_found()
    data = bytes(data)
    response = HttpResponse(content_type="application/octet-stream")
    if bundle:
        response["Vary"] = "Accept-Encoding"
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            # tlog-tiles: bundles SHOULD be compressed. mtime=0 keeps the bytes the same on
            # every request; the content is public, so compression leaks nothing (BREACH).
            data = gzip.compress(data, mtime=0)
            response["Content-Encoding"] = "gzip"
    response.content = data
    response["Cache-Control"] = IMMUTABLE
    return response


@csrf_exempt  # GET only: a wrong method gets the JSON 405, not CSRF's 403
def api_log(request: HttpRequest) -> JsonResponse:
    """For auditors: the log's identity, its witnesses' keys and every petition that has
    entries in it. Under /api/, so a wrong method gets the API's JSON 405."""
    if request.method not in ("GET", "HEAD"):
        response = api_error(405, "method_not_allowed", "Use GET, HEAD.")
        response["Allow"] = "GET, HEAD"
        return response
    petitions = (
        Petition.objects.filter(Exists(LogEntry.objects.filter(petition_id=OuterRef("pk"))))
        .order_by("slug")
        .values_list("id", "slug")
    )
    return JsonResponse(
        {
            **services.log_identity(),
            "witnesses": witness.public_witnesses(),
            "petitions": [
                {"petition_id": blindrsa.b64url_encode(pid.bytes), "slug": slug}
                for pid, slug in petitions
            ],
        }
    )

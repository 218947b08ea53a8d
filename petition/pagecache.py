"""The public petition page (`/p/<slug>/`, `/es/p/<slug>/`, …) and
`GET /api/v1/petitions/<slug>`, kept rendered between the writes that change them.

Both are read far more often than they change: their content moves with a publication
batch, an edit, a status change, a key invalidation or a moderation decision, and with the
day (the "public by" date). So the rendered body is kept in the default cache (Redis), under
the petition's slug, the page's language, the day and a release token, together with the
petition's *generation*: a random token that every write changing what these answers show
replaces after it commits (`pages_changed`). A cached body whose generation is not the
current one is never served. The generation is read before the database, so a write that
commits while a body is rendered makes that body stale at once; a lost generation (Redis
flushed or evicted) gets a new random one, and an old body never comes back.

Nothing per visitor is in a cached body. The one per-request part of the page, the warning
shown to a visitor on the employer's network (P6: the address is used in memory only), is
a second variant, chosen per request from the campaign's networks kept with the body.

Redis down: every cache call fails soft and the page is rendered from the database as
before; a generation that could not be replaced is covered by PAGE_SECONDS, the longest
any body is kept.

Each process also keeps the bodies it served for COUNTERSIGN_PAGE_MEMORY_SECONDS (one
second by default) and serves them again without asking Redis ("microcaching"): under a
crowd most requests then cost what a trivial view costs (benchmarks/README.md, "Load").
A write made in this process drops them at once; one made in another process shows here
within that second, well inside the minute a proxy may keep the answer anyway.

The answers also carry an ETag (a conditional GET gets 304) and Cache-Control: a proxy or
CDN may keep them for COUNTERSIGN_PAGE_MAX_AGE seconds (docs/operations.md), except a page
whose campaign lists employer networks, which only the visitor's browser may keep and must
revalidate each time (the warning depends on the visitor's address).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import parse_etags
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# The longest a rendered body is kept, whatever happens to the generations (seconds).
PAGE_SECONDS = 300
# A generation outlives the bodies kept under it; an expired or lost one is replaced by a
# new random one (see above), so a slug nobody asks for again leaves nothing behind for long.
GENERATION_SECONDS = 2 * PAGE_SECONDS
_FAILURES = (RedisError, OSError)
# Bodies kept in this process: {key: (monotonic deadline, slug, body)}. Bounded: a crowd
# reads a few petitions in a few languages; past this many entries the map is emptied.
_memory: dict[str, tuple[float, str, Rendered]] = {}
MEMORY_ENTRIES = 256


def _release_token() -> str:
    """Changes when what renders these answers changes (templates, translations, the
    petition app's code, the static files' hashed names): a new release never serves a
    body an older one rendered."""
    base = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    files = [
        *sorted((base / "templates").rglob("*.html")),
        *sorted((base / "locale").rglob("*.mo")),
        *sorted((base / "petition").rglob("*.py")),
        Path(settings.STATIC_ROOT) / "staticfiles.json",
    ]
    for path in files:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


RELEASE = _release_token()


@dataclass(frozen=True)
class Rendered:
    """A body as kept in the cache; `networks` are the campaign's employer networks."""

    generation: str
    body: bytes
    content_type: str
    etag: str
    networks: tuple[str, ...] = ()


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def enabled() -> bool:
    return settings.COUNTERSIGN_PAGE_CACHE


def _generation_key(slug: str) -> str:
    return f"pages:generation:{slug}"


def body_key(kind: str, slug: str, *parts: str) -> str:
    """The cache key of one variant of one answer: kind ("page", "api"), slug, and what
    else the body depends on (language, network variant); the day and release always."""
    day = timezone.now().date().isoformat()
    return ":".join(("pages", RELEASE, kind, slug, *parts, day))


def _current_generation(slug: str) -> tuple[str, bool]:
    """The petition's generation, and whether this call made it. Raises Redis's errors."""
    key = _generation_key(slug)
    found = cache.get(key)
    if found is not None:
        return found, False
    made = secrets.token_hex(8)
    created = cache.add(key, made, GENERATION_SECONDS)
    return (made, True) if created else (cache.get(key) or made, False)


def fetch(slug: str, key: str, render: Callable[[str], Rendered]) -> Rendered:
    """The body under `key`: from the cache if it is of the petition's current generation,
    else `render(generation)`, which must read the database only now, after the generation
    was read, and is kept. Errors of `render` (404) pass through and keep nothing."""
    if not enabled():
        return render("")
    held = _memory.get(key)
    if held is not None and held[0] > time.monotonic():
        return held[2]
    rendered = _fetch_shared(slug, key, render)
    _remember(slug, key, rendered)
    return rendered


def _remember(slug: str, key: str, rendered: Rendered) -> None:
    seconds = settings.COUNTERSIGN_PAGE_MEMORY_SECONDS
    if seconds <= 0 or not rendered.generation:  # "": rendered while Redis was down
        return
    if len(_memory) >= MEMORY_ENTRIES:
        _memory.clear()
    _memory[key] = (time.monotonic() + seconds, slug, rendered)


def forget_in_process(slugs: Iterable[str] | None = None) -> None:
    """Drop the bodies this process keeps, for these slugs or all of them."""
    if slugs is None:
        _memory.clear()
        return
    slugs = set(slugs)
    for key, (_deadline, slug, _rendered) in list(_memory.items()):
        if slug in slugs:
            _memory.pop(key, None)


def _fetch_shared(slug: str, key: str, render: Callable[[str], Rendered]) -> Rendered:
    generation_key = _generation_key(slug)
    made = False
    try:
        found = cache.get_many([generation_key, key])
        generation = found.get(generation_key)
        cached = found.get(key)
        if isinstance(cached, Rendered) and generation and cached.generation == generation:
            return cached
        if generation is None:
            generation, made = _current_generation(slug)
    except _FAILURES as exc:
        logger.warning("page cache unavailable (%s)", type(exc).__name__)
        return render("")
    try:
        rendered = render(generation)
    except Exception:
        if made:  # no such public petition: leave no generation behind for it
            _quietly(lambda: cache.delete(generation_key))
        raise
    _quietly(lambda: cache.set(key, rendered, PAGE_SECONDS))
    return rendered


def _quietly(call: Callable[[], object]) -> None:
    try:
        call()
    except _FAILURES as exc:
        logger.warning("page cache unavailable (%s)", type(exc).__name__)


def respond(request: HttpRequest, rendered: Rendered, *, shared: bool) -> HttpResponse:
    """The answer for `rendered`, or 304 if the client holds it already. `shared`: a proxy
    or CDN may keep it; else only the browser, revalidating every time."""
    if rendered.etag in parse_etags(request.headers.get("If-None-Match", "")) or (
        request.headers.get("If-None-Match", "").strip() == "*"
    ):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(rendered.body, content_type=rendered.content_type)
    response["ETag"] = rendered.etag
    max_age = settings.COUNTERSIGN_PAGE_MAX_AGE
    response["Cache-Control"] = f"public, max-age={max_age}" if shared else "private, no-cache"
    return response


# --- invalidation -----------------------------------------------------------------------


def _replace_generations(slugs: Iterable[str]) -> None:
    forget_in_process(slugs)
    try:
        cache.set_many(
            {_generation_key(slug): secrets.token_hex(8) for slug in slugs}, GENERATION_SECONDS
        )
    except _FAILURES as exc:
        # The write itself has committed; bodies kept under the old generation expire
        # within PAGE_SECONDS.
        logger.warning("page cache generation not replaced (%s)", type(exc).__name__)


def pages_changed(*, slugs: Iterable[str]) -> None:
    """What the pages of these petitions show has changed (or will, once the current
    transaction commits): new generations after the commit, so a page rendered meanwhile
    from the old rows is never served afterwards. Outside a transaction: at once."""
    slugs = sorted({slug for slug in slugs if slug})
    if slugs:
        transaction.on_commit(lambda: _replace_generations(slugs))

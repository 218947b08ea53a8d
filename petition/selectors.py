"""Reads for public pages and the API."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from organizing.models import Campaign

from . import blindrsa
from .models import (
    Level,
    PendingSignature,
    PendingWithdrawal,
    Petition,
    PetitionKey,
    PetitionTranslation,
    PublicationBatch,
    Signature,
)
from .publication_policy import overdue_at

PUBLIC_STATUSES = (Petition.Status.PUBLISHED, Petition.Status.CLOSED, Petition.Status.DELIVERED)


def percent_of(count: int, goal: int) -> int:
    """Progress towards the goal, 0 to 100, for the progress bar (staff and public pages;
    `static/js/sign.js` `percentOf` repeats it for the live count).

    Any signature at all shows on the bar: 1 of 500 rounds to 0 %, which draws nothing and
    reads as "nobody signed", so a started bar shows at least 2 %.
    """
    if not goal or count <= 0:
        return 0
    return max(2, min(100, round(100 * count / goal)))


@dataclass(frozen=True)
class PetitionText:
    """A petition's words in one language, whole: the original or one translation."""

    title: str
    summary: str
    demands: str
    addressed_to: str
    language: str
    is_translation: bool


def petition_text(petition: Petition, language: str | None) -> PetitionText:
    """The petition's text in `language` when its organizers wrote or translated it there,
    else the original. Always one unit, never field by field: a missing summary in a
    translation stays missing rather than borrowing the original's, so no paragraph
    mixes two languages."""
    if language and language != petition.language:
        found = PetitionTranslation.objects.filter(petition=petition, language=language).first()
        if found is not None:
            return PetitionText(
                title=found.title,
                summary=found.summary,
                demands=found.demands,
                addressed_to=found.addressed_to,
                language=found.language,
                is_translation=True,
            )
    return PetitionText(
        title=petition.title,
        summary=petition.summary,
        demands=petition.demands,
        addressed_to=petition.addressed_to,
        language=petition.language,
        is_translation=False,
    )


def petition_text_languages(petition: Petition) -> list[str]:
    """The languages the petition can be read in: its own first, then its translations in
    the order the site lists its languages."""
    translated = set(petition.translations.values_list("language", flat=True))
    return [petition.language] + [
        code
        for code, _name in settings.LANGUAGES
        if code in translated and code != petition.language
    ]


def petition_translations(petition: Petition) -> list[PetitionTranslation]:
    """Every translation of the petition, in the order the site lists its languages."""
    order = {code: index for index, (code, _name) in enumerate(settings.LANGUAGES)}
    return sorted(petition.translations.all(), key=lambda row: order.get(row.language, len(order)))


def public_petitions() -> QuerySet[Petition]:
    return Petition.objects.filter(status__in=PUBLIC_STATUSES).select_related("campaign")


def redeemable_petition(slug: str) -> Petition | None:
    """The public petition with this slug as a redemption reads it, in one query: without
    its campaign (a redemption never reads it), and with `last_published_on`, the day of its
    newest publication batch, for the receipt (`petition_publication`)."""
    newest = (
        PublicationBatch.objects.filter(petition=OuterRef("pk"))
        .order_by("-published_on")
        .values("published_on")[:1]
    )
    return (
        Petition.objects.filter(status__in=PUBLIC_STATUSES, slug=slug)
        .annotate(last_published_on=Subquery(newest))
        .first()
    )


def public_campaigns() -> QuerySet[Campaign]:
    return (
        Campaign.objects.annotate(
            public_count=Count("petitions", filter=Q(petitions__status__in=PUBLIC_STATUSES))
        )
        .filter(public_count__gt=0)
        .order_by("name")
    )


def petition_counts(petition: Petition) -> dict[str, int]:
    """Published counts per level and in total, withdrawals excluded.

    Read from the running totals of each level's newest publication batch (one query, one
    index lookup per level): no page or API call counts signature rows, so a petition with a
    million signatures answers as fast as one with a thousand.
    """
    newest = {
        level: Subquery(
            PublicationBatch.objects.filter(petition=OuterRef("pk"), level=level)
            .order_by("-number")
            .annotate(net=F("total_added") - F("total_withdrawn"))
            .values("net")[:1]
        )
        for level in Level.values
    }
    row = Petition.objects.filter(pk=petition.pk).annotate(**newest).values(*Level.values).get()
    counts = {level: row[level] or 0 for level in Level.values}
    for level in _invalidated_levels(petition):
        counts[level] = 0
    counts["total"] = sum(counts.values())
    return counts


def _invalidated_levels(petition: Petition) -> list[str]:
    """Nothing signed with an invalidated key counts (petition/invalidation.py), in the
    totals or in their history."""
    return list(petition.keys.filter(invalidated_at__isnull=False).values_list("level", flat=True))


def petition_count_history(petition: Petition) -> list[tuple[datetime.date, int]]:
    """The counted total (withdrawals and invalidated levels excluded) at the end of each
    day on which a batch went out, oldest first: what growth charts draw, so that the
    chart's last point is the count the page shows."""
    days = (
        PublicationBatch.objects.filter(petition=petition)
        .exclude(level__in=_invalidated_levels(petition))
        .values("published_on")
        .annotate(added=Sum("added"), withdrawn=Sum("withdrawn"))
        .order_by("published_on")
    )
    history, total = [], 0
    for day in days:
        total += day["added"] - day["withdrawn"]
        history.append((day["published_on"], total))
    return history


def petition_publication(petition: Petition) -> dict:
    """How and when this petition publishes, for its public page, the API and receipts.

    Says nothing about what is waiting: a count of pending entries would show each arrival
    as it happens, which is what batches exist to prevent. A petition read by
    `redeemable_petition` carries its last publication day already.
    """
    today = timezone.now().date()
    if hasattr(petition, "last_published_on"):
        last = {"day": petition.last_published_on}
    else:
        last = PublicationBatch.objects.filter(petition=petition).aggregate(day=Max("published_on"))
    return {
        "immediate": petition.publishes_immediately,
        # Below the safe floor (k < 5 or a wait under a day): the pages say so.
        "unsafe": petition.publication_is_unsafe,
        "interval": petition.publish_interval,
        "min_batch": petition.publish_min_batch,
        "max_wait": petition.publish_max_wait,
        "last_published_on": last["day"],
        # A signature that arrives today is public on this day at the latest, provided at
        # least min_batch signatures of its kind are waiting by then; otherwise it waits
        # for them or for the petition's closing (petition/publication.py).
        "public_by": today
        if petition.publishes_immediately
        else overdue_at(today, petition.publish_max_wait).date(),
    }


LOG_PAGE_SIZE = 1000


def public_log(
    petition: Petition, *, after: bytes | None = None, limit: int = LOG_PAGE_SIZE
) -> tuple[list[dict], bytes | None]:
    """One page of the public log: published entries with a nullifier greater than `after`,
    in nullifier order (never arrival order). Returns the entries and the cursor of the next
    page, or None on the last page. A range scan on the (petition, nullifier) unique index."""
    rows = Signature.objects.filter(petition=petition)
    if after is not None:
        rows = rows.filter(nullifier__gt=after)
    rows = list(
        rows.select_related("key")
        .only("nullifier", "msg", "sig", "withdrawn", "key__key_id")
        .order_by("nullifier")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    entries = [
        {
            "nullifier": blindrsa.b64url_encode(bytes(row.nullifier)),
            "key_id": blindrsa.b64url_encode(bytes(row.key.key_id)),
            "msg": blindrsa.b64url_encode(bytes(row.msg)),
            "sig": blindrsa.b64url_encode(bytes(row.sig)),
            "withdrawn": row.withdrawn,
        }
        for row in rows
    ]
    return entries, (bytes(rows[-1].nullifier) if more else None)


def petition_public_keys(petition: Petition) -> QuerySet[PetitionKey]:
    """The public halves only: the private column is never loaded for a public page."""
    return petition.keys.only(
        "petition_id",
        "level",
        "key_id",
        "spki",
        "modulus_bits",
        "invalidated_at",
        "invalidation_reason",
    )


def petitions_with_pending_entries() -> list:
    """Ids of petitions with a signature or withdrawal waiting for publication."""
    waiting = set(PendingSignature.objects.values_list("petition_id", flat=True).distinct())
    waiting |= set(PendingWithdrawal.objects.values_list("petition_id", flat=True).distinct())
    return sorted(waiting)


def petition_publication_batches(petition: Petition, *, limit: int = 100) -> list[PublicationBatch]:
    """The newest publication batches, all levels, for the audit page; each carries
    `net_total`, its level's published count after it."""
    return list(
        PublicationBatch.objects.filter(petition=petition)
        .annotate(net_total=F("total_added") - F("total_withdrawn"))
        .order_by("-published_on", "level", "-number")[:limit]
    )

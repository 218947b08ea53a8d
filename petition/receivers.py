"""Model signal receivers of the petition app, connected in PetitionConfig.ready().

Every save of a petition, its translations or a campaign (the staff edit services, the
admin, a shell) may change what the public petition page and `GET /api/v1/petitions/<slug>`
show: their kept bodies are dropped after the commit (petition/pagecache.py). Writes through
`.update()` call `pages_changed` themselves (publication batches, status changes, key
invalidation, moderation, the goal raised at a milestone).
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from organizing.models import Campaign

from .models import Petition, PetitionTranslation
from .pagecache import pages_changed


@receiver(post_save, sender=Petition, dispatch_uid="pages_on_petition_save")
@receiver(post_delete, sender=Petition, dispatch_uid="pages_on_petition_delete")
def petition_saved(sender, instance: Petition, **kwargs) -> None:
    pages_changed(slugs=[instance.slug])


@receiver(post_save, sender=Campaign, dispatch_uid="pages_on_campaign_save")
def campaign_saved(sender, instance: Campaign, **kwargs) -> None:
    # Its name, employer, networks, mail domains and moderation rule show on every page.
    pages_changed(slugs=list(instance.petitions.values_list("slug", flat=True)))


@receiver(post_save, sender=PetitionTranslation, dispatch_uid="pages_on_translation_save")
@receiver(post_delete, sender=PetitionTranslation, dispatch_uid="pages_on_translation_delete")
def translation_saved(sender, instance: PetitionTranslation, **kwargs) -> None:
    # The page shows the visitor's language whole and lists the languages; the API lists them.
    pages_changed(
        slugs=list(Petition.objects.filter(pk=instance.petition_id).values_list("slug", flat=True))
    )

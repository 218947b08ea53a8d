from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings
from django.utils import timezone, translation

from organizing.models import Role
from petition.models import Petition

from .factories import CampaignFactory, MembershipFactory, PetitionFactory, UserFactory


@pytest.fixture
def campaign(db):
    return CampaignFactory()


@pytest.fixture
def organizer(campaign):
    return MembershipFactory(campaign=campaign, role=Role.ORGANIZER).user


@pytest.fixture
def moderator(campaign):
    return MembershipFactory(campaign=campaign, role=Role.MODERATOR).user


@pytest.fixture
def outsider(db):
    """A staff member with MFA, organizer of a different campaign."""
    return MembershipFactory(role=Role.ORGANIZER).user


@pytest.fixture
def site_organizer(db):
    """A staff member with MFA who may create campaigns, and belongs to none yet."""
    return UserFactory(is_site_organizer=True)


@pytest.fixture
def organizer_without_mfa(campaign):
    return MembershipFactory(campaign=campaign, role=Role.ORGANIZER, user__totp=False).user


@pytest.fixture
def draft_petition(campaign):
    return PetitionFactory(campaign=campaign)


@pytest.fixture
def published_petition(campaign):
    return PetitionFactory(
        campaign=campaign, status=Petition.Status.PUBLISHED, published_at=timezone.now()
    )


@pytest.fixture
def open_petition(draft_petition):
    """Published through the service (so it has keys), accepting all three levels."""
    from petition.services import petition_publish

    draft_petition.accepts_work_email = True
    draft_petition.accepts_flyer = True
    draft_petition.save()
    return petition_publish(petition=draft_petition)


@pytest.fixture
def cast(organizer, moderator, outsider, organizer_without_mfa):
    """Everyone who may knock on a staff URL. `None` is the signer: no account at all."""
    return {
        "organizer": organizer,
        "moderator": moderator,
        "outsider": outsider,
        "organizer_without_mfa": organizer_without_mfa,
        "signer": None,
    }


@pytest.fixture(autouse=True)
def _default_language_between_tests():
    """Every test starts in the default language. LanguageMiddleware activates the request's
    language and leaves it active in the thread, so after a request under /es/ the next
    test's reverse() would build /es/ addresses and its pages would answer in Spanish."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def log_output():
    """Everything the configured console handlers write, exactly as production writes it."""
    stream = io.StringIO()
    handlers = {h for name in ("", "django") for h in logging.getLogger(name).handlers}
    old = {h: h.setStream(stream) for h in handlers if isinstance(h, logging.StreamHandler)}
    assert old, "expected the console handler from settings.LOGGING"
    yield stream
    for handler, previous in old.items():
        handler.setStream(previous)


def pytest_collection_modifyitems(config, items):
    """Mark by folder, so that `make check` (`-m "not browser and not worker"`) leaves out
    every Chromium and Celery-worker test even if a new file forgets its `pytestmark`."""
    for item in items:
        parts = item.path.parts
        if "browser" in parts:
            item.add_marker(pytest.mark.browser)
        if "integration" in parts:
            item.add_marker(pytest.mark.worker)

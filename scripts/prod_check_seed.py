"""Run by scripts/prod_check.py inside `manage.py shell` on the production settings: an
organizer with TOTP (as the first-organizer path leaves one), a campaign, a petition with
the production batch policy shortened to one-minute slots (batches of at least 5, a day's
longest wait: the safe floor), a milestone at 5 signatures (25 % of a goal of 20), five
in-person codes, and a staff session for the browser. Prints one JSON line."""

import json
import os

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.test import Client

from organizing.models import Campaign, Membership, Role, User
from petition.codes import code_batch_create
from petition.keys import key_id_prefix
from petition.models import Petition
from petition.services import petition_publish

email = os.environ["COUNTERSIGN_PRODCHECK_STAFF_EMAIL"]
user = User.objects.create_user(email=email, password=None)
EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
TOTP.activate(user, generate_totp_secret())
campaign = Campaign.objects.create(
    name="Prod check", slug="prod-check", employer_name="Example Corp", email_domains=[]
)
Membership.objects.create(user=user, campaign=campaign, role=Role.ORGANIZER)
petition = Petition.objects.create(
    campaign=campaign,
    slug="prod-check",
    title="The production check",
    summary="Signed through the proxy by scripts/prod_check.py.",
    demands="1. Keep working.",
    addressed_to="Whoever runs it",
    goal=20,
    accepts_in_person=True,
    accepts_flyer=True,
    publish_interval=60,
    publish_min_batch=5,
    publish_max_wait=86400,
)
petition = petition_publish(petition=petition)
_, codes = code_batch_create(petition=petition, level="in_person", size=10)
key = petition.keys.get(level="in_person")

# The staff session a sign-in with password and TOTP would leave (the login itself has its
# own browser journey); the cookie goes into Chromium.
client = Client()
client.force_login(user)
session = client.cookies[settings.SESSION_COOKIE_NAME].value

print(
    json.dumps(
        {
            "slug": petition.slug,
            "codes": codes[:5],
            "k": key_id_prefix(bytes(key.key_id)),
            "session_cookie": [settings.SESSION_COOKIE_NAME, session],
        }
    )
)

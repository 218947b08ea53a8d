"""Run inside `manage.py shell` of a release's tree (or this one): N signers on the demo
petition through protocol v1 as a client does it — a fresh in-person code each, a blind
credential, a signature — with immediate publication, so the upgrade test has codes,
credentials, published signatures, log entries and checkpoints made by that code.
Prints one JSON line: the slug and the petition's API answer."""

import json
import os

from django.test import Client

from petition.codes import code_batch_create
from petition.models import Petition
from tests.signing_client import b64, start

petition = Petition.objects.filter(status="published").order_by("created_at").first()
Petition.objects.filter(pk=petition.pk).update(publish_interval=0, publish_min_batch=1)
petition.refresh_from_db()
count = int(os.environ.get("COUNTERSIGN_UPGRADE_SIGNATURES", "5"))
_, codes = code_batch_create(petition=petition, level="in_person", size=max(count, 10))
codes = codes[:count]
client = Client(HTTP_HOST="localhost")


def post(path, body):
    return client.post(
        f"/api/v1/petitions/{petition.slug}/{path}",
        json.dumps(body),
        content_type="application/json",
    )


for code in codes:
    pending = start(client, petition, "in_person")
    response = post(
        "credentials", {"level": "in_person", "code": code, "blinded_msg": b64(pending.blinded)}
    )
    assert response.status_code == 200, response.content
    credential = pending.finish(response.json()["blind_sig"])
    response = post("signatures", credential.payload())
    assert response.status_code == 201, response.content
api = client.get(f"/api/v1/petitions/{petition.slug}").json()
print(json.dumps({"slug": petition.slug, "api": api}))

"""Petition keys (made on publish, destroyed on close) and the read endpoints of API v1."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from django.db import IntegrityError, transaction
from django.utils import timezone

from petition import blindrsa
from petition.keys import load_private_key
from petition.models import Level, PetitionKey
from petition.services import petition_close

pytestmark = pytest.mark.django_db


def test_publishing_makes_one_key_per_accepted_level(open_petition):
    keys = {k.level: k for k in open_petition.keys.all()}
    assert set(keys) == {Level.WORK_EMAIL, Level.IN_PERSON, Level.FLYER}
    for key in keys.values():
        assert key.modulus_bits == 2048
        assert bytes(key.key_id) == hashlib.sha256(bytes(key.spki)).digest()
        private = load_private_key(key)
        assert blindrsa.public_key_spki_der(private.public_key()) == bytes(key.spki)


def test_private_keys_are_not_stored_in_clear(open_petition):
    key = open_petition.keys.first()
    der = load_private_key(key).private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    stored = bytes(key.private_key_encrypted)
    assert der not in stored and der[-64:] not in stored


def test_a_stored_key_blind_signs_what_the_client_blinds(open_petition):
    key = open_petition.keys.get(level=Level.IN_PERSON)
    public = load_private_key(key).public_key()
    token = b"\x01" * 32
    msg = blindrsa.build_message(
        open_petition.id.bytes, bytes(key.key_id), blindrsa.nullifier(token)
    )
    prepared = blindrsa.prepare(msg)
    blinded, inv = blindrsa.blind(public, prepared)
    sig = blindrsa.finalize(
        public, prepared, blindrsa.blind_sign(load_private_key(key), blinded), inv
    )
    assert blindrsa.verify(public, prepared, sig)


def test_closing_destroys_the_private_halves_and_keeps_the_public_ones(open_petition):
    key_ids = set(open_petition.keys.values_list("key_id", flat=True))
    petition_close(petition=open_petition)
    keys = list(open_petition.keys.all())
    assert {bytes(k.key_id) for k in keys} == {bytes(k) for k in key_ids}
    assert all(k.private_key_encrypted is None and k.destroyed_at for k in keys)
    with pytest.raises(ValueError, match="destroyed"):
        load_private_key(keys[0])


def test_the_database_refuses_a_second_key_for_a_level(open_petition):
    with pytest.raises(IntegrityError), transaction.atomic():
        PetitionKey.objects.create(
            petition=open_petition,
            level=Level.IN_PERSON,
            key_id=b"x" * 32,
            spki=b"s",
            modulus_bits=2048,
            private_key_encrypted=b"e",
        )


def test_the_database_refuses_a_short_key(open_petition):
    with pytest.raises(IntegrityError), transaction.atomic():
        open_petition.keys.update(modulus_bits=1024)


def test_api_describes_the_petition(client, open_petition):
    response = client.get(f"/api/v1/petitions/{open_petition.slug}")
    assert response.status_code == 200
    assert not response.cookies
    assert response.json() == {
        "slug": open_petition.slug,
        "title": open_petition.title,
        "status": "published",
        "goal": open_petition.goal,
        "counts": {"total": 0, "work_email": 0, "in_person": 0, "flyer": 0},
        "publication": {
            "immediate": True,
            "unsafe": True,
            "interval": 0,
            "min_batch": 1,
            "max_wait": 86400,
            "last_published_on": None,
            "public_by": timezone.now().date().isoformat(),
        },
        "language": "en",
        "translations": {},
    }


def test_api_publishes_the_keys(client, open_petition):
    body = client.get(f"/api/v1/petitions/{open_petition.slug}/keys").json()
    assert body["alg"] == "RSABSSA-SHA384-PSS-Randomized"
    assert uuid.UUID(bytes=blindrsa.b64url_decode(body["petition_id"])) == open_petition.id
    assert {k["level"] for k in body["keys"]} == {"work_email", "in_person", "flyer"}
    for entry in body["keys"]:
        spki = blindrsa.b64url_decode(entry["spki"])
        assert blindrsa.b64url_decode(entry["key_id"]) == hashlib.sha256(spki).digest()
        public = serialization.load_der_public_key(spki)
        assert public.key_size == entry["modulus_bits"] == 2048
        assert "private" not in str(entry)


def test_petition_page_shows_the_key_fingerprints(client, open_petition):
    html = client.get(open_petition.get_absolute_url()).content.decode()
    for key in open_petition.keys.all():
        assert key.fingerprint in html


@pytest.mark.parametrize("path", ["", "/keys"])
def test_api_answers_json_errors_for_drafts_and_unknown_slugs(client, draft_petition, path):
    for slug in (draft_petition.slug, "no-such-petition"):
        response = client.get(f"/api/v1/petitions/{slug}{path}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_api_refuses_writes_on_read_endpoints(client, open_petition):
    response = client.post(f"/api/v1/petitions/{open_petition.slug}/keys")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"

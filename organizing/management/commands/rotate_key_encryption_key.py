"""`manage.py rotate_key_encryption_key`: re-encrypt every secret stored under
COUNTERSIGN_KEY_ENCRYPTION_KEY with a new key, in one transaction.

Run it with the services stopped, the current key in COUNTERSIGN_KEY_ENCRYPTION_KEY and the
new one in COUNTERSIGN_NEW_KEY_ENCRYPTION_KEY (an environment variable, so that it stays
out of the shell history and the process list); then put the new key in the environment
file and start the services. Procedure and what breaks: docs/operations.md, "The
key-encryption key".
"""

from __future__ import annotations

import os

from allauth.mfa.models import Authenticator
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.secrets import GENERATE_KEY_ENCRYPTION_KEY, key_encryption_key_problem
from organizing import mfa_secrets
from petition.keys import fernet
from petition.models import Petition, PetitionKey
from petition.tlog.models import LogKey
from petition.tlog.services import FERNET_PURPOSE as LOG_KEY_PURPOSE

NEW_KEY_VARIABLE = "COUNTERSIGN_NEW_KEY_ENCRYPTION_KEY"
# What is keyed (HMAC), not encrypted, under the key: it cannot be carried over.
BREAKS = (
    "unused single-use codes stop working (revoke the batches and make new ones)",
    "the work-email ledger no longer recognises addresses that already received a "
    "credential, and pending email codes stop working",
    "webhook secrets change (give each receiver the new secret from the staff page)",
    "code mails still queued are dropped, and rate-limit counters start again",
)


def _rekey_bytes(purpose: bytes, token: bytes, old: str, new: str | None) -> bytes:
    clear = fernet(purpose, old).decrypt(token)
    return token if new is None else fernet(purpose, new).encrypt(clear)


class Command(BaseCommand):
    help = (
        "Re-encrypt the petition private keys, the transparency log's key and the staff MFA "
        "secrets under the key in COUNTERSIGN_NEW_KEY_ENCRYPTION_KEY, in one transaction. "
        "--check only proves that every secret opens under the current key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="change nothing: open every secret under the current key and count them",
        )
        parser.add_argument(
            "--break-open-petitions",
            action="store_true",
            help="rotate although petitions are open (see docs/operations.md for what breaks)",
        )

    def handle(self, *args, check: bool, break_open_petitions: bool, **options):
        old = settings.COUNTERSIGN_KEY_ENCRYPTION_KEY
        new = None
        if not check:
            new = os.environ.get(NEW_KEY_VARIABLE, "").strip()
            if not new:
                raise CommandError(
                    f"Set {NEW_KEY_VARIABLE} to the new key ({GENERATE_KEY_ENCRYPTION_KEY})."
                )
            if new == old:
                raise CommandError(f"{NEW_KEY_VARIABLE} is the key in use.")
            if problem := key_encryption_key_problem(new, settings.SECRET_KEY):
                raise CommandError(problem.replace("COUNTERSIGN_KEY_ENCRYPTION_KEY", "The new key"))
            open_petitions = list(
                Petition.objects.filter(status=Petition.Status.PUBLISHED).values_list(
                    "slug", flat=True
                )
            )
            if open_petitions and not break_open_petitions:
                raise CommandError(
                    f"{len(open_petitions)} petition(s) are open ({', '.join(open_petitions)}). "
                    "Rotating now means: "
                    + "; ".join(BREAKS)
                    + ". Close them first, or pass --break-open-petitions."
                )
        try:
            counts = self._rotate(old, new)
        except (InvalidToken, mfa_secrets.SecretUnreadable) as exc:
            raise CommandError(
                "A stored secret does not open under COUNTERSIGN_KEY_ENCRYPTION_KEY: is it the "
                "key this database was written with? Nothing was changed."
            ) from exc
        summary = ", ".join(f"{n} {what}" for what, n in counts.items())
        if check:
            self.stdout.write(f"Every secret opens under the current key: {summary}.")
            return
        self.stdout.write(
            f"Re-encrypted under the new key: {summary}.\n"
            "Now replace COUNTERSIGN_KEY_ENCRYPTION_KEY with the new key in the environment "
            "file, start the services, and destroy every copy of the old key (and of backups "
            "made with it, which only it opens)."
        )
        for line in BREAKS[2:]:
            self.stdout.write(f"Note: {line}.")

    @transaction.atomic
    def _rotate(self, old: str, new: str | None) -> dict[str, int]:
        counts = {"petition keys": 0, "log keys": 0, "staff MFA secrets": 0}
        for key in PetitionKey.objects.select_for_update().exclude(
            private_key_encrypted__isnull=True
        ):
            key.private_key_encrypted = _rekey_bytes(
                b"private-keys", bytes(key.private_key_encrypted), old, new
            )
            if new is not None:
                key.save(update_fields=["private_key_encrypted"])
            counts["petition keys"] += 1
        for key in LogKey.objects.select_for_update():
            key.private_key_encrypted = _rekey_bytes(
                LOG_KEY_PURPOSE, bytes(key.private_key_encrypted), old, new
            )
            if new is not None:
                key.save(update_fields=["private_key_encrypted"])
            counts["log keys"] += 1
        for row in Authenticator.objects.select_for_update():
            if new is None:
                mfa_secrets.authenticator_data_map(row.data or {}, mfa_secrets.unseal)
                data = row.data
            else:
                data = mfa_secrets.authenticator_rekey(row.data or {}, old, new)
            if data != row.data:
                Authenticator.objects.filter(pk=row.pk).update(data=data)
            counts["staff MFA secrets"] += row.type != Authenticator.Type.WEBAUTHN
        return counts

"""The demo's own secrets (`make run`, `make run-phone`), made once and kept in `var/`.

Without DJANGO_SECRET_KEY the settings fall back to a development key that is public (it
is in this repository), and the key-encryption key derives from it. Anyone who can reach
a demo served with it can sign their own tokens: an invitation link is the signed
invitation id, so they could sign up as the invitee. So the demo commands make
a random DJANGO_SECRET_KEY and COUNTERSIGN_KEY_ENCRYPTION_KEY on first use, store them in
`var/demo-secrets.env` (mode 0600), and reuse them on every later run, so the demo's data
(petition keys encrypted under the key-encryption key, codes hashed with it, sessions)
stays valid. A value already set in the environment wins.

Used as a wrapper, it sets the two variables and runs the command:
`python -m config.demo_secrets python manage.py runserver 127.0.0.1:8000`. No Django import
here: it runs before the settings are loaded.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import MutableMapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# The embedded default of config/settings/base.py: public, for the test suite and for
# commands run by hand on a developer's machine, never for a demo that others can reach.
DEVELOPMENT_SECRET_KEY = "django-insecure-countersign-development-only-never-deploy"  # noqa: S105
NAMES = ("DJANGO_SECRET_KEY", "COUNTERSIGN_KEY_ENCRYPTION_KEY")
# Where the demo's SQLite database lives unless COUNTERSIGN_SQLITE_PATH says otherwise
# (config/settings/base.py).
DEFAULT_SQLITE = BASE_DIR / "var" / "db.sqlite3"


def secrets_file(environ: MutableMapping[str, str] = os.environ) -> Path:
    return Path(
        environ.get("COUNTERSIGN_DEMO_SECRETS_FILE", str(BASE_DIR / "var" / "demo-secrets.env"))
    )


def _read(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() in NAMES and value.strip():
            values[name.strip()] = value.strip()
    return values


def load_or_create(path: Path) -> tuple[dict[str, str], bool]:
    """The stored secrets, made (and written with mode 0600) if the file lacks any.

    Returns the values and whether they were made now."""
    values = _read(path) if path.exists() else {}
    if all(name in values for name in NAMES):
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # copied or restored with a looser mode
        return values, False
    # 48 random bytes each: above production's floor of 32 (config/secrets.py), and two
    # different values, as production requires.
    values = {name: secrets.token_urlsafe(48) for name in NAMES}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write("# Made by config/demo_secrets.py for the local demo. Keep private.\n")
        out.writelines(f"{name}={values[name]}\n" for name in NAMES)
    os.replace(temporary, path)
    return values, True


def use_demo_secrets(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Put the demo's secrets into `environ` unless it sets DJANGO_SECRET_KEY itself.

    A demo database made under the public key cannot be read with the new one (its petition
    keys are encrypted under the old key-encryption key), so on the first run it is moved
    aside and a fresh demo is seeded. Returns what to tell the person running the demo."""
    if environ.get("DJANGO_SECRET_KEY"):
        return []
    values, created = load_or_create(secrets_file(environ))
    for name in NAMES:
        environ.setdefault(name, values[name])
    notes = []
    sqlite = Path(environ.get("COUNTERSIGN_SQLITE_PATH", str(DEFAULT_SQLITE)))
    if created and not environ.get("DATABASE_URL") and sqlite.exists():
        for suffix in ("", "-wal", "-shm"):
            old = Path(f"{sqlite}{suffix}")
            if old.exists():
                old.rename(f"{sqlite}.public-key{suffix}")
        notes.append(
            f"Made new demo secrets in {secrets_file(environ)}. The demo database was made "
            f"with the public development key; it is now {sqlite}.public-key and a fresh "
            "demo is seeded."
        )
    return notes


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m config.demo_secrets COMMAND [ARGS…]")
    for note in use_demo_secrets(os.environ):
        print(note, file=sys.stderr)
    # exec: the secrets pass through the environment, never a command line (`ps` shows those).
    os.execvp(argv[0], argv)  # noqa: S606  (the demo command given on make's line)


if __name__ == "__main__":
    main(sys.argv[1:])

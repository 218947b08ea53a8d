"""`.env.example` loads in a shell, in systemd and in honcho alike, and lists every variable
the settings read (ops walk, rows 5 and 6)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / ".env.example"
# Where the app reads its environment: Django's settings and gunicorn's.
READERS = [
    ROOT / "config" / "settings" / "base.py",
    ROOT / "config" / "settings" / "production.py",
    ROOT / "config" / "gunicorn.conf.py",
]
READ = re.compile(
    r"""(?:env\.(?:str|int|bool|list|json|db|email_url|float)|environ\.get|environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']""",
    re.S,
)


def variables_read() -> set[str]:
    return {name for path in READERS for name in READ.findall(path.read_text())}


def variables_listed() -> set[str]:
    """Every NAME= line, set or commented out."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(), re.M))


def test_a_shell_can_source_it_and_reads_the_values_whole():
    script = (
        "set -eu; set -a; . ./.env.example; set +a; "
        'printf "%s\\n" "$DEFAULT_FROM_EMAIL" "$DJANGO_SETTINGS_MODULE" '
        '"$COUNTERSIGN_TRUSTED_PROXIES"'
    )
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30, env={}
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "Countersign <noreply@petition.example.org>",
        "config.settings.production",
        "1",
    ]


def test_every_value_is_quoted_so_every_reader_agrees():
    for line in EXAMPLE.read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=(.*)$", line)
        if match:
            assert re.fullmatch(r"'[^']*'", match.group(2)), line


def test_every_variable_the_settings_read_is_listed():
    read = variables_read()
    # The reader's regex finds the well-known ones (it is not vacuous).
    assert {"DATABASE_URL", "GUNICORN_BIND", "COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION"} <= read
    # Test-only ones are set by pytest, never by an operator.
    missing = read - variables_listed() - {"PYTEST_XDIST_WORKER"}
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_trusted_proxies_is_a_production_setting_not_a_development_one():
    text = EXAMPLE.read_text()
    development = text[text.index("# Development only") :]
    assert "COUNTERSIGN_TRUSTED_PROXIES" not in development
    assert re.search(r"^COUNTERSIGN_TRUSTED_PROXIES='1'$", text, re.M)

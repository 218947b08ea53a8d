"""Code PDFs are never world-readable (ops walk, row 2: they were -rw-r--r-- under the usual
umask, and Django's default FILE_UPLOAD_PERMISSIONS would chmod them so under any umask)."""

from __future__ import annotations

import os
import stat

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage


def test_a_saved_pdf_and_its_folder_are_closed_to_other_users(settings, tmp_path):
    assert settings.FILE_UPLOAD_PERMISSIONS == 0o640
    storage = FileSystemStorage(location=tmp_path / "media")
    old = os.umask(0o022)  # the usual umask: the setting alone must close the file
    try:
        name = storage.save("prints/run.pdf", ContentFile(b"%PDF-1.7 codes"))
    finally:
        os.umask(old)
    path = tmp_path / "media" / name
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750

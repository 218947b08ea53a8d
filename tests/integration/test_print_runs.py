"""Print runs through the real stack: the organizer's request enqueues the run on a Redis
broker, a Celery worker process makes the codes and the PDF into a media directory both
processes share, and the page's status endpoint (what print-run.js polls) reports progress.
A run that fails says why and is retried to success; expired files are swept by the worker.
Every wait is bounded."""

from __future__ import annotations

import io
import re
import subprocess
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from organizing.flyers.tasks import print_runs_expire, print_runs_sweep
from organizing.models import FlyerBatch, PrintRun, PrintRunChunk
from petition.codes import code_hash
from petition.keys import key_id_prefix
from petition.models import CodeBatch, SigningCode
from tests.organizing.flyers.helpers import decode_qr_codes
from tests.organizing.flyers.test_designer import FORM, designer, download, post
from tests.organizing.flyers.test_pdfs import redeem

from .conftest import celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# What the worker's settings put in front of every printed URL (worker_environment).
WORKER_BASE_URL = "http://testserver"
ORDER = {"pending": 0, "running": 1, "done": 2, "failed": 2}


@pytest.fixture
def media(tmp_path, settings):
    """One media directory for this process and the worker (production shares MEDIA_ROOT
    between web and worker the same way); the test settings' in-memory storage would not."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture
def worker(smtp_server, tmp_path, media):
    with celery_worker(smtp_server, tmp_path, COUNTERSIGN_MEDIA_ROOT=str(media)) as process:
        yield process


def urls(run: PrintRun) -> dict[str, str]:
    kwargs = {"slug": run.petition.slug, "run_id": run.pk}
    return {
        name: reverse(f"staff:{name}", kwargs=kwargs)
        for name in ("print_run", "print_run_status", "print_run_retry")
    }


def watch(client, run: PrintRun, timeout: float = 300) -> list[tuple[str, int, int]]:
    """Poll the status JSON as the page's script does, until the run has ended. Returns each
    distinct (status, pages done, pages total) seen, in order."""
    page = client.get(urls(run)["print_run"]).content.decode()
    status_url = re.search(r'data-status-url="([^"]+)"', page).group(1)
    assert status_url == urls(run)["print_run_status"]  # the endpoint the browser polls
    seen: list[tuple[str, int, int]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(status_url, HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        state = response.json()
        entry = (state["status"], state["pages_done"], state["pages_total"])
        if not seen or seen[-1] != entry:
            seen.append(entry)
        if state["status"] in ("done", "failed"):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"the run did not end in {timeout} s: {seen}")


def assert_moves_forward(seen: list[tuple[str, int, int]]) -> None:
    statuses = [ORDER[status] for status, _done, _total in seen]
    pages = [done for _status, done, _total in seen]
    assert statuses == sorted(statuses) and pages == sorted(pages), seen


def pages_of(pdf: bytes, pages: str, tmp_path) -> bytes:
    """A PDF of some pages of `pdf` (qpdf page ranges such as "1,26,30")."""
    source, part = tmp_path / "full.pdf", tmp_path / "part.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["qpdf", "--empty", "--pages", str(source), pages, "--", str(part)],
        check=True,
        timeout=60,
    )
    return part.read_bytes()


def test_a_big_run_is_made_by_the_worker_with_progress_and_a_download_whose_codes_work(
    worker, client, organizer, open_petition, tmp_path
):
    client.force_login(organizer)
    form = {**FORM, "design": "tearoff", "paper": "letter", "copies": "30"}
    response = post(client, designer(open_petition), {**form, "batch_label": "Canteen"})
    assert response.status_code == 302
    run = PrintRun.objects.get()
    seen = watch(client, run)
    log = worker.log_path.read_text()

    # Laid out 25 sheets at a time: the page saw the first chunk done before the end.
    assert seen[-1] == ("done", 30, 30), (seen, log)
    assert_moves_forward(seen)
    assert ("running", 25, 30) in seen, seen
    page = client.get(urls(run)["print_run"]).content.decode()
    assert "Download the PDF" in page and "<progress" not in page

    pdf = download(client, run)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 30
    (tmp_path / "check.pdf").write_bytes(pdf)
    check = subprocess.run(["qpdf", "--check", str(tmp_path / "check.pdf")], capture_output=True)
    assert check.returncode == 0, check.stdout

    # One page from each chunk: the poster's own code and its ten tabs decode.
    batch = FlyerBatch.objects.get()
    target = f"{WORKER_BASE_URL}/f/{batch.code}"
    prefix = key_id_prefix(bytes(open_petition.keys.get(level="flyer").key_id))
    tab = re.compile(re.escape(target) + rf"#code=([0-9A-Z]{{10}})&level=flyer&k={prefix}")
    decoded = decode_qr_codes(pages_of(pdf, "1,26,30", tmp_path))
    assert [url for url in decoded if url == target] == [target] * 3
    codes = [tab.fullmatch(url).group(1) for url in decoded if url != target]
    assert len(set(codes)) == len(codes) == 30
    # The worker made the codes: 300 of them, stored only as hashes, these among them.
    code_batch = CodeBatch.objects.get()
    assert (code_batch.size, code_batch.revoked_at) == (300, None)
    stored = {bytes(h) for h in SigningCode.objects.values_list("code_hash", flat=True)}
    assert len(stored) == 300 and {code_hash(c) for c in codes} <= stored
    assert redeem(client, open_petition, "flyer", codes[-1]).status_code == 200
    assert not any(code in log for code in codes)  # no code in the worker's log


def test_a_run_that_fails_in_the_worker_says_why_and_a_retry_succeeds(
    worker, client, organizer, open_petition, media, tmp_path
):
    # The worker cannot store the file: where its directory goes there is a file.
    (media / "prints").write_text("not a directory")
    client.force_login(organizer)
    post(client, designer(open_petition), {**FORM, "design": "tearoff", "copies": "11"})
    run = PrintRun.objects.get()
    seen = watch(client, run)
    assert seen[-1][0] == "failed", (seen, worker.log_path.read_text())
    assert_moves_forward(seen)
    error = client.get(urls(run)["print_run_status"]).json()["error"]
    assert error == "Something went wrong while making the PDF. Try again."
    page = client.get(urls(run)["print_run"]).content.decode()
    assert error in page and "Try again" in page and "were revoked" in page
    failed_batch = CodeBatch.objects.get()
    assert failed_batch.revoked_at is not None  # never printed, never valid

    (media / "prints").unlink()  # the admin frees the disk
    assert client.post(urls(run)["print_run_retry"]).status_code == 302
    seen = watch(client, run)
    assert seen[-1] == ("done", 11, 11), (seen, worker.log_path.read_text())
    assert_moves_forward(seen)
    pdf = download(client, run)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 11
    fresh = CodeBatch.objects.exclude(pk=failed_batch.pk).get()
    assert (fresh.size, fresh.revoked_at) == (110, None)
    decoded = "\n".join(decode_qr_codes(pages_of(pdf, "1,11", tmp_path)))
    codes = re.findall(r"#code=([0-9A-Z]{10})&", decoded)
    assert len(set(codes)) == 20
    hashes = {
        bytes(h)
        for h in SigningCode.objects.filter(batch=fresh).values_list("code_hash", flat=True)
    }
    assert {code_hash(c) for c in codes} <= hashes  # fresh codes, none of the revoked ones
    assert client.post(urls(run)["print_run_retry"]).status_code == 302  # only a failed run
    assert CodeBatch.objects.count() == 2


def test_the_worker_deletes_expired_files_and_their_runs(
    worker, client, organizer, open_petition, media
):
    client.force_login(organizer)
    for _ in range(2):  # short runs: made in the request, into the shared directory
        post(client, designer(open_petition), {**FORM, "copies": "1"})
    old, kept = PrintRun.objects.order_by("created_at")
    assert (media / old.file.name).exists() and (media / kept.file.name).exists()
    PrintRun.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    for _ in range(2):  # the beat task, sent twice: the second finds nothing to do
        print_runs_expire.delay()
    deadline = time.monotonic() + 60
    while PrintRun.objects.filter(pk=old.pk).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # room for the second task
    assert not PrintRun.objects.filter(pk=old.pk).exists(), worker.log_path.read_text()
    assert not (media / old.file.name).exists()
    assert list(PrintRun.objects.all()) == [kept] and (media / kept.file.name).exists()
    assert client.get(urls(old)["print_run_status"]).status_code == 404


def test_a_worker_killed_mid_chunk_loses_nothing_and_prints_no_code_twice(
    smtp_server, client, organizer, open_petition, media, tmp_path
):
    """SIGKILL the only worker while it renders a chunk; start another; the sweep sends the
    orphaned chunk again once its claim is stale; the run finishes with every page once and
    every code once, all from the one batch made up front."""
    client.force_login(organizer)
    with celery_worker(
        smtp_server,
        tmp_path,
        COUNTERSIGN_MEDIA_ROOT=str(media),
        COUNTERSIGN_PRINT_CHUNK_STALE_SECONDS="5",
    ) as worker:
        form = {**FORM, "design": "tearoff", "paper": "letter", "copies": "60"}
        assert post(client, designer(open_petition), form).status_code == 302
        run = PrintRun.objects.get()
        deadline = time.monotonic() + 120
        while not PrintRunChunk.objects.filter(run=run, status="running").exists():
            assert time.monotonic() < deadline, worker.log_path.read_text()
            time.sleep(0.05)
        time.sleep(1)  # well inside the chunk: 25 tear-off pages take seconds
        worker.kill()
        orphan = PrintRunChunk.objects.get(run=run, status="running")
        assert orphan.index == 0 and not orphan.file  # killed before it was done
        assert PrintRun.objects.get().chunks_total == 3
        batch = CodeBatch.objects.get()  # made once, up front, before any chunk
        assert SigningCode.objects.filter(batch=batch).count() == 600

        worker.start()  # a fresh worker takes the chunks still queued
        time.sleep(5)  # the orphan's claim goes stale
        print_runs_sweep.delay()  # beat's sweep sends the orphan again
        seen = watch(client, run, timeout=600)
        log = worker.log_path.read_text()
    assert seen[-1] == ("done", 60, 60), (seen, log)
    assert_moves_forward(seen)
    assert not PrintRunChunk.objects.exists() and not list((media / "prints" / "chunks").iterdir())
    run.refresh_from_db()
    assert run.code_seed is None  # the seed is erased with the run's end

    pdf = download(client, run)
    # Every page once: each page's ten tab codes, read back as text, are the batch's 600
    # codes, each exactly once, in order of the pages.
    texts = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(texts) == 60
    per_page = [
        [f"{a}{b}" for a, b in re.findall(r"^([0-9A-Z]{5})\n([0-9A-Z]{5})$", text, re.M)]
        for text in texts
    ]
    assert [len(codes) for codes in per_page] == [10] * 60, per_page
    printed = [code for codes in per_page for code in codes]
    assert len(set(printed)) == 600
    assert CodeBatch.objects.count() == 1 and batch.revoked_at is None
    stored = {bytes(h) for h in SigningCode.objects.values_list("code_hash", flat=True)}
    assert {code_hash(code) for code in printed} == stored
    # The rescued chunk's QR codes carry the same codes as its text (read from pixels).
    prefix = key_id_prefix(bytes(open_petition.keys.get(level="flyer").key_id))
    decoded = decode_qr_codes(pages_of(pdf, "1,25", tmp_path))
    tabs = sorted(
        re.search(rf"#code=([0-9A-Z]{{10}})&level=flyer&k={prefix}$", url).group(1)
        for url in decoded
        if "#code=" in url
    )
    assert tabs == sorted(per_page[0] + per_page[24])
    assert redeem(client, open_petition, "flyer", printed[5]).status_code == 200
    assert not any(code in log for code in printed)

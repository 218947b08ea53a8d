"""schemathesis against the live API (a real server thread on 127.0.0.1, real PostgreSQL):
from docs/openapi.yaml it draws valid and invalid requests for every operation and checks
that none answers 5xx, every answer keeps the contract (documented status, content type,
headers and body schema; invalid input refused with a 4xx), no answer sets a cookie, and
no refused request wrote anything. Bounded: a fixed number of examples per operation and
mode, and a time budget for the whole run."""

from __future__ import annotations

import time

import pytest
import requests
import schemathesis
from django.apps import apps
from django.conf import settings
from hypothesis import HealthCheck, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from petition.models import Petition
from petition.services import petition_close, petition_publish
from petition.tlog.services import log_identity
from tests.factories import PetitionFactory

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENT = settings.BASE_DIR / "docs" / "openapi.yaml"
EXAMPLES = 40  # per operation and generation mode
BUDGET_SECONDS = 240  # for the whole run; a slow machine runs fewer examples, never longer
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
WRITE_STATUSES = {200, 201, 202}


def row_counts() -> dict[str, int]:
    """Every table of the two apps: what a refused request must leave as it was."""
    return {
        model._meta.label: model.objects.count()
        for app in ("petition", "organizing")
        for model in apps.get_app_config(app).get_models()
    }


@pytest.fixture
def petitions(campaign, settings):
    # The limits would turn most requests into 429 after a few: fuzz the endpoints, not
    # the limiter (tests/petition/test_network_and_limits.py tests that).
    settings.COUNTERSIGN_RATE_LIMIT_FACTOR = 100_000
    open_one = PetitionFactory(campaign=campaign, accepts_work_email=True, accepts_flyer=True)
    open_one = petition_publish(petition=open_one)
    closed = petition_close(petition=petition_publish(petition=PetitionFactory(campaign=campaign)))
    draft = PetitionFactory(campaign=campaign)
    log_identity()  # the log's key is made on first read: a legitimate write, done now
    return [open_one.slug, closed.slug, draft.slug, "no-such-petition"]


def api_operations():
    schema = schemathesis.openapi.from_path(DOCUMENT)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_fuzzer_sees_every_operation():
    labels = {op.label for op in api_operations()}
    assert "POST /api/v1/petitions/{slug}/signatures" in labels
    assert len(labels) == 9


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_breaks_the_contract_or_writes_when_refused(live_server, petitions, mode):
    before = row_counts()
    started = time.monotonic()
    session = requests.Session()
    seen: dict[str, set[int]] = {}
    writes: list[str] = []

    def fuzz(operation):
        has_slug = "{slug}" in operation.path
        # Negative runs also let schemathesis make up slugs that are no slug at all.
        extra = [None] if mode == GenerationMode.NEGATIVE else []
        slugs = st.sampled_from(petitions + extra) if has_slug else st.just(None)

        @seed(20261203)
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(data=st.data(), slug=slugs)
        def run(data, slug):
            if time.monotonic() - started > BUDGET_SECONDS:
                return
            strategy = operation.as_strategy(
                generation_mode=mode,
                path_parameters={"slug": slug} if slug else None,
            )
            case = data.draw(strategy)
            response = case.call(base_url=live_server.url, session=session, timeout=30)
            case.validate_response(response, checks=CHECKS)
            assert "Set-Cookie" not in response.headers, case.as_curl_command()
            if response.status_code >= 400:
                error = response.json()["error"]
                assert set(error) == {"code", "message"}, response.text
            if operation.method.upper() == "POST" and response.status_code in WRITE_STATUSES:
                writes.append(f"{operation.label} {response.status_code}")
            seen.setdefault(operation.label, set()).add(response.status_code)

        return run

    unsatisfiable = []
    for operation in api_operations():
        try:
            fuzz(operation)()
        except Unsatisfiable:
            # No invalid request exists (no parameter, no body): nothing to negate.
            assert mode == GenerationMode.NEGATIVE, operation.label
            unsatisfiable.append(operation.label)

    # Nothing the fuzzer sent may have been accepted as a write (it cannot forge a blind
    # signature, a code or a token), so every table is as it was.
    assert writes == [] or all("email-codes 202" in w for w in writes), writes
    after = row_counts()
    if not writes:
        assert after == before
    else:  # a well-formed address at the campaign's domain: one pending code, nothing else
        changed = {k for k in before if before[k] != after[k]}
        assert changed <= {"petition.EmailCode", "organizing.AuditEntry"}, changed
    assert len(seen) + len(unsatisfiable) == 9, (seen, unsatisfiable)
    assert set(unsatisfiable) <= {"GET /api/v1/log", "GET /api/v1/openapi.yaml"}
    print(f"\n{mode.value}: {time.monotonic() - started:.0f} s, statuses {seen}")


def test_every_operation_refuses_other_methods_with_405_json(live_server, petitions):
    for operation in api_operations():
        url = live_server.url + operation.path.replace("{slug}", petitions[0])
        allowed = "POST" if operation.method.upper() == "POST" else "GET, HEAD"
        for method in ("PUT", "PATCH", "DELETE", "OPTIONS", "GET" if allowed == "POST" else "POST"):
            response = requests.request(method, url, timeout=30, json={})
            assert response.status_code == 405, (method, url, response.status_code)
            assert response.headers["Allow"] == allowed, (method, url)
            assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_closed_petition_is_still_public(petitions):
    assert Petition.objects.get(slug=petitions[1]).status == Petition.Status.CLOSED

"""docs/openapi.yaml: valid OpenAPI 3.1, served at /api/v1/openapi.yaml without a cookie and
cacheable, and listing exactly the /api/v1 routes the server has."""

from __future__ import annotations

import re

import pytest
import yaml
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

DOCUMENT = settings.BASE_DIR / "docs" / "openapi.yaml"


def load() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


def served_api_paths() -> set[str]:
    """Every route under /api/v1, written as OpenAPI paths (`<slug:slug>` → `{slug}`)."""
    found = set()

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                found.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))

    walk(get_resolver().url_patterns, "")
    return found


def test_the_document_is_valid_openapi_3_1():
    document = load()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any error


def test_the_validator_would_catch_a_broken_document():
    document = load()
    del document["paths"]["/api/v1/log"]["get"]["responses"]["200"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate(document)


def test_the_document_lists_exactly_the_served_api_paths():
    assert set(load()["paths"]) == served_api_paths()
    assert "/api/v1/petitions/{slug}/signatures" in served_api_paths()


def test_every_error_response_is_the_error_shape():
    document = load()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                if "$ref" in response:
                    response = document["components"]["responses"][response["$ref"].split("/")[-1]]
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)


def test_it_is_served_without_a_cookie_and_cacheable(client, db):
    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    assert response.content == DOCUMENT.read_bytes()
    assert response["Cache-Control"] == "public, max-age=3600"
    assert not response.cookies
    assert "Set-Cookie" not in response
    again = client.get("/api/v1/openapi.yaml", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert not again.content


def test_it_answers_405_json_to_a_post(client, db):
    response = client.post("/api/v1/openapi.yaml", data="{}", content_type="application/json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"

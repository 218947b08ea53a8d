"""The public routes (namespace `petition`): the home, campaign, petition and audit pages, the
JSON API of docs/protocol.md, and the transparency log's tiles and checkpoint."""

from django.urls import path

from . import api, views
from .tlog import views as tlog_views

app_name = "petition"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("c/<slug:slug>/", views.campaign_detail, name="campaign"),
    path("p/<slug:slug>/", views.petition_detail, name="detail"),
    path("p/<slug:slug>/audit/", views.petition_audit, name="audit"),
    path("api/v1/openapi.yaml", api.openapi, name="api_openapi"),
    path("api/v1/petitions/<slug:slug>", api.petition_detail, name="api_petition"),
    path("api/v1/petitions/<slug:slug>/keys", api.petition_keys, name="api_keys"),
    path("api/v1/petitions/<slug:slug>/email-codes", api.email_codes, name="api_email_codes"),
    path("api/v1/petitions/<slug:slug>/credentials", api.credentials, name="api_credentials"),
    path("api/v1/petitions/<slug:slug>/signatures", api.signatures, name="api_signatures"),
    path("api/v1/petitions/<slug:slug>/withdrawals", api.withdrawals, name="api_withdrawals"),
    path("api/v1/petitions/<slug:slug>/log", api.log, name="api_log"),
    # The transparency log (C2SP tlog-tiles v0.1.0): the prefix is <base URL>/log.
    path("log/checkpoint", tlog_views.checkpoint, name="log_checkpoint"),
    path("log/tile/<path:path>", tlog_views.tile, name="log_tile"),
    path("api/v1/log", tlog_views.api_log, name="api_tlog"),
]

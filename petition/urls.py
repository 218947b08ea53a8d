"""The public routes (namespace `petition`): the home, campaign, petition and audit pages (in
every language), the JSON API of docs/protocol.md, and the transparency log's tiles and
checkpoint."""

from django.urls import path

from config.i18n import language_patterns

from . import api, views
from .tlog import views as tlog_views

app_name = "petition"

urlpatterns = [
    # The pages, also under /es/, /ar/… (config/i18n.py); the addresses without a prefix
    # are the printed ones and answer as they always did.
    language_patterns(
        path("", views.home, name="home"),
        path("c/<slug:slug>/", views.campaign_detail, name="campaign"),
        path("p/<slug:slug>/", views.petition_detail, name="detail"),
        path("p/<slug:slug>/audit/", views.petition_audit, name="audit"),
    ),
    # Machine addresses (below, and the health checks in config/urls.py): the same in
    # every language.
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

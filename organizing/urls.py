"""The staff routes (`staff_patterns`, mounted under /staff/ by config/urls.py) and the two
public routes of this app: the printed QR codes' short links and invitation links."""

from django.urls import path

from config.i18n import language_patterns

from .flyers import views as flyer_views
from .notices import views as notice_views
from .views import account, audit, campaigns, code_batches, delivery_document, moderation, petitions

app_name = "organizing"

# Everything in `staff_patterns` sits in the `staff` namespace: StaffMFAMiddleware requires
# a signed-in user with a second factor for all of it.
staff_patterns = (
    [
        path("", campaigns.dashboard, name="dashboard"),
        path("account/", account.account, name="account"),
        path("campaigns/new/", campaigns.campaign_create, name="campaign_create"),
        path("c/<slug:slug>/", campaigns.campaign_detail, name="campaign"),
        path("c/<slug:slug>/edit/", campaigns.campaign_edit, name="campaign_edit"),
        path("c/<slug:slug>/invitations/", campaigns.invitation_create, name="invitation_create"),
        path(
            "c/<slug:slug>/invitations/<int:invitation_id>/revoke/",
            campaigns.invitation_revoke,
            name="invitation_revoke",
        ),
        path(
            "c/<slug:slug>/members/<int:membership_id>/role/",
            campaigns.member_role,
            name="member_role",
        ),
        path(
            "c/<slug:slug>/members/<int:membership_id>/remove/",
            campaigns.member_remove,
            name="member_remove",
        ),
        path(
            "c/<slug:slug>/members/<int:membership_id>/confirm/",
            campaigns.member_confirm,
            name="member_confirm",
        ),
        path("c/<slug:slug>/petitions/new/", petitions.petition_create, name="petition_create"),
        path("c/<slug:slug>/moderation/", moderation.moderation, name="moderation"),
        path(
            "c/<slug:slug>/entries/<uuid:review_id>/approve/",
            moderation.entry_approve,
            name="entry_approve",
        ),
        path(
            "c/<slug:slug>/entries/<uuid:review_id>/hide/",
            moderation.entry_hide,
            name="entry_hide",
        ),
        path(
            "c/<slug:slug>/entries/<uuid:review_id>/show/",
            moderation.entry_show,
            name="entry_show",
        ),
        path("c/<slug:slug>/audit/", audit.audit_log, name="audit_log"),
        path("c/<slug:slug>/audit.csv", audit.audit_export, name="audit_export"),
        path("p/<slug:slug>/", petitions.petition_detail, name="petition"),
        path("p/<slug:slug>/edit/", petitions.petition_edit, name="petition_edit"),
        path("p/<slug:slug>/preview/", petitions.petition_preview, name="petition_preview"),
        path(
            "p/<slug:slug>/translations/new/",
            petitions.petition_translation_create,
            name="petition_translation_create",
        ),
        path(
            "p/<slug:slug>/translations/<str:language>/",
            petitions.petition_translation_edit,
            name="petition_translation_edit",
        ),
        path(
            "p/<slug:slug>/translations/<str:language>/delete/",
            petitions.petition_translation_delete,
            name="petition_translation_delete",
        ),
        path("p/<slug:slug>/publish/", petitions.petition_publish, name="petition_publish"),
        path("p/<slug:slug>/close/", petitions.petition_close, name="petition_close"),
        path("p/<slug:slug>/deliver/", petitions.petition_deliver, name="petition_deliver"),
        path("p/<slug:slug>/delivery/", delivery_document.delivery_document, name="delivery"),
        path(
            "p/<slug:slug>/keys/<int:key_id>/invalidate/",
            moderation.key_invalidation_request,
            name="key_invalidation_request",
        ),
        path(
            "p/<slug:slug>/keys/<int:key_id>/invalidate/confirm/",
            moderation.key_invalidation_confirm,
            name="key_invalidation_confirm",
        ),
        path("p/<slug:slug>/codes/", code_batches.code_batches, name="code_batches"),
        path(
            "p/<slug:slug>/codes/<int:batch_id>/revoke/",
            code_batches.code_batch_revoke,
            name="code_batch_revoke",
        ),
        path(
            "p/<slug:slug>/codes/<int:batch_id>/approve/",
            code_batches.code_batch_approve,
            name="code_batch_approve",
        ),
        path(
            "p/<slug:slug>/milestones/",
            notice_views.petition_milestones,
            name="petition_milestones",
        ),
        path("c/<slug:slug>/webhooks/", notice_views.webhooks, name="webhooks"),
        path("c/<slug:slug>/webhooks/guide/", notice_views.webhook_guide, name="webhook_guide"),
        path(
            "c/<slug:slug>/webhooks/<int:webhook_id>/test/",
            notice_views.webhook_test,
            name="webhook_test",
        ),
        path(
            "c/<slug:slug>/webhooks/<int:webhook_id>/delete/",
            notice_views.webhook_delete,
            name="webhook_delete",
        ),
        path(
            "c/<slug:slug>/notifications/",
            notice_views.notification_settings,
            name="notification_settings",
        ),
        path("p/<slug:slug>/flyers/", flyer_views.flyer_designer, name="flyers"),
        path(
            "p/<slug:slug>/flyers/<int:batch_id>/retire/",
            flyer_views.flyer_batch_retire,
            name="flyer_batch_retire",
        ),
        path("p/<slug:slug>/prints/<uuid:run_id>/", flyer_views.print_run_detail, name="print_run"),
        path(
            "p/<slug:slug>/prints/<uuid:run_id>/status",
            flyer_views.print_run_status,
            name="print_run_status",
        ),
        path(
            "p/<slug:slug>/prints/<uuid:run_id>/download",
            flyer_views.print_run_download,
            name="print_run_download",
        ),
        path(
            "p/<slug:slug>/prints/<uuid:run_id>/retry",
            flyer_views.print_run_retry,
            name="print_run_retry",
        ),
    ],
    "staff",
)

urlpatterns = [
    # Printed QR codes lead here: short, and counted per batch and day only.
    path("f/<str:code>", flyer_views.flyer_redirect, name="flyer_redirect"),
    language_patterns(
        path("invitations/<str:token>/", campaigns.invitation_open, name="invitation"),
    ),
]

"""Staff pages, one module per subject: campaigns, team and invitations (campaigns.py);
petition pages and transitions (petitions.py); code batches (code_batches.py); the audit
log (audit.py); moderation (moderation.py); the delivery document (delivery_document.py).
The flyer and notice pages live with their feature (organizing/flyers/views.py,
organizing/notices/views.py), next to the forms and selectors they use.

Every view is routed under the `staff` namespace (organizing/urls.py), so the MFA middleware
guards it; its first line names the roles it needs (organizing/access.py).
"""

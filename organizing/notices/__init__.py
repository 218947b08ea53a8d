"""Notices: what the staff hear about without asking. Milestones (thresholds crossed),
daily digests, deadline and erasure reminders go out by email and signed webhook, exactly
once, through an outbox; moderation alerts ("items wait") are a second, smaller kind with
their own table and mail.

thresholds pure arithmetic: which thresholds a count crosses, the next goal
services   writes: who hears what, recording notices with their outbox rows, reminders,
           staff settings (milestone plan, webhooks, notification preferences)
outbox     the outbox rows: add, claim with a lease, mark sent or failed, retry delay, due
selectors  reads for the dashboard and the digest
messages   what a notice says: the mail and the webhook body
channels   the two ways out: SMTP and HTTP(S) with an address check on the connected socket
alerts     moderation alerts: claim today's alert per campaign, mail it
forms, views  the staff pages (milestone plan, webhooks, notification settings)
receivers  listens to petition.signals.counts_published and starts a milestone check
tasks      Celery tasks (check, send, sweep, digest, deadlines, moderation alerts); with
           receivers, the only modules that start tasks (services and outbox never do)

The tables live in organizing/models/notices.py. Words: a *notice* is something to tell the
team once; one sending of one notice to one recipient or webhook is an outbox row, the
`Delivery` model (its table name predates the word). *Delivery* alone means handing the
petition over (Petition.Status.DELIVERED, organizing/views/delivery_document.py).
"""

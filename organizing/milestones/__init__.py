"""Milestones: thresholds, notices (milestone, daily digest, deadline reminder) and their
deliveries by email and signed webhook, sent exactly once through an outbox.

models     the outbox tables (registered through organizing.models)
thresholds pure arithmetic: which thresholds a count crosses, the next goal
services   writes: recording notices, claiming and finishing deliveries, staff settings
selectors  reads for the dashboard and the digest
channels   the two ways out: SMTP and HTTP(S) with an address check on the connected socket
tasks      Celery tasks (check, send, sweep, digest, deadlines)
"""

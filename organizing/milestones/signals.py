"""Signals of the milestone outbox. The services write rows; the tasks send them. The
services announce new rows with a signal, and the receivers enqueue the tasks, so the
services never import the tasks (the tasks import the services)."""

from django.dispatch import Signal

# Sent after commit with `ids`: the primary keys of new Delivery rows to send.
deliveries_created = Signal()

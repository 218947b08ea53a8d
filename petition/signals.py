"""Signals other apps listen to.

Sent only after the transaction that caused them has committed, so a listener never sees
(or announces) a state that is later rolled back.
"""

from django.dispatch import Signal

# After a publication batch commits (signatures or withdrawals entered the public counts).
# Keyword argument: petition_id (UUID). Listeners read the published counts through
# petition.selectors.petition_counts and never anything about a signer.
counts_published = Signal()

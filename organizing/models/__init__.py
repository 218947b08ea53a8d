"""Every table of the organizing app, one module per subject: staff accounts and campaigns
(campaigns.py), the audit ledger (audit.py), flyers and print runs (flyers.py), and the
notices of milestones, digests and reminders with their outbox and webhooks, and the
moderation alerts (notices.py).

The names below are the package's public face: callers (and migration 0001, which names
UserManager, validate_domain_list and validate_network_list) import `organizing.models.X`.
Importing this package is also what registers every model with Django.
"""

from .audit import AuditAction, AuditEntry, AuditEntryQuerySet, AuditLogIsAppendOnly
from .campaigns import (
    SLUG_MESSAGE,
    SLUG_REGEX,
    Campaign,
    FormSubmission,
    Invitation,
    Membership,
    Role,
    SubaddressSeparator,
    User,
    UserManager,
    confirmed_member,
    unconfirmed_message,
    validate_domain_list,
    validate_network_list,
)
from .flyers import (
    BATCH_CODE_REGEX,
    DESIGN_CHOICES,
    PAPER_CHOICES,
    FlyerBatch,
    FlyerScanDay,
    FlyerSettings,
    PrintRun,
    PrintRunChunk,
)
from .notices import (
    Channel,
    Delivery,
    DeliveryState,
    MilestonePlan,
    ModerationAlert,
    Notice,
    NoticeKind,
    NoticeMode,
    NotificationPreference,
    Webhook,
    new_webhook_salt,
)

__all__ = [
    "BATCH_CODE_REGEX",
    "DESIGN_CHOICES",
    "PAPER_CHOICES",
    "SLUG_MESSAGE",
    "SLUG_REGEX",
    "AuditAction",
    "AuditEntry",
    "AuditEntryQuerySet",
    "AuditLogIsAppendOnly",
    "Campaign",
    "Channel",
    "Delivery",
    "DeliveryState",
    "FlyerBatch",
    "FlyerScanDay",
    "FlyerSettings",
    "FormSubmission",
    "Invitation",
    "Membership",
    "MilestonePlan",
    "ModerationAlert",
    "Notice",
    "NoticeKind",
    "NoticeMode",
    "NotificationPreference",
    "PrintRun",
    "PrintRunChunk",
    "Role",
    "SubaddressSeparator",
    "User",
    "UserManager",
    "Webhook",
    "confirmed_member",
    "new_webhook_salt",
    "unconfirmed_message",
    "validate_domain_list",
    "validate_network_list",
]

"""Staff accounts, campaigns, memberships and invitations.

Signers never have an account: nothing here describes them.
"""

from __future__ import annotations

import ipaddress

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

SLUG_REGEX = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A staff member: organizer or moderator. Logs in with an email address."""

    username = None
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="organizing_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email


class Role(models.TextChoices):
    ORGANIZER = "organizer", _("Organizer")
    MODERATOR = "moderator", _("Moderator")


def validate_domain_list(value: list) -> None:
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        raise ValidationError(_("Expected a list of domain names."))


def validate_network_list(value: list) -> None:
    if not isinstance(value, list):
        raise ValidationError(_("Expected a list of address ranges."))
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                _("%(value)s is not an address range."), params={"value": item}
            ) from exc


class Campaign(models.Model):
    """One workplace's organizing effort."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    employer_name = models.CharField(_("employer"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    email_domains = models.JSONField(
        _("accepted work email domains"),
        default=list,
        blank=True,
        validators=[validate_domain_list],
        help_text=_("Signers can prove they work here with an address at one of these."),
    )
    employer_networks = models.JSONField(
        _("employer network address ranges"),
        default=list,
        blank=True,
        validators=[validate_network_list],
        help_text=_("Signers visiting from these ranges see a warning. Never logged."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="campaigns")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_REGEX), name="organizing_campaign_slug_format"
            ),
            models.CheckConstraint(
                condition=~Q(name=""), name="organizing_campaign_name_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "campaign"], name="organizing_membership_one_per_campaign"
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="organizing_membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.campaign} ({self.role})"


class Invitation(models.Model):
    """An invitation to create a staff account, optionally into a campaign with a role.

    The link carries a signed token for this row (see services.invitation_token), so no
    secret is stored here; the row's state decides whether the link still works.
    """

    email = models.EmailField(_("email address"))
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="invitations", null=True, blank=True
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.ORGANIZER)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="organizing_invitation_role_valid"
            ),
            # One pending invitation per address and campaign (and one campaign-less one).
            models.UniqueConstraint(
                Lower("email"),
                "campaign",
                condition=Q(accepted_at__isnull=True, campaign__isnull=False),
                name="organizing_invitation_one_pending",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(accepted_at__isnull=True, campaign__isnull=True),
                name="organizing_invitation_one_pending_global",
            ),
        ]

    def __str__(self) -> str:
        return self.email

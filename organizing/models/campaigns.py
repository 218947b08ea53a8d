"""Staff accounts, campaigns, memberships and invitations.

Signers never have an account: nothing here describes them.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SLUG_REGEX = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SLUG_MESSAGE = _("Use lowercase letters, digits and single hyphens only, e.g. night-shift-breaks.")


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
    # The installation's right to start campaigns (`manage.py invite --site-organizer`).
    # Inside a campaign, roles come from Membership; this flag grants nothing there.
    is_site_organizer = models.BooleanField(_("may create campaigns"), default=False)
    # The language of this member's staff pages and of every mail sent to them; empty: the
    # browser's. No choices here: adding a language (settings.LANGUAGES) needs no migration;
    # the account form offers only those shipped, and an unknown code counts as empty.
    language = models.CharField(_("language"), max_length=12, blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="organizing_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def mail_language(self) -> str:
        """The language mail to this member is written in."""
        shipped = {code for code, _name in settings.LANGUAGES}
        return self.language if self.language in shipped else settings.LANGUAGE_CODE


class Role(models.TextChoices):
    ORGANIZER = "organizer", _("Organizer")
    MODERATOR = "moderator", _("Moderator")


# Domains are stored in their canonical form (lower case, IDNA/punycode), the form the
# signing side compares canonical work addresses with (petition/workemail.py).
_domain_name = DomainNameValidator(accept_idna=False)


def validate_domain_list(value: list) -> None:
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        raise ValidationError(_("Expected a list of domain names."))
    for domain in value:
        if domain != domain.lower():
            raise ValidationError(_("%(value)s is not in lower case."), params={"value": domain})
        _domain_name(domain)


class SubaddressSeparator(models.TextChoices):
    """What a mail system may put after the mailbox name, besides `+`, and still deliver to
    the mailbox (`x-anything@corp`)."""

    NONE = "", _("Only +, as in name+anything@")
    DASH = "-", _("Also -, as in name-anything@")
    UNDERSCORE = "_", _("Also _, as in name_anything@")


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
    email_subaddress_separator = models.CharField(
        _("sub-address separator"),
        max_length=1,
        blank=True,
        default=SubaddressSeparator.NONE,
        choices=SubaddressSeparator.choices,
        help_text=_(
            "Your mail system delivers name+anything@ to name@, so those count as one "
            "address. If it also delivers name-anything@ to name@, choose that here. Do not, "
            "if people have addresses such as jean-luc@: they would count as jean@."
        ),
    )
    employer_networks = models.JSONField(
        _("employer network address ranges"),
        default=list,
        blank=True,
        validators=[validate_network_list],
        help_text=_("Signers visiting from these ranges see a warning. Never logged."),
    )
    code_batches_need_approval = models.BooleanField(
        _("code batches need a second person's approval"),
        default=False,
        help_text=_(
            "When on, the codes of a new batch work only after another organizer or "
            "moderator approves the batch."
        ),
    )
    entries_need_review = models.BooleanField(
        _("review names and comments before they are shown"),
        default=True,
        help_text=_(
            "When on, signers' public names and comments appear on the petition page only "
            "after a moderator approves them. When off, they appear at once and moderators "
            "can still hide them."
        ),
    )
    retention_days = models.PositiveSmallIntegerField(
        _("days to keep names and comments after delivery"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "Then they are erased; the counts and the public log stay. A petition closed but "
            "never marked delivered counts these days from its closing."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        User, through="Membership", through_fields=("campaign", "user"), related_name="campaigns"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_REGEX),
                name="organizing_campaign_slug_format",
                violation_error_message=SLUG_MESSAGE,
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="organizing_campaign_name_not_empty",
                violation_error_message=_("Give the campaign a name."),
            ),
            models.CheckConstraint(
                condition=Q(email_subaddress_separator__in=SubaddressSeparator.values),
                name="organizing_campaign_separator_valid",
            ),
            models.CheckConstraint(
                condition=Q(retention_days__gte=1, retention_days__lte=365),
                name="organizing_campaign_retention_days_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A staff member's place in a campaign.

    Two-person rules (a code batch approved by someone other than its maker, a key
    invalidation confirmed by a second organizer) count people, not accounts. An organizer
    could invite a second address of their own, so a member who joined through
    an invitation, or was made organizer, takes part in no two-person action until an
    organizer other than the one who added them confirms them (`membership_confirm`). The
    campaign's founder, members added from the command line (the operator) and members
    from before this rule are confirmed from the start.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # Who invited them or made them organizer: the one organizer who may not confirm them.
    added_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    confirmed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "campaign"], name="organizing_membership_one_per_campaign"
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="organizing_membership_role_valid"
            ),
            # Nobody vouches for themselves, and the one who added someone never counts as
            # the second person who confirms them.
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True)
                | ~Q(confirmed_by=models.F("user")) & ~Q(confirmed_by=models.F("added_by")),
                name="organizing_membership_confirmed_by_someone_else",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.campaign} ({self.role})"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


def confirmed_member(user: User | None, campaign_id: int) -> bool:
    """Whether `user` may be one of the two people of a two-person rule in this campaign
    (Membership's docstring). None, the command line, is the operator and always may."""
    if user is None:
        return True
    return Membership.objects.filter(
        user=user, campaign_id=campaign_id, confirmed_at__isnull=False
    ).exists()


def unconfirmed_message() -> str:
    return _(
        "A second organizer, not the one who added you, must first confirm your place on the "
        "team: until then you cannot take part in two-person decisions."
    )


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
    # Set only by `manage.py invite --site-organizer`: accepting grants User.is_site_organizer.
    site_organizer = models.BooleanField(default=False)
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

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class FormSubmission(models.Model):
    """One staff form that creates something, sent once.

    The form carries a random key in a hidden field; the row for (user, key) is inserted in
    the same transaction as the thing the form creates, so a reload or a double click that
    sends the same key again finds the row and is redirected to the first result instead of
    creating a second campaign, petition, invitation or batch of codes.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.UUIDField()
    result_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="organizing_formsubmission_one_per_key"
            ),
        ]

    def __str__(self) -> str:
        return str(self.key)

"""The portal's identity: users, teams and who belongs to which team."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from tango_portal.core import chain


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField("platform staff", default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Team(models.Model):
    """A customer account of the rewards platform."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    oauth_enabled = models.BooleanField(
        "OAuth enabled",
        default=False,
        help_text="Set by the team's Tango representative before OAuth credentials can be made.",
    )

    class MaxCredentialAge(models.IntegerChoices):
        DAYS_90 = 90, "90 days"
        DAYS_180 = 180, "180 days"
        DAYS_365 = 365, "365 days"

    created_at = models.DateTimeField(default=timezone.now)
    # Credentials older than this are due for rotation; None: no maximum.
    max_credential_age_days = models.PositiveSmallIntegerField(
        "maximum credential age",
        choices=MaxCredentialAge.choices,
        null=True,
        blank=True,
        default=MaxCredentialAge.DAYS_365,
    )

    class LeakResponse(models.TextChoices):
        REVOKE = "revoke", "Revoke at once"
        ALERT = "alert", "Only alert"

    # What the portal does when a secret of the team is reported found in public code
    # (credentials.scanning). Set by the team's admins on the policy page, which records it
    # in the team activity; so not editable in the Django admin, where it would go unrecorded.
    leak_response = models.CharField(
        "response to a leaked secret",
        max_length=10,
        choices=LeakResponse.choices,
        default=LeakResponse.REVOKE,
        editable=False,
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(leak_response__in=["revoke", "alert"]), name="team_leak_response_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in a team: their role and their Tango API keys permission."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    class ApiKeysPermission(models.TextChoices):
        NONE = "none", "Don't allow"
        VIEW = "view", "View"
        MANAGE = "manage", "Manage"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    api_keys_permission = models.CharField(
        "Tango API keys",
        max_length=10,
        choices=ApiKeysPermission.choices,
        default=ApiKeysPermission.NONE,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_unique_user_team"),
            models.CheckConstraint(
                condition=models.Q(role__in=["admin", "member"]), name="membership_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(api_keys_permission__in=["none", "view", "manage"]),
                name="membership_api_keys_permission_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


# --- Team membership: sign-up invitations and the team activity record ----------


class SignupInvitation(models.Model):
    """A one-time sign-up link for a person an admin added to a team.

    Only the SHA-256 digest of the link's token is stored; the token itself is shown
    once to the admin who made it. A link works once, until `expires_at`, and not at
    all once revoked (a newer link was made, by any team, or the member was removed).
    Which link may set an account's password is decided in one place:
    tango_portal/members/services.py, `signup_links`.

    `full_name` is the name this team's admin typed. An account nobody has used yet keeps
    no name of its own (several teams may have typed different ones), so each team sees
    its own and the sign-up form offers the one of the link being used.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="signup_invitations")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signup_invitations")
    full_name = models.CharField("name typed by the admin", max_length=150, blank=True)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "user", "-created_at"], name="signupinvitation_member")]

    def __str__(self) -> str:
        return f"sign-up link for {self.user} to {self.team}"


class TeamActivity(chain.ChainedRecord):
    """One change to who is in a team and what they may do. Append-only, database included.

    Actor and subject names and emails are snapshots, so the record outlives users;
    the user references carry no database constraint for the same reason. Rows are
    hash-chained per team like credential history. Only tango_portal/members/activity.py
    writes here.
    """

    class Action(models.TextChoices):
        MEMBER_ADDED = "member_added", "Member added"
        MEMBER_REMOVED = "member_removed", "Member removed"
        ROLE_CHANGED = "role_changed", "Role changed"
        PERMISSION_CHANGED = "permission_changed", "Tango API keys permission changed"
        INVITATION_CREATED = "invitation_created", "Sign-up link created"
        INVITATION_ACCEPTED = "invitation_accepted", "Sign-up link used"
        MAX_CREDENTIAL_AGE_CHANGED = "max_credential_age_changed", "Maximum credential age changed"
        LEAK_RESPONSE_CHANGED = "leak_response_changed", "Response to leaked secrets changed"

    action = models.CharField(max_length=30, choices=Action.choices)
    actor = chain.person_reference()
    actor_name = chain.name_snapshot("by (name)")
    actor_email = chain.email_snapshot("by (email)")
    subject = chain.person_reference()
    subject_name = chain.name_snapshot("member's name")
    subject_email = chain.email_snapshot("member's email")
    from_value = models.CharField("from", max_length=60, blank=True)
    to_value = models.CharField("to", max_length=60, blank=True)

    # What a row's hash covers, in column order.
    CHAINED_FIELDS = (
        *("team_id", "occurred_at", "action", "actor_id", "actor_name", "actor_email"),
        *("subject_id", "subject_name", "subject_email", "from_value", "to_value", "prev_hash"),
    )

    class Meta:
        verbose_name = "team activity entry"
        verbose_name_plural = "team activity"
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["team", "-occurred_at", "-id"], name="teamactivity_team_newest")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    action__in=[
                        "member_added",
                        "member_removed",
                        "role_changed",
                        "permission_changed",
                        "invitation_created",
                        "invitation_accepted",
                        "max_credential_age_changed",
                        "leak_response_changed",
                    ]
                ),
                name="teamactivity_action_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.subject_email}"


class ChainCheckpoint(chain.SignedCheckpoint):
    """A signed head of one team's chain of one record. Append-only, database included.

    Written by `chain.sign_head` at every history export and by the daily
    `sign_history_checkpoints`; checked by `verify_history` with the public key only.
    """

    class Meta:
        verbose_name = "signed chain checkpoint"
        verbose_name_plural = "signed chain checkpoints"
        ordering = ["-id"]
        indexes = [models.Index(fields=["record", "team", "head_id"], name="chaincheckpoint_head")]

    def __str__(self) -> str:
        return f"{self.record} of team {self.team_id} up to row {self.head_id}"

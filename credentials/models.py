"""API credentials and their history.

No model here stores a secret: service-account passwords are kept as argon2id hashes,
client secrets, API keys and access tokens as SHA-256 digests (see secrets.py). A new
secret waiting for the page that shows it (PendingReveal) is kept encrypted, for minutes,
with a key the database never sees.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tango_portal.core import chain
from tango_portal.core.append_only import AppendOnlyError
from tango_portal.models import Team

__all__ = ["AppendOnlyError"]


class CredentialType(models.TextChoices):
    SERVICE_ACCOUNT = "service_account", "Service account"
    OAUTH_CLIENT = "oauth_client", "OAuth client credentials"
    API_KEY = "api_key", "API key"


class OAuthClientQuerySet(models.QuerySet["OAuthClient"]):
    def active(self) -> OAuthClientQuerySet:
        return self.filter(deactivated_at__isnull=True)


class OAuthClient(models.Model):
    """A client ID and the digest of its client secret."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="oauth_clients")
    client_id = models.CharField("client ID", max_length=80, unique=True)
    # Unique, so a leaked secret's report finds its client by an index.
    secret_digest = models.CharField(max_length=64, unique=True, editable=False)
    display_name = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # Tokens only with a DPoP proof (RFC 9449): bearer tokens are refused at the token endpoint.
    require_dpop = models.BooleanField("require DPoP", default=False)
    legacy = models.BooleanField(
        default=False, help_text="Created before 2025-05-14: may use the client-credentials grant."
    )

    objects = OAuthClientQuerySet.as_manager()

    class Meta:
        verbose_name = "OAuth client credentials"
        verbose_name_plural = "OAuth client credentials"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "deactivated_at"], name="oauthclient_team_active")]

    def __str__(self) -> str:
        return self.display_name or self.client_id

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None


class ServiceAccountQuerySet(models.QuerySet["ServiceAccount"]):
    def active(self) -> ServiceAccountQuerySet:
        return self.filter(deleted_at__isnull=True)


class ServiceAccount(models.Model):
    """A generated username and the argon2id hash of its password.

    Rows are never removed: a deleted account keeps its username (so it is never
    reused) and loses its hash, which is the irreversible part of deletion.
    """

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="service_accounts")
    username = models.CharField(max_length=80, unique=True)
    password_hash = models.CharField(max_length=255, blank=True, editable=False)
    # SHA-256 of the password, for finding the account of a leaked password
    # (credentials.scanning) by an index: the password is 256 random bits, so its digest
    # is as safe to keep as the argon2id hash that sign-in checks. Empty once deleted, and
    # for accounts made before it was kept.
    password_digest = models.CharField(max_length=64, blank=True, editable=False)
    display_name = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_token_at = models.DateTimeField("last token issued", null=True, blank=True)
    # A token request or an API call with one of its tokens (credentials.usage).
    last_used_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Set when its password is reported leaked (credentials.scanning): no token is issued
    # until a Manage user lifts the block (services.service_account_lift_block) or deletes it.
    blocked_at = models.DateTimeField(null=True, blank=True)
    blocked_reason = models.CharField(max_length=200, blank=True)

    objects = ServiceAccountQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["team", "deleted_at", "-created_at", "-id"], name="serviceaccount_team_list")
        ]
        constraints = [
            # A deleted account has no hash; a live one always has one.
            models.CheckConstraint(
                condition=models.Q(deleted_at__isnull=True, password_hash__gt="")
                | models.Q(deleted_at__isnull=False, password_hash=""),
                name="serviceaccount_hash_iff_live",
            ),
            models.UniqueConstraint(
                fields=["password_digest"],
                condition=~models.Q(password_digest=""),
                name="serviceaccount_password_digest_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None


class AccessToken(models.Model):
    """A bearer token, kept only as the SHA-256 digest of its value."""

    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    client = models.ForeignKey(OAuthClient, on_delete=models.PROTECT, related_name="tokens")
    service_account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="tokens"
    )
    audience = models.CharField(max_length=200)
    scope = models.CharField(max_length=200)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The RFC 7638 thumbprint of the DPoP key the token is bound to; "" for a bearer token.
    jkt = models.CharField("DPoP key thumbprint", max_length=43, blank=True, editable=False)

    class Meta:
        ordering = ["-issued_at"]
        indexes = [
            models.Index(
                fields=["client", "service_account", "audience", "-issued_at"],
                name="accesstoken_latest",
            )
        ]

    def __str__(self) -> str:
        return f"token #{self.pk}"


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(deactivated_at__isnull=True)


class ApiKey(models.Model):
    """A legacy Basic-auth API key: its visible prefix and the digest of the whole key."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="api_keys")
    platform_name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=40)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "deactivated_at"], name="apikey_team_active")]

    def __str__(self) -> str:
        return f"{self.platform_name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None

    @property
    def masked(self) -> str:
        return f"{self.prefix}{'•' * 12}"


class HistoryAction(models.TextChoices):
    """What a credential history row records (CredentialHistory.Action)."""

    CREATED = "created", "Created"
    VIEWED = "viewed", "Viewed"
    UPDATED = "updated", "Updated"
    DEACTIVATED = "deactivated", "Deactivated"
    # Service accounts are deleted, not deactivated; rows written before this verb say "Deactivated".
    DELETED = "deleted", "Deleted"
    ROTATION_STARTED = "rotation_started", "Rotation started"
    ROTATION_FINISHED = "rotation_finished", "Rotation finished"
    TOKENS_REVOKED = "tokens_revoked", "Tokens revoked"
    LEAK_REPORTED = "leak_reported", "Leak reported"
    LEAK_ACKNOWLEDGED = "leak_acknowledged", "Leak acknowledged"
    BLOCK_LIFTED = "block_lifted", "Block lifted"


class CredentialHistory(chain.ChainedRecord):
    """One action on one credential. Append-only at every level, database included.

    The actor's name and email are snapshots, so history outlives users; the actor
    reference has no database constraint for the same reason. Each row carries the
    hash of the team's previous row and its own, which makes the team's history a
    chain that `verify_history` can check. Only credentials/history.py writes here.
    """

    Action = HistoryAction

    action = models.CharField(max_length=20, choices=Action.choices)
    credential_type = models.CharField(max_length=20, choices=CredentialType.choices)
    credential_name = models.CharField(max_length=200, blank=True)
    credential_identifier = models.CharField("client ID/API key", max_length=120)
    actor = chain.person_reference()
    actor_name = chain.name_snapshot("user's name")
    actor_email = chain.email_snapshot("user's email")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    # What a row's hash covers, in column order.
    CHAINED_FIELDS = (
        *("team_id", "occurred_at", "action", "credential_type", "credential_name", "credential_identifier"),
        *("actor_id", "actor_name", "actor_email", "ip_address", "details", "prev_hash"),
    )

    class Meta:
        verbose_name = "credential history entry"
        verbose_name_plural = "credential history"
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["team", "-occurred_at", "-id"], name="history_team_newest"),
            models.Index(
                fields=["team", "credential_type", "-occurred_at", "-id"],
                name="history_team_type_newest",
            ),
            # The other sortable columns, so that every offered sort is an index scan.
            models.Index(fields=["team", "action", "-occurred_at", "-id"], name="history_team_action_newest"),
            models.Index(
                fields=["team", "credential_name", "-occurred_at", "-id"], name="history_team_name_newest"
            ),
            # The user filter matches a team's distinct names and emails first, then
            # selects their rows: both steps read these (filters.HistoryFilter).
            models.Index(
                fields=["team", "actor_name", "-occurred_at", "-id"], name="history_team_actor_name"
            ),
            models.Index(
                fields=["team", "actor_email", "-occurred_at", "-id"], name="history_team_actor_email"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=HistoryAction.values),
                name="history_action_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(credential_type__in=CredentialType.values),
                name="history_credential_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.credential_identifier}"


# --- Credential history: each user's choice of visible columns ------------------


class HistoryColumnPreference(models.Model):
    """The Credential history columns a user has chosen to hide (table and exports).

    One row per user, whatever the team: the choice is about how they like to read
    the table. Column names are the history table's; unknown names are ignored on read.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="history_column_preference"
    )
    hidden_columns = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "credential history column preference"

    def __str__(self) -> str:
        return f"History columns of {self.user}"


# --- A new secret, held for the one page that shows it ---------------------------


class PendingReveal(models.Model):
    """A secret just made, waiting for its creator's one GET of the reveal page.

    The create POST answers with a redirect to that page, so that Back and reload never
    resubmit it. This row holds the secret only as Fernet ciphertext; the key went to
    the creator's browser alone, in a short-lived cookie. Neither half opens the secret
    without the other, and the row is deleted by the GET that shows it (or refuses to).
    `token` names the page and is not a secret: it decrypts nothing.
    """

    token = models.CharField(max_length=43, primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    credential_type = models.CharField(max_length=20, choices=CredentialType.choices)
    credential_pk = models.PositiveBigIntegerField()
    ciphertext = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credential_type__in=CredentialType.values),
                name="pendingreveal_credential_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"pending reveal of {self.credential_type} #{self.credential_pk}"


# --- Usage evidence: when, how often and from where each credential was used ------


class CredentialUsageDay(models.Model):
    """How many requests an API key authenticated on one day (UTC); kept
    USAGE_RETENTION_DAYS. (A client's or service account's tokens per day are its
    AccessToken rows.)

    Written by credentials.usage at most once a minute per key and address, from each
    app-server process's own counters, so a busy integration does not make every call a write.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    credential_type = models.CharField(max_length=20, choices=CredentialType.choices)
    credential_pk = models.PositiveBigIntegerField()
    day = models.DateField()
    requests = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential_type", "credential_pk", "day"], name="usageday_one_per_day"
            ),
            models.CheckConstraint(
                condition=models.Q(credential_type__in=CredentialType.values),
                name="usageday_credential_type_valid",
            ),
        ]
        indexes = [models.Index(fields=["team", "day"], name="usageday_team_day")]

    def __str__(self) -> str:
        return f"{self.credential_type} #{self.credential_pk} on {self.day}: {self.requests}"


class CredentialAddress(models.Model):
    """A client address a credential was used from: first and last seen, the user agent
    seen last. The newest USAGE_ADDRESSES_KEPT per credential are kept."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    credential_type = models.CharField(max_length=20, choices=CredentialType.choices)
    credential_pk = models.PositiveBigIntegerField()
    ip_address = models.GenericIPAddressField()
    user_agent = models.CharField(max_length=300, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["credential_type", "credential_pk", "ip_address"], name="address_one_per_credential"
            ),
            models.CheckConstraint(
                condition=models.Q(credential_type__in=CredentialType.values),
                name="address_credential_type_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["credential_type", "credential_pk", "-last_seen_at"], name="address_newest")
        ]

    def __str__(self) -> str:
        return f"{self.ip_address} ({self.credential_type} #{self.credential_pk})"


# --- Rotation: a second credential, then the old one deactivated once quiet ------


class Rotation(models.Model):
    """A team replacing one client credential or API key by a new one.

    Started by generating the new credential (`new_pk`); finished when the old one is
    deactivated from the rotation page (or cancelled when either is deactivated otherwise).
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rotations")
    credential_type = models.CharField(max_length=20, choices=CredentialType.choices)
    old_pk = models.PositiveBigIntegerField()
    new_pk = models.PositiveBigIntegerField()
    quiet_days = models.PositiveSmallIntegerField(default=7)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credential_type__in=[CredentialType.OAUTH_CLIENT, CredentialType.API_KEY]),
                name="rotation_type_rotatable",
            ),
            # One open rotation per old credential.
            models.UniqueConstraint(
                fields=["credential_type", "old_pk"],
                condition=models.Q(finished_at__isnull=True),
                name="rotation_one_open_per_credential",
            ),
        ]

    def __str__(self) -> str:
        return f"rotation of {self.credential_type} #{self.old_pk} to #{self.new_pk}"


# --- Reminders: each email about a credential, sent once ---------------------------


class ReminderKind(models.TextChoices):
    """Why a reminder was sent (credentials.reminders)."""

    ROTATION_IN_30_DAYS = "rotation_30", "Due for rotation in 30 days"
    ROTATION_IN_7_DAYS = "rotation_7", "Due for rotation in 7 days"
    UNUSED_FOR_90_DAYS = "unused_90", "Unused for 90 days"


class CredentialReminder(models.Model):
    """A reminder about one credential, sent to the team's Manage users: at most once per
    credential, kind and `due_on`, which the database enforces.

    `due_on` is the day the credential reaches its team's maximum age (rotation kinds) or
    its 90th day without use (unused): a new policy or a new spell without use is a new
    reminder, a second run of the daily check is not.
    """

    Kind = ReminderKind

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    credential_type = models.CharField(max_length=20, choices=CredentialType.choices)
    credential_pk = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    due_on = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential_type", "credential_pk", "kind", "due_on"], name="reminder_once"
            ),
            models.CheckConstraint(
                condition=models.Q(credential_type__in=CredentialType.values),
                name="reminder_credential_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ReminderKind.values), name="reminder_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.credential_type} #{self.credential_pk} ({self.due_on})"


# --- Leaked-secret reports: a secret-scanning service found one in public code ----------


class LeakedSecret(models.TextChoices):
    """Which secret a report found (its prefix says; credentials.scanning matches it)."""

    CLIENT_SECRET = "client_secret", "Client secret"
    API_KEY = "api_key", "API key"
    ACCESS_TOKEN = "access_token", "Access token"
    SERVICE_ACCOUNT_PASSWORD = "service_account_password", "Service-account password"


class LeakResponseTaken(models.TextChoices):
    """What the portal did about a leaked secret, by the team's policy (Team.leak_response)."""

    REVOKED = "revoked", "Revoked at once"
    ALERTED = "alerted", "Alert only: nothing was revoked"
    ALREADY_INACTIVE = "already_inactive", "Nothing to revoke: it no longer worked"


_LEAK_REVOKED = {
    LeakedSecret.CLIENT_SECRET: "The client credentials were deactivated and their tokens revoked. "
    "Generate new client credentials and switch your servers to them.",
    LeakedSecret.API_KEY: "The API key was deactivated. "
    "Generate a new key and switch your integration to it.",
    LeakedSecret.ACCESS_TOKEN: "The access token was revoked; its server can request a new one at once. "
    "Find out how the token reached public code.",
    LeakedSecret.SERVICE_ACCOUNT_PASSWORD: "The service account's tokens were revoked, and it gets no new "
    "token until a Manage user lifts the block or deletes it. Create a new service account for your "
    "servers, then delete this one.",
}


class LeakReport(models.Model):
    """A secret of one of the team's credentials reported found in public code.

    Never the secret itself: which credential (type and pk), which kind of its secrets,
    and where the scanner saw it (`url`, `source`) as the scanner said. `token_type` is the
    scanner's own name for the pattern it matched. Open (shown as a banner on the
    credential's page) until a Manage user acknowledges it.
    """

    Secret = LeakedSecret
    Taken = LeakResponseTaken

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="leak_reports")
    credential_type = models.CharField(max_length=20, choices=CredentialType.choices)
    credential_pk = models.PositiveBigIntegerField()
    secret = models.CharField(max_length=30, choices=Secret.choices)
    token_type = models.CharField("scanner's token type", max_length=100, blank=True)
    url = models.CharField("found at", max_length=2000, blank=True)
    source = models.CharField(max_length=100, blank=True)
    reported_at = models.DateTimeField(default=timezone.now)
    action_taken = models.CharField(max_length=20, choices=Taken.choices)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(
                fields=["credential_type", "credential_pk", "acknowledged_at"],
                name="leakreport_credential_open",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credential_type__in=CredentialType.values),
                name="leakreport_credential_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(secret__in=LeakedSecret.values), name="leakreport_secret_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(action_taken__in=LeakResponseTaken.values), name="leakreport_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"leaked {self.secret} of {self.credential_type} #{self.credential_pk}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def what_was_done(self) -> str:
        """What the portal did, and what the team should do next: for the banner and the email."""
        if self.action_taken == LeakResponseTaken.REVOKED:
            return _LEAK_REVOKED[LeakedSecret(self.secret)]
        if self.action_taken == LeakResponseTaken.ALERTED:
            return (
                "Your team's policy is to alert only, so nothing was revoked: it still works. "
                "Replace it now, then deactivate or delete the old one."
            )
        return "It no longer worked when it was reported, so nothing needed revoking."

    @property
    def url_is_web(self) -> bool:
        """Whether `url` may be shown as a link: only an http(s) address is."""
        return self.url.startswith(("https://", "http://"))

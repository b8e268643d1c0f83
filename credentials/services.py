"""Every write to API credentials.

Each service checks permission itself (views check too), does its write and its
history row in one transaction, under the team lock it takes first (`lock_team`, which
the history writer requires), and takes keyword-only arguments. A service that
makes a secret returns it exactly once beside the object and stores only its hash or
digest: the caller puts the plaintext in the one response that shows it and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from credentials import history
from credentials import secrets as credential_secrets
from credentials.history import COLUMN_NAMES
from credentials.models import (
    AccessToken,
    ApiKey,
    CredentialHistory,
    CredentialType,
    HistoryAction,
    HistoryColumnPreference,
    OAuthClient,
    PendingReveal,
    Rotation,
    ServiceAccount,
)
from credentials.permissions import require_manage, require_view
from credentials.validators import clean_display_name
from tango_portal.accounts.hashers import PortalArgon2PasswordHasher
from tango_portal.core.chain import LockedTeam, lock_team
from tango_portal.models import Membership, Team, User

Action = CredentialHistory.Action
MAX_ACTIVE_CLIENTS = 2
MAX_ACTIVE_API_KEYS = 2


class CredentialError(Exception):
    """A refused credential action, with a message fit to show the user."""


class OAuthNotEnabled(CredentialError):
    def __init__(self) -> None:
        super().__init__(
            "OAuth credentials must be enabled for your team by your Tango representative "
            "before you can create them."
        )


class LimitReached(CredentialError):
    pass


class AlreadyDeleted(CredentialError):
    pass


type Credential = ServiceAccount | OAuthClient | ApiKey


def _membership(actor: User, team: Team) -> Membership | None:
    return Membership.objects.filter(user=actor, team=team).first()


def _revoke_tokens(**filters: object) -> int:
    return AccessToken.objects.filter(revoked_at__isnull=True, **filters).update(revoked_at=timezone.now())


def describe(credential: Credential) -> tuple[CredentialType, str, str]:
    """How history names a credential: its type, its name, and its public identifier."""
    if isinstance(credential, ServiceAccount):
        return (
            CredentialType.SERVICE_ACCOUNT,
            credential.display_name or credential.username,
            credential.username,
        )
    if isinstance(credential, OAuthClient):
        return (
            CredentialType.OAUTH_CLIENT,
            credential.display_name or credential.client_id,
            credential.client_id,
        )
    return CredentialType.API_KEY, credential.platform_name, credential.prefix


def _record(
    *,
    team: LockedTeam[Team],
    actor: User,
    action: HistoryAction,
    credential: Credential,
    ip_address: str | None,
    details: dict[str, str] | None = None,
) -> None:
    credential_type, name, identifier = describe(credential)
    history.record(
        team=team,
        actor=actor,
        action=action,
        credential_type=credential_type,
        credential_name=name,
        credential_identifier=identifier,
        ip_address=ip_address,
        details=details,
    )


def _is_live(credential: Credential) -> bool:
    return not credential.is_deleted if isinstance(credential, ServiceAccount) else credential.is_active


def _locked[C: (ServiceAccount, OAuthClient, ApiKey)](credential: C, team: Team) -> C:
    """The credential's row, locked; taken after the team lock, as every writer does."""
    return type(credential).objects.select_for_update().get(pk=credential.pk, team=team)


def _view(*, actor: User, team: Team, credential: Credential, ip_address: str | None) -> None:
    """Record `viewed`, unless `actor` viewed this credential within HISTORY_VIEW_INTERVAL.

    The check runs under the team lock the history writer takes, so concurrent GETs
    record one row between them; a reload (or a cross-site link) cannot flood history.
    """
    require_view(_membership(actor, team))
    credential_type, _, identifier = describe(credential)
    with transaction.atomic():
        locked_team = lock_team(team)
        if CredentialHistory.objects.filter(
            team=team,
            action=Action.VIEWED,
            credential_type=credential_type,
            credential_identifier=identifier,
            actor=actor,
            occurred_at__gt=timezone.now() - settings.HISTORY_VIEW_INTERVAL,
        ).exists():
            return
        _record(
            team=locked_team,
            actor=actor,
            action=Action.VIEWED,
            credential=credential,
            ip_address=ip_address,
        )


def _change[C: (ServiceAccount, OAuthClient)](
    *,
    actor: User,
    team: Team,
    credential: C,
    field: str,
    value: Any,
    details: Callable[[Any], dict[str, str]],
    ip_address: str | None,
    ended: str,
) -> C:
    """Set one `field` of a live credential and record `updated` with `details(old value)`;
    `ended` is the refusal (AlreadyDeleted) for one deleted or deactivated. No change, no
    history. Under the team lock and the credential's row lock, as every writer takes them."""
    require_manage(_membership(actor, team))
    with transaction.atomic():
        locked_team = lock_team(team)
        locked = _locked(credential, team)
        if not _is_live(locked):
            raise AlreadyDeleted(ended)
        old = getattr(locked, field)
        if old == value:
            return locked
        setattr(locked, field, value)
        locked.save(update_fields=[field])
        _record(
            team=locked_team,
            actor=actor,
            action=Action.UPDATED,
            credential=locked,
            ip_address=ip_address,
            details=details(old),
        )
        return locked


def _rename[C: (ServiceAccount, OAuthClient)](
    *, actor: User, team: Team, credential: C, display_name: str, ip_address: str | None, ended: str
) -> C:
    """Rename a live credential and record the old and new names."""
    name = clean_display_name(display_name)
    return _change(
        actor=actor,
        team=team,
        credential=credential,
        field="display_name",
        value=name,
        details=lambda old: {"old_name": old, "new_name": name},
        ip_address=ip_address,
        ended=ended,
    )


def _deactivate[C: (ServiceAccount, OAuthClient, ApiKey)](
    *, actor: User, team: Team, credential: C, ip_address: str | None, already: str
) -> C:
    """Delete a service account, or deactivate client credentials or an API key, for good;
    record `deleted` or `deactivated`.

    A service account loses its password hash; it and client credentials lose every
    token issued through them. Under the row lock, so that of concurrent requests one
    ends the credential and the others raise AlreadyDeleted (`already`) and record nothing;
    token issuing takes the same row lock, so no token outlives the credential.
    """
    require_manage(_membership(actor, team))
    with transaction.atomic():
        locked_team = lock_team(team)
        locked = _locked(credential, team)
        if not _is_live(locked):
            raise AlreadyDeleted(already)
        now = timezone.now()
        if isinstance(locked, ServiceAccount):
            locked.deleted_at = now
            locked.password_hash = locked.password_digest = ""
            locked.save(update_fields=["deleted_at", "password_hash", "password_digest"])
            _revoke_tokens(service_account=locked)
        else:
            locked.deactivated_at = now
            locked.save(update_fields=["deactivated_at"])
            if isinstance(locked, OAuthClient):
                _revoke_tokens(client=locked)
        # The verb the page used: a service account is deleted, the others deactivated.
        action = Action.DELETED if isinstance(locked, ServiceAccount) else Action.DEACTIVATED
        _record(team=locked_team, actor=actor, action=action, credential=locked, ip_address=ip_address)
        return locked


def legacy_cutoff() -> datetime:
    return datetime.combine(date.fromisoformat(settings.OAUTH_LEGACY_CUTOFF), datetime.min.time(), tzinfo=UTC)


# --- Service accounts ----------------------------------------------------------


def service_account_password_hasher() -> PortalArgon2PasswordHasher:
    return PortalArgon2PasswordHasher()


def _new_username(team: Team) -> str:
    base = team.slug[:48].strip("-") or "team"
    return f"{base}-sa-{credential_secrets.random_suffix(8)}"


def service_account_create(
    *, actor: User, team: Team, display_name: str = "", ip_address: str | None = None
) -> tuple[ServiceAccount, str]:
    """Create a service account; return it and its password, which is never shown again.

    Only the argon2id hash of the password is stored. The username is derived from
    the team and never reused: deleted accounts keep theirs.
    """
    name = clean_display_name(display_name)
    require_manage(_membership(actor, team))
    if not team.oauth_enabled:
        raise OAuthNotEnabled()
    password = credential_secrets.generate(credential_secrets.Kind.SERVICE_ACCOUNT_PASSWORD)
    hasher = service_account_password_hasher()
    password_hash = hasher.encode(password, hasher.salt())
    for _attempt in range(5):
        try:
            with transaction.atomic():
                locked_team = lock_team(team)
                account = ServiceAccount.objects.create(
                    team=team,
                    username=_new_username(team),
                    password_hash=password_hash,
                    password_digest=credential_secrets.digest(password),
                    display_name=name,
                    created_by=actor,
                )
                _record(
                    team=locked_team,
                    actor=actor,
                    action=Action.CREATED,
                    credential=account,
                    ip_address=ip_address,
                )
                return account, password
        except IntegrityError:
            # A username collision: draw another.
            continue
    raise CredentialError("Could not generate a unique username; please try again.")


def service_account_check_password(account: ServiceAccount, password: str) -> bool:
    """Check a service-account password against its hash; a deleted account never matches."""
    if account.is_deleted or not account.password_hash:
        return False
    return service_account_password_hasher().verify(password, account.password_hash)


def service_account_view(
    *, actor: User, team: Team, account: ServiceAccount, ip_address: str | None = None
) -> None:
    """Record that someone opened a service account's detail."""
    _view(actor=actor, team=team, credential=account, ip_address=ip_address)


def service_account_rename(
    *,
    actor: User,
    team: Team,
    account: ServiceAccount,
    display_name: str,
    ip_address: str | None = None,
) -> ServiceAccount:
    """Change the display name; record the old and new names. No change, no history."""
    return _rename(
        actor=actor,
        team=team,
        credential=account,
        display_name=display_name,
        ip_address=ip_address,
        ended="This service account has been deleted; it cannot be renamed.",
    )


def service_account_delete(
    *, actor: User, team: Team, account: ServiceAccount, ip_address: str | None = None
) -> ServiceAccount:
    """Delete irreversibly: destroy the hash, revoke every token, record `deleted`.

    Raises AlreadyDeleted (and records nothing) if another request got there first.
    """
    return _deactivate(
        actor=actor,
        team=team,
        credential=account,
        ip_address=ip_address,
        already="This service account was already deleted.",
    )


# --- OAuth client credentials ----------------------------------------------------


def oauth_client_create(
    *,
    actor: User,
    team: Team,
    display_name: str = "",
    ip_address: str | None = None,
    created_at: datetime | None = None,
) -> tuple[OAuthClient, str]:
    """Generate client credentials; return them and the client secret, shown only now.

    At most two are active per team, so one can be rotated without downtime; the
    team row lock makes the limit hold under concurrent requests. `created_at` lets
    the demo seed backdate a legacy credential.
    """
    name = clean_display_name(display_name)
    require_manage(_membership(actor, team))
    secret = credential_secrets.generate(credential_secrets.Kind.CLIENT_SECRET)
    created = created_at or timezone.now()
    with transaction.atomic():
        locked_team = lock_team(team)
        if not locked_team.team.oauth_enabled:
            raise OAuthNotEnabled()
        if OAuthClient.objects.active().filter(team=team).count() >= MAX_ACTIVE_CLIENTS:
            raise LimitReached(
                "Your team already has two active client credentials, the most allowed. "
                "Switch your servers to the newer one, then deactivate the older one "
                "before generating another."
            )
        client = OAuthClient.objects.create(
            team=team,
            client_id=credential_secrets.generate_public_id(credential_secrets.Kind.CLIENT_ID),
            secret_digest=credential_secrets.digest(secret),
            display_name=name,
            created_by=actor,
            created_at=created,
            legacy=created < legacy_cutoff(),
        )
        _record(
            team=locked_team, actor=actor, action=Action.CREATED, credential=client, ip_address=ip_address
        )
        return client, secret


def oauth_client_view(*, actor: User, team: Team, client: OAuthClient, ip_address: str | None = None) -> None:
    """Record that someone opened client credentials' detail."""
    _view(actor=actor, team=team, credential=client, ip_address=ip_address)


def oauth_client_rename(
    *,
    actor: User,
    team: Team,
    client: OAuthClient,
    display_name: str,
    ip_address: str | None = None,
) -> OAuthClient:
    """Change the display name; record the old and new names. No change, no history."""
    return _rename(
        actor=actor,
        team=team,
        credential=client,
        display_name=display_name,
        ip_address=ip_address,
        ended="These client credentials were deactivated; they cannot be renamed.",
    )


def oauth_client_set_require_dpop(
    *, actor: User, team: Team, client: OAuthClient, required: bool, ip_address: str | None = None
) -> OAuthClient:
    """Require DPoP for these client credentials, or stop requiring it; record `updated`.

    Once required, the token endpoint refuses them a bearer token; tokens already issued
    stay as they are (revoke them to end them). No change, no history.
    """
    return _change(
        actor=actor,
        team=team,
        credential=client,
        field="require_dpop",
        value=required,
        details=lambda _old: {"require_dpop": "on" if required else "off"},
        ip_address=ip_address,
        ended="These client credentials were deactivated.",
    )


def oauth_client_deactivate(
    *, actor: User, team: Team, client: OAuthClient, ip_address: str | None = None
) -> OAuthClient:
    """Deactivate irreversibly and revoke every token issued through this client."""
    return _deactivate(
        actor=actor,
        team=team,
        credential=client,
        ip_address=ip_address,
        already="These client credentials were already deactivated.",
    )


# --- Legacy API keys --------------------------------------------------------------

API_KEY_VISIBLE_CHARS = 6


def api_key_create(
    *, actor: User, team: Team, platform_name: str, ip_address: str | None = None
) -> tuple[ApiKey, str]:
    """Generate a legacy API key; return it and the key itself, shown only now."""
    name = clean_display_name(platform_name, required=True, label="Platform name")
    require_manage(_membership(actor, team))
    plaintext = credential_secrets.generate(credential_secrets.Kind.API_KEY)
    visible = len(credential_secrets.prefix(credential_secrets.Kind.API_KEY)) + API_KEY_VISIBLE_CHARS
    with transaction.atomic():
        locked_team = lock_team(team)
        if ApiKey.objects.active().filter(team=team).count() >= MAX_ACTIVE_API_KEYS:
            raise LimitReached(
                "Your team already has two active API keys, the most allowed. "
                "Deactivate one you no longer use before generating another."
            )
        key = ApiKey.objects.create(
            team=team,
            platform_name=name,
            prefix=plaintext[:visible],
            digest=credential_secrets.digest(plaintext),
            created_by=actor,
        )
        _record(team=locked_team, actor=actor, action=Action.CREATED, credential=key, ip_address=ip_address)
        return key, plaintext


def api_key_view(*, actor: User, team: Team, key: ApiKey, ip_address: str | None = None) -> None:
    _view(actor=actor, team=team, credential=key, ip_address=ip_address)


def api_key_deactivate(*, actor: User, team: Team, key: ApiKey, ip_address: str | None = None) -> ApiKey:
    """Deactivate irreversibly: once deactivated, a key cannot be used or restored."""
    return _deactivate(
        actor=actor,
        team=team,
        credential=key,
        ip_address=ip_address,
        already="This API key was already deactivated.",
    )


# --- Access tokens (the token endpoint, credentials/oauth) --------------------------


class TokenRefused(CredentialError):
    """The credentials stopped being usable while the token was being issued."""


CLIENT_CANNOT_ISSUE = "These client credentials can no longer issue tokens."
ACCOUNT_CANNOT_ISSUE = "This service account can no longer issue tokens."


class TokenRenewalTooEarly(CredentialError):
    """The previous token for this client, account and audience still has long to live."""

    def __init__(self, retry_at: datetime) -> None:
        self.retry_at = retry_at
        super().__init__(
            "A token was already issued for this client, service account and audience; "
            f"a new one can be requested from {retry_at.astimezone(UTC).isoformat(timespec='seconds')}."
        )


def renewal_window(lifetime: timedelta) -> timedelta:
    """How long before a token of this `lifetime` expires a new one may be issued.

    TOKEN_RENEWAL_WINDOW for 24-hour tokens (one per 20 hours). A token that lives no
    longer than that window would be renewable at once, so short-lived ones (the
    five-minute audience) get TOKEN_SHORT_RENEWAL_WINDOW instead: one per four minutes.
    """
    if lifetime > settings.TOKEN_RENEWAL_WINDOW:
        return settings.TOKEN_RENEWAL_WINDOW
    return settings.TOKEN_SHORT_RENEWAL_WINDOW


@transaction.atomic
def access_token_issue(
    *,
    token: str,
    client: OAuthClient,
    service_account: ServiceAccount | None,
    audience: str,
    scope: str,
    expires_in: int,
    jkt: str = "",
) -> AccessToken:
    """Store a bearer token the token endpoint just generated; only its SHA-256 digest is kept.

    The plaintext `token` goes back to the caller in the one token response and nowhere
    else. The client's "last used" and the service account's "last token issued" are
    stamped only on rows still live (and of the same team), which locks them: a
    deletion or deactivation takes the same row locks before revoking tokens, so
    whichever commits first wins and a token never outlives the credential that
    minted it. The once-a-day rule (a new token only in the last renewal window of the
    latest unexpired one's life, see `renewal_window`) is checked under those locks,
    after any concurrent request for the same pair has committed, so 20 requests at
    once yield one token. Revoked tokens count too: revoking one's own token through
    /oauth/revoke does not reset the rule. `service_account` is None for the legacy
    client-credentials grant.

    `jkt` binds the token to a DPoP key (its thumbprint). Raises TokenRefused or
    TokenRenewalTooEarly (and changes nothing); records no history (tokens are not
    credentials a portal user manages).
    """
    now = timezone.now()
    # Each stamp is an UPDATE of the row only while it is live: it takes the row's lock,
    # and PostgreSQL re-checks the condition on the version it finally locks.
    if not OAuthClient.objects.active().filter(pk=client.pk).update(last_used_at=now):
        raise TokenRefused(CLIENT_CANNOT_ISSUE)
    if service_account is not None and not (
        ServiceAccount.objects.active()
        .filter(pk=service_account.pk, team_id=client.team_id, blocked_at__isnull=True)  # leak-reported
        .update(last_token_at=now, last_used_at=now)
    ):
        raise TokenRefused(ACCOUNT_CANNOT_ISSUE)
    latest = AccessToken.objects.filter(
        client=client, service_account=service_account, audience=audience, expires_at__gt=now
    ).aggregate(latest=Max("expires_at"))["latest"]
    window = renewal_window(timedelta(seconds=expires_in))
    if latest is not None and now < latest - window:
        # Raising rolls the stamps back with the transaction.
        raise TokenRenewalTooEarly(latest - window)
    return AccessToken.objects.create(
        token_digest=credential_secrets.digest(token),
        client=client,
        service_account=service_account,
        audience=audience,
        scope=scope,
        issued_at=now,
        expires_at=now + timedelta(seconds=expires_in),
        jkt=jkt,
    )


def access_token_revoke(*, client: OAuthClient, token: str) -> bool:
    """Revoke a token (RFC 7009) if it was issued through `client`; True if it was unrevoked.

    A token of another client is left alone, without saying so.
    """
    return bool(
        AccessToken.objects.filter(
            token_digest=credential_secrets.digest(token), client=client, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
    )


def service_account_revoke_tokens(
    *, actor: User, team: Team, account: ServiceAccount, ip_address: str | None = None
) -> int:
    """End every unexpired token of a service account now; return how many were live.

    The way back for a server that lost its token: the tokens end (revoked, and expired
    as of now), so the once-a-day rule, which counts unexpired tokens whether or not the
    client revoked them itself through /oauth/revoke, lets the next request through.
    Under the account's row lock, which token issuing takes too, so a token being issued
    at the same moment is either ended here or issued after. Recorded as `tokens revoked`.

    Raises AlreadyDeleted for a deleted account (its tokens ended with it).
    """
    require_manage(_membership(actor, team))
    with transaction.atomic():
        locked_team = lock_team(team)
        locked = _locked(account, team)
        if locked.is_deleted:
            raise AlreadyDeleted("This service account was deleted; its tokens ended with it.")
        now = timezone.now()
        unexpired = AccessToken.objects.filter(service_account=locked, expires_at__gt=now)
        live = unexpired.filter(revoked_at__isnull=True).update(revoked_at=now, expires_at=now)
        unexpired.update(expires_at=now)  # those the client had revoked itself
        _record(
            team=locked_team,
            actor=actor,
            action=Action.TOKENS_REVOKED,
            credential=locked,
            ip_address=ip_address,
            details={"tokens": str(live)},
        )
        return live


# --- Rotation: a successor, then the old credential deactivated ---------------------


class RotationInProgress(CredentialError):
    """The credential is already being rotated."""


type Rotatable = OAuthClient | ApiKey


def rotation_credentials(rotation: Rotation) -> tuple[Rotatable, Rotatable]:
    """The old and the new credential of a rotation."""
    model: type[OAuthClient] | type[ApiKey] = (
        OAuthClient if rotation.credential_type == CredentialType.OAUTH_CLIENT else ApiKey
    )
    found = model.objects.filter(
        team_id=rotation.team_id, pk__in=[rotation.old_pk, rotation.new_pk]
    ).in_bulk()
    return found[rotation.old_pk], found[rotation.new_pk]


def _locked_rotatable(credential: Rotatable, team: Team) -> Rotatable:
    # One call per type: `_locked` answers with the type it is given.
    if isinstance(credential, OAuthClient):
        return _locked(credential, team)
    return _locked(credential, team)


def _successor_details(new: Rotatable) -> dict[str, str]:
    _, name, identifier = describe(new)
    return {"new_credential": identifier, "new_name": name}


def rotation_start(
    *, actor: User, team: Team, credential: Rotatable, ip_address: str | None = None
) -> tuple[Rotation, Rotatable, str]:
    """Start rotating client credentials or an API key: generate the successor, with the
    same name, and return the rotation, the successor and its secret (shown once).

    History records `created` for the successor and `rotation started` for the old one,
    naming the successor. Raises AlreadyDeleted if the old one is no longer active,
    RotationInProgress if it is already being rotated, and LimitReached when the team
    already has the most active credentials of the type; nothing changes then.
    """
    require_manage(_membership(actor, team))
    with transaction.atomic():
        locked_team = lock_team(team)
        locked = _locked_rotatable(credential, team)
        if not locked.is_active:
            raise AlreadyDeleted("These credentials were deactivated meanwhile: there is nothing to rotate.")
        credential_type, _, _ = describe(locked)
        if Rotation.objects.filter(
            credential_type=credential_type, old_pk=locked.pk, finished_at__isnull=True
        ).exists():
            raise RotationInProgress(
                "A rotation of these credentials is already under way: open it to go on."
            )
        new: Rotatable
        if isinstance(locked, OAuthClient):
            new, secret = oauth_client_create(
                actor=actor, team=team, display_name=locked.display_name, ip_address=ip_address
            )
        else:
            new, secret = api_key_create(
                actor=actor, team=team, platform_name=locked.platform_name, ip_address=ip_address
            )
        rotation = Rotation.objects.create(
            team=team, credential_type=credential_type, old_pk=locked.pk, new_pk=new.pk, started_by=actor
        )
        _record(
            team=locked_team,
            actor=actor,
            action=Action.ROTATION_STARTED,
            credential=locked,
            ip_address=ip_address,
            details=_successor_details(new),
        )
        return rotation, new, secret


def rotation_finish(
    *, actor: User, team: Team, rotation: Rotation, ip_address: str | None = None
) -> Rotation:
    """Finish a rotation: deactivate the old credential (recorded `deactivated`) and
    record `rotation finished`, naming the successor.

    Raises AlreadyDeleted if the rotation was already finished (say, in another tab);
    if the old credential was deactivated otherwise meanwhile, the rotation just finishes.
    """
    require_manage(_membership(actor, team))
    with transaction.atomic():
        locked_team = lock_team(team)
        locked = Rotation.objects.select_for_update().get(pk=rotation.pk, team=team)
        if locked.finished_at is not None:
            raise AlreadyDeleted("This rotation was already finished.")
        old, new = rotation_credentials(locked)
        if isinstance(old, OAuthClient) and old.is_active:
            oauth_client_deactivate(actor=actor, team=team, client=old, ip_address=ip_address)
        elif isinstance(old, ApiKey) and old.is_active:
            api_key_deactivate(actor=actor, team=team, key=old, ip_address=ip_address)
        locked.finished_at = timezone.now()
        locked.save(update_fields=["finished_at"])
        _record(
            team=locked_team,
            actor=actor,
            action=Action.ROTATION_FINISHED,
            credential=old,
            ip_address=ip_address,
            details=_successor_details(new),
        )
        return locked


# --- The one page that shows a new secret -------------------------------------

# How long a new secret waits for its reveal page (the key cookie's Max-Age too).
REVEAL_MAX_AGE = timedelta(minutes=5)


def pending_reveal_create(
    *, actor: User, team: Team, credential: Credential, secret: str
) -> tuple[PendingReveal, str]:
    """Hold the `secret` of a `credential` just made, for its creator's one reveal page.

    Returns the row and the key that opens it, exactly once: the caller sends the key to
    the creator's browser alone and keeps it nowhere else. The row stores only the
    ciphertext, so neither the database nor the browser alone can read the secret. Holds
    older than REVEAL_MAX_AGE are purged here, as nothing can open them any more.
    """
    require_manage(_membership(actor, team))
    credential_type, _, _ = describe(credential)
    ciphertext, key = credential_secrets.seal(secret)
    PendingReveal.objects.filter(created_at__lt=timezone.now() - REVEAL_MAX_AGE).delete()
    pending = PendingReveal.objects.create(
        token=credential_secrets.reveal_token(),
        team=team,
        user=actor,
        credential_type=credential_type,
        credential_pk=credential.pk,
        ciphertext=ciphertext,
    )
    return pending, key


def pending_reveal_take(*, pending: PendingReveal, key: str | None) -> str | None:
    """The held secret, exactly once: the row is deleted, and the deletion that removed it
    is the only one that may decrypt it, so concurrent requests (any worker, any server)
    reveal it at most once.

    None when another request took it first, when it is older than REVEAL_MAX_AGE or when
    `key` does not open it; the row is gone then too, since nothing could ever open it.
    """
    taken, _ = PendingReveal.objects.filter(pk=pending.pk).delete()
    if not taken or not key or pending.created_at < timezone.now() - REVEAL_MAX_AGE:
        return None
    return credential_secrets.unseal(
        pending.ciphertext, key, max_age_seconds=int(REVEAL_MAX_AGE.total_seconds())
    )


# --- Preferences ---------------------------------------------------------------


@transaction.atomic
def history_columns_save(*, user: User, hidden_columns: Iterable[str]) -> HistoryColumnPreference:
    """Remember which Credential history columns `user` hides, for the table and exports.

    A preference, not an action on a credential, so it writes no history. Unknown
    names are dropped, and hiding every column is refused by keeping them all.
    """
    hidden = [name for name in COLUMN_NAMES if name in set(hidden_columns)]
    if len(hidden) == len(COLUMN_NAMES):
        hidden = []
    preference, _ = HistoryColumnPreference.objects.update_or_create(
        user=user, defaults={"hidden_columns": hidden}
    )
    return preference


# --- Leaked-secret reports: lifting a service account's block (credentials.scanning) ------


class NotBlocked(CredentialError):
    """The service account is not blocked (any more): there is nothing to lift."""


def service_account_lift_block(
    *, actor: User, team: Team, account: ServiceAccount, ip_address: str | None = None
) -> ServiceAccount:
    """Let a service account whose password was reported leaked get tokens again.

    The password is not changed (it cannot be): lifting says the report was a false alarm
    or the risk is accepted; deleting the account is the other way out. Recorded as
    `block lifted`, naming the reason the block had. Under the account's row lock, which
    token issuing takes too. Raises AlreadyDeleted for a deleted account and NotBlocked
    when another request lifted it first (nothing is recorded then).
    """
    require_manage(_membership(actor, team))
    with transaction.atomic():
        locked_team = lock_team(team)
        locked = _locked(account, team)
        if locked.is_deleted:
            raise AlreadyDeleted("This service account was deleted; it can never get a token again.")
        if not locked.is_blocked:
            raise NotBlocked("This service account is not blocked: it can already get tokens.")
        reason = locked.blocked_reason
        locked.blocked_at = None
        locked.blocked_reason = ""
        locked.save(update_fields=["blocked_at", "blocked_reason"])
        _record(
            team=locked_team,
            actor=actor,
            action=Action.BLOCK_LIFTED,
            credential=locked,
            ip_address=ip_address,
            details={"reason": reason},
        )
        return locked

"""Every read for Team settings > Users, scoped to one team.

A view passes the current membership's team; a membership of another team is not in
the queryset, so asking for it is a plain 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import BooleanField, Case, CharField, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.shortcuts import get_object_or_404
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials.models import ApiKey, OAuthClient, ServiceAccount
from tango_portal.models import Membership, SignupInvitation, Team, TeamActivity, User


def members_for_team(*, team: Team) -> QuerySet[Membership]:
    """The team's members by name, each annotated with whether they still have to sign up
    (`signup_pending`), when their newest usable sign-up link expires (`signup_expires_at`,
    None if there is none) and the name this team knows them by (`display_name`).

    An account nobody has used yet has no name of its own: the team sees the name its own
    admin typed (on its sign-up links), never one another team typed.
    """
    typed_name = (
        SignupInvitation.objects.filter(team=team, user=OuterRef("user"))
        .exclude(full_name="")
        .order_by("-created_at", "-id")
        .values("full_name")[:1]
    )
    unused = Q(user__password__startswith=UNUSABLE_PASSWORD_PREFIX, user__last_login__isnull=True)
    usable_links = SignupInvitation.objects.filter(
        team=team,
        user=OuterRef("user"),
        used_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).order_by("-expires_at")
    return (
        Membership.objects.filter(team=team)
        .select_related("user")
        .annotate(
            signup_pending=Case(
                When(user__password__startswith=UNUSABLE_PASSWORD_PREFIX, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            signup_expires_at=Subquery(usable_links.values("expires_at")[:1]),
            display_name=Case(
                When(unused, then=Coalesce(Subquery(typed_name), F("user__email"))),
                default=Coalesce(NullIf(F("user__full_name"), Value("")), F("user__email")),
                output_field=CharField(),
            ),
        )
        .order_by("display_name", "user__email", "id")
    )


def membership_get(*, team: Team, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.filter(team=team).select_related("user", "team"), pk=pk)


def activity_for_team(*, team: Team) -> QuerySet[TeamActivity]:
    """The team's activity record, newest first (served by teamactivity_team_newest)."""
    return TeamActivity.objects.filter(team=team).order_by("-occurred_at", "-id")


@dataclass(frozen=True)
class CreatedCredentials:
    """The still-active credentials one member created in one team."""

    service_accounts: list[ServiceAccount]
    oauth_clients: list[OAuthClient]
    api_keys: list[ApiKey]

    def __bool__(self) -> bool:
        return bool(self.service_accounts or self.oauth_clients or self.api_keys)


def credentials_created_by(*, team: Team, user: User) -> CreatedCredentials:
    """What a member leaves behind: active service accounts, client credentials and API keys
    they created in this team, so an admin can rotate them when the member leaves.
    """
    return CreatedCredentials(
        service_accounts=list(
            ServiceAccount.objects.active().filter(team=team, created_by=user).order_by("-created_at", "-id")
        ),
        oauth_clients=list(
            OAuthClient.objects.active().filter(team=team, created_by=user).order_by("-created_at", "-id")
        ),
        api_keys=list(
            ApiKey.objects.active().filter(team=team, created_by=user).order_by("-created_at", "-id")
        ),
    )


def invitation_for_token(token: str) -> SignupInvitation | None:
    """The sign-up invitation a link's token belongs to, whatever its state; None if unknown."""
    if not token or len(token) > 200:
        return None
    return invitation_for_digest(credential_secrets.digest(token))


def invitation_for_digest(digest: object) -> SignupInvitation | None:
    """The sign-up invitation with this token digest (as the sign-up page keeps it); None if unknown."""
    if not isinstance(digest, str) or len(digest) != 64:
        return None
    return SignupInvitation.objects.filter(token_digest=digest).select_related("team", "user").first()

"""Every read of API credentials, already scoped to one team.

A view passes the current membership's team; an object of another team is simply
not in the queryset, so asking for it is a plain 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials.models import (
    AccessToken,
    ApiKey,
    CredentialHistory,
    HistoryColumnPreference,
    OAuthClient,
    ServiceAccount,
)
from tango_portal.models import Membership, Team, User


def service_accounts_active(*, team: Team) -> QuerySet[ServiceAccount]:
    return (
        ServiceAccount.objects.active()
        .filter(team=team)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def service_account_get(*, team: Team, pk: int, include_deleted: bool = False) -> ServiceAccount:
    queryset = ServiceAccount.objects.filter(team=team).select_related("created_by")
    if not include_deleted:
        queryset = queryset.active()
    return get_object_or_404(queryset, pk=pk)


def oauth_clients_active(*, team: Team) -> QuerySet[OAuthClient]:
    return (
        OAuthClient.objects.active()
        .filter(team=team)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def oauth_client_get(*, team: Team, pk: int, include_deactivated: bool = False) -> OAuthClient:
    queryset = OAuthClient.objects.filter(team=team).select_related("created_by")
    if not include_deactivated:
        queryset = queryset.active()
    return get_object_or_404(queryset, pk=pk)


def oauth_clients_deactivated(*, team: Team) -> QuerySet[OAuthClient]:
    """The team's deactivated client credentials, most recently deactivated first."""
    return (
        OAuthClient.objects.filter(team=team, deactivated_at__isnull=False)
        .select_related("created_by")
        .order_by("-deactivated_at", "-id")
    )


def oauth_client_live_token_count(*, client: OAuthClient) -> int:
    """How many unrevoked, unexpired access tokens were issued through this client."""
    return AccessToken.objects.filter(
        client=client, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).count()


def api_keys_deactivated(*, team: Team) -> QuerySet[ApiKey]:
    """The team's deactivated API keys, most recently deactivated first."""
    return (
        ApiKey.objects.filter(team=team, deactivated_at__isnull=False)
        .select_related("created_by")
        .order_by("-deactivated_at", "-id")
    )


def api_keys_active(*, team: Team) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.active().filter(team=team).select_related("created_by").order_by("-created_at", "-id")
    )


def api_key_get(*, team: Team, pk: int, include_deactivated: bool = False) -> ApiKey:
    queryset = ApiKey.objects.filter(team=team).select_related("created_by")
    if not include_deactivated:
        queryset = queryset.active()
    return get_object_or_404(queryset, pk=pk)


def history_for_team(*, team: Team) -> QuerySet[CredentialHistory]:
    """The team's credential history, newest first (served by history_team_newest)."""
    return CredentialHistory.objects.filter(team=team).order_by("-occurred_at", "-id")


def history_for_credential(*, team: Team, identifier: str) -> QuerySet[CredentialHistory]:
    return history_for_team(team=team).filter(credential_identifier=identifier)


def history_chain_head(*, team: Team) -> tuple[int, str] | None:
    """The id and `row_hash` of the team's last history row (highest id), or None.

    That hash seals the team's whole chain: an export that carries it can be checked
    against the database later (`verify_history`).
    """
    head = CredentialHistory.objects.filter(team=team).order_by("-id").values_list("id", "row_hash").first()
    return (head[0], head[1]) if head else None


def history_exists(*, team: Team) -> bool:
    """Whether the team has any credential history at all (for the empty state)."""
    return CredentialHistory.objects.filter(team=team).exists()


def history_hidden_columns(*, user: User) -> list[str]:
    """The Credential history columns this user chose to hide (none by default)."""
    hidden = (
        HistoryColumnPreference.objects.filter(user=user).values_list("hidden_columns", flat=True).first()
    )
    return [name for name in hidden or [] if isinstance(name, str)]


def team_admins(*, team: Team) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(team=team, role=Membership.Role.ADMIN)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


# --- The token endpoint and the API (credentials/oauth) --------------------------
# These are looked up by what a machine presents, not by a signed-in user's team:
# the presented secret itself is the scope.


def oauth_client_by_client_id(*, client_id: str) -> OAuthClient | None:
    """The client credentials with this client ID, deactivated included, with its team."""
    return OAuthClient.objects.select_related("team").filter(client_id=client_id).first()


def service_account_for_token(*, team: Team, username: str) -> ServiceAccount | None:
    """A live service account of `team` by username; another team's is simply absent."""
    return ServiceAccount.objects.active().filter(team=team, username=username).first()


def access_token_by_value(*, token: str) -> AccessToken | None:
    """The access token with this value (looked up by digest), with what it was issued to."""
    return (
        AccessToken.objects.select_related("client__team", "service_account")
        .filter(token_digest=credential_secrets.digest(token))
        .first()
    )


def api_key_by_value(*, key: str) -> ApiKey | None:
    """The legacy API key with this value (looked up by digest), with its team."""
    return ApiKey.objects.select_related("team").filter(digest=credential_secrets.digest(key)).first()

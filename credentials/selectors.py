"""Every read of API credentials, already scoped to one team.

A view passes the current membership's team; an object of another team is simply
not in the queryset, so asking for it is a plain 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from credentials.models import ApiKey, CredentialHistory, OAuthClient, ServiceAccount
from tango_portal.models import Membership, Team


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


def team_admins(*, team: Team) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(team=team, role=Membership.Role.ADMIN)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )

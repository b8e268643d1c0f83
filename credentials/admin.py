"""Platform staff's view of credentials: read-only where the product is irreversible."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from credentials.models import AccessToken, ApiKey, CredentialHistory, OAuthClient, ServiceAccount


class ReadOnlyMixin:
    """Nothing can be added, changed or deleted here; the portal's services own writes.

    For a ModelAdmin (ReadOnlyAdmin) or an inline.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


@admin.register(OAuthClient)
class OAuthClientAdmin(ReadOnlyAdmin):
    list_display = [
        "client_id",
        "display_name",
        "team",
        "legacy",
        "created_at",
        "last_used_at",
        "deactivated_at",
    ]
    list_filter = ["legacy"]
    search_fields = ["client_id", "display_name", "team__name"]
    exclude = ["secret_digest"]


@admin.register(ServiceAccount)
class ServiceAccountAdmin(ReadOnlyAdmin):
    list_display = ["username", "display_name", "team", "created_at", "last_token_at", "deleted_at"]
    search_fields = ["username", "display_name", "team__name"]
    exclude = ["password_hash"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "platform_name", "team", "created_at", "deactivated_at"]
    search_fields = ["prefix", "platform_name", "team__name"]
    exclude = ["digest"]


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyAdmin):
    list_display = ["pk", "client", "service_account", "audience", "issued_at", "expires_at", "revoked_at"]
    exclude = ["token_digest"]


@admin.register(CredentialHistory)
class CredentialHistoryAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "action",
        "credential_name",
        "credential_identifier",
        "credential_type",
        "actor_name",
        "actor_email",
        "team",
    ]
    list_filter = ["credential_type"]
    search_fields = ["credential_name"]
    list_select_related = ["team"]
    ordering = ["-occurred_at", "-id"]

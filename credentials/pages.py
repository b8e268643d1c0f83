"""Where each credential's own page is: for links from history, lists, banners and emails."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from credentials.models import CredentialType

DETAIL_URL_NAMES = {
    CredentialType.SERVICE_ACCOUNT: "credentials:service_accounts:detail",
    CredentialType.OAUTH_CLIENT: "credentials:clients:detail",
    CredentialType.API_KEY: "credentials:api_keys:detail",
}


def credential_path(credential_type: str, pk: int) -> str:
    """The path of a credential's page."""
    return reverse(DETAIL_URL_NAMES[CredentialType(credential_type)], args=[pk])


def credential_url(credential_type: str, pk: int) -> str:
    """The absolute address of a credential's page, for emails (sent outside any request)."""
    return settings.PORTAL_BASE_URL + credential_path(credential_type, pk)

"""Legacy Basic-auth API keys: list (masked), generate (key shown once), deactivate.

The pages are the ones client credentials have too (credentials.views.lifecycle); this
module says what is an API key's own. A plaintext API key exists only in the one-time
reveal page the generate POST redirects to.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from credentials import permissions, selectors, services
from credentials.forms import ApiKeyForm
from credentials.tables.api_keys import ApiKeyTable, DeactivatedApiKeyTable
from credentials.views import reveal
from credentials.views.lifecycle import CredentialPages
from tango_portal.models import Membership

app_name = "api_keys"


def _form(data: Any = None) -> ApiKeyForm:
    return ApiKeyForm(data, auto_id="id_api_key_%s")


def section_context(request: HttpRequest, membership: Membership) -> dict[str, Any]:
    """Context for the API-keys section of the API credentials page."""
    active = list(selectors.api_keys_active(team=membership.team))
    return {
        "api_keys_table": ApiKeyTable(active, can_manage=permissions.can_manage_credentials(membership)),
        "api_keys_max_active": services.MAX_ACTIVE_API_KEYS,
        "api_keys_limit_reached": len(active) >= services.MAX_ACTIVE_API_KEYS,
        "api_key_form": _form(),
    }


PAGES = CredentialPages(
    app="api_keys",
    name="key",
    create=services.api_key_create,
    shown=lambda key, plaintext: {"key": key, "api_key": plaintext},
    gone=reveal.Gone(
        what="API key",
        if_lost="generate a new key, switch your integration to it, and deactivate this one",
        link_label="See your API keys",
    ),
    credential_url=lambda key: reverse("credentials:api_keys:list"),
    form=_form,
    active=selectors.api_keys_active,
    max_active=services.MAX_ACTIVE_API_KEYS,
    get=selectors.api_key_get,
    deactivate=services.api_key_deactivate,
    deactivated_message=lambda key: f"Deactivated the API key {key.masked} ({key.platform_name}).",
    confirm_label="I understand that once I deactivate this key, I cannot undo it",
    section=section_context,
    deactivated=lambda team: DeactivatedApiKeyTable(selectors.api_keys_deactivated(team=team)),
    list_partial="api-keys",
)

urlpatterns = PAGES.urls()

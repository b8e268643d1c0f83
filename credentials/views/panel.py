"""The *Get a token* panel of the API credentials page.

It shows ready-to-paste curl and Python snippets filled with the team's client ID and
a service account's username. Never a secret: the client secret and the password are
shell variables / environment lookups the reader fills in from their secret store.

The page's view passes only the membership, so the choice of service account
(`?token_sa=<pk>`) is read by the template from the request: every choice offered is
one of this team's live accounts, and an unknown or foreign pk falls back to the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from credentials import selectors
from credentials.models import OAuthClient
from tango_portal.models import Membership

# The select lists the newest accounts; a team with more picks among these.
MAX_ACCOUNT_CHOICES = 200


@dataclass(frozen=True)
class AccountChoice:
    pk: int
    username: str
    display_name: str

    @property
    def key(self) -> str:
        """The pk as the query string carries it, for comparison in the template."""
        return str(self.pk)

    @property
    def label(self) -> str:
        return f"{self.display_name} ({self.username})" if self.display_name else self.username


@dataclass(frozen=True)
class TokenPanel:
    oauth_enabled: bool
    client: OAuthClient | None
    active_client_count: int
    accounts: list[AccountChoice] = field(default_factory=list)

    @property
    def audience(self) -> str:
        return settings.TOKEN_DEFAULT_AUDIENCE

    @property
    def scope(self) -> str:
        return " ".join(settings.TOKEN_SCOPES)

    @property
    def lifetime_hours(self) -> int:
        return int(settings.TOKEN_AUDIENCES[self.audience]) // 3600

    @property
    def renewal_hours(self) -> int:
        return int(settings.TOKEN_RENEWAL_WINDOW.total_seconds()) // 3600

    @property
    def account_keys(self) -> set[str]:
        return {account.key for account in self.accounts}

    @property
    def ready(self) -> bool:
        return self.oauth_enabled and self.client is not None and bool(self.accounts)

    @property
    def missing(self) -> list[str]:
        """What the team has to create before it can get a token, in order."""
        if not self.oauth_enabled:
            return []
        needed = []
        if self.client is None:
            needed.append("client credentials")
        if not self.accounts:
            needed.append("a service account")
        return needed


def get_token_context(membership: Membership) -> dict[str, Any]:
    """Context for the *Get a token* panel of the API credentials page."""
    team = membership.team
    clients = list(selectors.oauth_clients_active(team=team)[:2])
    accounts = [
        AccountChoice(pk=pk, username=username, display_name=display_name)
        for pk, username, display_name in selectors.service_accounts_active(team=team).values_list(
            "pk", "username", "display_name"
        )[:MAX_ACCOUNT_CHOICES]
    ]
    panel = TokenPanel(
        oauth_enabled=team.oauth_enabled,
        # The newest active client credentials: after a rotation, the ones to move to.
        client=clients[0] if clients else None,
        active_client_count=len(clients),
        accounts=accounts,
    )
    return {"token_panel": panel}

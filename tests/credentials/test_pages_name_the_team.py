"""Every result page and every confirmation names the team it is about."""

from __future__ import annotations

import pytest

from credentials import services
from tests.conftest import revealed

pytestmark = pytest.mark.django_db

TEAM = "Team: <strong>Acme Rewards</strong>"


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/team/api-credentials/service-accounts/create/", {"display_name": "x"}),
        ("/team/api-credentials/clients/generate/", {"display_name": "x"}),
        ("/team/api-credentials/api-keys/generate/", {"platform_name": "x"}),
    ],
)
def test_the_page_that_shows_a_new_secret_names_the_team(manager_client, url, data):
    assert TEAM in revealed(manager_client, manager_client.post(url, data)).content.decode()


def test_confirmations_name_the_team(manager_client, team, manager):
    account, _ = services.service_account_create(actor=manager, team=team)
    client, _ = services.oauth_client_create(actor=manager, team=team)
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    for url in (
        f"/team/api-credentials/service-accounts/{account.pk}/delete/",
        f"/team/api-credentials/clients/{client.pk}/deactivate/",
        f"/team/api-credentials/api-keys/{key.pk}/deactivate/",
    ):
        assert TEAM in manager_client.get(url).content.decode(), url

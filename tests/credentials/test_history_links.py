"""History rows link to the credential's page, and say when it no longer works."""

from __future__ import annotations

import re

import pytest

from credentials import services

pytestmark = pytest.mark.django_db

URL = "/team/api-credentials/history/"


def test_names_link_to_their_pages_and_say_deleted_or_deactivated(manager_client, team, manager):
    account, _ = services.service_account_create(actor=manager, team=team, display_name="Order server")
    services.service_account_delete(actor=manager, team=team, account=account)
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Shop")
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Legacy <b>shop</b>")
    services.api_key_deactivate(actor=manager, team=team, key=key)

    page = manager_client.get(URL).content.decode()

    assert (
        f'<a href="/team/api-credentials/service-accounts/{account.pk}/">Order server</a> (deleted)' in page
    )
    assert f'<a href="/team/api-credentials/clients/{client.pk}/">Shop</a><' in page
    assert (
        f'<a href="/team/api-credentials/api-keys/{key.pk}/">Legacy &lt;b&gt;shop&lt;/b&gt;</a> (deactivated)'
        in page
    )
    assert "Deleted" in page  # the verb of a service account's deletion


def test_the_links_cost_one_query_per_type(manager_client, team, manager, django_assert_max_num_queries):
    for n in range(5):
        services.service_account_create(actor=manager, team=team, display_name=f"Account {n}")
    for n in range(2):
        services.api_key_create(actor=manager, team=team, platform_name=f"Key {n}")
    manager_client.get(URL)
    with django_assert_max_num_queries(14):
        body = manager_client.get(URL).content.decode()
    assert len(re.findall(r'href="/team/api-credentials/service-accounts/\d+/"', body)) == 5

from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db


def test_api_credentials_page_renders_for_manager(manager_client, team):
    response = manager_client.get("/team/api-credentials/")
    assert response.status_code == HTTPStatus.OK
    assert team.name in response.content.decode()

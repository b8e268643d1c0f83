"""The API keeps answering when PostgreSQL ends the app server's database sessions
(a restart, a failover, an idle timeout): persistent connections are health-checked
before reuse (CONN_HEALTH_CHECKS), so the next request reconnects instead of failing."""

from http import HTTPStatus

import pytest
import requests
from django.db import connection

from tests.oauth.conftest import make_credentials

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def end_every_other_session() -> int:
    """End every session on this database but the test's own, as a server restart would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (ended,) = cursor.fetchone()
    return ended


def test_the_api_survives_the_database_ending_its_sessions(live_server, manager, team):
    creds = make_credentials(manager, team)
    issued = requests.post(f"{live_server.url}/oauth/token", data=creds.form(), timeout=30)
    assert issued.status_code == HTTPStatus.OK
    bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    assert requests.get(f"{live_server.url}/api/v2/whoami", headers=bearer, timeout=30).ok

    assert end_every_other_session() >= 1

    again = requests.get(f"{live_server.url}/api/v2/whoami", headers=bearer, timeout=30)
    assert again.status_code == HTTPStatus.OK
    assert again.json()["service_account"] == creds.username
    # The token endpoint reconnects too (its refusal is the once-a-day rule, not a 500).
    refused = requests.post(f"{live_server.url}/oauth/token", data=creds.form(), timeout=30)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS

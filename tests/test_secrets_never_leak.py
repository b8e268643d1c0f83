"""Every flow that makes a secret, then a search for the secret everywhere it must not be."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.contrib.sessions.models import Session
from django.db import connection

from credentials.models import ApiKey, CredentialHistory, OAuthClient, ServiceAccount
from tango_portal.core.log_filters import JsonFormatter
from tango_portal.models import Membership
from tests.conftest import client_for, revealed
from tests.routes import PARAM, fill, url_patterns

pytestmark = pytest.mark.django_db

# Every secret carries the environment prefix; client IDs (`_ci_`) are public.
FORM = "application/x-www-form-urlencoded"
SECRET = re.compile(r"tng_sbx_(?:sap|cs|ak|at|su)_[A-Za-z0-9_\-]{40,}")


def secrets_in(text: str) -> set[str]:
    return set(SECRET.findall(text))


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


def make_every_secret(admin_client, team) -> set[str]:
    """Run each flow that shows a secret once; return the secrets the pages showed."""
    shown: set[str] = set()
    base = "/team/api-credentials"
    creates = [
        (f"{base}/service-accounts/create/", {"display_name": "Leak check"}, {}),
        (f"{base}/clients/generate/", {"display_name": "Leak check"}, {}),
        # The API keys section's own form posts by htmx.
        (f"{base}/api-keys/generate/", {"platform_name": "Leak check"}, {"HX-Request": "true"}),
    ]
    for url, data, headers in creates:
        posted = admin_client.post(url, data, headers=headers)
        # The POST's answer sends the browser on and shows nothing: no body, header or URL
        # with a secret; the one-time page it leads to shows it, and only the first time.
        assert not secrets_in(posted.content.decode() + repr(posted.items()))
        response = revealed(admin_client, posted)
        assert response.status_code == HTTPStatus.OK
        shown |= secrets_in(response.content.decode())
        again = admin_client.get(response.request["PATH_INFO"])
        assert again.status_code == HTTPStatus.GONE
        assert not secrets_in(again.content.decode())
    response = admin_client.post(
        "/team/users/add/", {"email": "newcomer@example.com", "full_name": "New Comer"}
    )
    assert response.status_code == HTTPStatus.OK
    shown |= secrets_in(response.content.decode())

    account = ServiceAccount.objects.get(team=team, display_name="Leak check")
    client = OAuthClient.objects.get(team=team, display_name="Leak check")
    password = next(s for s in shown if s.startswith("tng_sbx_sap_"))
    client_secret = next(s for s in shown if s.startswith("tng_sbx_cs_"))
    token = admin_client.post(
        "/oauth/token",
        urlencode(
            {
                "grant_type": "password",
                "client_id": client.client_id,
                "client_secret": client_secret,
                "username": account.username,
                "password": password,
                "scope": "raas.all",
                "audience": "https://api.tangocard.com/",
            }
        ),
        content_type=FORM,
    )
    assert token.status_code == HTTPStatus.OK, token.content
    shown.add(token.json()["access_token"])
    whoami = admin_client.get(
        "/api/v2/whoami", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert whoami.status_code == HTTPStatus.OK
    # A failed attempt with a real secret in the wrong place must not echo it either.
    admin_client.post(
        "/oauth/token", {"grant_type": "password", "client_id": client_secret, "password": password}
    )
    assert {s.split("_")[2] for s in shown} == {"sap", "cs", "ak", "su", "at"}
    return shown


def database_text() -> str:
    """Every column of every table as text, sessions decoded."""
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    chunks.extend(repr(session.get_decoded()) for session in Session.objects.all())
    return "\n".join(chunks)


def test_no_plaintext_secret_anywhere_after_every_flow(team, admin_user, auditor, caplog):
    caplog.set_level(logging.DEBUG)
    admin = client_for(admin_user)
    shown = make_every_secret(admin, team)
    assert len(shown) == 5

    # 1. The database, every text column of every table, sessions included.
    stored = database_text()
    for secret in shown:
        assert secret not in stored

    # 2. Everything logged while the flows ran, as production writes it (the JSON line has
    #    each record's fields too, such as the request line's path) and as its message.
    formatter = JsonFormatter()
    logged = "\n".join(f"{formatter.format(record)}\n{record.getMessage()}" for record in caplog.records)
    assert '"logger": "tango_portal.request"' in logged
    for secret in shown:
        assert secret not in logged

    # 3. Every page a user can GET afterwards, with every object identifier, as a manager
    #    and as an auditor, plus the history exports.
    ids = {
        *ServiceAccount.objects.values_list("pk", flat=True),
        *OAuthClient.objects.values_list("pk", flat=True),
        *ApiKey.objects.values_list("pk", flat=True),
        *Membership.objects.values_list("pk", flat=True),
        *CredentialHistory.objects.values_list("pk", flat=True),
    }
    pages = 0
    for client in (admin, client_for(auditor)):
        for route, _ in url_patterns():
            urls = [fill(route, i) for i in ids] if PARAM.search(route) else [fill(route, "")]
            for url in urls:
                response = client.get(url)
                if response.status_code == HTTPStatus.OK:
                    pages += 1
                    assert not secrets_in(_body(response)), url
        for export in ("csv", "json"):
            response = client.get(f"/team/api-credentials/history/?_export={export}")
            assert response.status_code == HTTPStatus.OK
            assert not secrets_in(_body(response))
    assert pages > 10

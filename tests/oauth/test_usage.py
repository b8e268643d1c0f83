"""Every token request and API call is evidence of use, written at most once a minute."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from credentials import selectors, services, usage
from credentials.models import AccessToken, CredentialAddress, CredentialType, CredentialUsageDay
from tests.conftest import issue_access_token
from tests.oauth.conftest import basic, request_token

pytestmark = pytest.mark.django_db

AGENT = "order-server/2.4 (python-requests)"


def _requests(kind: CredentialType, pk: int) -> int:
    return sum(
        CredentialUsageDay.objects.filter(credential_type=kind, credential_pk=pk).values_list(
            "requests", flat=True
        )
    )


def _token(client, creds, **extra) -> str:
    response = request_token(client, creds.form(), **{"HTTP_USER_AGENT": AGENT, **extra})
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["access_token"]


def test_a_token_request_is_a_use_of_the_client_and_the_account(client, creds):
    _token(client, creds)

    for kind, credential in (
        (CredentialType.OAUTH_CLIENT, creds.client),
        (CredentialType.SERVICE_ACCOUNT, creds.account),
    ):
        credential.refresh_from_db()
        assert credential.last_used_at is not None
        seen = CredentialAddress.objects.get(credential_type=kind, credential_pk=credential.pk)
        assert (seen.ip_address, seen.user_agent) == ("127.0.0.1", AGENT)
        # Its tokens per day are its AccessToken rows: no day count to keep.
        assert selectors.usage_evidence(credential).days[-1][1] == 1
    assert not CredentialUsageDay.objects.exists()


def test_api_calls_within_a_minute_write_nothing_then_add_up(
    client, team, manager, django_assert_num_queries
):
    key, plaintext = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    headers = {"Authorization": basic(team.slug, plaintext)}
    assert client.get("/api/v2/whoami", headers=headers).status_code == HTTPStatus.OK
    with django_assert_num_queries(5):  # the key lookup of each call, and no write
        for _ in range(5):
            assert client.get("/api/v2/whoami", headers=headers).status_code == HTTPStatus.OK
    assert _requests(CredentialType.API_KEY, key.pk) == 1

    usage.flush_all()

    assert _requests(CredentialType.API_KEY, key.pk) == 6


def test_after_the_flush_period_the_next_use_writes(client, team, manager, settings):
    settings.USAGE_FLUSH_SECONDS = 0
    key, plaintext = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    for _ in range(4):
        client.get("/api/v2/whoami", HTTP_AUTHORIZATION=basic(team.slug, plaintext))
    assert _requests(CredentialType.API_KEY, key.pk) == 4


def test_an_api_call_with_a_token_is_a_use_of_its_account(client, creds):
    token = _token(client, creds)
    creds.account.refresh_from_db()
    issued_use = creds.account.last_used_at
    usage.forget()  # as if a minute had passed since the token request wrote
    client.get("/api/v2/whoami", HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR="198.51.100.7")
    creds.account.refresh_from_db()
    assert creds.account.last_used_at > issued_use
    assert selectors.usage_evidence(creds.account).last_address.ip_address == "198.51.100.7"


def test_an_api_key_call_is_a_use_of_the_key(client, team, manager):
    key, plaintext = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    response = client.get(
        "/api/v2/whoami", HTTP_AUTHORIZATION=basic(team.slug, plaintext), HTTP_USER_AGENT=AGENT
    )
    assert response.status_code == HTTPStatus.OK
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert _requests(CredentialType.API_KEY, key.pk) == 1


def test_a_refused_request_is_no_use(client, creds):
    response = request_token(client, creds.form(password="wrong"))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not CredentialUsageDay.objects.exists()
    assert not CredentialAddress.objects.exists()


def test_recording_can_be_turned_off(client, creds, settings):
    settings.USAGE_RECORDING = False
    token = _token(client, creds)
    client.get("/api/v2/whoami", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert not CredentialAddress.objects.exists()
    assert not CredentialUsageDay.objects.exists()


def test_behind_a_trusted_proxy_the_clients_address_is_recorded(client, creds, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    _token(client, creds, HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="10.0.0.2")
    seen = CredentialAddress.objects.filter(credential_type=CredentialType.OAUTH_CLIENT)
    assert list(seen.values_list("ip_address", flat=True)) == ["203.0.113.9"]


def test_an_untrusted_forwarded_for_is_ignored(client, creds):
    _token(client, creds, HTTP_X_FORWARDED_FOR="203.0.113.9")
    seen = CredentialAddress.objects.filter(credential_type=CredentialType.OAUTH_CLIENT)
    assert list(seen.values_list("ip_address", flat=True)) == ["127.0.0.1"]


def test_a_user_agent_keeps_printable_text_only(client, creds):
    _token(client, creds, HTTP_USER_AGENT="bad\x1b[31magent\x00" + "x" * 400)
    seen = CredentialAddress.objects.filter(credential_type=CredentialType.OAUTH_CLIENT).get()
    assert seen.user_agent.startswith("bad[31magent")
    assert len(seen.user_agent) == 300


def test_only_the_newest_addresses_are_kept(client, creds, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.USAGE_ADDRESSES_KEPT = 3
    token = _token(client, creds, HTTP_X_FORWARDED_FOR="198.51.100.1")
    for last in range(2, 7):
        client.get(
            "/api/v2/whoami",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{last}",
        )
    newest = ["198.51.100.4", "198.51.100.5", "198.51.100.6"]
    shown = selectors.usage_evidence(creds.account).addresses
    assert sorted(seen.ip_address for seen in shown) == newest
    usage.purge()  # the daily housekeeping drops the rest
    kept = CredentialAddress.objects.filter(credential_type=CredentialType.SERVICE_ACCOUNT)
    assert sorted(kept.values_list("ip_address", flat=True)) == newest


def test_evidence_counts_tokens_per_day_and_says_how_recent(client, creds):
    now = timezone.now()
    for n, days_ago in enumerate((0, 0, 3, 89, 90)):
        row = issue_access_token(creds.client, creds.account, audience=f"https://api.example/{n}")
        AccessToken.objects.filter(pk=row.pk).update(issued_at=now - timedelta(days=days_ago))

    evidence = selectors.usage_evidence(creds.account, now=now)

    assert evidence.series == "Tokens issued"
    assert len(evidence.days) == selectors.EVIDENCE_DAYS
    assert evidence.days[-1] == (now.date(), 2)
    assert evidence.days[-4][1] == 1
    assert evidence.days[0][1] == 1
    assert evidence.total == 4  # the one 90 days ago is outside the chart
    assert evidence.used_within(now) is None  # issue_access_token is not a request: no use yet
    _token(client, creds)
    creds.account.refresh_from_db()
    evidence = selectors.usage_evidence(creds.account)
    assert evidence.used_within() == "24 hours"
    assert evidence.last_address.ip_address == "127.0.0.1"
    assert evidence.used_within(timezone.now() + timedelta(days=5)) == "7 days"
    assert evidence.used_within(timezone.now() + timedelta(days=20)) == "30 days"
    assert evidence.used_within(timezone.now() + timedelta(days=40)) == "more than 30 days"


def test_old_day_counts_are_purged(creds):
    today = timezone.now().date()
    for age in (0, 90, 91):
        CredentialUsageDay.objects.create(
            team=creds.client.team,
            credential_type=CredentialType.API_KEY,
            credential_pk=1,
            day=today - timedelta(days=age),
            requests=1,
        )
    assert usage.purge() == 1
    assert CredentialUsageDay.objects.count() == 2

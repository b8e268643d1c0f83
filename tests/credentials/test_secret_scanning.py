"""Leaked-secret reports: the signed endpoint a secret-scanning service calls (GitHub's partner
format), what each kind of reported secret does under each team policy, the banner and its
acknowledgement, and lifting a service account's block."""

from __future__ import annotations

import base64
import json
import logging
import time
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.test import Client

from credentials import scanning, selectors, services
from credentials import secrets as credential_secrets
from credentials.models import (
    AccessToken,
    ApiKey,
    CredentialHistory,
    LeakedSecret,
    LeakReport,
    OAuthClient,
    ServiceAccount,
)
from credentials.pages import credential_path
from credentials.views.policy import leak_response_set
from tango_portal.members import activity
from tango_portal.members import services as members_services
from tango_portal.models import SignupInvitation, Team, TeamActivity
from tests.conftest import client_for, issue_access_token, plain_and_htmx
from tests.credentials.scanning_keys import ScannerKeys
from tests.test_secrets_never_leak import database_text

pytestmark = pytest.mark.django_db

URL = "/api/secret-scanning/reports"
WHOAMI = "/api/v2/whoami"
TOKEN_URL = "/oauth/token"
POLICY_URL = "/team/api-credentials/policy/"
FOUND_AT = "https://github.com/acme/shop/blob/0a1b2c/settings.py#L12"
SCANNER_ADDRESS = "192.0.2.10"
Action = CredentialHistory.Action
Kind = credential_secrets.Kind


# --- Fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def scanner(tmp_path, settings) -> ScannerKeys:
    """The scanner's key pair, its public key in the key file the setting names."""
    keys = ScannerKeys()
    settings.SECRET_SCANNING_KEYS_FILE = str(keys.write_key_file(tmp_path / "secret-scanning-keys.json"))
    return keys


def finding(token: str, type_: str = "tango_sandbox_secret", url: str = FOUND_AT, source: str = "content"):
    return {"token": token, "type": type_, "url": url, "source": source}


def post_report(
    keys: ScannerKeys, findings=None, *, body: bytes | None = None, headers=None, address=SCANNER_ADDRESS
):
    """POST a report as the scanner: `findings` as JSON (or the raw `body`), signed unless
    `headers` says otherwise."""
    raw = body if body is not None else json.dumps(findings).encode()
    sent = keys.headers(raw) if headers is None else headers
    return Client().post(URL, raw, content_type="application/json", headers=sent, REMOTE_ADDR=address)


@dataclass
class Live:
    """A team's working credentials and their secrets, made through the services."""

    client: OAuthClient
    client_secret: str
    account: ServiceAccount
    password: str
    token: str
    key: ApiKey
    key_value: str


@pytest.fixture
def live(team, manager) -> Live:
    client, client_secret = services.oauth_client_create(actor=manager, team=team, display_name="Shop")
    account, password = services.service_account_create(actor=manager, team=team, display_name="Checkout")
    token = credential_secrets.generate(Kind.ACCESS_TOKEN)
    issue_access_token(client, account, value=token)
    key, key_value = services.api_key_create(actor=manager, team=team, platform_name="Legacy shop")
    return Live(client, client_secret, account, password, token, key, key_value)


def bearer(token: str) -> int:
    return Client().get(WHOAMI, headers={"Authorization": f"Bearer {token}"}).status_code


def with_api_key(team: Team, value: str) -> int:
    encoded = base64.b64encode(f"{team.slug}:{value}".encode()).decode()
    return Client().get(WHOAMI, headers={"Authorization": f"Basic {encoded}"}).status_code


def token_request(live: Live):
    return Client().post(
        TOKEN_URL,
        urlencode(
            {
                "grant_type": "password",
                "client_id": live.client.client_id,
                "client_secret": live.client_secret,
                "username": live.account.username,
                "password": live.password,
                "scope": "raas.all",
                "audience": "https://api.tangocard.com/",
            }
        ),
        content_type="application/x-www-form-urlencoded",
    )


def state() -> dict[str, object]:
    """Everything a report could change."""
    return {
        "history": CredentialHistory.objects.count(),
        "activity": TeamActivity.objects.count(),
        "reports": LeakReport.objects.count(),
        "live_tokens": AccessToken.objects.filter(revoked_at__isnull=True).count(),
        "active_clients": OAuthClient.objects.active().count(),
        "active_keys": ApiKey.objects.active().count(),
        "blocked_accounts": ServiceAccount.objects.filter(blocked_at__isnull=False).count(),
        "open_links": SignupInvitation.objects.filter(revoked_at__isnull=True).count(),
        "emails": len(mail.outbox),
    }


def history_of(identifier: str) -> list[tuple[str, str]]:
    rows = CredentialHistory.objects.filter(credential_identifier=identifier).order_by("id")
    return [(row.action, row.actor_email) for row in rows]


def stale(client: Client) -> Client:
    session = client.session
    session["sudo_at"] = int(time.time()) - 16 * 60
    session.save()
    return client


# --- Revoke at once (the default) ------------------------------------------------------------


def test_a_signed_report_of_a_client_secret_deactivates_it_and_ends_its_tokens(
    scanner, live, team, admin_user, manager
):
    assert bearer(live.token) == HTTPStatus.OK

    response = post_report(scanner, [finding(live.client_secret, "tango_client_secret")])

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    assert response.json() == [
        {"token_raw": live.client_secret, "token_type": "tango_client_secret", "label": "true_positive"}
    ]
    live.client.refresh_from_db()
    assert not live.client.is_active
    assert bearer(live.token) == HTTPStatus.UNAUTHORIZED
    # History: the report, then the deactivation it caused; no person did either.
    assert history_of(live.client.client_id)[-2:] == [(Action.LEAK_REPORTED, ""), (Action.DEACTIVATED, "")]
    reported = CredentialHistory.objects.get(action=Action.LEAK_REPORTED)
    assert reported.details == {
        "secret": "Client secret",
        "source": "content",
        "url": FOUND_AT,
        "response": "Revoked at once",
    }
    [report] = LeakReport.objects.all()
    assert (report.team, report.credential_pk, report.secret, report.action_taken) == (
        team,
        live.client.pk,
        LeakedSecret.CLIENT_SECRET,
        LeakReport.Taken.REVOKED,
    )
    # Each Manage user is emailed where it was found and what was done, never the secret.
    assert sorted(message.to[0] for message in mail.outbox) == sorted([admin_user.email, manager.email])
    for message in mail.outbox:
        assert live.client.client_id in message.body
        assert FOUND_AT in message.body
        assert "deactivated" in message.body
        assert f"/team/api-credentials/clients/{live.client.pk}/" in message.body
        assert "client secret" in message.subject
        assert live.client_secret not in message.body + message.subject


def test_an_api_key_report_deactivates_the_key(scanner, live, team):
    assert with_api_key(team, live.key_value) == HTTPStatus.OK

    response = post_report(scanner, [finding(live.key_value, "tango_api_key")])

    assert response.json()[0]["label"] == "true_positive"
    live.key.refresh_from_db()
    assert not live.key.is_active
    assert with_api_key(team, live.key_value) == HTTPStatus.UNAUTHORIZED
    assert history_of(live.key.prefix)[-2:] == [(Action.LEAK_REPORTED, ""), (Action.DEACTIVATED, "")]
    # The client credentials were not reported: they keep working.
    assert bearer(live.token) == HTTPStatus.OK


def test_an_access_token_report_ends_that_token_only_and_its_server_gets_a_new_one(scanner, live, team):
    other = credential_secrets.generate(Kind.ACCESS_TOKEN)
    issue_access_token(
        live.client, None, value=other, audience="https://api.bhn.com/fiveminute", expires_in=300
    )

    response = post_report(scanner, [finding(live.token, "tango_access_token")])

    assert response.json()[0]["label"] == "true_positive"
    assert bearer(live.token) == HTTPStatus.UNAUTHORIZED
    assert bearer(other) == HTTPStatus.OK
    live.client.refresh_from_db()
    assert live.client.is_active
    # The report shows on the token's service account, and the once-a-day rule lets the
    # server replace the ended token at once.
    [report] = LeakReport.objects.all()
    assert (report.credential_type, report.credential_pk, report.secret) == (
        "service_account",
        live.account.pk,
        LeakedSecret.ACCESS_TOKEN,
    )
    assert history_of(live.account.username)[-1] == (Action.LEAK_REPORTED, "")
    assert issue_access_token(live.client, live.account) is not None


def test_the_password_of_an_account_made_before_digests_cannot_be_found(scanner, live):
    ServiceAccount.objects.filter(pk=live.account.pk).update(password_digest="")
    before = state()
    response = post_report(scanner, [finding(live.password, "tango_service_account_password")])
    assert response.json() == [
        {
            "token_raw": live.password,
            "token_type": "tango_service_account_password",
            "label": "false_positive",
        }
    ]
    assert state() == before


def test_a_reported_password_blocks_its_account_and_ends_its_tokens(scanner, live):
    response = post_report(scanner, [finding(live.password, "tango_service_account_password")])

    assert response.json()[0]["label"] == "true_positive"
    live.account.refresh_from_db()
    assert live.account.is_blocked and not live.account.is_deleted
    assert "Password reported leaked" in live.account.blocked_reason
    assert bearer(live.token) == HTTPStatus.UNAUTHORIZED
    refused = token_request(live)
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused.json()["error"] == "invalid_grant"
    with pytest.raises(services.TokenRefused):
        issue_access_token(live.client, live.account)
    # The client credentials still serve other accounts.
    assert issue_access_token(live.client, None) is not None


def test_a_leaked_sign_up_link_is_revoked_whatever_the_policy(scanner, team, admin_user):
    Team.objects.filter(pk=team.pk).update(leak_response=Team.LeakResponse.ALERT)
    added = members_services.member_add(
        actor=admin_user, team=team, email="new@example.com", full_name="New Person"
    )

    response = post_report(scanner, [finding(added.signup_token, "tango_signup_link")])

    assert response.json()[0]["label"] == "true_positive"
    added.invitation.refresh_from_db()
    assert added.invitation.revoked_at is not None
    assert members_services.invitation_problem(added.invitation) is not None


def test_findings_are_answered_one_by_one_in_order(scanner, live):
    unknown = credential_secrets.generate(Kind.CLIENT_SECRET)
    findings = [finding(unknown, "a"), finding(live.key_value, "b"), finding("not ours at all", "c")]
    response = post_report(scanner, findings)
    assert [(row["token_raw"], row["token_type"], row["label"]) for row in response.json()] == [
        (unknown, "a", "false_positive"),
        (live.key_value, "b", "true_positive"),
        ("not ours at all", "c", "false_positive"),
    ]


def test_unknown_values_are_false_positives_and_change_nothing(scanner, live):
    before = state()
    values = [
        credential_secrets.generate(Kind.CLIENT_SECRET),  # our format, no such secret
        credential_secrets.generate(Kind.API_KEY),
        credential_secrets.generate(Kind.ACCESS_TOKEN),
        credential_secrets.generate(Kind.SIGNUP),
        live.client_secret.replace("tng_sbx_", "tng_live_"),  # the other environment's
        live.client.client_id,  # public, not a secret
        "ghp_" + "x" * 36,
    ]
    response = post_report(scanner, [finding(value) for value in values])
    assert response.status_code == HTTPStatus.OK
    assert [row["label"] for row in response.json()] == ["false_positive"] * len(values)
    assert state() == before


def test_a_repeated_report_is_answered_again_but_recorded_and_emailed_once(scanner, live):
    first = post_report(scanner, [finding(live.client_secret)])
    after_first = state()
    again = post_report(scanner, [finding(live.client_secret)])
    assert again.json() == first.json()
    assert state() == after_first


# --- Only alert ------------------------------------------------------------------------------


def test_the_alert_policy_revokes_nothing_but_records_and_emails(scanner, live, team, admin_user, manager):
    Team.objects.filter(pk=team.pk).update(leak_response=Team.LeakResponse.ALERT)

    response = post_report(
        scanner, [finding(live.client_secret), finding(live.key_value), finding(live.token)]
    )

    assert [row["label"] for row in response.json()] == ["true_positive"] * 3
    live.client.refresh_from_db()
    live.key.refresh_from_db()
    assert live.client.is_active and live.key.is_active
    assert bearer(live.token) == HTTPStatus.OK
    assert with_api_key(team, live.key_value) == HTTPStatus.OK
    assert set(LeakReport.objects.values_list("action_taken", flat=True)) == {LeakReport.Taken.ALERTED}
    assert CredentialHistory.objects.filter(action=Action.LEAK_REPORTED).count() == 3
    assert not CredentialHistory.objects.filter(action=Action.DEACTIVATED).exists()
    assert len(mail.outbox) == 3 * 2  # three reports, two Manage users
    assert all("nothing was revoked" in message.body for message in mail.outbox)


def test_a_dead_secret_is_ours_but_nothing_needs_revoking(scanner, live, team, manager):
    services.oauth_client_deactivate(actor=manager, team=team, client=live.client)
    response = post_report(scanner, [finding(live.client_secret)])
    assert response.json()[0]["label"] == "true_positive"
    [report] = LeakReport.objects.all()
    assert report.action_taken == LeakReport.Taken.ALREADY_INACTIVE
    assert CredentialHistory.objects.filter(action=Action.DEACTIVATED).count() == 1  # the manager's


# --- Refused reports change nothing ------------------------------------------------------------


def _forged(keys, secret):
    body = json.dumps([finding(secret)]).encode()
    return body, {**keys.headers(body), "Github-Public-Key-Signature": keys.sign(body + b" ")}


def _other_key(keys, secret):
    body = json.dumps([finding(secret)]).encode()
    return body, {**keys.headers(body), "Github-Public-Key-Signature": ScannerKeys().sign(body)}


def _unknown_identifier(keys, secret):
    body = json.dumps([finding(secret)]).encode()
    return body, {**keys.headers(body), "Github-Public-Key-Identifier": "0" * 64}


def _no_signature(keys, secret):
    body = json.dumps([finding(secret)]).encode()
    return body, {"Github-Public-Key-Identifier": keys.identifier}


def _no_identifier(keys, secret):
    body = json.dumps([finding(secret)]).encode()
    return body, {"Github-Public-Key-Signature": keys.sign(body)}


def _not_base64(keys, secret):
    body = json.dumps([finding(secret)]).encode()
    return body, {**keys.headers(body), "Github-Public-Key-Signature": "%%% not base64 %%%"}


def _signed(body: bytes):
    return lambda keys, secret: (body.replace(b"SECRET", secret.encode()), None)


def _two_megabytes(keys, secret):
    body = json.dumps([finding(secret)] + [finding("x" * 500)] * 4000).encode()
    assert len(body) > 2_000_000
    return body, None


def _too_many(keys, secret):
    return json.dumps([finding(secret)] * 101).encode(), None


def _second_entry_wrong(keys, secret):
    return json.dumps([finding(secret), {"token": secret, "type": "x"}]).encode(), None


REFUSALS = {
    "forged signature": (_forged, HTTPStatus.FORBIDDEN),
    "another key's signature": (_other_key, HTTPStatus.FORBIDDEN),
    "unknown key identifier": (_unknown_identifier, HTTPStatus.FORBIDDEN),
    "no signature header": (_no_signature, HTTPStatus.FORBIDDEN),
    "no key identifier header": (_no_identifier, HTTPStatus.FORBIDDEN),
    "signature not base64": (_not_base64, HTTPStatus.FORBIDDEN),
    "2 MB body": (_two_megabytes, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    "101 findings": (_too_many, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    "malformed JSON": (_signed(b'[{"token": "SECRET", '), HTTPStatus.BAD_REQUEST),
    "not UTF-8": (_signed(b'[{"token": "SECRET\xff"}]'), HTTPStatus.BAD_REQUEST),
    "an object, not an array": (
        _signed(b'{"token": "SECRET", "type": "t", "url": "u", "source": "s"}'),
        HTTPStatus.BAD_REQUEST,
    ),
    "an entry that is a string": (_signed(b'["SECRET"]'), HTTPStatus.BAD_REQUEST),
    "a token that is a number": (
        _signed(b'[{"token": 5, "type": "t", "url": "u", "source": "s"}]'),
        HTTPStatus.BAD_REQUEST,
    ),
    "no url": (_signed(b'[{"token": "SECRET", "type": "t", "source": "s"}]'), HTTPStatus.BAD_REQUEST),
    "an empty token": (
        _signed(b'[{"token": " ", "type": "t", "url": "u", "source": "s"}]'),
        HTTPStatus.BAD_REQUEST,
    ),
    "a NUL in the source": (
        _signed(b'[{"token": "SECRET", "type": "t", "url": "u", "source": "s\\u0000"}]'),
        HTTPStatus.BAD_REQUEST,
    ),
    "a lone surrogate in the url": (
        _signed(b'[{"token": "SECRET", "type": "t", "url": "\\ud800", "source": "s"}]'),
        HTTPStatus.BAD_REQUEST,
    ),
    "a url too long": (
        _signed(b'[{"token": "SECRET", "type": "t", "url": "' + b"u" * 2001 + b'", "source": "s"}]'),
        HTTPStatus.BAD_REQUEST,
    ),
    "NaN": (
        _signed(b'[{"token": "SECRET", "type": NaN, "url": "u", "source": "s"}]'),
        HTTPStatus.BAD_REQUEST,
    ),
    "a wrong second entry after a right first": (_second_entry_wrong, HTTPStatus.BAD_REQUEST),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_report_changes_nothing(scanner, live, case):
    make, status = REFUSALS[case]
    body, headers = make(scanner, live.client_secret)
    before = state()

    response = post_report(scanner, body=body, headers=headers)

    assert response.status_code == status, response.content
    assert response.json()["error"]
    assert state() == before
    live.client.refresh_from_db()
    assert live.client.is_active
    assert bearer(live.token) == HTTPStatus.OK


def test_a_body_over_the_limit_is_refused_even_without_a_content_length(scanner, live, settings):
    body = json.dumps([finding(live.client_secret)] * 50).encode()
    settings.SECRET_SCANNING_MAX_BODY_BYTES = len(body) - 1
    before = state()
    # The test client always sends a Content-Length: drop it, as a chunked request would.
    client = Client()
    response = client.generic(
        "POST", URL, body, content_type="application/json", headers=scanner.headers(body), CONTENT_LENGTH=""
    )
    assert response.status_code in {HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.FORBIDDEN}
    assert state() == before


def test_a_get_is_refused(scanner):
    assert Client().get(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_without_the_key_file_the_endpoint_says_it_is_not_configured(live, settings, tmp_path):
    body = json.dumps([finding(live.client_secret)]).encode()
    keys = ScannerKeys()
    before = state()
    settings.SECRET_SCANNING_KEYS_FILE = ""
    response = post_report(keys, body=body)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["error"] == "not_configured"
    assert "SECRET_SCANNING_KEYS_FILE" in response.json()["error_description"]
    # A file that holds no usable key is as good as none.
    broken = tmp_path / "keys.json"
    for text in ("not json", '{"public_keys": [{"key_identifier": "k", "key": "not PEM"}]}', "[]"):
        broken.write_text(text)
        settings.SECRET_SCANNING_KEYS_FILE = str(broken)
        assert post_report(keys, body=body).status_code == HTTPStatus.SERVICE_UNAVAILABLE
    settings.SECRET_SCANNING_KEYS_FILE = str(tmp_path / "missing.json")
    assert post_report(keys, body=body).status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert state() == before


def test_every_listed_key_verifies_so_a_rotation_needs_no_restart(live, settings, tmp_path):
    old, new = ScannerKeys(identifier="old"), ScannerKeys(identifier="new")
    path = new.write_key_file(
        tmp_path / "keys.json", also=[{"key_identifier": "old", "key": old.public_pem(), "is_current": False}]
    )
    settings.SECRET_SCANNING_KEYS_FILE = str(path)
    assert post_report(old, [finding("unknown")]).status_code == HTTPStatus.OK
    assert post_report(new, [finding("unknown")]).status_code == HTTPStatus.OK
    new.write_key_file(path)  # the old key retired, in place
    assert post_report(old, [finding("unknown")]).status_code == HTTPStatus.FORBIDDEN


def test_bad_signatures_from_one_address_are_throttled(scanner, live, settings):
    settings.TOKEN_FAILURE_ADDRESS_LIMIT = 3
    forged, headers = _forged(scanner, live.client_secret)
    for _ in range(3):
        assert post_report(scanner, body=forged, headers=headers).status_code == HTTPStatus.FORBIDDEN

    refused = post_report(scanner, [finding(live.client_secret)])

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["error"] == "too_many_attempts"
    live.client.refresh_from_db()
    assert live.client.is_active
    # Another address is not held up; signed reports do not count against their own.
    for _ in range(4):
        assert post_report(scanner, [finding("unknown")], address="198.51.100.7").status_code == HTTPStatus.OK
    assert (
        post_report(scanner, [finding(live.client_secret)], address="198.51.100.7").status_code
        == HTTPStatus.OK
    )
    live.client.refresh_from_db()
    assert not live.client.is_active


# --- The plaintext is nowhere ---------------------------------------------------------------------


@pytest.mark.parametrize("policy", [Team.LeakResponse.REVOKE, Team.LeakResponse.ALERT])
def test_no_reported_value_is_kept_in_the_database_logs_or_emails(
    scanner, live, team, admin_user, monkeypatch, caplog, policy
):
    caplog.set_level(logging.DEBUG)
    Team.objects.filter(pk=team.pk).update(leak_response=policy)
    signup = members_services.member_add(
        actor=admin_user, team=team, email="new@example.com", full_name="New"
    )
    reported = [
        live.client_secret,
        live.key_value,
        live.token,
        live.password,
        signup.signup_token,
        credential_secrets.generate(Kind.CLIENT_SECRET),
    ]
    response = post_report(scanner, [finding(value) for value in reported])
    assert [row["label"] for row in response.json()] == ["true_positive"] * 5 + ["false_positive"]
    # A refused one, too, whose body carried them.
    post_report(scanner, body=json.dumps([finding(value) for value in reported]).encode(), headers={})

    stored = database_text()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    emailed = "\n".join(message.subject + message.body for message in mail.outbox)
    assert mail.outbox and "secret_scanning_report" in logged
    for value in reported:
        assert value not in stored
        assert value not in logged
        assert value not in emailed


# --- The banner, and acknowledging it ------------------------------------------------------------


def _banner(credential, *, can_manage: bool = True) -> str:
    return render_to_string(
        "credentials/includes/leak_banner.html",
        {
            "leak_reports": selectors.open_leak_reports(credential),
            "credential": credential,
            "can_manage": can_manage,
        },
    )


def _acknowledge_url(report: LeakReport) -> str:
    return f"/team/api-credentials/leak-reports/{report.pk}/acknowledge/"


def test_the_banner_shows_each_open_report_until_a_manage_user_acknowledges_it(
    scanner, live, manager_client, manager
):
    post_report(scanner, [finding(live.client_secret, url=FOUND_AT)])
    [report] = LeakReport.objects.all()
    banner = _banner(live.client)
    assert f'id="leak-report-{report.pk}"' in banner
    assert "Client secret found in public code." in banner
    assert f'<a href="{FOUND_AT}" rel="noopener noreferrer nofollow" target="_blank">' in banner
    assert "The client credentials were deactivated" in banner
    assert _acknowledge_url(report) in banner
    assert live.client_secret not in banner
    assert _acknowledge_url(report) not in _banner(live.client, can_manage=False)

    response = manager_client.post(_acknowledge_url(report))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/team/api-credentials/clients/{live.client.pk}/"
    report.refresh_from_db()
    assert (report.acknowledged_by, report.is_open) == (manager, False)
    assert "leak-report" not in _banner(live.client)
    row = CredentialHistory.objects.filter(action=Action.LEAK_ACKNOWLEDGED).get()
    assert (row.actor_email, row.credential_identifier, row.details["url"]) == (
        manager.email,
        live.client.client_id,
        FOUND_AT,
    )
    # Twice is once.
    manager_client.post(_acknowledge_url(report))
    assert CredentialHistory.objects.filter(action=Action.LEAK_ACKNOWLEDGED).count() == 1


def test_a_url_that_is_not_a_web_address_is_shown_as_text(scanner, live):
    post_report(scanner, [finding(live.key_value, url="javascript:alert(1)")])
    banner = _banner(live.key)
    assert "javascript:alert(1)" in banner
    assert 'href="javascript' not in banner


@pytest.mark.parametrize("credential", ["client", "key", "account"])
def test_the_credential_page_shows_the_banner(scanner, live, manager_client, credential):
    target = {"client": live.client, "key": live.key, "account": live.account}[credential]
    value = {"client": live.client_secret, "key": live.key_value, "account": live.token}[credential]
    post_report(scanner, [finding(value)])
    [report] = LeakReport.objects.all()
    url = credential_path(report.credential_type, report.credential_pk)
    assert f'id="leak-report-{report.pk}"' in manager_client.get(url).content.decode()
    manager_client.post(_acknowledge_url(report))
    assert f'id="leak-report-{report.pk}"' not in manager_client.get(url).content.decode()
    assert target.pk == report.credential_pk


@pytest.mark.parametrize("who", ["auditor", "member"])
def test_acknowledging_needs_the_manage_permission(request, scanner, live, who):
    post_report(scanner, [finding(live.client_secret)])
    [report] = LeakReport.objects.all()
    before = state()
    response = client_for(request.getfixturevalue(who)).post(_acknowledge_url(report))
    assert response.status_code == HTTPStatus.FORBIDDEN
    report.refresh_from_db()
    assert report.is_open
    assert state() == before


def test_acknowledging_asks_a_stale_session_for_the_password(scanner, live, manager_client):
    post_report(scanner, [finding(live.client_secret)])
    [report] = LeakReport.objects.all()
    response = stale(manager_client).post(_acknowledge_url(report))
    assert "registration/sudo.html" in [template.name for template in response.templates]
    report.refresh_from_db()
    assert report.is_open


def test_the_acknowledge_service_checks_the_permission(scanner, live, team, auditor):
    post_report(scanner, [finding(live.client_secret)])
    [report] = LeakReport.objects.all()
    with pytest.raises(PermissionDenied):
        scanning.leak_report_acknowledge(actor=auditor, team=team, report=report)
    report.refresh_from_db()
    assert report.is_open


# --- Lifting a block ---------------------------------------------------------------------------------


@pytest.fixture
def blocked(scanner, live, monkeypatch) -> Live:
    post_report(scanner, [finding(live.password)])
    live.account.refresh_from_db()
    assert live.account.is_blocked
    return live


def _lift_url(account: ServiceAccount) -> str:
    return f"/team/api-credentials/service-accounts/{account.pk}/lift-block/"


def test_the_banner_shows_the_block_with_a_way_to_lift_it(blocked):
    banner = _banner(blocked.account)
    assert 'id="service-account-blocked"' in banner
    assert _lift_url(blocked.account) in banner
    assert _lift_url(blocked.account) not in _banner(blocked.account, can_manage=False)


def test_a_manage_user_lifts_the_block_and_the_account_gets_a_token_again(blocked, manager_client, manager):
    assert token_request(blocked).status_code == HTTPStatus.BAD_REQUEST
    plain, _ = plain_and_htmx(manager_client.get, _lift_url(blocked.account))
    assert "Lift block" in plain.content.decode()
    unconfirmed = manager_client.post(_lift_url(blocked.account), {})
    assert unconfirmed.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    blocked.account.refresh_from_db()
    assert blocked.account.is_blocked

    response = manager_client.post(_lift_url(blocked.account), {"confirm": "on"})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/team/api-credentials/service-accounts/{blocked.account.pk}/"
    blocked.account.refresh_from_db()
    assert not blocked.account.is_blocked
    row = CredentialHistory.objects.filter(action=Action.BLOCK_LIFTED).get()
    assert row.actor_email == manager.email
    assert "Password reported leaked" in row.details["reason"]
    issued = token_request(blocked)
    assert issued.status_code == HTTPStatus.OK, issued.content
    assert bearer(issued.json()["access_token"]) == HTTPStatus.OK
    # Lifting again has nothing to lift.
    again = manager_client.post(_lift_url(blocked.account), {"confirm": "on"})
    assert again.status_code == HTTPStatus.CONFLICT
    assert CredentialHistory.objects.filter(action=Action.BLOCK_LIFTED).count() == 1


def test_lifting_needs_a_fresh_sign_in(blocked, manager_client):
    response = stale(manager_client).post(_lift_url(blocked.account), {"confirm": "on"})
    assert "registration/sudo.html" in [template.name for template in response.templates]
    blocked.account.refresh_from_db()
    assert blocked.account.is_blocked


@pytest.mark.parametrize("who", ["auditor", "member"])
def test_lifting_needs_the_manage_permission(request, blocked, who):
    client = client_for(request.getfixturevalue(who))
    assert client.post(_lift_url(blocked.account), {"confirm": "on"}).status_code == HTTPStatus.FORBIDDEN
    blocked.account.refresh_from_db()
    assert blocked.account.is_blocked


def test_a_deleted_account_stays_unable_to_get_tokens(blocked, team, manager):
    services.service_account_delete(actor=manager, team=team, account=blocked.account)
    with pytest.raises(services.AlreadyDeleted):
        services.service_account_lift_block(actor=manager, team=team, account=blocked.account)


def test_another_teams_admin_can_neither_acknowledge_nor_lift(blocked, outsider_client):
    [report] = LeakReport.objects.all()
    before = state()
    assert outsider_client.post(_acknowledge_url(report)).status_code == HTTPStatus.NOT_FOUND
    assert outsider_client.get(_lift_url(blocked.account)).status_code == HTTPStatus.NOT_FOUND
    assert (
        outsider_client.post(_lift_url(blocked.account), {"confirm": "on"}).status_code
        == HTTPStatus.NOT_FOUND
    )
    report.refresh_from_db()
    blocked.account.refresh_from_db()
    assert report.is_open and blocked.account.is_blocked
    assert state() == before


# --- The team's policy ---------------------------------------------------------------------------------


def test_an_admin_sets_the_leak_response_and_the_team_activity_records_it(team, admin_user):
    client = client_for(admin_user)
    page = client.get(POLICY_URL).content.decode()
    assert '<option value="revoke" selected>Revoke at once</option>' in page

    response = client.post(POLICY_URL, {"policy": "leak_response", "leak_response": "alert"})

    assert response.status_code == HTTPStatus.FOUND
    team.refresh_from_db()
    assert team.leak_response == Team.LeakResponse.ALERT
    assert team.max_credential_age_days == 365  # the other form's setting is untouched
    [row] = TeamActivity.objects.filter(action=TeamActivity.Action.LEAK_RESPONSE_CHANGED)
    assert (row.actor_email, row.from_value, row.to_value) == (admin_user.email, "revoke", "alert")
    assert activity.describe_value(row, row.to_value) == "Only alert"
    assert activity.verify(team)
    page = client.get(POLICY_URL).content.decode()
    assert "only raises an alert" in page
    assert '<option value="alert" selected>Only alert</option>' in page
    assert "Response to leaked secrets changed" in client.get("/team/users/").content.decode()


def test_a_bad_leak_response_is_an_error_in_place(team, admin_user):
    client = client_for(admin_user)
    plain, htmx = plain_and_htmx(
        client.post,
        POLICY_URL,
        {"policy": "leak_response", "leak_response": "ignore"},
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
    )
    assert 'id="leak-form"' in htmx.content.decode()
    assert "Nothing was changed." in plain.content.decode()
    team.refresh_from_db()
    assert team.leak_response == Team.LeakResponse.REVOKE
    assert not TeamActivity.objects.filter(action=TeamActivity.Action.LEAK_RESPONSE_CHANGED).exists()


def test_only_admins_set_the_leak_response(team, admin_user, manager):
    assert (
        client_for(manager)
        .post(POLICY_URL, {"policy": "leak_response", "leak_response": "alert"})
        .status_code
        == HTTPStatus.FORBIDDEN
    )
    with pytest.raises(PermissionDenied):
        leak_response_set(actor=manager, team=team, response="alert")
    with pytest.raises(ValidationError):
        leak_response_set(actor=admin_user, team=team, response="ignore")
    team.refresh_from_db()
    assert team.leak_response == Team.LeakResponse.REVOKE
    assert leak_response_set(actor=admin_user, team=team, response="revoke") is False
    assert not TeamActivity.objects.filter(action=TeamActivity.Action.LEAK_RESPONSE_CHANGED).exists()

"""Usage evidence on the credentials' pages: last use, a chart of use per day, the addresses
seen; the lists' sortable Last used column and their Due for rotation badge."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credentials import services
from credentials.models import (
    AccessToken,
    ApiKey,
    CredentialAddress,
    CredentialType,
    OAuthClient,
    ServiceAccount,
)
from tests.conftest import is_fragment, plain_and_htmx
from tests.factories import AccessTokenFactory
from tests.oauth.conftest import basic, make_credentials, request_token

pytestmark = pytest.mark.django_db

BASE = "/team/api-credentials"
INDEX = f"{BASE}/"
ADDRESS = "203.0.113.9"
AGENT = "order-server/2.4 (python-requests)"


def client_url(client: OAuthClient) -> str:
    return f"{BASE}/clients/{client.pk}/"


def account_url(account: ServiceAccount) -> str:
    return f"{BASE}/service-accounts/{account.pk}/"


def key_url(key: ApiKey) -> str:
    return f"{BASE}/api-keys/{key.pk}/"


def text(response) -> str:
    return response.content.decode()


def day_words(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def get_token(http, creds, *, address: str = ADDRESS, agent: str = AGENT):
    """A real token request from `address`: a use of the client and the service account."""
    response = request_token(http, creds.form(), REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    assert response.status_code == HTTPStatus.OK, response.content
    return response


def call_with_key(http, team, plaintext: str, *, address: str = ADDRESS, agent: str = AGENT):
    """A real API call with a legacy API key: a use of the key."""
    response = http.get(
        "/api/v2/whoami",
        HTTP_AUTHORIZATION=basic(team.slug, plaintext),
        REMOTE_ADDR=address,
        HTTP_USER_AGENT=agent,
    )
    assert response.status_code == HTTPStatus.OK, response.content
    return response


def usage_section(body: str) -> str:
    start = body.index('<section class="section usage" id="usage"')
    return body[start : body.index("</section>", start)]


def last_used(body: str) -> str:
    """What the details say after "Last used"."""
    match = re.search(r'<dt>Last used</dt>\s*<dd class="last-used">(.*?)</dd>', body, re.S)
    assert match, "the details say when it was last used"
    return " ".join(match.group(1).split())


# --- Never used, then used ---------------------------------------------------------------


def test_credentials_never_used_say_so_with_empty_evidence(manager_client, manager, team):
    creds = make_credentials(manager, team)
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Shop")

    for url, series in (
        (client_url(creds.client), "tokens issued"),
        (account_url(creds.account), "tokens issued"),
        (key_url(key), "requests"),
    ):
        body = text(manager_client.get(url))
        assert last_used(body) == "Never used", url
        usage = usage_section(body)
        assert f"No {series} in the last 90 days." in usage
        assert "<svg" not in usage
        assert "No addresses seen yet." in usage


def test_a_real_token_request_shows_on_the_client_and_the_account(client, manager_client, manager, team):
    creds = make_credentials(manager, team)
    get_token(client, creds)
    today = timezone.now().date()

    for credential, url in (
        (creds.client, client_url(creds.client)),
        (creds.account, account_url(creds.account)),
    ):
        credential.refresh_from_db()
        body = text(manager_client.get(url))
        said = last_used(body)
        assert said.startswith("less than a minute ago (")
        assert f'<time datetime="{credential.last_used_at.isoformat()}">' in said
        assert said.endswith(f'from <span class="mono">{ADDRESS}</span>')
        usage = usage_section(body)
        assert "Tokens issued per day, last 90 days" in usage
        assert f"1 token issued in the last 90 days, most on {day_words(today)} (1)." in usage
        row = re.search(r'<td class="mono">203\.0\.113\.9</td>(.*?)</tr>', usage, re.S)
        assert row, "the address is listed"
        assert AGENT in row.group(1)
        assert row.group(1).count("<time datetime=") == 2  # first and last seen
        assert "No addresses seen yet." not in usage


def test_last_used_is_relative_with_the_exact_time(manager_client, manager, team):
    creds = make_credentials(manager, team)
    used = timezone.now() - timedelta(minutes=3, seconds=5)
    ServiceAccount.objects.filter(pk=creds.account.pk).update(last_used_at=used)

    said = last_used(text(manager_client.get(account_url(creds.account))))

    assert said.startswith("3 minutes ago (")
    assert f'<time datetime="{used.isoformat()}">' in said


def test_a_real_api_call_shows_on_the_keys_page_as_requests(client, manager_client, manager, team):
    key, plaintext = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    call_with_key(client, team, plaintext)
    call_with_key(client, team, plaintext, address="198.51.100.7", agent="cron/1.0")

    body = text(manager_client.get(key_url(key)))

    # The newest address is the last one; the day counts only what was written so far.
    assert last_used(body).endswith('from <span class="mono">198.51.100.7</span>')
    usage = usage_section(body)
    assert "Requests per day, last 90 days" in usage
    assert "in the last 90 days, most on" in usage
    assert usage.index("198.51.100.7") < usage.index(ADDRESS)
    assert "cron/1.0" in usage


def test_the_chart_has_a_text_alternative_and_a_table_of_its_days(manager_client, manager, team):
    creds = make_credentials(manager, team)
    now = timezone.now()
    for days_ago, tokens in ((2, 3), (10, 1), (120, 5)):
        for _ in range(tokens):
            AccessTokenFactory(
                client=creds.client, service_account=creds.account, issued_at=now - timedelta(days=days_ago)
            )
    busiest, other = (now - timedelta(days=2)).date(), (now - timedelta(days=10)).date()

    for url in (client_url(creds.client), account_url(creds.account)):
        usage = usage_section(text(manager_client.get(url)))

        summary = f"4 tokens issued in the last 90 days, most on {day_words(busiest)} (3)."
        svg = usage[usage.index("<svg") : usage.index("</svg>")]
        assert 'role="img"' in svg
        assert 'aria-labelledby="usage-chart-title"' in svg
        assert 'aria-describedby="usage-chart-desc"' in svg
        assert '<title id="usage-chart-title">Tokens issued per day, last 90 days</title>' in svg
        assert f'<desc id="usage-chart-desc">{summary}</desc>' in svg
        # One bar per day with any use; the day 120 days ago is outside the chart.
        assert svg.count('<rect class="usage-chart__bar"') == 2
        assert f"<title>{day_words(busiest)}: 3 tokens issued</title>" in svg
        assert f"<title>{day_words(other)}: 1 token issued</title>" in svg
        # The busiest day's bar is the full height; the other a third of it.
        heights = [float(h) for h in re.findall(r'class="usage-chart__bar"[^>]*height="([\d.]+)"', svg)]
        assert heights == [pytest.approx(max(heights) / 3, abs=0.1), max(heights)]

        days = usage[usage.index("<details") : usage.index("</details>")]
        assert "<summary>Days with tokens issued (2)</summary>" in days
        rows = re.findall(r'<tr><td><time datetime="([\d-]+)">[^<]+</time></td><td>(\d+)</td></tr>', days)
        assert rows == [(busiest.isoformat(), "3"), (other.isoformat(), "1")]  # newest first


def test_a_user_agent_with_markup_is_shown_as_text(client, manager_client, manager, team):
    creds = make_credentials(manager, team)
    get_token(client, creds, agent='<script>alert("agent")</script>')

    body = text(manager_client.get(account_url(creds.account)))

    assert '<script>alert("agent")</script>' not in body
    assert "&lt;script&gt;alert(&quot;agent&quot;)&lt;/script&gt;" in body


def test_the_client_detail_refresh_brings_the_last_use(client, manager_client, manager, team, htmx_headers):
    creds = make_credentials(manager, team)
    assert last_used(text(manager_client.get(client_url(creds.client), headers=htmx_headers))) == "Never used"

    get_token(client, creds)

    refresh = manager_client.get(client_url(creds.client), headers=htmx_headers)
    assert is_fragment(refresh)
    assert last_used(text(refresh)).endswith(f'from <span class="mono">{ADDRESS}</span>')


# --- The evidence costs a bounded number of queries ------------------------------------


def _queries(http, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == HTTPStatus.OK
    return len(queries)


def _lots_of_use(team, credential_type: CredentialType, credential, *, addresses: int) -> None:
    now = timezone.now()
    CredentialAddress.objects.bulk_create(
        CredentialAddress(
            team=team,
            credential_type=credential_type,
            credential_pk=credential.pk,
            ip_address=f"198.51.100.{i}",
            user_agent=AGENT,
            first_seen_at=now - timedelta(days=i),
            last_seen_at=now - timedelta(hours=i),
        )
        for i in range(1, addresses + 1)
    )


@pytest.mark.parametrize("page", ["client", "account"])
def test_detail_pages_evidence_takes_a_bounded_number_of_queries(
    manager_client, manager, team, page, django_assert_max_num_queries
):
    creds = make_credentials(manager, team)
    credential, kind, url = {
        "client": (creds.client, CredentialType.OAUTH_CLIENT, client_url(creds.client)),
        "account": (creds.account, CredentialType.SERVICE_ACCOUNT, account_url(creds.account)),
    }[page]
    _lots_of_use(team, kind, credential, addresses=1)
    manager_client.get(url)  # the first view records "viewed"; the next ones do not
    with_little = _queries(manager_client, url)

    CredentialAddress.objects.filter(credential_pk=credential.pk, credential_type=kind).delete()
    _lots_of_use(team, kind, credential, addresses=10)
    now = timezone.now()
    AccessToken.objects.bulk_create(
        AccessTokenFactory.build(
            client=creds.client, service_account=creds.account, issued_at=now - timedelta(days=i % 89)
        )
        for i in range(200)
    )

    with django_assert_max_num_queries(with_little):
        response = manager_client.get(url)
    assert response.content.decode().count('<rect class="usage-chart__bar"') == 89
    assert response.content.decode().count("198.51.100.") >= 10
    # The page as a whole stays small: its own reads, the history check and the evidence.
    assert with_little <= 16


def test_api_key_detail_takes_a_bounded_number_of_queries(
    manager_client, manager, team, django_assert_max_num_queries
):
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    _lots_of_use(team, CredentialType.API_KEY, key, addresses=10)

    # Like the other detail pages: the page, the "viewed" row (under the team lock), the
    # evidence, a rotation under way and open leak reports; none of it grows with use.
    with django_assert_max_num_queries(17):
        response = manager_client.get(key_url(key))
    assert response.content.decode().count("198.51.100.") >= 10


# --- Last used, sortable, in the lists ---------------------------------------------------


def _set_last_used(model, pk: int, value: datetime | None) -> None:
    model.objects.filter(pk=pk).update(last_used_at=value)


def _order(body: str, names: list[str]) -> list[str]:
    """`names` in the order the page shows them."""
    return sorted(names, key=body.index)


def _table(body: str, table_id: str) -> str:
    start = body.index(f'id="{table_id}"')
    return body[start : body.index("</table>", start)]


def test_service_accounts_sort_by_last_used_on_the_list_and_the_section(manager_client, manager, team):
    now = timezone.now()
    accounts = {}
    for name, used in (
        ("hour", now - timedelta(hours=1)),
        ("never", None),
        ("days", now - timedelta(days=2)),
    ):
        account, _ = services.service_account_create(actor=manager, team=team, display_name=name)
        _set_last_used(ServiceAccount, account.pk, used)
        accounts[name] = account.username

    for url in (f"{BASE}/service-accounts/", INDEX):
        default = _table(text(manager_client.get(url)), "service-accounts-table")
        assert _order(default, list(accounts.values())) == [accounts[n] for n in ("days", "never", "hour")]
        assert '<a href="?sa-sort=-last_used_at">Last used</a>' in default
        assert "Never used" in default

        newest = _table(text(manager_client.get(url, {"sa-sort": "-last_used_at"})), "service-accounts-table")
        assert _order(newest, list(accounts.values())) == [accounts[n] for n in ("hour", "days", "never")]
        assert 'aria-sort="descending"' in newest

        oldest = _table(text(manager_client.get(url, {"sa-sort": "last_used_at"})), "service-accounts-table")
        assert _order(oldest, list(accounts.values())) == [accounts[n] for n in ("never", "days", "hour")]
        assert 'aria-sort="ascending"' in oldest


def test_the_service_accounts_sort_answers_htmx_in_place(manager_client, manager, team, htmx_headers):
    now = timezone.now()
    used, _ = services.service_account_create(actor=manager, team=team)
    unused, _ = services.service_account_create(actor=manager, team=team)
    _set_last_used(ServiceAccount, used.pk, now)

    plain, htmx = plain_and_htmx(
        manager_client.get, f"{BASE}/service-accounts/", {"sa-sort": "-last_used_at"}
    )
    for response in (plain, htmx):
        assert _order(text(response), [used.username, unused.username]) == [used.username, unused.username]


@pytest.mark.parametrize(
    ("kind", "url", "table_id", "param"),
    [
        ("client", f"{BASE}/clients/", "clients-table", "clients-sort"),
        ("client", INDEX, "clients-table", "clients-sort"),
        ("key", f"{BASE}/api-keys/", "api-keys-table", "api-keys-sort"),
        ("key", INDEX, "api-keys-table", "api-keys-sort"),
    ],
)
def test_clients_and_api_keys_sort_by_last_used(manager_client, manager, team, kind, url, table_id, param):
    now = timezone.now()
    if kind == "client":
        older, _ = services.oauth_client_create(actor=manager, team=team, created_at=now - timedelta(days=3))
        newer, _ = services.oauth_client_create(actor=manager, team=team)
        model, names = OAuthClient, [older.client_id, newer.client_id]
    else:
        older, _ = services.api_key_create(actor=manager, team=team, platform_name="Older shop")
        ApiKey.objects.filter(pk=older.pk).update(created_at=now - timedelta(days=3))
        newer, _ = services.api_key_create(actor=manager, team=team, platform_name="Newer shop")
        model, names = ApiKey, ["Older shop", "Newer shop"]
    # The older one was used; the newer one never.
    _set_last_used(model, older.pk, now - timedelta(minutes=5))

    default = _table(text(manager_client.get(url)), table_id)
    assert _order(default, names) == names[::-1]  # newest first
    assert f'<a href="?{param}=-last_used_at">Last used</a>' in default
    assert "Never used" in default

    newest = _table(text(manager_client.get(url, {param: "-last_used_at"})), table_id)
    assert _order(newest, names) == names
    oldest = _table(text(manager_client.get(url, {param: "last_used_at"})), table_id)
    assert _order(oldest, names) == names[::-1]


def test_an_unknown_sort_is_ignored(manager_client, manager, team):
    services.service_account_create(actor=manager, team=team)
    for param in ("sa-sort", "clients-sort", "api-keys-sort"):
        for value in ("password_hash", "-secret_digest", "created_at", "'; DROP TABLE x; --"):
            response = manager_client.get(INDEX, {param: value})
            assert response.status_code == HTTPStatus.OK
            assert "aria-sort" not in text(response)


# --- Due for rotation ----------------------------------------------------------------------

DUE = "Due for rotation"


@pytest.fixture
def old_and_new(manager, team):
    """One service account, client and API key each 100 days old, and one of each made today."""
    now = timezone.now()
    made = []
    for age in (100, 0):
        account, _ = services.service_account_create(actor=manager, team=team, display_name=f"SA {age}")
        client, _ = services.oauth_client_create(
            actor=manager, team=team, display_name=f"Client {age}", created_at=now - timedelta(days=age)
        )
        key, _ = services.api_key_create(actor=manager, team=team, platform_name=f"Key {age}")
        ServiceAccount.objects.filter(pk=account.pk).update(created_at=now - timedelta(days=age))
        ApiKey.objects.filter(pk=key.pk).update(created_at=now - timedelta(days=age))
        made.append((account, client, key))
    return made


def _rows(table: str) -> list[str]:
    return table.split("<tr")[2:]  # after the header row


def _due_rows(body: str, table_id: str) -> list[str]:
    """The rows of a table that carry the badge, by the name in them."""
    return [row for row in _rows(_table(body, table_id)) if DUE in row]


def test_the_badge_marks_only_the_credentials_past_the_teams_maximum_age(manager_client, team, old_and_new):
    team.max_credential_age_days = 90
    team.save()
    index = text(manager_client.get(INDEX))
    pages = {
        "service-accounts-table": [index, text(manager_client.get(f"{BASE}/service-accounts/"))],
        "clients-table": [index, text(manager_client.get(f"{BASE}/clients/"))],
        "api-keys-table": [index, text(manager_client.get(f"{BASE}/api-keys/"))],
    }
    for table_id, bodies in pages.items():
        for body in bodies:
            due = _due_rows(body, table_id)
            assert len(due) == 1, table_id
            assert any(f"{name} 100" in due[0] for name in ("SA", "Client", "Key")), table_id
            assert '<span class="badge badge--warn"' in due[0]

    # The detail pages say it too, with the date it became due.
    account, client, key = old_and_new[0]
    for url in (account_url(account), client_url(client), key_url(key)):
        assert DUE in text(manager_client.get(url)), url
    fresh_account, fresh_client, fresh_key = old_and_new[1]
    for url in (account_url(fresh_account), client_url(fresh_client), key_url(fresh_key)):
        assert DUE not in text(manager_client.get(url)), url


def test_no_badge_at_the_default_maximum_for_credentials_younger(manager_client, team, old_and_new):
    assert team.max_credential_age_days == 365
    for url in (INDEX, f"{BASE}/service-accounts/", f"{BASE}/clients/", f"{BASE}/api-keys/"):
        assert DUE not in text(manager_client.get(url)), url


def test_no_badge_when_the_team_has_no_maximum_age(manager_client, team, old_and_new):
    OAuthClient.objects.filter(team=team).update(created_at=timezone.now() - timedelta(days=4000))
    team.max_credential_age_days = None
    team.save()
    assert DUE not in text(manager_client.get(INDEX))
    for url in (f"{BASE}/service-accounts/", f"{BASE}/clients/", f"{BASE}/api-keys/"):
        for response in plain_and_htmx(manager_client.get, url):
            assert DUE not in text(response), url
    account, client, key = old_and_new[0]
    for url in (account_url(account), client_url(client), key_url(key)):
        assert DUE not in text(manager_client.get(url)), url


def test_a_deactivated_credential_is_not_due(manager_client, manager, team, old_and_new):
    team.max_credential_age_days = 90
    team.save()
    _account, client, key = old_and_new[0]
    services.oauth_client_deactivate(actor=manager, team=team, client=client)
    services.api_key_deactivate(actor=manager, team=team, key=key)
    for url in (f"{BASE}/clients/", f"{BASE}/api-keys/", client_url(client), key_url(key)):
        assert DUE not in text(manager_client.get(url)), url
